//! Clusters started for real with the installed PostgreSQL.

use std::{net::TcpStream, process::Command, time::Instant};

use regulars_testkit::{PgCluster, PgOptions, StopMode, TestkitError, pg_available, require_pg};

use crate::TestResult;

/// Runs `sql` in the database at `url` with the cluster's own `psql`; returns its
/// unaligned, tuples-only output.
fn psql(pg: &PgCluster, url: &str, sql: &str) -> Result<String, Box<dyn std::error::Error>> {
    let out = Command::new(pg.bin("psql"))
        .args([
            "--no-psqlrc",
            "-X",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            url,
            "-c",
            sql,
        ])
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "psql {url} -c {sql:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

/// A private cluster, or `None` (skip) where PostgreSQL is not installed.
fn own_cluster(options: PgOptions) -> Result<Option<PgCluster>, TestkitError> {
    if require_pg().is_none() {
        return Ok(None);
    }
    let started = Instant::now();
    let pg = PgCluster::start_with(options)?;
    eprintln!(
        "cluster on port {} started in {:?}",
        pg.port(),
        started.elapsed()
    );
    Ok(Some(pg))
}

#[test]
fn a_cluster_serves_fresh_databases_and_survives_restarts_and_crashes() -> TestResult {
    let Some(pg) = own_cluster(PgOptions::new())? else {
        return Ok(());
    };
    assert!(pg.is_running());
    assert_eq!(
        pg.admin_url(),
        format!("postgres://postgres@127.0.0.1:{}/postgres", pg.port())
    );
    assert!(pg.data_dir().join("PG_VERSION").is_file());

    let first = pg.create_database("orders")?;
    let second = pg.create_database("orders")?;
    assert_ne!(first, second);
    for url in [&first, &second] {
        assert_eq!(psql(&pg, url, "select 1")?, "1");
    }
    psql(
        &pg,
        &first,
        "create table t (n int); insert into t values (42)",
    )?;
    assert_eq!(
        psql(
            &pg,
            &second,
            "select count(*) from pg_tables where tablename = 't'"
        )?,
        "0"
    );

    pg.restart()?;
    assert_eq!(psql(&pg, &first, "select n from t")?, "42");

    pg.stop(StopMode::Immediate)?;
    assert!(!pg.is_running());
    assert!(TcpStream::connect(("127.0.0.1", pg.port())).is_err());
    pg.stop(StopMode::Fast)?; // already stopped: nothing to do
    pg.start_again()?;
    assert_eq!(psql(&pg, &first, "select n from t")?, "42");

    pg.stop(StopMode::Fast)?;
    assert!(!pg.is_running());
    Ok(())
}

#[test]
fn two_clusters_run_side_by_side() -> TestResult {
    let (Some(a), Some(b)) = (
        own_cluster(PgOptions::new())?,
        own_cluster(PgOptions::new())?,
    ) else {
        return Ok(());
    };
    assert_ne!(a.port(), b.port());
    assert_ne!(a.data_dir(), b.data_dir());
    psql(&a, &a.admin_url(), "create database only_in_a")?;
    assert_eq!(
        psql(
            &a,
            &a.admin_url(),
            "select count(*) from pg_database where datname = 'only_in_a'"
        )?,
        "1"
    );
    assert_eq!(
        psql(
            &b,
            &b.admin_url(),
            "select count(*) from pg_database where datname = 'only_in_a'"
        )?,
        "0"
    );
    Ok(())
}

#[test]
fn dropping_a_cluster_stops_it_and_removes_its_directory() -> TestResult {
    let Some(pg) = own_cluster(PgOptions::new())? else {
        return Ok(());
    };
    let (port, data_dir) = (pg.port(), pg.data_dir());
    drop(pg);
    assert!(!data_dir.exists(), "{} is left behind", data_dir.display());
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still answers"
    );
    Ok(())
}

#[test]
fn test_clusters_trade_durability_for_speed_unless_asked() -> TestResult {
    let (Some(fast), Some(durable)) = (
        own_cluster(PgOptions::new())?,
        own_cluster(PgOptions::new().durable(true).max_connections(60))?,
    ) else {
        return Ok(());
    };
    let show =
        |pg: &PgCluster, setting: &str| psql(pg, &pg.admin_url(), &format!("show {setting}"));
    for setting in ["fsync", "synchronous_commit", "full_page_writes"] {
        assert_eq!(show(&fast, setting)?, "off", "{setting}");
        assert_eq!(show(&durable, setting)?, "on", "{setting}");
    }
    assert_eq!(show(&fast, "max_connections")?, "200");
    assert_eq!(show(&durable, "max_connections")?, "60");
    assert_eq!(show(&fast, "server_encoding")?, "UTF8");
    assert_eq!(show(&fast, "listen_addresses")?, "127.0.0.1");
    Ok(())
}

#[test]
fn a_failed_start_explains_itself_with_the_server_log() -> TestResult {
    if !pg_available() {
        return Ok(());
    }
    let err = PgCluster::start_with(PgOptions::new().setting("shared_buffers", "plenty"))
        .err()
        .ok_or("a cluster with shared_buffers = 'plenty' started")?;
    let message = err.to_string();
    assert!(message.contains("pg_ctl"), "{message}");
    assert!(message.contains("end of server log"), "{message}");
    assert!(message.contains("shared_buffers"), "{message}");
    Ok(())
}

#[test]
fn the_shared_cluster_is_started_once() -> TestResult {
    let Some(pg) = require_pg() else {
        return Ok(());
    };
    assert!(std::ptr::eq(pg, PgCluster::shared()?));
    let url = pg.create_database("shared")?;
    assert_eq!(
        psql(pg, &url, "select current_database()")?,
        url.rsplit('/').next().unwrap_or_default()
    );
    Ok(())
}

#[test]
fn bin_points_into_the_servers_installation() -> TestResult {
    let Some(pg) = require_pg() else {
        return Ok(());
    };
    let out = Command::new(pg.bin("pgbench")).arg("--version").output()?;
    assert!(out.status.success());
    let server = psql(pg, &pg.admin_url(), "show server_version_num")?;
    let major = &server[..server.len() - 4];
    assert!(String::from_utf8(out.stdout)?.contains(&format!(" {major}.")));
    Ok(())
}
