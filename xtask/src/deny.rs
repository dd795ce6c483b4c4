//! `cargo xtask deny`: cargo-deny's licence, ban and source checks over every dependency
//! (`deny.toml` at the root says what is allowed).
//!
//! The advisory check needs the RustSec database from the network; where it cannot be
//! fetched the offline checks still run and the step says advisories were not checked.
//! Without cargo-deny the step is skipped with a message, unless
//! `REGULARS_REQUIRE_CARGO_DENY=1` (set on CI), which makes it a failure.

use anyhow::{Result, bail};
use std::path::Path;
use std::process::Stdio;

/// The checks that need no network.
const OFFLINE_CHECKS: [&str; 3] = ["licenses", "bans", "sources"];

fn installed() -> bool {
    crate::cargo()
        .args(["deny", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs cargo-deny; `Ok` when it passed or was skipped locally.
pub fn run(root: &Path) -> Result<()> {
    if !installed() {
        if std::env::var("REGULARS_REQUIRE_CARGO_DENY").is_ok_and(|v| v == "1") {
            bail!(
                "cargo-deny is not installed and REGULARS_REQUIRE_CARGO_DENY=1: \
                 cargo install --locked cargo-deny"
            );
        }
        println!("deny: skipped, cargo-deny is not installed (cargo install --locked cargo-deny)");
        return Ok(());
    }
    crate::run(
        crate::cargo()
            .current_dir(root)
            .args(["deny", "--locked", "check"])
            .args(OFFLINE_CHECKS),
    )?;
    if std::env::var("REGULARS_DENY_ADVISORIES").is_ok_and(|v| v == "1") {
        crate::run(crate::cargo().current_dir(root).args([
            "deny",
            "--locked",
            "check",
            "advisories",
        ]))?;
    } else {
        println!(
            "deny: licences, bans and sources checked; advisories not checked (they need the \
             advisory database from the network: REGULARS_DENY_ADVISORIES=1 to check them)"
        );
    }
    Ok(())
}
