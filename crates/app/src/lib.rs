//! The pieces of the `regulars` binary that other programs (its tests and benchmarks)
//! share: the real clock and the operating system's secure random numbers.

pub mod system;
