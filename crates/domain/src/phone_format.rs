//! Phone numbers as people read them: Vietnamese numbers in the national form with the
//! usual groups (`0981 000 296`, `028 3822 1234`), others as `+`, the calling code and
//! the national number in short groups (`+1 415 555 2671`).

use crate::Phone;

/// Country calling codes of two digits (ITU-T E.164 zones); 1 and 7 have one digit and
/// every other code three.
const TWO_DIGIT_CODES: [u16; 44] = [
    20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55, 56,
    57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
];

/// The length of the calling code at the start of international `digits`.
fn code_len(digits: &str) -> usize {
    match digits.as_bytes().first() {
        Some(b'1' | b'7') => 1,
        _ => {
            let two = digits.get(..2).and_then(|d| d.parse::<u16>().ok());
            if two.is_some_and(|c| TWO_DIGIT_CODES.contains(&c)) {
                2
            } else {
                3
            }
        }
    }
}

/// `digits` cut into groups of the given sizes, the last group taking what is left.
fn cut(digits: &str, sizes: &[usize]) -> Vec<String> {
    let mut groups = Vec::new();
    let mut rest = digits;
    for &size in sizes {
        if rest.len() <= size {
            break;
        }
        let (head, tail) = rest.split_at(size);
        groups.push(head.to_owned());
        rest = tail;
    }
    if !rest.is_empty() {
        groups.push(rest.to_owned());
    }
    groups
}

/// A national number of another country in groups of three, a lone last digit joining
/// the group before it (`415 555 2671`); eight digits or fewer read as fours.
fn grouped(national: &str) -> Vec<String> {
    let n = national.len();
    if n <= 8 && n.is_multiple_of(4) {
        return cut(national, &[4; 2]);
    }
    let mut groups = cut(national, &[3; 5]);
    if groups.len() > 1 && groups.last().is_some_and(|g| g.len() == 1) {
        let last = groups.pop().unwrap_or_default();
        if let Some(before) = groups.last_mut() {
            before.push_str(&last);
        }
    }
    groups
}

impl Phone {
    /// The number as people read and dial it: a Vietnamese number in the national form
    /// (`0` and the significant digits: mobiles `4-3-3`, landlines `3-4-4`), any other
    /// number as `+`, its calling code and the national digits in short groups. Parsing
    /// the result with [`Phone::VIETNAM`] gives the same number back.
    ///
    /// ```
    /// use regulars_domain::Phone;
    /// assert_eq!(Phone::parse_e164("+84981000296")?.readable(), "0981 000 296");
    /// assert_eq!(Phone::parse_e164("+842838221234")?.readable(), "028 3822 1234");
    /// assert_eq!(Phone::parse_e164("+14155552671")?.readable(), "+1 415 555 2671");
    /// assert_eq!(Phone::parse_e164("+6591234567")?.readable(), "+65 9123 4567");
    /// # Ok::<(), regulars_domain::DomainError>(())
    /// ```
    pub fn readable(&self) -> String {
        let digits = self.as_str().trim_start_matches('+');
        if let Some(nsn) = digits.strip_prefix("84") {
            let national = format!("0{nsn}");
            let sizes: &[usize] = if nsn.len() == 9 { &[4, 3] } else { &[3, 4] };
            return cut(&national, sizes).join(" ");
        }
        let (code, national) = digits.split_at(code_len(digits).min(digits.len()));
        let mut out = format!("+{code}");
        for group in grouped(national) {
            out.push(' ');
            out.push_str(&group);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn vietnamese_numbers_read_nationally() {
        let read = |e164: &str| Phone::parse_e164(e164).map(|p| p.readable());
        assert_eq!(read("+84981000296"), Ok("0981 000 296".to_owned()));
        assert_eq!(read("+84301234567"), Ok("0301 234 567".to_owned()));
        assert_eq!(read("+842438221234"), Ok("024 3822 1234".to_owned()));
    }

    #[test]
    fn other_countries_keep_their_code() {
        let read = |e164: &str| Phone::parse_e164(e164).map(|p| p.readable());
        assert_eq!(read("+14155552671"), Ok("+1 415 555 2671".to_owned()));
        assert_eq!(read("+447911123456"), Ok("+44 791 112 3456".to_owned()));
        assert_eq!(read("+85561234567"), Ok("+855 6123 4567".to_owned()));
        assert_eq!(read("+6591234567"), Ok("+65 9123 4567".to_owned()));
        assert_eq!(read("+79161234567"), Ok("+7 916 123 4567".to_owned()));
    }

    fn any_phone() -> impl Strategy<Value = Phone> {
        prop_oneof![
            (
                prop::sample::select(vec!['3', '5', '7', '8', '9']),
                "[0-9]{8}"
            )
                .prop_map(|(first, rest)| format!("+84{first}{rest}")),
            "[0-9]{9}".prop_map(|rest| format!("+842{rest}")),
            "[1-9][0-9]{7,14}",
        ]
        .prop_filter_map("a valid number", |s| {
            let e164 = if s.starts_with('+') {
                s
            } else {
                format!("+{s}")
            };
            Phone::parse_e164(&e164).ok()
        })
    }

    proptest! {
        #[test]
        fn the_readable_form_reads_back_as_the_same_number(phone in any_phone()) {
            let shown = phone.readable();
            prop_assert_eq!(Phone::parse(&shown, Phone::VIETNAM), Ok(phone.clone()));
        }

        #[test]
        fn groups_are_short_and_keep_every_digit(phone in any_phone()) {
            let shown = phone.readable();
            for group in shown.split(' ') {
                prop_assert!(!group.is_empty() && group.trim_start_matches('+').len() <= 4, "{}", shown);
            }
            let digits: String = shown.chars().filter(char::is_ascii_digit).collect();
            let e164 = phone.as_str().trim_start_matches('+');
            match e164.strip_prefix("84") {
                Some(nsn) => prop_assert_eq!(digits, format!("0{nsn}")),
                None => prop_assert_eq!(digits.as_str(), e164),
            }
        }
    }
}
