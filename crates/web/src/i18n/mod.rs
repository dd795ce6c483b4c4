//! The interface's words: one table per language. [`Text`] is a struct, so a string
//! missing from a language is a compile error, not an untranslated label.

mod en;
mod text;
mod vi;

pub use en::EN;
pub use text::Text;
pub use vi::VI;

use actix_web::HttpRequest;
use actix_web::http::header;

/// A language of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Vietnamese.
    Vi,
    /// English.
    En,
}

/// The cookie that remembers the chosen language.
pub const LANG_COOKIE: &str = "lang";

impl Lang {
    /// The BCP 47 code (`vi`, `en`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// Reads a code; only the primary subtag counts (`vi-VN` is Vietnamese).
    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language of a request: `?lang=`, then the `lang` cookie, then the first
    /// supported language of `Accept-Language` by weight, then English.
    pub fn of(req: &HttpRequest) -> Lang {
        if let Some(lang) = query_lang(req) {
            return lang;
        }
        if let Some(lang) = crate::cookies::get(req, LANG_COOKIE).and_then(|v| Lang::parse(&v)) {
            return lang;
        }
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(from_accept_language)
            .unwrap_or(Lang::En)
    }

    /// The table of this language.
    pub fn text(self) -> &'static Text {
        match self {
            Lang::Vi => &VI,
            Lang::En => &EN,
        }
    }
}

/// The `lang` query parameter, when it names a supported language.
pub fn query_lang(req: &HttpRequest) -> Option<Lang> {
    req.query_string()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Lang::parse(v))
}

/// The best supported language of an `Accept-Language` header.
pub fn from_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(Lang, f32)> = None;
    for part in header.split(',') {
        let mut pieces = part.split(';');
        let Some(lang) = pieces.next().and_then(Lang::parse) else {
            continue;
        };
        let weight = pieces
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        if best.is_none_or(|(_, w)| weight > w) {
            best = Some((lang, weight));
        }
    }
    best.map(|(lang, _)| lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_heaviest_supported_language() {
        assert_eq!(
            from_accept_language("vi-VN,vi;q=0.9,en;q=0.8"),
            Some(Lang::Vi)
        );
        assert_eq!(
            from_accept_language("fr;q=1, en;q=0.5, vi;q=0.7"),
            Some(Lang::Vi)
        );
        assert_eq!(from_accept_language("en-GB"), Some(Lang::En));
        assert_eq!(from_accept_language("fr, de"), None);
    }

    #[test]
    fn every_string_is_translated() {
        let table = |t: &Text| match serde_json::to_value(t) {
            Ok(serde_json::Value::Object(map)) => map,
            other => panic!("not a table: {other:?}"),
        };
        let (en, vi) = (table(&EN), table(&VI));
        assert_eq!(en.len(), vi.len());
        // The product's name is the same in every language.
        let same_everywhere = ["app_name"];
        for (key, english) in &en {
            let vietnamese = &vi[key];
            assert!(
                english.as_str().is_some_and(|s| !s.trim().is_empty()),
                "{key}"
            );
            assert!(
                vietnamese.as_str().is_some_and(|s| !s.trim().is_empty()),
                "{key}"
            );
            if !same_everywhere.contains(&key.as_str()) {
                assert_ne!(english, vietnamese, "{key} is not translated");
            }
        }
    }
}
