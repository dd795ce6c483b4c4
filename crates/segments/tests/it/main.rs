//! Tests of `regulars-segments`: one binary, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod movement;
mod rfm;
mod rule_errors;
mod rule_eval;
mod rule_props;

use regulars_domain::CustomerId;
use regulars_segments::CustomerFeatures;

/// A customer with every optional feature filled in.
pub fn full(n: u8) -> CustomerFeatures {
    let mut c = CustomerFeatures::new(CustomerId::from_bytes([n; 16]), 45, 12, 1_500_000);
    c.tier = Some("gold".into());
    c.favourite_product = Some("TS-OOLONG".into());
    c.p_alive = Some(0.4);
    c.clv = Some(600_000.0);
    c.expected_visits = Some(1.5);
    c.birthday_month = Some(11);
    c.location = Some("q1".into());
    c.days_since_first_visit = 400;
    c.points_balance = 120;
    c.marketing_consent = true;
    c
}

/// A customer with only the required features.
pub fn bare(n: u8) -> CustomerFeatures {
    CustomerFeatures::new(CustomerId::from_bytes([n; 16]), 3, 1, 45_000)
}
