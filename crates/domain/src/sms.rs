//! SMS text as the networks carry it: the GSM-7 alphabet (GSM 03.38) or UCS-2, the
//! segments a text is billed as, and Vietnamese accent folding.
//!
//! A single SMS holds 140 octets: 160 GSM-7 septets or 70 UCS-2 code units. A longer text
//! is sent as a concatenated message whose parts each lose 6 octets to the user data
//! header: 153 septets or 67 code units per part. A GSM-7 text may use the extension
//! table (`^ { } \ [ ~ ] | €` and form feed), two septets each (escape plus the
//! character), and a part never ends between the two. One character outside GSM-7
//! (any Vietnamese letter with a diacritic, `` ` ``, an emoji) sends the whole text as
//! UCS-2. These are the numbers Twilio documents ("How long can a message be?",
//! `twilio.com/docs/glossary/what-sms-character-limit`; "What is UCS-2 character
//! encoding?", `twilio.com/docs/glossary/what-is-ucs-2-character-encoding`).
//!
//! ```
//! use regulars_domain::sms::{SmsEncoding, fold_vietnamese, measure};
//!
//! let text = "Chúc mừng sinh nhật! Tặng bạn ly trà đào.";
//! let accented = measure(text);
//! assert_eq!(accented.encoding, SmsEncoding::Ucs2);
//!
//! let folded = fold_vietnamese(text);
//! assert_eq!(folded, "Chuc mung sinh nhat! Tang ban ly tra dao.");
//! assert_eq!(measure(&folded).encoding, SmsEncoding::Gsm7);
//! assert_eq!(measure(&"a".repeat(161)).segments, 2);
//! ```

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Septets in a single GSM-7 message.
pub const GSM7_SINGLE: usize = 160;
/// Septets in each part of a concatenated GSM-7 message.
pub const GSM7_PART: usize = 153;
/// UCS-2 code units in a single message.
pub const UCS2_SINGLE: usize = 70;
/// UCS-2 code units in each part of a concatenated message.
pub const UCS2_PART: usize = 67;

/// How a text travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsEncoding {
    /// The GSM 03.38 default alphabet (with its extension table): 7 bits a character.
    Gsm7,
    /// UTF-16 code units, 16 bits each.
    Ucs2,
}

/// What a text costs as SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SmsLength {
    /// The encoding it needs.
    pub encoding: SmsEncoding,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: usize,
    /// Parts it is sent (and billed) as; at least 1.
    pub segments: u32,
}

/// Most segments a message may be capped at.
pub const MAX_SEGMENTS_CAP: u32 = 10;

/// How a sender's SMS text is prepared and bounded (a campaign's `sms` settings, kept
/// with each message it plans).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsOptions {
    /// Send the text without Vietnamese diacritics ([`fold_vietnamese`]): brandname
    /// routes often take only templates registered unaccented, and GSM-7 carries 160
    /// characters a segment instead of 70.
    #[serde(default)]
    pub fold_accents: bool,
    /// Most segments one message may take; a longer text is refused, never cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_segments: Option<u32>,
}

/// Why a text may not go out as SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverCap {
    /// What the text measures.
    pub length: SmsLength,
    /// The cap it exceeds.
    pub max_segments: u32,
}

impl std::fmt::Display for OverCap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (unit, encoding) = match self.length.encoding {
            SmsEncoding::Gsm7 => ("septets", "GSM-7"),
            SmsEncoding::Ucs2 => ("characters", "UCS-2"),
        };
        write!(
            f,
            "the SMS text is {} segments ({} {unit} in {encoding}), more than the cap of {}",
            self.length.segments, self.length.units, self.max_segments
        )
    }
}

impl SmsOptions {
    /// True when nothing is asked (no folding, no cap).
    #[must_use]
    pub fn is_default(&self) -> bool {
        *self == SmsOptions::default()
    }

    /// Checks the cap's range; the message names what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        match self.max_segments {
            Some(n) if !(1..=MAX_SEGMENTS_CAP).contains(&n) => {
                Err(format!("must be 1 to {MAX_SEGMENTS_CAP}"))
            }
            _ => Ok(()),
        }
    }

    /// The text as it goes out by SMS, and what it measures; an error when it is over
    /// the cap.
    ///
    /// ```
    /// use regulars_domain::sms::SmsOptions;
    /// let options = SmsOptions { fold_accents: true, max_segments: Some(1) };
    /// let (text, length) = options.prepare("Cảm ơn bạn!").unwrap();
    /// assert_eq!((text.as_str(), length.segments), ("Cam on ban!", 1));
    /// assert!(options.prepare(&"ă".repeat(161)).is_err());
    /// ```
    pub fn prepare(&self, text: &str) -> Result<(String, SmsLength), OverCap> {
        let text = if self.fold_accents {
            fold_vietnamese(text)
        } else {
            text.to_owned()
        };
        let length = measure(&text);
        match self.max_segments {
            Some(max_segments) if length.segments > max_segments => Err(OverCap {
                length,
                max_segments,
            }),
            _ => Ok((text, length)),
        }
    }
}

/// The GSM 03.38 default alphabet, as Unicode.
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The extension table: an escape septet plus one more each.
const GSM7_EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// Septets `c` takes in GSM-7, or `None` when it has no GSM-7 form.
#[must_use]
pub fn gsm7_septets(c: char) -> Option<usize> {
    if c.is_ascii_alphanumeric() || (c != '`' && c.is_ascii_punctuation() && !is_ext(c)) {
        // Fast path for the common case; `` ` `` and the extension characters are not basic.
        return Some(1);
    }
    if is_ext(c) {
        Some(2)
    } else if GSM7_BASIC.contains(c) {
        Some(1)
    } else {
        None
    }
}

fn is_ext(c: char) -> bool {
    GSM7_EXTENSION.contains(c)
}

/// Whether every character of `text` has a GSM-7 form.
#[must_use]
pub fn is_gsm7(text: &str) -> bool {
    text.chars().all(|c| gsm7_septets(c).is_some())
}

/// The encoding, length and segment count of `text`.
#[must_use]
pub fn measure(text: &str) -> SmsLength {
    let septets: Option<Vec<usize>> = text.chars().map(gsm7_septets).collect();
    match septets {
        Some(units) => SmsLength {
            encoding: SmsEncoding::Gsm7,
            units: units.iter().sum(),
            segments: pack(&units, GSM7_SINGLE, GSM7_PART),
        },
        None => {
            let units: Vec<usize> = text.chars().map(char::len_utf16).collect();
            SmsLength {
                encoding: SmsEncoding::Ucs2,
                units: units.iter().sum(),
                segments: pack(&units, UCS2_SINGLE, UCS2_PART),
            }
        }
    }
}

/// Parts needed for characters of the given widths: one when they fit `single`, else
/// parts of at most `part`, never splitting a character (an escape pair or a surrogate
/// pair).
fn pack(widths: &[usize], single: usize, part: usize) -> u32 {
    if widths.iter().sum::<usize>() <= single {
        return 1;
    }
    let mut parts = 1_u32;
    let mut used = 0;
    for &w in widths {
        if used + w > part {
            parts = parts.saturating_add(1);
            used = 0;
        }
        used += w;
    }
    parts
}

/// `text` without Vietnamese diacritics: every letter decomposed (NFD) and stripped of
/// its combining marks, `đ`/`Đ` (which Unicode does not decompose) as `d`/`D`, the đồng
/// sign `₫` as `d`, and typographic quotes, dashes, ellipsis, tabs and no-break spaces as
/// their plain forms. Characters it cannot fold (emoji, other scripts) are kept: the text
/// then still needs UCS-2, which [`measure`] reports.
///
/// Brandname SMS routes often take only templates registered without accents, and a
/// folded Vietnamese text fits 160 characters a segment instead of 70.
///
/// ```
/// use regulars_domain::sms::{fold_vietnamese, is_gsm7};
/// assert_eq!(fold_vietnamese("ĐỒNG Đức Ưng Ơn ỹ"), "DONG Duc Ung On y");
/// assert_eq!(fold_vietnamese("Giảm 20.000 ₫ – “Mây”…"), "Giam 20.000 d - \"May\"...");
/// assert!(is_gsm7(&fold_vietnamese("Cảm ơn quý khách đã ghé Trà Sữa Mây!")));
/// ```
#[must_use]
pub fn fold_vietnamese(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'đ' | '₫' => out.push('d'),
            'Đ' => out.push('D'),
            '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{2032}' | '`' | '´' => out.push('\''),
            '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{2033}' | '«' | '»' => out.push('"'),
            '\u{2010}'..='\u{2015}' | '\u{2212}' => out.push('-'),
            '\u{2026}' => out.push_str("..."),
            '\t' | '\u{a0}' | '\u{2007}' | '\u{202f}' | '\u{2009}' | '\u{200a}' => out.push(' '),
            '\u{200b}' | '\u{feff}' => {}
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every letter of the Vietnamese alphabet with each tone, both cases, precomposed.
    const VIETNAMESE: &str = "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợ\
pqrstuùúủũụưừứửữựvxyỳýỷỹỵAÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬBCDĐEÈÉẺẼẸÊỀẾỂỄỆGHIÌÍỈĨỊKLMNOÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢ\
PQRSTUÙÚỦŨỤƯỪỨỬỮỰVXYỲÝỶỸỴ";

    /// What else a Vietnamese message holds: digits, ASCII punctuation (all of it, the
    /// backtick and the extension characters included), spaces, line breaks, tabs and
    /// the typography shop owners paste in.
    const OTHER: &str = "0123456789 \n\r\t!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~₫–—‘’“”…\u{a0}";

    fn vietnamese_text() -> impl Strategy<Value = String> {
        let alphabet: Vec<char> = VIETNAMESE.chars().chain(OTHER.chars()).collect();
        proptest::collection::vec(proptest::sample::select(alphabet), 0..400)
            .prop_map(|cs| cs.into_iter().collect())
    }

    /// Decomposed input (NFD, as some keyboards and copy-paste produce it).
    fn decomposed_text() -> impl Strategy<Value = String> {
        vietnamese_text().prop_map(|s| s.nfd().collect())
    }

    /// An independent count: encode to the real septet or code-unit stream and cut it
    /// into parts, stepping back one unit when a cut would split an escape sequence or a
    /// surrogate pair.
    fn reference_segments(text: &str) -> (SmsEncoding, usize, u32) {
        const ESC: u16 = 0x1b;
        let mut stream: Vec<u16> = Vec::new();
        let mut gsm = true;
        for c in text.chars() {
            if GSM7_EXTENSION.contains(c) {
                stream.extend([ESC, c as u16]);
            } else if GSM7_BASIC.contains(c) {
                stream.push(c as u16);
            } else {
                gsm = false;
                break;
            }
        }
        let (encoding, single, part) = if gsm {
            (SmsEncoding::Gsm7, GSM7_SINGLE, GSM7_PART)
        } else {
            stream = text.encode_utf16().collect();
            (SmsEncoding::Ucs2, UCS2_SINGLE, UCS2_PART)
        };
        let len = stream.len();
        if len <= single {
            return (encoding, len, 1);
        }
        let mut start = 0;
        let mut parts = 0;
        while start < len {
            let mut end = (start + part).min(len);
            if end < len {
                let splits_escape = gsm && stream[end - 1] == ESC;
                let splits_pair = !gsm && (0xd800..0xdc00).contains(&stream[end - 1]);
                if splits_escape || splits_pair {
                    end -= 1;
                }
            }
            parts += 1;
            start = end;
        }
        (encoding, len, parts)
    }

    proptest! {
        #[test]
        fn folded_vietnamese_is_gsm7(text in vietnamese_text()) {
            let folded = fold_vietnamese(&text);
            prop_assert!(is_gsm7(&folded), "{folded:?} is not GSM-7");
            prop_assert_eq!(measure(&folded).encoding, SmsEncoding::Gsm7);
        }

        #[test]
        fn folding_decomposed_input_is_the_same(text in vietnamese_text()) {
            let composed = fold_vietnamese(&text);
            let decomposed = fold_vietnamese(&text.nfd().collect::<String>());
            prop_assert_eq!(composed, decomposed);
        }

        #[test]
        fn folded_decomposed_vietnamese_is_gsm7(text in decomposed_text()) {
            prop_assert!(is_gsm7(&fold_vietnamese(&text)));
        }

        #[test]
        fn segments_match_an_independent_count(text in vietnamese_text()) {
            let m = measure(&text);
            let (encoding, units, segments) = reference_segments(&text);
            prop_assert_eq!(m.encoding, encoding);
            prop_assert_eq!(m.units, units);
            prop_assert_eq!(m.segments, segments);
        }

        #[test]
        fn folded_segments_match_an_independent_count(text in vietnamese_text()) {
            let folded = fold_vietnamese(&text);
            let m = measure(&folded);
            prop_assert_eq!((m.encoding, m.units, m.segments), reference_segments(&folded));
        }

        #[test]
        fn any_text_is_counted_like_the_reference(text in any::<String>()) {
            let m = measure(&text);
            prop_assert_eq!((m.encoding, m.units, m.segments), reference_segments(&text));
        }
    }

    #[test]
    fn boundaries() {
        assert_eq!(measure("").segments, 1);
        assert_eq!(measure(&"a".repeat(160)).segments, 1);
        assert_eq!(measure(&"a".repeat(161)).segments, 2);
        assert_eq!(measure(&"a".repeat(306)).segments, 2);
        assert_eq!(measure(&"a".repeat(307)).segments, 3);
        assert_eq!(measure(&"ă".repeat(70)).segments, 1);
        assert_eq!(measure(&"ă".repeat(71)).segments, 2);
        assert_eq!(measure(&"ă".repeat(134)).segments, 2);
        assert_eq!(measure(&"ă".repeat(135)).segments, 3);
        // An extension character counts two septets: 80 of them fill one message.
        assert_eq!(measure(&"[".repeat(80)).units, 160);
        assert_eq!(measure(&"[".repeat(80)).segments, 1);
        // 306 septets would be two parts of 153, but the escape pair after 152 septets
        // moves whole to the second part, and one septet is left for a third.
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(measure(&text).units, 306);
        assert_eq!(measure(&text).segments, 3);
        // The backtick is ASCII but not GSM-7.
        assert_eq!(measure("`").encoding, SmsEncoding::Ucs2);
        // An emoji is a surrogate pair: two code units.
        assert_eq!(measure("☕🍵").units, 3);
    }

    #[test]
    fn folds_every_vietnamese_letter_to_its_base() {
        assert_eq!(fold_vietnamese("aàáảãạăằắẳẵặâầấẩẫậ"), "a".repeat(18),);
        assert_eq!(fold_vietnamese("ưừứửữựƯỪỨỬỮỰ"), "uuuuuuUUUUUU");
        assert_eq!(fold_vietnamese("ơờớởỡợƠỜỚỞỠỢ"), "ooooooOOOOOO");
        assert_eq!(fold_vietnamese("đĐ"), "dD");
        assert_eq!(fold_vietnamese("☕"), "☕");
    }
}
