//! The earning rules as the named fields of an HTML form, and back.
//!
//! A field is named by the JSON path of what it holds (`base.per_amount`,
//! `multipliers[0].when.hours.from`), so the path in a validation error is the name of
//! the input to show it next to. Lists of codes (weekdays, locations, tiers) are one
//! name repeated, as a multiple select or a row of checkboxes posts them. A row of a
//! list whose inputs are all blank is no rule, so the form can offer empty rows to fill.
//!
//! [`to_fields`] then [`from_fields`] gives back the same [`EarningRules`] value (a
//! property test checks it), so the form and the "advanced" JSON view edit one document.

use regulars_domain::{Currency, Points};
use regulars_loyalty::rules::{
    BaseRate, Cap, Conditions, EarningRules, LocalTime, MinimumSpend, Multiplier, ProductBonus,
    Rounding, Stacking, TimeWindow, VisitBonus, Weekday,
};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// A form as posted: names and values in order, a name repeated for a list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Fields(pub(crate) Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, or "" when it was not posted.
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every non-blank value of `name`, in the order posted.
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(n, v)| n == name && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub(crate) fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// The row numbers posted under `list` (`multipliers` for `multipliers[3].factor`),
    /// ascending, each once.
    /// Rows numbered [`MAX_ROWS`] or more are not read (nor shown again).
    pub(crate) fn rows(&self, list: &str) -> Vec<usize> {
        let mut rows: Vec<usize> = self
            .0
            .iter()
            .filter_map(|(name, _)| {
                let rest = name.strip_prefix(list)?.strip_prefix('[')?;
                let (number, _) = rest.split_once(']')?;
                number.parse().ok().filter(|n| *n < MAX_ROWS)
            })
            .collect();
        rows.sort_unstable();
        rows.dedup();
        rows
    }

    /// True when a row of `list` is numbered beyond [`MAX_ROWS`]: a form to refuse.
    pub(crate) fn too_many_rows(&self, list: &str) -> bool {
        self.0.iter().any(|(name, _)| {
            name.strip_prefix(list)
                .and_then(|r| r.strip_prefix('['))
                .and_then(|r| r.split_once(']'))
                .is_some_and(|(n, _)| n.parse::<usize>().map_or(true, |n| n >= MAX_ROWS))
        })
    }

    /// True when every field of row `prefix` (`multipliers[3]`) is blank, but for the
    /// ones named in `defaulted` (a select that always posts something).
    pub(crate) fn blank_row(&self, prefix: &str, defaulted: &[&str]) -> bool {
        self.0.iter().all(|(name, value)| {
            let Some(field) = name.strip_prefix(prefix) else {
                return true;
            };
            !field.starts_with('.') || defaulted.contains(&&field[1..]) || value.trim().is_empty()
        })
    }
}

/// The most rows of one list a form may post: the rules allow 100 of a kind, and a
/// form with blank rows between them is still read.
pub(crate) const MAX_ROWS: usize = 200;

/// Problems with a form: the field's name and what is wrong, in form order.
pub(crate) type FieldErrors = BTreeMap<String, String>;

/// The weekdays in calendar order, with their codes as the JSON writes them.
pub(crate) const WEEKDAYS: [(Weekday, &str); 7] = [
    (Weekday::Mon, "mon"),
    (Weekday::Tue, "tue"),
    (Weekday::Wed, "wed"),
    (Weekday::Thu, "thu"),
    (Weekday::Fri, "fri"),
    (Weekday::Sat, "sat"),
    (Weekday::Sun, "sun"),
];

/// The visit bonus kinds, with their codes as the JSON writes them.
pub(crate) const VISIT_KINDS: [&str; 3] = ["first_visit", "nth_visit", "every_nth_visit"];

fn weekday_code(day: Weekday) -> &'static str {
    WEEKDAYS
        .iter()
        .find(|(d, _)| *d == day)
        .map_or("mon", |(_, code)| code)
}

/// The form fields showing `rules`, one row per rule of each list (no empty rows).
pub(crate) fn to_fields(rules: &EarningRules) -> Fields {
    let mut f = Fields::default();
    let text = |label: &Option<String>| label.clone().unwrap_or_default();
    f.push("currency", rules.currency.to_string());
    let base = rules.base.as_ref();
    f.push(
        "base.label",
        base.map(|b| text(&b.label)).unwrap_or_default(),
    );
    f.push(
        "base.per_amount",
        base.map(|b| b.per_amount.to_string()).unwrap_or_default(),
    );
    f.push(
        "base.points",
        base.map(|b| b.points.value().to_string())
            .unwrap_or_default(),
    );
    f.push(
        "base.rounding",
        base.map_or(Rounding::Floor, |b| b.rounding).as_str(),
    );
    let min = rules.minimum_spend.as_ref();
    f.push(
        "minimum_spend.label",
        min.map(|m| text(&m.label)).unwrap_or_default(),
    );
    f.push(
        "minimum_spend.amount",
        min.map(|m| m.amount.to_string()).unwrap_or_default(),
    );
    for (i, bonus) in rules.product_bonuses.iter().enumerate() {
        let at = |field: &str| format!("product_bonuses[{i}].{field}");
        f.push(at("label"), text(&bonus.label));
        f.push(at("sku"), bonus.sku.clone().unwrap_or_default());
        f.push(at("category"), bonus.category.clone().unwrap_or_default());
        f.push(
            at("points_per_unit"),
            bonus.points_per_unit.value().to_string(),
        );
    }
    for (i, multiplier) in rules.multipliers.iter().enumerate() {
        push_multiplier(&mut f, i, multiplier);
    }
    f.push("stacking", stacking_code(rules.stacking));
    for (i, bonus) in rules.visit_bonuses.iter().enumerate() {
        let at = |field: &str| format!("visit_bonuses[{i}].{field}");
        let (kind, number) = match bonus {
            VisitBonus::FirstVisit { .. } => (VISIT_KINDS[0], String::new()),
            VisitBonus::NthVisit { visit, .. } => (VISIT_KINDS[1], visit.to_string()),
            VisitBonus::EveryNthVisit { every, .. } => (VISIT_KINDS[2], every.to_string()),
        };
        f.push(at("kind"), kind);
        f.push(at("label"), bonus.label().unwrap_or_default());
        f.push(at("number"), number);
        f.push(at("points"), bonus.points().value().to_string());
    }
    for (name, cap) in [("order_cap", &rules.order_cap), ("day_cap", &rules.day_cap)] {
        let cap = cap.as_ref();
        f.push(
            format!("{name}.label"),
            cap.map(|c| text(&c.label)).unwrap_or_default(),
        );
        f.push(
            format!("{name}.points"),
            cap.map(|c| c.points.value().to_string())
                .unwrap_or_default(),
        );
    }
    f.push(
        "point_value",
        rules.point_value.map(|v| v.to_string()).unwrap_or_default(),
    );
    f
}

fn push_multiplier(f: &mut Fields, i: usize, multiplier: &Multiplier) {
    let at = |field: &str| format!("multipliers[{i}].{field}");
    let when = &multiplier.when;
    f.push(at("label"), multiplier.label.clone().unwrap_or_default());
    f.push(at("factor"), multiplier.factor.to_string());
    let (from, to) = when.hours.map_or((String::new(), String::new()), |h| {
        (h.from.to_string(), h.to.to_string())
    });
    f.push(at("when.hours.from"), from);
    f.push(at("when.hours.to"), to);
    for day in when.weekdays.iter().flatten() {
        f.push(at("when.weekdays"), weekday_code(*day));
    }
    for code in when.locations.iter().flatten() {
        f.push(at("when.locations"), code.clone());
    }
    for code in when.tiers.iter().flatten() {
        f.push(at("when.tiers"), code.clone());
    }
    let birthday = match when.birthday {
        None => "",
        Some(true) => "yes",
        Some(false) => "no",
    };
    f.push(at("when.birthday"), birthday);
}

fn stacking_code(stacking: Stacking) -> &'static str {
    match stacking {
        Stacking::Highest => "highest",
        Stacking::Multiply => "multiply",
    }
}

/// Where each rule of a list came from: `rows[k]` is the form row of rule `k`, since
/// blank rows are skipped.
#[derive(Debug, Default)]
pub(crate) struct RowMap {
    product_bonuses: Vec<usize>,
    multipliers: Vec<usize>,
    visit_bonuses: Vec<usize>,
}

impl RowMap {
    /// The form field of a path in the rules document, as validation names it:
    /// `multipliers[1].when.weekdays[0]` is the weekdays of the form's row of that rule.
    pub(crate) fn field_of(&self, path: &str) -> String {
        let mut field = path.to_owned();
        for (list, rows) in [
            ("product_bonuses", &self.product_bonuses),
            ("multipliers", &self.multipliers),
            ("visit_bonuses", &self.visit_bonuses),
        ] {
            let Some(rest) = path.strip_prefix(list).and_then(|r| r.strip_prefix('[')) else {
                continue;
            };
            let Some((number, tail)) = rest.split_once(']') else {
                continue;
            };
            let row = number
                .parse::<usize>()
                .ok()
                .and_then(|k| rows.get(k).copied())
                .unwrap_or(0);
            let tail = match (list, tail) {
                ("product_bonuses", "") => ".sku",
                ("visit_bonuses", ".visit" | ".every") => ".number",
                ("multipliers", ".when.hours") => ".when.hours.from",
                (_, tail) => tail,
            };
            field = format!("{list}[{row}]{tail}");
        }
        if path == "multipliers" {
            field = "stacking".to_owned();
        }
        // A list entry's problem is shown at the list's input.
        if let Some(open) = field.rfind('[')
            && field.ends_with(']')
            && field[..open].contains('.')
        {
            field.truncate(open);
        }
        field
    }
}

/// Reads the rules from a posted form: every problem of reading (a number that is not
/// one, a missing half of a time window) by field, then the rules' own validation of
/// the result, at the field it names.
pub(crate) fn from_fields(f: &Fields) -> Result<EarningRules, FieldErrors> {
    let mut errors = FieldErrors::new();
    let (rules, rows) = read(f, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    if let Err(e) = rules.validate() {
        let field = e.path().map(|p| rows.field_of(p)).unwrap_or_default();
        let message = match &e {
            regulars_loyalty::rules::RulesError::Invalid { reason, .. } => reason.clone(),
            other => other.to_string(),
        };
        errors.insert(field, message);
        return Err(errors);
    }
    Ok(rules)
}

/// Reads what the fields say, recording problems in `errors`; the rules are only
/// meaningful when there are none.
fn read(f: &Fields, errors: &mut FieldErrors) -> (EarningRules, RowMap) {
    for list in ["product_bonuses", "multipliers", "visit_bonuses"] {
        if f.too_many_rows(list) {
            errors.insert(
                list.to_owned(),
                format!("must have fewer than {MAX_ROWS} rows"),
            );
        }
    }
    let mut r = Reader { f, errors };
    let currency = r.currency();
    let mut rules = EarningRules::empty(currency);
    if !f.blank_row("base", &["rounding"]) {
        rules.base = Some(BaseRate {
            label: r.label("base.label"),
            per_amount: r.amount("base.per_amount", currency),
            points: r.points("base.points"),
            rounding: r.rounding("base.rounding"),
        });
    }
    if !f.blank_row("minimum_spend", &[]) {
        rules.minimum_spend = Some(MinimumSpend {
            label: r.label("minimum_spend.label"),
            amount: r.amount("minimum_spend.amount", currency),
        });
    }
    let mut rows = RowMap::default();
    for i in f.rows("product_bonuses") {
        let at = format!("product_bonuses[{i}]");
        if f.blank_row(&at, &[]) {
            continue;
        }
        rows.product_bonuses.push(i);
        rules.product_bonuses.push(ProductBonus {
            label: r.label(&format!("{at}.label")),
            sku: r.code(&format!("{at}.sku")),
            category: r.code(&format!("{at}.category")),
            points_per_unit: r.points(&format!("{at}.points_per_unit")),
        });
    }
    for i in f.rows("multipliers") {
        let at = format!("multipliers[{i}]");
        if f.blank_row(&at, &[]) {
            continue;
        }
        rows.multipliers.push(i);
        rules.multipliers.push(r.multiplier(&at));
    }
    rules.stacking = r.stacking("stacking");
    for i in f.rows("visit_bonuses") {
        let at = format!("visit_bonuses[{i}]");
        if f.blank_row(&at, &["kind"]) {
            continue;
        }
        rows.visit_bonuses.push(i);
        rules.visit_bonuses.push(r.visit_bonus(&at));
    }
    for name in ["order_cap", "day_cap"] {
        if f.blank_row(name, &[]) {
            continue;
        }
        let cap = Cap {
            label: r.label(&format!("{name}.label")),
            points: r.points(&format!("{name}.points")),
        };
        if name == "order_cap" {
            rules.order_cap = Some(cap);
        } else {
            rules.day_cap = Some(cap);
        }
    }
    if !f.get("point_value").trim().is_empty() {
        rules.point_value = Some(r.amount("point_value", currency));
    }
    (rules, rows)
}

/// Reads typed values, noting the first problem of each field.
struct Reader<'f, 'e> {
    f: &'f Fields,
    errors: &'e mut FieldErrors,
}

impl Reader<'_, '_> {
    fn fail(&mut self, name: &str, message: impl Into<String>) {
        self.errors
            .entry(name.to_owned())
            .or_insert_with(|| message.into());
    }

    /// The trimmed value, or a "required" problem when it is blank.
    fn required(&mut self, name: &str) -> Option<&str> {
        let value = self.f.get(name).trim();
        if value.is_empty() {
            self.fail(name, "is required");
            None
        } else {
            Some(value)
        }
    }

    fn currency(&mut self) -> Currency {
        let text = self.f.get("currency").trim();
        text.parse().unwrap_or_else(|_| {
            self.fail("currency", format!("{text:?} is not a currency code"));
            Currency::VND
        })
    }

    fn label(&self, name: &str) -> Option<String> {
        let value = self.f.get(name);
        (!value.trim().is_empty()).then(|| value.to_owned())
    }

    fn code(&self, name: &str) -> Option<String> {
        let value = self.f.get(name).trim();
        (!value.is_empty()).then(|| value.to_owned())
    }

    fn points(&mut self, name: &str) -> Points {
        let Some(text) = self.required(name) else {
            return Points::ZERO;
        };
        match text.parse::<i64>() {
            Ok(n) => Points::new(n),
            Err(_) => {
                self.fail(name, "must be a whole number of points");
                Points::ZERO
            }
        }
    }

    fn whole(&mut self, name: &str) -> u32 {
        let Some(text) = self.required(name) else {
            return 0;
        };
        text.parse().unwrap_or_else(|_| {
            self.fail(name, "must be a whole number");
            0
        })
    }

    fn decimal(&mut self, name: &str) -> Option<Decimal> {
        let text = self.required(name)?;
        let plain = text
            .bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || b == b'.' || (i == 0 && b == b'-'));
        match Decimal::from_str_exact(text) {
            Ok(value) if plain => Some(value),
            _ => {
                self.fail(name, "must be a number such as 1.5");
                None
            }
        }
    }

    /// An amount of money: a "10.000" meant as ten thousand đồng is refused rather
    /// than read as ten.
    fn amount(&mut self, name: &str, currency: Currency) -> Decimal {
        let Some(value) = self.decimal(name) else {
            return Decimal::ZERO;
        };
        if value.scale() > currency.minor_units() {
            let message = match currency.minor_units() {
                0 => format!("must be a whole amount of {currency}, without a decimal point"),
                n => format!("must have at most {n} decimal places in {currency}"),
            };
            self.fail(name, message);
        }
        value
    }

    fn rounding(&mut self, name: &str) -> Rounding {
        match self.f.get(name) {
            "" | "floor" => Rounding::Floor,
            "nearest" => Rounding::Nearest,
            "ceil" => Rounding::Ceil,
            other => {
                self.fail(name, format!("{other:?} is not floor, nearest or ceil"));
                Rounding::Floor
            }
        }
    }

    fn stacking(&mut self, name: &str) -> Stacking {
        match self.f.get(name) {
            "" | "highest" => Stacking::Highest,
            "multiply" => Stacking::Multiply,
            other => {
                self.fail(name, format!("{other:?} is not highest or multiply"));
                Stacking::Highest
            }
        }
    }

    fn time(&mut self, name: &str) -> Option<LocalTime> {
        let text = self.required(name)?;
        let parsed = text.split_once(':').and_then(|(h, m)| {
            let digits =
                |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
            if !digits(h) || m.len() != 2 || !digits(m) {
                return None;
            }
            LocalTime::new(h.parse().ok()?, m.parse().ok()?)
        });
        if parsed.is_none() {
            self.fail(name, "must be a time such as 14:00");
        }
        parsed
    }

    fn multiplier(&mut self, at: &str) -> Multiplier {
        let name = |field: &str| format!("{at}.{field}");
        let factor = self.decimal(&name("factor")).unwrap_or(Decimal::ONE);
        let (from, to) = (name("when.hours.from"), name("when.hours.to"));
        let hours = if self.f.get(&from).trim().is_empty() && self.f.get(&to).trim().is_empty() {
            None
        } else {
            match (self.time(&from), self.time(&to)) {
                (Some(from), Some(to)) => Some(TimeWindow { from, to }),
                _ => None,
            }
        };
        let mut weekdays = Vec::new();
        let days_field = name("when.weekdays");
        for code in self.f.all(&days_field) {
            match WEEKDAYS.iter().find(|(_, c)| *c == code) {
                Some((day, _)) => weekdays.push(*day),
                None => self.fail(&days_field, format!("{code:?} is not a weekday")),
            }
        }
        let codes = |field: &str| {
            let list: Vec<String> = self
                .f
                .all(&name(field))
                .iter()
                .map(|c| c.trim().to_owned())
                .collect();
            (!list.is_empty()).then_some(list)
        };
        let locations = codes("when.locations");
        let tiers = codes("when.tiers");
        let birthday_field = name("when.birthday");
        let birthday = match self.f.get(&birthday_field) {
            "" => None,
            "yes" => Some(true),
            "no" => Some(false),
            other => {
                self.fail(
                    &birthday_field,
                    format!("{other:?} is not yes, no or empty"),
                );
                None
            }
        };
        Multiplier {
            label: self.label(&name("label")),
            factor,
            when: Conditions {
                tiers,
                weekdays: (!weekdays.is_empty()).then_some(weekdays),
                hours,
                locations,
                birthday,
            },
        }
    }

    fn visit_bonus(&mut self, at: &str) -> VisitBonus {
        let name = |field: &str| format!("{at}.{field}");
        let label = self.label(&name("label"));
        let points = self.points(&name("points"));
        match self.f.get(&name("kind")) {
            "nth_visit" => VisitBonus::NthVisit {
                label,
                visit: self.whole(&name("number")),
                points,
            },
            "every_nth_visit" => VisitBonus::EveryNthVisit {
                label,
                every: self.whole(&name("number")),
                points,
            },
            "" | "first_visit" => VisitBonus::FirstVisit { label, points },
            other => {
                self.fail(
                    &name("kind"),
                    format!("{other:?} is not a kind of visit bonus"),
                );
                VisitBonus::FirstVisit { label, points }
            }
        }
    }
}

#[cfg(test)]
#[path = "rules_form_tests.rs"]
mod tests;
