//! Opt-out keywords: the words a customer sends to a brand's channel (a text to its Zalo
//! Official Account) to refuse its promotional messages, and how a text is compared with
//! them. People type these on a phone keyboard, with or without Vietnamese marks, in any
//! case, with stray spaces and punctuation: "Hủy", "huy", " HUY ĐĂNG KÝ!" are the same
//! refusal.

use unicode_normalization::UnicodeNormalization;

/// The keywords every brand takes, in their normal form: "huỷ" (cancel), "từ chối"
/// (refuse), "huỷ đăng ký" (unsubscribe), "STOP", and "TC" (the short form promotional
/// texts print: "Tu choi QC soan TC").
pub const DEFAULT_OPT_OUT_KEYWORDS: [&str; 5] = ["HUY", "TU CHOI", "HUY DANG KY", "STOP", "TC"];

/// A text in the form keywords are compared in: Vietnamese marks removed (`đ` read as
/// `d`), capitals, punctuation dropped, runs of spaces made one, no space at either end.
///
/// ```
/// use regulars_domain::normalize_keyword;
/// assert_eq!(normalize_keyword("  Hủy   đăng ký! "), "HUY DANG KY");
/// assert_eq!(normalize_keyword("Từ chối."), "TU CHOI");
/// ```
pub fn normalize_keyword(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.nfd() {
        let c = match c {
            'đ' | 'Đ' => 'D',
            c if is_mark(c) => continue,
            c => c,
        };
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.extend(c.to_uppercase());
        } else {
            // Spaces and punctuation both separate words.
            space = true;
        }
    }
    out
}

/// Combining marks (the accents and tones NFD splits off a Vietnamese letter).
fn is_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}')
}

/// Whether `text` is, once normalised, one of `keywords` (taken as given, normalised
/// too): the whole text, not a word in a longer message, so "huỷ đơn hàng giúp tôi"
/// (cancel my order) is not a refusal.
///
/// ```
/// use regulars_domain::{DEFAULT_OPT_OUT_KEYWORDS, is_opt_out_keyword};
/// assert!(is_opt_out_keyword("Huỷ", &DEFAULT_OPT_OUT_KEYWORDS));
/// assert!(!is_opt_out_keyword("huỷ đơn hàng giúp tôi", &DEFAULT_OPT_OUT_KEYWORDS));
/// ```
pub fn is_opt_out_keyword<S: AsRef<str>>(text: &str, keywords: &[S]) -> bool {
    let text = normalize_keyword(text);
    !text.is_empty()
        && keywords
            .iter()
            .any(|k| normalize_keyword(k.as_ref()) == text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn vietnamese_spellings_of_the_keywords_are_the_keywords() {
        for typed in [
            "HUY",
            "huỷ",
            "Hủy",
            "HỦY",
            "hu\u{0309}y",
            " huy ",
            "Từ chối",
            "TU  CHOI",
            "từ-chối",
            "Hủy đăng ký",
            "HUỶ ĐĂNG KÝ.",
            "stop",
            "Stop!",
            "tc",
        ] {
            assert!(
                is_opt_out_keyword(typed, &DEFAULT_OPT_OUT_KEYWORDS),
                "{typed}"
            );
        }
        for other in [
            "",
            "  ",
            "!!",
            "Hello from user",
            "huỷ đơn hàng",
            "STOPPED",
            "không huỷ",
            "HUYDANGKY",
        ] {
            assert!(
                !is_opt_out_keyword(other, &DEFAULT_OPT_OUT_KEYWORDS),
                "{other}"
            );
        }
    }

    #[test]
    fn a_brand_list_replaces_nothing_but_what_it_names() {
        let own = ["Ngừng nhận tin"];
        assert!(is_opt_out_keyword("ngung nhan tin", &own));
        assert!(!is_opt_out_keyword("huy", &own));
    }

    proptest! {
        /// Normalising twice changes nothing, and the form has no marks, no lower case
        /// and no doubled, leading or trailing space.
        #[test]
        fn the_normal_form_is_stable_and_plain(text in "\\PC{0,40}") {
            let once = normalize_keyword(&text);
            prop_assert_eq!(normalize_keyword(&once), once.clone());
            prop_assert!(!once.starts_with(' ') && !once.ends_with(' '));
            prop_assert!(!once.contains("  "));
            prop_assert!(!once.nfd().any(is_mark));
        }

        /// Case, marks and spacing never change whether a text is a keyword.
        #[test]
        fn spacing_and_case_do_not_matter(
            keyword in proptest::sample::select(&DEFAULT_OPT_OUT_KEYWORDS[..]),
            pad in " {0,3}",
            lower in any::<bool>(),
        ) {
            let typed = format!("{pad}{}{pad}", keyword.replace(' ', "   "));
            let typed = if lower { typed.to_lowercase() } else { typed };
            prop_assert!(is_opt_out_keyword(&typed, &DEFAULT_OPT_OUT_KEYWORDS));
        }
    }
}
