//! Integration tests of regulars-testkit: real PostgreSQL clusters and SQLite files.

mod pg;
mod sqlite;

type TestResult = Result<(), Box<dyn std::error::Error>>;
