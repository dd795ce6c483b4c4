//! Integration tests of regulars-pos: webhooks, CSV import and their properties.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod csv;
mod generic;
mod kiotviet;
mod kiotviet_fnb;
mod props;
mod square;

use regulars_domain::BrandId;
use regulars_pos::BrandContext;

/// The brand every test reads for: Vietnamese.
pub fn brand() -> BrandContext {
    BrandContext::vietnam(BrandId::from_bytes([7; 16]))
}

/// A file of `tests/fixtures`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
