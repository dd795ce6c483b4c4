//! The pieces of the `regulars` binary that other programs (its tests and benchmarks)
//! share: the real clock and secure random numbers, the configuration and the server
//! itself (which wires the POS decoder of `regulars-pos`).

pub mod audit_export;
pub mod ingest_settings;
pub mod sealing;
pub mod server;
pub mod settings;
pub mod system;
pub mod worker;
