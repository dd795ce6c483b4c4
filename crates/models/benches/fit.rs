//! Fitting benchmarks (filled in below).
fn main() {}
