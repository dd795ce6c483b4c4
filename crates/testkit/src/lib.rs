//! Test tooling for real databases: throwaway PostgreSQL clusters and temporary SQLite
//! files, for store, service and end-to-end tests and for benchmarks; and local
//! stand-ins for the messaging providers ([`providers`]: Zalo ZNS, eSMS, an SMTP server).
//!
//! A test that needs PostgreSQL asks for the process-wide shared cluster and makes itself
//! a fresh database in it:
//!
//! ```no_run
//! # fn main() -> Result<(), regulars_testkit::TestkitError> {
//! let Some(pg) = regulars_testkit::require_pg() else {
//!     return Ok(()); // PostgreSQL is not installed and this is not CI: skipped.
//! };
//! let url = pg.create_database("ledger")?;
//! // connect to `url` (postgres://postgres@127.0.0.1:PORT/ledger_...) and test away
//! # let _ = url;
//! # Ok(())
//! # }
//! ```
//!
//! A test that stops, crashes or reconfigures the server starts its own [`PgCluster`]
//! instead; it is stopped and its directory removed when dropped.
//!
//! Everything here is synchronous and uses only the standard library and the PostgreSQL
//! command-line programs (`initdb`, `pg_ctl`, `createdb`, ...), so any test, async or not,
//! can use it. Unix only.
//!
//! Leftovers: every cluster is watched by a small `sh` process that stops the server and
//! removes its directory as soon as the owning process exits, however it exits. Should
//! that watcher be killed too, the next cluster started on the machine removes the
//! directories of dead processes (`regulars-pg-<pid>-<n>` under the temp directory) and
//! stops their servers.

mod error;
mod os;
mod pg;
pub mod providers;
mod sqlite;

pub use error::TestkitError;
pub use pg::{PgCluster, PgOptions, StopMode, pg_available, require_pg};
pub use providers::SmtpServer;
pub use sqlite::SqliteFile;
