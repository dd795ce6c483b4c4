//! What a test does when PostgreSQL is not installed: skip on a developer's machine,
//! fail in CI.

use std::env;

use super::{PgCluster, install};

/// Makes a missing PostgreSQL a failure instead of a skip, like `CI=true`.
const REQUIRE_PG_ENV: &str = "REGULARS_REQUIRE_PG";

/// Whether a PostgreSQL server installation (`initdb`, `pg_ctl`, `postgres`) was found.
/// Does not start anything.
///
/// Looked for, in order: the directory in `$REGULARS_PG_BINDIR` (and nowhere else when it
/// is set), `pg_config --bindir`, the newest `/usr/lib/postgresql/*/bin` (Debian, Ubuntu),
/// the directory `initdb` on `PATH` links to. The answer is kept for the whole process.
pub fn pg_available() -> bool {
    install::bindir().is_ok()
}

/// The [shared cluster](PgCluster::shared), or `None` when PostgreSQL is not installed and
/// the test should skip itself.
///
/// When PostgreSQL is missing, prints `skipped: PostgreSQL not installed ...` to stderr
/// and returns `None`, unless `CI` or `REGULARS_REQUIRE_PG` is `true`/`1`: then it panics
/// with what to install, so a CI run cannot pass by skipping its database tests.
///
/// # Panics
///
/// When PostgreSQL is required and missing, and when it is installed but the shared
/// cluster fails to start (the message carries the end of the server log).
pub fn require_pg() -> Option<&'static PgCluster> {
    if let Err(missing) = install::bindir() {
        let required = pg_required(
            env::var("CI").ok().as_deref(),
            env::var(REQUIRE_PG_ENV).ok().as_deref(),
        );
        if required {
            panic!("PostgreSQL is required (CI or {REQUIRE_PG_ENV} is set) but missing: {missing}");
        }
        eprintln!(
            "skipped: PostgreSQL not installed ({missing}); \
             set {REQUIRE_PG_ENV}=1 to make this a failure"
        );
        return None;
    }
    match PgCluster::shared() {
        Ok(cluster) => Some(cluster),
        Err(e) => panic!("the shared PostgreSQL test cluster did not start: {e}"),
    }
}

/// Whether the environment (values of `CI` and `REGULARS_REQUIRE_PG`) demands PostgreSQL.
fn pg_required(ci: Option<&str>, require_pg: Option<&str>) -> bool {
    let yes = |value: Option<&str>| {
        value.is_some_and(|v| v == "1" || v.trim().eq_ignore_ascii_case("true"))
    };
    yes(ci) || yes(require_pg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_or_explicit_request_requires_pg() {
        assert!(pg_required(Some("true"), None));
        assert!(pg_required(Some("TRUE"), None));
        assert!(pg_required(None, Some("1")));
        assert!(pg_required(Some("false"), Some("true")));
        assert!(!pg_required(None, None));
        assert!(!pg_required(Some("false"), Some("0")));
        assert!(!pg_required(Some(""), None));
    }
}
