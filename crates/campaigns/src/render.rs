//! Message templates with `{{variables}}`, money as people write it, and the Vietnamese
//! default texts.

use crate::campaign::Trigger;
use regulars_domain::Money;
use rust_decimal::{Decimal, RoundingStrategy};
use std::borrow::Cow;
use thiserror::Error;

/// The variables a template may use.
pub const VARIABLES: &[&str] = &[
    "name",
    "reward",
    "reward_value",
    "points",
    "balance",
    "expiry_date",
    "shop",
    "tier",
    "code",
    "bonus_points",
    "rating_link",
];

/// What `{{code}}` renders to in a planned message: the planner does not issue vouchers,
/// so the caller issues one per message with an offer and puts its code in place of this
/// marker ([`crate::plan::PlannedMessage::with_code`]).
pub const CODE_MARKER: &str = "{{code}}";

/// What `{{rating_link}}` renders to in a planned message: the link names the order
/// rated and is signed by the server, so the caller puts it in place of this marker
/// (or removes the marker where it has no link to give).
pub const RATING_LINK_MARKER: &str = "{{rating_link}}";

/// Why a template was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TemplateError {
    /// `{{` without a matching `}}`.
    #[error("`{{{{` at byte {offset} is not closed")]
    Unclosed {
        /// Byte offset of the `{{`.
        offset: usize,
    },
    /// A variable that is not in [`VARIABLES`].
    #[error(
        "unknown variable `{name}`; known: name, reward, reward_value, points, balance, expiry_date, shop, tier, code, bonus_points, rating_link"
    )]
    UnknownVariable {
        /// The name used.
        name: String,
    },
    /// The template is empty.
    #[error("the template is empty")]
    Empty,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Var(usize),
}

/// A parsed template: text and variables, checked once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
    /// Bytes of fixed text plus an allowance per variable, to size the output once.
    capacity_hint: usize,
}

/// Values for the variables of one message; absent values render as empty text, except
/// `name`, which falls back to "bạn" ("you").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values<'a> {
    /// `{{name}}`.
    pub name: Option<Cow<'a, str>>,
    /// `{{reward}}`: the reward's name.
    pub reward: Option<Cow<'a, str>>,
    /// `{{reward_value}}`: the discount (`20.000 ₫`, `10%`).
    pub reward_value: Option<Cow<'a, str>>,
    /// `{{points}}`: the points concerned (those expiring).
    pub points: Option<Cow<'a, str>>,
    /// `{{balance}}`: the points balance.
    pub balance: Option<Cow<'a, str>>,
    /// `{{expiry_date}}`: `dd/mm/yyyy`.
    pub expiry_date: Option<Cow<'a, str>>,
    /// `{{shop}}`.
    pub shop: Option<Cow<'a, str>>,
    /// `{{tier}}`.
    pub tier: Option<Cow<'a, str>>,
    /// `{{code}}`: the voucher code.
    pub code: Option<Cow<'a, str>>,
    /// `{{bonus_points}}`: the points a `bonus_points` offer gives (`{{reward}}` says
    /// them with their unit: `50 điểm`).
    pub bonus_points: Option<Cow<'a, str>>,
    /// `{{rating_link}}`: the link where the customer rates the order just made (after
    /// purchase only).
    pub rating_link: Option<Cow<'a, str>>,
}

impl Values<'_> {
    /// The value of the variable called `variable` (one of [`VARIABLES`]), as a
    /// template renders it.
    pub fn value_of(&self, variable: &str) -> Option<&str> {
        VARIABLES
            .iter()
            .position(|v| *v == variable)
            .and_then(|i| self.get(i))
    }

    fn get(&self, index: usize) -> Option<&str> {
        match VARIABLES.get(index).copied() {
            Some("name") => Some(self.name.as_deref().unwrap_or("bạn")),
            Some("reward") => self.reward.as_deref(),
            Some("reward_value") => self.reward_value.as_deref(),
            Some("points") => self.points.as_deref(),
            Some("balance") => self.balance.as_deref(),
            Some("expiry_date") => self.expiry_date.as_deref(),
            Some("shop") => self.shop.as_deref(),
            Some("tier") => self.tier.as_deref(),
            Some("code") => self.code.as_deref(),
            Some("bonus_points") => self.bonus_points.as_deref(),
            Some("rating_link") => self.rating_link.as_deref(),
            _ => None,
        }
    }
}

impl Template {
    /// Parses `text`; `{{ name }}` may have spaces inside the braces.
    ///
    /// ```
    /// use regulars_campaigns::render::{Template, Values};
    /// let t = Template::parse("Chào {{ name }}, {{shop}} nhớ bạn!")?;
    /// let v = Values { shop: Some("Trà Sữa Mây".into()), ..Values::default() };
    /// assert_eq!(t.render(&v), "Chào bạn, Trà Sữa Mây nhớ bạn!");
    /// # Ok::<(), regulars_campaigns::render::TemplateError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        if text.trim().is_empty() {
            return Err(TemplateError::Empty);
        }
        let mut pieces = Vec::new();
        let mut rest = text;
        let mut consumed = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or(TemplateError::Unclosed {
                offset: consumed + open,
            })?;
            let name = after[..close].trim();
            let index = VARIABLES.iter().position(|v| *v == name).ok_or_else(|| {
                TemplateError::UnknownVariable {
                    name: name.to_owned(),
                }
            })?;
            pieces.push(Piece::Var(index));
            let used = open + 2 + close + 2;
            consumed += used;
            rest = &rest[used..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_owned()));
        }
        let capacity_hint = pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.len(),
                Piece::Var(_) => 24,
            })
            .sum();
        Ok(Template {
            pieces,
            capacity_hint,
        })
    }

    /// Whether the template mentions `variable`.
    pub fn uses(&self, variable: &str) -> bool {
        self.pieces
            .iter()
            .any(|p| matches!(p, Piece::Var(i) if VARIABLES.get(*i) == Some(&variable)))
    }

    /// Whether the template mentions the offer (`{{reward}}`, `{{reward_value}}`, the
    /// voucher's `{{code}}` or `{{bonus_points}}`).
    pub fn uses_offer(&self) -> bool {
        self.pieces.iter().any(|p| match p {
            Piece::Var(i) => matches!(
                VARIABLES.get(*i),
                Some(&"reward" | &"reward_value" | &"code" | &"bonus_points")
            ),
            Piece::Text(_) => false,
        })
    }

    /// The text with every variable replaced.
    pub fn render(&self, values: &Values) -> String {
        let mut out = String::with_capacity(self.capacity_hint);
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Var(i) => out.push_str(values.get(*i).unwrap_or("")),
            }
        }
        out
    }
}

/// Money as people read it: `45.000 ₫` for the đồng (dot-grouped, no decimals), `$4.50`
/// for the US dollar, otherwise grouped with commas and the ISO code after.
///
/// ```
/// use regulars_campaigns::render::format_money;
/// use regulars_domain::{Currency, Money};
/// assert_eq!(format_money(&Money::from_minor_units(45_000, Currency::VND)), "45.000 ₫");
/// assert_eq!(format_money(&Money::from_minor_units(1_234_550, Currency::USD)), "$12,345.50");
/// assert_eq!(format_money(&Money::from_minor_units(-500, "EUR".parse()?)), "-5.00 EUR");
/// # Ok::<(), regulars_domain::DomainError>(())
/// ```
pub fn format_money(money: &Money) -> String {
    let currency = money.currency();
    let places = currency.minor_units();
    let amount = money
        .amount()
        .round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
    let negative = amount.is_sign_negative() && !amount.is_zero();
    let abs = amount.abs();
    let whole = abs.trunc();
    let frac = abs - whole;
    let (group_sep, decimal_sep) = if currency.code() == "VND" {
        ('.', ',')
    } else {
        (',', '.')
    };
    let mut grouped = group_digits(&whole.to_string(), group_sep);
    if places > 0 {
        let scaled = (frac * Decimal::from(10_i64.pow(places))).trunc();
        grouped.push(decimal_sep);
        grouped.push_str(&format!("{:0>width$}", scaled, width = places as usize));
    }
    let sign = if negative { "-" } else { "" };
    match currency.code() {
        "VND" => format!("{sign}{grouped} ₫"),
        "USD" => format!("{sign}${grouped}"),
        code => format!("{sign}{grouped} {code}"),
    }
}

/// Groups the ASCII digits of `digits` by thousands with `sep`, keeping a leading `-`.
pub(crate) fn group_digits(digits: &str, sep: char) -> String {
    let (sign, digits) = match digits.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", digits),
    };
    let mut out = String::from(sign);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(ch);
    }
    out
}

/// What `{{reward}}` says for a `bonus_points` offer: the points with their unit, grouped
/// like every number of a text (`1.000 điểm`).
pub fn bonus_reward_name(points: regulars_domain::Points, sep: char) -> String {
    format!("{} điểm", group_digits(&points.value().to_string(), sep))
}

/// The Vietnamese default text for a trigger whose offer is bonus points (credited when
/// the message goes out, so there is no code to show).
pub fn default_bonus_template_vi(trigger: &Trigger) -> &'static str {
    match trigger {
        Trigger::AfterPurchase { .. } => {
            "Cảm ơn {{name}} đã ghé {{shop}}! Tặng bạn {{reward}} thưởng, đã cộng vào tài khoản."
        }
        Trigger::Birthday { .. } => {
            "Chúc mừng sinh nhật {{name}}! {{shop}} tặng bạn {{reward}} thưởng, đã cộng vào tài khoản."
        }
        Trigger::TierUpgrade { .. } => {
            "Chúc mừng {{name}} đã lên hạng {{tier}} tại {{shop}}! Quà của bạn: {{reward}} thưởng, đã cộng vào tài khoản."
        }
        Trigger::Welcome { .. } => {
            "Chào mừng {{name}} đến với {{shop}}! Tặng bạn {{reward}} thưởng, đã cộng vào tài khoản."
        }
        _ => "{{name}} ơi, {{shop}} tặng bạn {{reward}} thưởng, đã cộng vào tài khoản.",
    }
}

/// The Vietnamese default text for a trigger, with or without an offer.
pub fn default_template_vi(trigger: &Trigger, has_offer: bool) -> &'static str {
    match (trigger, has_offer) {
        (Trigger::AfterPurchase { .. }, false) => {
            "Cảm ơn {{name}} đã ghé {{shop}}! Số dư của bạn: {{balance}} điểm."
        }
        (Trigger::AfterPurchase { .. }, true) => {
            "Cảm ơn {{name}} đã ghé {{shop}}! Tặng bạn {{reward}} cho lần sau (mã {{code}}), dùng đến {{expiry_date}}."
        }
        (Trigger::Birthday { .. }, false) => {
            "Chúc mừng sinh nhật {{name}}! {{shop}} chúc bạn một tuổi mới thật vui."
        }
        (Trigger::Birthday { .. }, true) => {
            "Chúc mừng sinh nhật {{name}}! {{shop}} tặng bạn {{reward}} (mã {{code}}), dùng đến {{expiry_date}}."
        }
        (Trigger::Overdue { .. } | Trigger::PAliveBelow { .. }, false) => {
            "{{name}} ơi, lâu rồi {{shop}} chưa gặp bạn. Ghé chơi nhé!"
        }
        (Trigger::Overdue { .. } | Trigger::PAliveBelow { .. }, true) => {
            "{{name}} ơi, {{shop}} nhớ bạn! Tặng bạn {{reward}} (mã {{code}}), dùng đến {{expiry_date}}."
        }
        (Trigger::TierUpgrade { .. }, false) => {
            "Chúc mừng {{name}} đã lên hạng {{tier}} tại {{shop}}!"
        }
        (Trigger::TierUpgrade { .. }, true) => {
            "Chúc mừng {{name}} đã lên hạng {{tier}} tại {{shop}}! Quà của bạn: {{reward}} (mã {{code}}), dùng đến {{expiry_date}}."
        }
        (Trigger::PointsExpiring { .. }, _) => {
            "{{name}} ơi, {{points}} điểm của bạn tại {{shop}} sẽ hết hạn ngày {{expiry_date}}. Số dư: {{balance}} điểm."
        }
        (Trigger::Welcome { .. }, false) => "Chào mừng {{name}} đến với {{shop}}!",
        (Trigger::Welcome { .. }, true) => {
            "Chào mừng {{name}} đến với {{shop}}! Tặng bạn {{reward}}, mã {{code}}."
        }
        (Trigger::RewardAffordable, false) => {
            "{{name}} ơi, bạn đã có {{balance}} điểm tại {{shop}}: đủ để đổi quà rồi!"
        }
        (Trigger::RewardNearly { .. }, false) => {
            "{{name}} ơi, bạn có {{balance}} điểm tại {{shop}}: sắp đủ để đổi quà rồi!"
        }
        (Trigger::RewardAffordable | Trigger::RewardNearly { .. }, true) => {
            "{{name}} ơi, bạn có {{balance}} điểm tại {{shop}}. Tặng thêm {{reward}}, mã {{code}}."
        }
        (Trigger::VoucherExpiring { .. }, _) => {
            "{{name}} ơi, quà của bạn tại {{shop}} sắp hết hạn: hãy ghé dùng trước {{expiry_date}}."
        }
        (Trigger::TierDown { .. }, false) => {
            "{{name}} ơi, hạng thành viên của bạn tại {{shop}} đã được xét lại theo kỳ. Ghé {{shop}} để tích điểm và lên hạng lại nhé!"
        }
        (Trigger::TierDown { .. }, true) => {
            "{{name}} ơi, hạng thành viên của bạn tại {{shop}} đã được xét lại theo kỳ. Tặng bạn {{reward}} (mã {{code}}), dùng đến {{expiry_date}}."
        }
        (Trigger::Broadcast, false) => "{{shop}} gửi {{name}} lời chào!",
        (Trigger::Broadcast, true) => {
            "{{shop}} tặng {{name}} {{reward}} (mã {{code}}), dùng đến {{expiry_date}}."
        }
    }
}
