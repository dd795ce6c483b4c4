//! The brand's processing notice (Decree 13/2023 Art. 13): what it tells customers about
//! their data, in Vietnamese and optionally English. Each publication is a new numbered
//! version and old versions are kept, so that the version a consent records can always
//! be shown again.

use crate::Services;
use crate::account::load_brand;
use crate::manage::{ManageError, invalid, not_found};
use regulars_domain::BrandId;
use regulars_ports::Notice;
use std::collections::BTreeMap;

/// The languages a notice may be written in; the first is required.
pub const NOTICE_LANGUAGES: [&str; 2] = ["vi", "en"];
/// The longest text of one language, in characters.
pub const MAX_NOTICE_LEN: usize = 20_000;

fn check(texts: &BTreeMap<String, String>) -> Result<(), ManageError> {
    for (language, text) in texts {
        if !NOTICE_LANGUAGES.contains(&language.as_str()) {
            return Err(invalid(
                "texts",
                format!("`{language}` is not a notice language (vi, en)"),
            ));
        }
        let len = text.trim().chars().count();
        if len == 0 || len > MAX_NOTICE_LEN {
            return Err(invalid(
                "texts",
                format!("the `{language}` text must have 1 to {MAX_NOTICE_LEN} characters"),
            ));
        }
    }
    if !texts.contains_key(NOTICE_LANGUAGES[0]) {
        return Err(invalid("texts", "the Vietnamese (`vi`) text is required"));
    }
    Ok(())
}

impl Services {
    /// Publishes a new version of the brand's processing notice (the previous ones are
    /// kept) and returns it: version 1 for the first, one more than the latest after.
    ///
    /// # Errors
    ///
    /// [`ManageError::Invalid`] (field `texts`) for an unknown language, an empty or too
    /// long text, or no Vietnamese text; [`ManageError::UnknownBrand`].
    pub async fn publish_notice(
        &self,
        brand: BrandId,
        texts: BTreeMap<String, String>,
    ) -> Result<Notice, ManageError> {
        check(&texts)?;
        let texts: BTreeMap<String, String> = texts
            .into_iter()
            .map(|(language, text)| (language, text.trim().to_owned()))
            .collect();
        let now = self.clock.now();
        let texts = &texts;
        self.manage("publish_notice", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            let latest = tx.notices().notice(brand, None).await?;
            let notice = Notice {
                brand_id: brand,
                version: latest.map_or(1, |n| n.version.saturating_add(1)),
                texts: texts.clone(),
                published_at: now,
            };
            // Two publications racing take the same number: the second one's insert
            // conflicts and the use case runs again with the next number.
            tx.notices().publish_notice(&notice).await?;
            Ok(notice)
        })
        .await
    }

    /// A version of the brand's processing notice, or its latest when `version` is
    /// `None`.
    ///
    /// # Errors
    ///
    /// [`ManageError::NotFound`] (`notice`) when there is no such version or none was
    /// published; [`ManageError::UnknownBrand`].
    pub async fn notice(
        &self,
        brand: BrandId,
        version: Option<u32>,
    ) -> Result<Notice, ManageError> {
        self.manage("notice", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            tx.notices().notice(brand, version).await?.ok_or_else(|| {
                not_found(
                    "notice",
                    version.map_or_else(|| "(none published)".to_owned(), |v| v.to_string()),
                )
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn texts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(l, t)| ((*l).to_owned(), (*t).to_owned()))
            .collect()
    }

    #[test]
    fn vietnamese_is_required_and_only_known_languages_pass() {
        assert!(check(&texts(&[("vi", "Chúng tôi xử lý…")])).is_ok());
        assert!(check(&texts(&[("vi", "a"), ("en", "b")])).is_ok());
        assert!(check(&texts(&[("en", "We process…")])).is_err());
        assert!(check(&texts(&[("vi", "a"), ("fr", "b")])).is_err());
        assert!(check(&texts(&[("vi", "   ")])).is_err());
        assert!(check(&BTreeMap::new()).is_err());
    }

    proptest! {
        #[test]
        fn any_nonblank_text_up_to_the_limit_passes(text in "\\PC{1,300}") {
            prop_assume!(!text.trim().is_empty());
            prop_assert!(check(&texts(&[("vi", text.as_str())])).is_ok());
        }
    }
}
