//! The `regulars` binary as an operator runs it: a subprocess with arguments and
//! environment, judged by its exit status, its output and what it leaves in the
//! database. Every command runs on a fresh SQLite file and, when PostgreSQL is installed,
//! on a fresh database of the shared throwaway cluster.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod demo;
mod models;
mod serve;

use regulars_testkit::{SqliteFile, require_pg};
use std::path::Path;
use std::process::{Command, Stdio};

/// A database for a test: its URL, and the scratch directory that holds it (and the
/// test's other files) as long as it lives.
pub struct Scratch {
    /// Which kind, for messages.
    pub name: &'static str,
    /// The database URL.
    pub url: String,
    file: SqliteFile,
}

impl Scratch {
    /// A directory for the test's own files (removed with the scratch).
    pub fn dir(&self) -> &Path {
        self.file
            .path()
            .parent()
            .expect("the SQLite file lives in a scratch directory")
    }
}

/// A fresh SQLite database, and a fresh PostgreSQL one when the cluster is available.
pub fn databases(prefix: &str) -> Vec<Scratch> {
    let file = SqliteFile::new().expect("sqlite file");
    let mut out = vec![Scratch {
        name: "sqlite",
        url: file.url(),
        file,
    }];
    if let Some(cluster) = require_pg() {
        let file = SqliteFile::new().expect("scratch directory");
        out.push(Scratch {
            name: "postgres",
            url: cluster.create_database(prefix).expect("create database"),
            file,
        });
    }
    out
}

/// The binary, with none of the caller's configuration leaking in.
pub fn regulars(cwd: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_regulars"));
    for (name, _) in std::env::vars_os() {
        let text = name.to_string_lossy();
        if text.starts_with("REGULARS_") || text == "DATABASE_URL" || text == "RUST_LOG" {
            command.env_remove(&name);
        }
    }
    command.current_dir(cwd).stdin(Stdio::null());
    command
}

/// What a finished command did.
#[derive(Debug)]
pub struct Run {
    /// Whether it exited 0.
    pub success: bool,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

/// Runs `regulars ARGS --database-url URL` to completion.
pub fn run(db: &Scratch, args: &[&str]) -> Run {
    let output = regulars(db.dir())
        .args(args)
        .args(["--database-url", &db.url])
        .output()
        .expect("run regulars");
    let run = Run {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    if std::env::var_os("TEST_LOG").is_some() {
        eprintln!("regulars {args:?}\n{}\n{}", run.stdout, run.stderr);
    }
    run
}

/// The value printed after `label` on a line of `text`.
pub fn printed(text: &str, label: &str) -> String {
    text.lines()
        .find_map(|line| line.strip_prefix(label))
        .map(|rest| rest.trim().to_owned())
        .unwrap_or_else(|| panic!("no {label:?} in:\n{text}"))
}
