//! Tests of `regulars-models`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cdnow;
mod degenerate;
mod likelihood;
mod recovery;
mod special;
mod summary;
