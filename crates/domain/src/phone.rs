//! Phone numbers normalised to E.164, the key customers are known by.

use crate::DomainError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A country calling code (84 for Vietnam, 1 for North America, ...).
///
/// A brand's default calling code decides how a national number such as `0901234567`
/// is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallingCode(pub u16);

/// A phone number in E.164 form: `+`, the country calling code, then the national
/// significant number; at most 15 digits in all.
///
/// Numbers are accepted as people type them at a till: spaces, dots, dashes and
/// parentheses are ignored; `+84…`, `0084…`, `84…` and the national `0…` form all mean the
/// same Vietnamese number. Vietnamese numbers are checked further: a mobile number has
/// nine significant digits and starts with 3, 5, 7, 8 or 9; a landline has ten and
/// starts with 2.
///
/// ```
/// use regulars_domain::Phone;
/// for typed in ["0901234567", "84901234567", "+84 90 123 4567", "(090) 123-4567", "0084901234567"] {
///     assert_eq!(Phone::parse(typed, Phone::VIETNAM)?.as_str(), "+84901234567");
/// }
/// assert_eq!(Phone::parse("+1 415 555 2671", Phone::VIETNAM)?.as_str(), "+14155552671");
/// assert!(Phone::parse("090123", Phone::VIETNAM).is_err());
/// assert!(Phone::parse("0123456789", Phone::VIETNAM).is_err()); // 01x prefixes were retired
/// # Ok::<(), regulars_domain::DomainError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone(String);

impl Phone {
    /// Vietnam's calling code, +84.
    pub const VIETNAM: CallingCode = CallingCode(84);

    /// Parses a number typed in any common form; national numbers (leading `0`) are read
    /// with `default_country`'s calling code.
    pub fn parse(input: &str, default_country: CallingCode) -> Result<Phone, DomainError> {
        let err = |reason| DomainError::InvalidPhone {
            input: input.to_owned(),
            reason,
        };
        let trimmed = input.trim();
        let (has_plus, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '.' | '-' | '(' | ')' => {}
                _ => {
                    return Err(err(
                        "only digits, spaces, dots, dashes, parentheses and a leading + are allowed",
                    ));
                }
            }
        }
        if digits.is_empty() {
            return Err(err("no digits"));
        }
        let cc = default_country.0.to_string();
        let international = if has_plus {
            digits
        } else if let Some(intl) = digits.strip_prefix("00") {
            intl.to_owned()
        } else if let Some(national) = digits.strip_prefix('0') {
            format!("{cc}{national}")
        } else if digits.starts_with(&cc) && digits.len() > cc.len() + 6 {
            digits
        } else {
            return Err(err(
                "national numbers start with 0 and international ones with + and the country code",
            ));
        };
        Self::from_international_digits(&international).map_err(err)
    }

    /// Parses the canonical form (`+` and digits only), as stored and as sent in JSON.
    pub fn parse_e164(input: &str) -> Result<Phone, DomainError> {
        let err = |reason| DomainError::InvalidPhone {
            input: input.to_owned(),
            reason,
        };
        let digits = input
            .strip_prefix('+')
            .ok_or_else(|| err("E.164 numbers start with +"))?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("E.164 numbers contain only digits after the +"));
        }
        Self::from_international_digits(digits).map_err(err)
    }

    fn from_international_digits(digits: &str) -> Result<Phone, &'static str> {
        if digits.starts_with('0') {
            return Err("a country calling code never starts with 0");
        }
        if digits.len() < 8 {
            return Err("too short for an international number");
        }
        if digits.len() > 15 {
            return Err("longer than the 15 digits E.164 allows");
        }
        if let Some(nsn) = digits.strip_prefix("84") {
            Self::check_vietnamese(nsn)?;
        }
        Ok(Phone(format!("+{digits}")))
    }

    fn check_vietnamese(nsn: &str) -> Result<(), &'static str> {
        let first = nsn.as_bytes().first().copied();
        match (nsn.len(), first) {
            (9, Some(b'3' | b'5' | b'7' | b'8' | b'9')) => Ok(()),
            (10, Some(b'2')) => Ok(()),
            (9, _) => Err("Vietnamese mobile numbers start with 03, 05, 07, 08 or 09"),
            (10, _) => Err("Vietnamese ten-digit numbers are landlines starting with 02"),
            _ => Err("Vietnamese numbers have 10 digits (11 for landlines) in the 0… form"),
        }
    }

    /// The E.164 string, e.g. `"+84901234567"`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is a Vietnamese mobile number (`+84` and nine digits starting with
    /// 3, 5, 7, 8 or 9): the numbers Zalo ZNS can reach by phone.
    ///
    /// ```
    /// use regulars_domain::Phone;
    /// assert!(Phone::parse_e164("+84901234567").unwrap().is_vietnamese_mobile());
    /// assert!(!Phone::parse_e164("+842838123456").unwrap().is_vietnamese_mobile());
    /// assert!(!Phone::parse_e164("+6591234567").unwrap().is_vietnamese_mobile());
    /// ```
    pub fn is_vietnamese_mobile(&self) -> bool {
        self.0.strip_prefix("+84").is_some_and(|nsn| {
            nsn.len() == 9
                && matches!(
                    nsn.as_bytes().first(),
                    Some(b'3' | b'5' | b'7' | b'8' | b'9')
                )
        })
    }

    /// The number with its last four digits only, for logs and receipts.
    pub fn masked(&self) -> String {
        let visible = self.0.len().saturating_sub(4);
        let mut out = String::with_capacity(self.0.len());
        for (i, c) in self.0.chars().enumerate() {
            out.push(if i == 0 || i >= visible { c } else { '•' });
        }
        out
    }
}

impl Phone {
    /// The number as a read-only role sees it: the country code, the first two and the
    /// last two national digits, the rest hidden, grouped by three.
    ///
    /// ```
    /// use regulars_domain::Phone;
    /// let p = Phone::parse("0987654396", Phone::VIETNAM)?;
    /// assert_eq!(p.partly_hidden(), "+84 98* *** *96");
    /// # Ok::<(), regulars_domain::DomainError>(())
    /// ```
    pub fn partly_hidden(&self) -> String {
        let digits = self.0.trim_start_matches('+');
        // North America (+1) and Russia (+7) have one-digit codes; the others shown here
        // are read as two digits, which is right for Vietnam and its neighbours and only
        // moves one digit between the groups elsewhere.
        let code_len = if digits.starts_with('1') || digits.starts_with('7') {
            1
        } else {
            2
        };
        let (code, national) = digits.split_at(code_len.min(digits.len()));
        let n = national.chars().count();
        let shown: String = national
            .chars()
            .enumerate()
            .map(|(i, c)| if i < 2 || i + 2 >= n { c } else { '*' })
            .collect();
        let mut groups: Vec<String> = shown
            .as_bytes()
            .chunks(3)
            .map(|g| String::from_utf8_lossy(g).into_owned())
            .collect();
        // A lone last digit joins the group before it: `**7 1` reads badly.
        if groups.len() > 1 && groups.last().is_some_and(|g| g.len() == 1) {
            let last = groups.pop().unwrap_or_default();
            if let Some(before) = groups.last_mut() {
                before.push_str(&last);
            }
        }
        format!("+{code} {}", groups.join(" "))
    }
}

/// An email address as a read-only role sees it: the first letter and the domain.
///
/// ```
/// assert_eq!(regulars_domain::partly_hidden_email("lan@example.com"), "l…@example.com");
/// assert_eq!(regulars_domain::partly_hidden_email("nonsense"), "…");
/// ```
pub fn partly_hidden_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}…@{domain}")
        }
        None => "…".to_owned(),
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Phone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Phone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Phone::parse_e164(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn landlines_and_mobiles() {
        assert_eq!(
            Phone::parse("028 3822 1234", Phone::VIETNAM).map(|p| p.0),
            Ok("+842838221234".to_owned())
        );
        assert!(Phone::parse("0401234567", Phone::VIETNAM).is_err());
        assert!(Phone::parse("09012345678", Phone::VIETNAM).is_err());
    }

    #[test]
    fn rejects_garbage_with_reason() {
        for bad in [
            "",
            "+",
            "abc",
            "09o1234567",
            "+0123456789",
            "12345",
            "+1234567890123456",
        ] {
            assert!(
                matches!(
                    Phone::parse(bad, Phone::VIETNAM),
                    Err(DomainError::InvalidPhone { .. })
                ),
                "{bad} should be rejected"
            );
        }
    }

    #[test]
    fn other_default_country() {
        // A UK brand: national 07… numbers become +44 7…
        assert_eq!(
            Phone::parse("07911 123456", CallingCode(44)).map(|p| p.0),
            Ok("+447911123456".to_owned())
        );
    }

    #[test]
    fn partly_hidden_keeps_code_and_two_digits_each_end() {
        let vn = Phone::parse("0987654396", Phone::VIETNAM).map(|p| p.partly_hidden());
        assert_eq!(vn, Ok("+84 98* *** *96".to_owned()));
        let us = Phone::parse("+1 415 555 2671", Phone::VIETNAM).map(|p| p.partly_hidden());
        assert_eq!(us, Ok("+1 41* *** **71".to_owned()));
    }

    #[test]
    fn masked_keeps_last_four() {
        let p = Phone::parse("0901234567", Phone::VIETNAM);
        assert_eq!(p.map(|p| p.masked()), Ok("+•••••••4567".to_owned()));
    }

    fn vn_mobile() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec!['3', '5', '7', '8', '9']),
            "[0-9]{8}",
        )
            .prop_map(|(first, rest)| format!("{first}{rest}"))
    }

    proptest! {
        #[test]
        fn all_vietnamese_forms_agree(nsn in vn_mobile()) {
            let canonical = format!("+84{nsn}");
            for form in [format!("0{nsn}"), format!("84{nsn}"), format!("+84{nsn}"), format!("0084{nsn}"),
                         format!("+84 {} {}", &nsn[..2], &nsn[2..])] {
                let p = Phone::parse(&form, Phone::VIETNAM);
                prop_assert_eq!(p.as_ref().map(|p| p.as_str()), Ok(canonical.as_str()));
            }
            let p = Phone::parse_e164(&canonical);
            prop_assert!(p.is_ok());
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,24}") {
            let _ = Phone::parse(&s, Phone::VIETNAM);
            let _ = Phone::parse_e164(&s);
        }

        #[test]
        fn parsed_numbers_are_canonical(s in "[+0-9 .()-]{0,20}") {
            if let Ok(p) = Phone::parse(&s, Phone::VIETNAM) {
                prop_assert_eq!(Phone::parse_e164(p.as_str()), Ok(p.clone()));
                prop_assert!(p.as_str().len() <= 16);
            }
        }
    }
}
