//! What the segments know about a customer: one row of features per customer.

use regulars_domain::CustomerId;
use serde::{Deserialize, Serialize};

/// One customer's features, the input of RFM scoring and of segment rules.
///
/// Amounts (`monetary`, `clv`) are in the brand currency's minor units (the đồng has
/// none, so VND amounts are whole đồng). Day counts are whole local days of the brand as
/// of the snapshot's "now". Model outputs (`p_alive`, `clv`, `expected_visits`) and facts
/// the customer may not have given (`birthday_month`, `location`, ...) are `Option`:
/// a rule comparing a missing value is false (see [`crate::rule`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerFeatures {
    /// Who these features describe.
    pub customer_id: CustomerId,
    /// Whole days since the customer's last visit (0 = visited today).
    pub recency_days: u32,
    /// Number of visits (orders) so far.
    pub frequency: u32,
    /// Total net spend so far, in minor units of the brand currency.
    pub monetary: i64,
    /// Code of the customer's current tier (`"gold"`), if the programme has tiers.
    pub tier: Option<String>,
    /// SKU the customer buys most often, if known.
    pub favourite_product: Option<String>,
    /// Probability the customer is still active (0–1), from the purchase model.
    pub p_alive: Option<f64>,
    /// Predicted customer lifetime value, in minor units of the brand currency.
    pub clv: Option<f64>,
    /// Expected number of visits over the model's forecast horizon.
    pub expected_visits: Option<f64>,
    /// Birthday month, 1 (January) to 12 (December), if the customer gave it.
    pub birthday_month: Option<u8>,
    /// Code of the customer's home location (the shop they visit most), if any.
    pub location: Option<String>,
    /// Whole days since the customer's first visit.
    pub days_since_first_visit: u32,
    /// Current points balance.
    pub points_balance: i64,
    /// Whether at least one channel has consent for promotional messages.
    pub marketing_consent: bool,
}

impl CustomerFeatures {
    /// Features of a customer with only the required facts known; every optional
    /// feature is `None` and consent is `false`.
    ///
    /// ```
    /// use regulars_domain::CustomerId;
    /// use regulars_segments::CustomerFeatures;
    /// let f = CustomerFeatures::new(CustomerId::from_bytes([1; 16]), 3, 7, 420_000);
    /// assert_eq!((f.recency_days, f.frequency, f.monetary), (3, 7, 420_000));
    /// assert_eq!(f.p_alive, None);
    /// ```
    pub fn new(customer_id: CustomerId, recency_days: u32, frequency: u32, monetary: i64) -> Self {
        Self {
            customer_id,
            recency_days,
            frequency,
            monetary,
            tier: None,
            favourite_product: None,
            p_alive: None,
            clv: None,
            expected_visits: None,
            birthday_month: None,
            location: None,
            days_since_first_visit: recency_days,
            points_balance: 0,
            marketing_consent: false,
        }
    }
}
