//! Tests of `regulars-models`: one binary, one module per area.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod affinity;
mod cdnow;
mod degenerate;
mod likelihood;
mod recovery;
mod regularity;
mod segment_time;
mod send_time;
mod special;
mod summary;
