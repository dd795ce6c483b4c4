//! Throwaway PostgreSQL clusters, and whether tests can have one.

mod availability;
mod cluster;
mod install;
mod options;
mod tls;

pub use availability::{pg_available, require_pg};
pub use cluster::{PgCluster, StopMode};
pub use options::PgOptions;
