//! Project automation for Regulars, run as `cargo xtask <command>`.
//!
//! * `test`  — formatting check, clippy with `-D warnings`, rustdoc of the pure crates and
//!   the ports with `-D warnings`, the layout rules (`tidy`) and every test of the
//!   workspace. CI runs exactly this.
//! * `doc`   — only the rustdoc check (also a step of `test`).
//! * `tidy`  — only the layout rules (also run as an ordinary `#[test]` by `cargo test`).
//! * `bench` — every benchmark; results in `bench/results/latest.json` and `bench/RESULTS.md`.
//! * `fuzz`  — schemathesis against the real server (also the last step of `test`);
//!   `fuzz --deep` is the long run that follows links and reports per operation.
//! * `deny`  — cargo-deny's licence, ban and source checks (also a step of `test`).
//! * `load`  — a day of POS traffic for a 100-location chain against a running server.

mod bench;
mod deny;
mod fuzz;
mod fuzz_seed;
mod rustdoc;
mod server;
mod tidy;

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test     fmt check, clippy -D warnings, rustdoc -D warnings, tidy, all tests (what CI runs)
  doc      rustdoc of the pure crates and the ports, warnings denied
  tidy     check the workspace layout and dependency rules
  bench    run every benchmark, write bench/results/latest.json and bench/RESULTS.md
  fuzz     schemathesis against `regulars serve` on a fresh SQLite database
           (--deep: the long run, stateful phase and per-operation outcome shares)
  deny     cargo-deny: licences, bans and sources of every dependency
  load     replay a day of POS traffic against a running server (--help for options)
";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    match args.first().map(String::as_str) {
        Some("test") => test(&root, &args[1..]),
        Some("tidy") => {
            let problems = tidy::check(&root)?;
            if problems.is_empty() {
                println!("tidy: ok");
                Ok(())
            } else {
                for p in &problems {
                    eprintln!("tidy: {p}");
                }
                bail!("tidy found {} problem(s)", problems.len())
            }
        }
        Some("doc") => rustdoc::run(&root),
        Some("bench") => bench::run(&root, &args[1..]),
        Some("fuzz") => fuzz::run(&root, &args[1..]),
        Some("deny") => deny::run(&root),
        Some("load") => run(cargo()
            .current_dir(&root)
            .args([
                "run",
                "--release",
                "--locked",
                "--package",
                "regulars-tests",
                "--bin",
                "regulars-load",
                "--",
            ])
            .args(&args[1..])),
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => {
            eprint!("{USAGE}");
            bail!("unknown command {other:?}")
        }
    }
}

/// The workspace root: the parent of this crate's directory.
pub(crate) fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or(manifest_dir)
}

/// The target directory (`CARGO_TARGET_DIR` or `target/` at the root).
pub(crate) fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

pub(crate) fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    println!("$ {shown}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

fn test(root: &Path, extra: &[String]) -> Result<()> {
    let started = std::time::Instant::now();
    run(cargo()
        .current_dir(root)
        .args(["fmt", "--all", "--", "--check"]))
    .context("formatting differs: run `cargo fmt --all`")?;
    run(cargo().current_dir(root).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))?;
    rustdoc::run(root)?;
    let problems = tidy::check(root)?;
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("tidy: {p}");
        }
        bail!("tidy found {} problem(s)", problems.len());
    }
    println!("tidy: ok");
    deny::run(root)?;
    let mut cmd = cargo();
    cmd.current_dir(root)
        .args(["test", "--workspace", "--all-features", "--locked"])
        .args(extra);
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        // On CI a missing PostgreSQL must fail the run, never silently skip its tests.
        cmd.env("REGULARS_REQUIRE_PG", "1");
    }
    run(&mut cmd)?;
    fuzz::run(root, &[])?;
    println!("xtask test: all checks passed in {:.0?}", started.elapsed());
    Ok(())
}
