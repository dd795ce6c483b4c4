//! The rustdoc of the crates other programs embed: the pure crates and the ports must
//! document without a warning (a broken intra-doc link, an unclosed HTML tag, a bad code
//! block), since their docs are what those programs read.
//!
//! Only these crates, and `--no-deps`: rustdoc then needs nothing but the dependencies'
//! metadata (`cargo check`'s output, most of which the clippy step before it has left
//! in the target directory), so the step costs about the documentation of seven small
//! crates.

use crate::tidy::{PORTS, PURE};
use anyhow::{Context, Result};
use std::path::Path;
use std::process::Command;

/// The packages whose rustdoc is checked: every pure crate, then the ports.
pub fn packages() -> Vec<&'static str> {
    PURE.iter().copied().chain([PORTS]).collect()
}

/// `cargo doc --no-deps --locked --all-features -p …` over [`packages`], with
/// `RUSTDOCFLAGS="-D warnings"` so any rustdoc warning fails it.
pub fn command(root: &Path) -> Command {
    let mut cmd = crate::cargo();
    cmd.current_dir(root)
        .env("RUSTDOCFLAGS", "-D warnings")
        .args(["doc", "--no-deps", "--locked", "--all-features"]);
    for package in packages() {
        cmd.args(["--package", package]);
    }
    cmd
}

/// Documents the packages; fails on the first rustdoc warning.
pub fn run(root: &Path) -> Result<()> {
    let started = std::time::Instant::now();
    crate::run(&mut command(root))
        .context("rustdoc warned: fix the docs of the crates named above")?;
    println!("rustdoc: ok in {:.0?}", started.elapsed());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pure_crate_and_the_ports_are_documented_with_warnings_denied() {
        let cmd = command(Path::new("."));
        let args: Vec<_> = cmd.get_args().filter_map(|a| a.to_str()).collect();
        for package in PURE.iter().chain([&PORTS]) {
            let named = args
                .windows(2)
                .any(|w| w[0] == "--package" && w[1] == *package);
            assert!(named, "{package} is not documented: {args:?}");
        }
        assert!(args.contains(&"--no-deps"));
        let flags = cmd
            .get_envs()
            .find(|(k, _)| *k == "RUSTDOCFLAGS")
            .and_then(|(_, v)| v);
        assert_eq!(flags.and_then(|v| v.to_str()), Some("-D warnings"));
    }

    #[test]
    fn the_documented_packages_are_workspace_members() -> Result<()> {
        let meta = crate::tidy::metadata(&crate::workspace_root())?;
        let names: Vec<&str> = meta["packages"]
            .as_array()
            .map(|p| p.iter().filter_map(|p| p["name"].as_str()).collect())
            .unwrap_or_default();
        for package in packages() {
            assert!(
                names.contains(&package),
                "no package {package} in {names:?}"
            );
        }
        Ok(())
    }
}
