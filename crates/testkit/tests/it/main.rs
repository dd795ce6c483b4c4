//! Integration tests of regulars-testkit: real PostgreSQL clusters, SQLite files and the
//! provider stand-ins.

mod pg;
mod providers;
mod sqlite;

type TestResult = Result<(), Box<dyn std::error::Error>>;
