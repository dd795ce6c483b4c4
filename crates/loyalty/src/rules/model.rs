//! The rules document: plain data, (de)serialised as JSON, every struct refusing unknown
//! fields.

use regulars_domain::{Currency, Points};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A brand's earning rules, as the brand writes them.
///
/// Build one with [`EarningRules::from_json`] (which validates it) or in code (then call
/// [`EarningRules::validate`]). Every part except the currency is optional; an empty
/// document earns nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarningRules {
    /// The currency of every amount in the document and of the orders it applies to.
    pub currency: Currency,
    /// Points per amount spent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<BaseRate>,
    /// Orders paying less earn nothing at all (no base points, no bonuses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_spend: Option<MinimumSpend>,
    /// Bonus points per unit of a product or category.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub product_bonuses: Vec<ProductBonus>,
    /// Multipliers on base points and product bonuses, under conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub multipliers: Vec<Multiplier>,
    /// How several applicable multipliers combine.
    #[serde(default)]
    pub stacking: Stacking,
    /// First-visit and Nth-visit bonuses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub visit_bonuses: Vec<VisitBonus>,
    /// Most points one order may earn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_cap: Option<Cap>,
    /// Most points one customer may earn in one local day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_cap: Option<Cap>,
    /// What one point is worth to the shop, in `currency` (e.g. `"100"`: a point is
    /// worth 100 đồng): the cost of the bonus points campaigns give. When absent it is
    /// derived from the reward catalogue (see `docs/campaigns.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point_value: Option<Decimal>,
}

impl EarningRules {
    /// Rules in `currency` that earn nothing; add rules to the public fields.
    pub fn empty(currency: Currency) -> Self {
        EarningRules {
            currency,
            base: None,
            minimum_spend: None,
            product_bonuses: Vec::new(),
            multipliers: Vec::new(),
            stacking: Stacking::default(),
            visit_bonuses: Vec::new(),
            order_cap: None,
            day_cap: None,
            point_value: None,
        }
    }
}

/// Points per amount spent: `paid total × points / per_amount`, computed exactly and
/// rounded to whole points by `rounding`.
///
/// `{"per_amount": "10000", "points": 1, "rounding": "floor"}` gives 1 point per
/// 10,000 VND: 19,999 VND earns 1 point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaseRate {
    /// Shown in explanations; defaults to "Base rate".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The amount of money that earns `points`, in the rules' currency.
    #[serde(with = "decimal_text")]
    pub per_amount: Decimal,
    /// Points for each `per_amount`.
    pub points: Points,
    /// How a fraction of a point is rounded. Also used for the multiplied part.
    pub rounding: Rounding,
}

/// How a fractional number of points becomes whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Down: 2.9 becomes 2.
    Floor,
    /// To the nearest whole point, halves up: 2.5 becomes 3, 2.49 becomes 2.
    Nearest,
    /// Up: 2.1 becomes 3.
    Ceil,
}

impl Rounding {
    /// The policy's name as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Rounding::Floor => "floor",
            Rounding::Nearest => "nearest",
            Rounding::Ceil => "ceil",
        }
    }
}

/// The least an order must pay to earn anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinimumSpend {
    /// Shown in explanations; defaults to "Minimum spend".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The minimum paid total, in the rules' currency; an order paying exactly this earns.
    #[serde(with = "decimal_text")]
    pub amount: Decimal,
}

/// Bonus points for each unit of a product (by SKU) or of a menu category.
///
/// Exactly one of `sku` and `category` is given. A SKU also matches modifiers (a topping
/// bonus), counted once per unit of the line they modify; categories match lines only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductBonus {
    /// Shown in explanations; defaults to "Bonus for …".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The product or modifier code matched exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// The line category matched exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Points per matching unit.
    pub points_per_unit: Points,
}

/// A multiplier on base points and product bonuses, applying when all its conditions hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Multiplier {
    /// Shown in explanations; defaults to "Multiplier ×factor".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The factor, between 0 and [`MAX_FACTOR`](super::MAX_FACTOR), written as a string
    /// (`"1.5"`) or an integer (`2`).
    #[serde(with = "decimal_text")]
    pub factor: Decimal,
    /// When it applies; no conditions means always.
    #[serde(default, skip_serializing_if = "Conditions::is_always")]
    pub when: Conditions,
}

/// Conditions of a multiplier. All given conditions must hold; within a list, any entry
/// matches. A condition that is left out places no constraint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    /// The customer's tier code is one of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<Vec<String>>,
    /// The order's local weekday is one of these. With an `hours` window that crosses
    /// midnight, the hours after midnight belong to the day the window opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekdays: Option<Vec<Weekday>>,
    /// The order's local time of day is inside this window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<TimeWindow>,
    /// The order's location code is one of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<String>>,
    /// `true`: only on the customer's birthday; `false`: only on other days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthday: Option<bool>,
}

impl Conditions {
    /// True when no condition is set, so the multiplier always applies.
    pub fn is_always(&self) -> bool {
        *self == Conditions::default()
    }

    /// True when a condition depends on the order's local date or time.
    pub(super) fn needs_local_time(&self) -> bool {
        self.weekdays.is_some() || self.hours.is_some()
    }
}

/// A daily window of local time, from `from` (included) to `to` (excluded).
///
/// When `to` is earlier than `from` the window crosses midnight: `22:00`–`02:00` covers
/// late evening and early morning. `from` and `to` must differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeWindow {
    /// Opening time, included.
    pub from: LocalTime,
    /// Closing time, excluded.
    pub to: LocalTime,
}

impl TimeWindow {
    /// True when the window runs past midnight.
    pub fn crosses_midnight(&self) -> bool {
        self.to < self.from
    }

    /// True when `time` is inside the window.
    pub fn contains(&self, time: LocalTime) -> bool {
        if self.crosses_midnight() {
            time >= self.from || time < self.to
        } else {
            self.from <= time && time < self.to
        }
    }
}

/// A wall-clock time of day to the minute, written `"HH:MM"` (24-hour clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalTime(u16);

impl LocalTime {
    /// Midnight, `00:00`.
    pub const MIDNIGHT: LocalTime = LocalTime(0);

    /// `hour:minute`, or `None` unless `hour < 24` and `minute < 60`.
    pub const fn new(hour: u8, minute: u8) -> Option<Self> {
        if hour < 24 && minute < 60 {
            Some(LocalTime(hour as u16 * 60 + minute as u16))
        } else {
            None
        }
    }

    /// The hour, 0 to 23.
    pub const fn hour(self) -> u8 {
        (self.0 / 60) as u8
    }

    /// The minute, 0 to 59.
    pub const fn minute(self) -> u8 {
        (self.0 % 60) as u8
    }

    /// The time of day of a wall-clock time, to the minute (seconds are dropped).
    pub fn of(time: time::Time) -> Self {
        LocalTime(u16::from(time.hour()) * 60 + u16::from(time.minute()))
    }

    fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        let [h1, h2, b':', m1, m2] = bytes else {
            return None;
        };
        let digit = |b: u8| b.is_ascii_digit().then(|| b - b'0');
        let hour = digit(*h1)? * 10 + digit(*h2)?;
        let minute = digit(*m1)? * 10 + digit(*m2)?;
        LocalTime::new(hour, minute)
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour(), self.minute())
    }
}

impl Serialize for LocalTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LocalTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        LocalTime::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid time {text:?}: expected \"HH:MM\" from 00:00 to 23:59"
            ))
        })
    }
}

/// A day of the week, written as its three-letter English abbreviation (`"mon"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl From<time::Weekday> for Weekday {
    fn from(day: time::Weekday) -> Self {
        match day {
            time::Weekday::Monday => Weekday::Mon,
            time::Weekday::Tuesday => Weekday::Tue,
            time::Weekday::Wednesday => Weekday::Wed,
            time::Weekday::Thursday => Weekday::Thu,
            time::Weekday::Friday => Weekday::Fri,
            time::Weekday::Saturday => Weekday::Sat,
            time::Weekday::Sunday => Weekday::Sun,
        }
    }
}

/// How several applicable multipliers combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stacking {
    /// Only the largest applicable factor counts (the first one listed on a tie). The
    /// default: promotions cannot compound by accident.
    #[default]
    Highest,
    /// All applicable factors multiply together.
    Multiply,
}

/// A bonus for a visit by its number: the customer's first, their Nth, or every Nth.
///
/// The caller counts visits ([`EarningContext::visit_number`](super::EarningContext));
/// visit bonuses are added after multipliers and are never multiplied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum VisitBonus {
    /// The customer's first visit.
    FirstVisit {
        /// Shown in explanations; defaults to "First visit".
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        /// Points given.
        points: Points,
    },
    /// Exactly the `visit`-th visit.
    NthVisit {
        /// Shown in explanations; defaults to "Visit N".
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        /// The visit number, from 1.
        visit: u32,
        /// Points given.
        points: Points,
    },
    /// Every `every`-th visit: visits `every`, `2 × every`, ...
    EveryNthVisit {
        /// Shown in explanations; defaults to "Every N visits".
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        /// The period, from 1.
        every: u32,
        /// Points given.
        points: Points,
    },
}

impl VisitBonus {
    /// The rule's label, if it has one.
    pub fn label(&self) -> Option<&str> {
        match self {
            VisitBonus::FirstVisit { label, .. }
            | VisitBonus::NthVisit { label, .. }
            | VisitBonus::EveryNthVisit { label, .. } => label.as_deref(),
        }
    }

    /// Points given when the bonus applies.
    pub fn points(&self) -> Points {
        match self {
            VisitBonus::FirstVisit { points, .. }
            | VisitBonus::NthVisit { points, .. }
            | VisitBonus::EveryNthVisit { points, .. } => *points,
        }
    }

    /// True when the bonus applies to visit number `visit` (1 = first visit).
    pub fn applies_to(&self, visit: u32) -> bool {
        match *self {
            VisitBonus::FirstVisit { .. } => visit == 1,
            VisitBonus::NthVisit { visit: n, .. } => visit == n,
            VisitBonus::EveryNthVisit { every, .. } => {
                visit != 0 && every != 0 && visit.is_multiple_of(every)
            }
        }
    }
}

/// A cap on points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cap {
    /// Shown in explanations; defaults to "Per-order cap" or "Daily cap".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The most points allowed.
    pub points: Points,
}

/// Decimals as JSON strings (`"1.5"`), so no amount or factor passes through floating
/// point; JSON integers are accepted too, since they are exact.
pub(super) mod decimal_text {
    use rust_decimal::Decimal;
    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};
    use std::fmt;

    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        deserializer.deserialize_any(DecimalText)
    }

    struct DecimalText;

    impl Visitor<'_> for DecimalText {
        type Value = Decimal;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a decimal number written as a string, e.g. \"1.5\"")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Decimal, E> {
            let plain = !text.is_empty()
                && text
                    .bytes()
                    .enumerate()
                    .all(|(i, b)| b.is_ascii_digit() || b == b'.' || (i == 0 && b == b'-'));
            if !plain {
                return Err(E::custom(format!(
                    "invalid decimal {text:?}: expected digits with an optional sign and point, e.g. \"1.5\""
                )));
            }
            Decimal::from_str_exact(text)
                .map_err(|e| E::custom(format!("invalid decimal {text:?}: {e}")))
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(value))
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(value))
        }

        fn visit_f64<E: de::Error>(self, value: f64) -> Result<Decimal, E> {
            Err(E::custom(format!(
                "write the decimal {value} as a string, e.g. \"{value}\", so it stays exact"
            )))
        }
    }
}
