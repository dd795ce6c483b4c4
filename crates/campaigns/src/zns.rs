//! A campaign's Zalo ZNS template parameters: which variable fills each parameter of the
//! approved template, and the parameter's ZNS type, which bounds the value.

use crate::campaign::{Campaign, CampaignError};
use regulars_domain::zns::{ZnsParamType, is_param_name};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The variables a ZNS parameter may take its value from (those the server knows for
/// every message: `reward_value` is text-only).
pub const ZNS_VARIABLES: &[&str] = &[
    "name",
    "shop",
    "reward",
    "code",
    "expiry_date",
    "points",
    "balance",
    "tier",
];

/// Variables that only have a value when the campaign gives an offer.
const OFFER_VARIABLES: &[&str] = &["reward", "code"];

/// One parameter of a ZNS template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZnsParam {
    /// The variable that fills it (one of [`ZNS_VARIABLES`]).
    pub value: String,
    /// Its type on the template, which bounds the value's length and form.
    #[serde(rename = "type")]
    pub kind: ZnsParamType,
}

impl Campaign {
    /// The types of the ZNS parameters, by parameter name, as each message keeps them.
    pub fn zns_param_types(&self) -> BTreeMap<String, ZnsParamType> {
        self.zalo_params
            .iter()
            .map(|(name, p)| (name.clone(), p.kind))
            .collect()
    }

    /// Checks `zalo_params`: a template to fill, valid names, known variables, and each
    /// parameter's value for a sample customer within its type's limits; the error names
    /// the parameter (`zalo_params.<name>`).
    ///
    /// ```
    /// use regulars_campaigns::{Campaign, CampaignError};
    /// let doc = |shop: &str| format!(r#"{{"id": "00000000-0000-0000-0000-000000000001",
    ///     "name": "Hi", "shop": "{shop}", "currency": "VND", "trigger": {{"type": "broadcast"}},
    ///     "zalo_template": "240871",
    ///     "zalo_params": {{"shop_name": {{"value": "shop", "type": "label"}}}}}}"#);
    /// assert!(Campaign::from_json(&doc("Trà Sữa Mây")).is_ok());
    /// let long = "Trà Sữa Mây chi nhánh Nguyễn Huệ";
    /// let err = Campaign::from_json(&doc(long)).unwrap_err();
    /// assert!(matches!(err, CampaignError::Invalid { ref path, .. } if path == "zalo_params.shop_name"));
    /// ```
    pub fn check_zalo_params(&self) -> Result<(), CampaignError> {
        if self.zalo_params.is_empty() {
            return Ok(());
        }
        if self.zalo_template.is_none() {
            return Err(invalid(
                "zalo_template",
                "is needed: zalo_params name the parameters of that template",
            ));
        }
        for (name, param) in &self.zalo_params {
            let path = format!("zalo_params.{name}");
            if !is_param_name(name) {
                return Err(invalid(
                    path,
                    "a ZNS parameter name is 1 to 50 lowercase letters, digits or `_`",
                ));
            }
            if !ZNS_VARIABLES.contains(&param.value.as_str()) {
                return Err(invalid(
                    format!("{path}.value"),
                    format!(
                        "unknown variable `{}`; known: {}",
                        param.value,
                        ZNS_VARIABLES.join(", ")
                    ),
                ));
            }
            if self.offer.is_none() && OFFER_VARIABLES.contains(&param.value.as_str()) {
                return Err(invalid(
                    format!("{path}.value"),
                    format!("`{}` needs an offer and the campaign has none", param.value),
                ));
            }
            for reward in self.possible_rewards() {
                let values = self.sample_values(reward);
                let value = values.value_of(&param.value).unwrap_or_default();
                param.kind.check(value).map_err(|problem| {
                    invalid(
                        path.clone(),
                        format!(
                            "`{}` for a sample customer ({value:?}) {problem}",
                            param.value
                        ),
                    )
                })?;
            }
        }
        Ok(())
    }
}

fn invalid(path: impl Into<String>, message: impl Into<String>) -> CampaignError {
    CampaignError::Invalid {
        path: path.into(),
        message: message.into(),
    }
}
