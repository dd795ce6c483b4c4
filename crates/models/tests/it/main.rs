//! Tests of `regulars-models`: one binary, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod affinity;
mod regularity;
mod send_time;
