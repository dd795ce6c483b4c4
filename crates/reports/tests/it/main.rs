//! Tests of the report folds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod examples;
mod properties;
