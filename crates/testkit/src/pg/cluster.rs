//! A throwaway PostgreSQL cluster: `initdb` into a scratch directory, a server on a free
//! local port, all of it gone when dropped.

use std::{
    ffi::OsString,
    fs,
    io::Write,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Stdio},
    sync::{
        Mutex, MutexGuard, Once, OnceLock, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
};

use super::tls::{self, TlsFiles};
use super::{PgOptions, install};
use crate::{TestkitError, os};

/// Seconds `pg_ctl` waits for the server to start or stop.
const PG_CTL_TIMEOUT_SECS: &str = "60";
/// How often a start is retried when another process took the chosen port meanwhile.
const PORT_ATTEMPTS: u32 = 5;
/// Lines of the server log quoted in errors.
const LOG_TAIL_LINES: usize = 40;
/// Our settings, in the data directory, included from `postgresql.conf`.
const SETTINGS_FILE: &str = "regulars.conf";
/// The bootstrap superuser, whatever the OS user running the tests is called.
const SUPERUSER: &str = "postgres";
/// PostgreSQL truncates identifiers to 63 bytes.
const MAX_IDENTIFIER_LEN: usize = 63;

/// Stops the server and removes the cluster's directory once its stdin reaches end of
/// file: when the owning [`PgCluster`] is dropped, or when the owning process exits
/// however it exits (statics are never dropped; a panic may abort). Ignores the signals
/// a Ctrl-C or a closed terminal sends, so it outlives the test process to clean up.
const WATCHDOG_SCRIPT: &str = r#"
trap '' INT HUP TERM
root=$1
shift
while read -r _; do :; done
"$@" >/dev/null 2>&1
rm -rf "$root"
"#;

/// How [`PgCluster::stop`] shuts the server down (`pg_ctl stop -m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// Waits for every client to disconnect.
    Smart,
    /// Disconnects clients, rolls back their transactions, writes a checkpoint.
    Fast,
    /// Kills the server without a checkpoint, as a crash or power loss would; the next
    /// start runs crash recovery. Only a [durable](PgOptions::durable) cluster is sure
    /// to keep committed data across it.
    Immediate,
}

impl StopMode {
    fn as_arg(self) -> &'static str {
        match self {
            Self::Smart => "smart",
            Self::Fast => "fast",
            Self::Immediate => "immediate",
        }
    }
}

/// A throwaway PostgreSQL cluster listening on `127.0.0.1` on a free port, with `trust`
/// authentication for the superuser `postgres`.
///
/// Its data directory, server log and Unix socket live in a scratch directory
/// `regulars-pg-<pid>-<n>` under [`std::env::temp_dir`]. Dropping the value stops the
/// server (immediately: the data is thrown away) and removes that directory. When the
/// test process runs as root, which PostgreSQL refuses, the server programs run as the
/// OS user `postgres` and the directory belongs to it.
///
/// Most tests want [`PgCluster::shared`] (through [`require_pg`](crate::require_pg)) and a
/// fresh database from [`create_database`](Self::create_database); a test that stops or
/// reconfigures the server starts its own.
///
/// ```no_run
/// use regulars_testkit::{PgCluster, StopMode};
/// use std::process::Command;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pg = PgCluster::start()?;
/// let url = pg.create_database("orders")?;
/// let status = Command::new(pg.bin("psql")).args([url.as_str(), "-c", "select 1"]).status()?;
/// assert!(status.success());
///
/// pg.stop(StopMode::Immediate)?; // a crash
/// pg.start_again()?; // crash recovery, same port and data
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct PgCluster {
    bindir: PathBuf,
    root: PathBuf,
    port: u16,
    options: PgOptions,
    /// Whether the server runs; held while it starts or stops.
    running: Mutex<bool>,
    /// Runs [`WATCHDOG_SCRIPT`]; `None` only while the cluster is being set up.
    watchdog: Option<Child>,
    /// The certificates when the cluster speaks TLS.
    tls: Option<TlsFiles>,
}

impl PgCluster {
    /// Starts a new cluster with the default [`PgOptions`] (durability off).
    pub fn start() -> Result<Self, TestkitError> {
        Self::start_with(PgOptions::default())
    }

    /// Starts a new cluster configured by `options`.
    ///
    /// Takes a second or two, most of it `initdb`. The first cluster of a process also
    /// removes leftovers of test processes that died without cleaning up.
    pub fn start_with(options: PgOptions) -> Result<Self, TestkitError> {
        let bindir = install::bindir()?.to_path_buf();
        prune_stale_clusters(&bindir);
        let root = os::create_scratch_dir("pg")?;
        // From here on, dropping `cluster` cleans up whatever was made so far.
        let mut cluster = Self {
            bindir,
            root,
            port: 0,
            options,
            running: Mutex::new(false),
            watchdog: None,
            tls: None,
        };
        if os::running_as_root() {
            os::give_to_server_user(&cluster.root)?;
        }
        cluster.watchdog = Some(cluster.spawn_watchdog()?);
        cluster.initdb()?;
        cluster.include_settings_file()?;
        if cluster.options.tls {
            cluster.set_up_tls()?;
        }
        cluster.start_on_free_port()?;
        Ok(cluster)
    }

    /// The cluster shared by every test of this test binary, started on first use.
    ///
    /// Tests sharing it must not stop it or change server settings; each makes its own
    /// database with [`create_database`](Self::create_database). A failure to start is
    /// remembered and returned to every caller. The server is stopped and its directory
    /// removed when the process exits.
    pub fn shared() -> Result<&'static Self, TestkitError> {
        static SHARED: OnceLock<Result<PgCluster, TestkitError>> = OnceLock::new();
        SHARED
            .get_or_init(Self::start)
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The TCP port the server listens on, on `127.0.0.1`. It stays the same across
    /// [`stop`](Self::stop) and [`start_again`](Self::start_again).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// URL of the `postgres` maintenance database, as the superuser:
    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn admin_url(&self) -> String {
        self.database_url("postgres")
    }

    /// URL of database `name` in this cluster, as the superuser.
    pub fn database_url(&self, name: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates an empty database named `<name_prefix>_<pid>_<n>`, unique in this
    /// cluster, and returns its URL.
    ///
    /// The prefix is lower-cased and anything but ASCII letters, digits and `_` becomes
    /// `_`, so the name needs no quoting in SQL or in the URL.
    pub fn create_database(&self, name_prefix: &str) -> Result<String, TestkitError> {
        let name = unique_database_name(name_prefix);
        let argv: Vec<OsString> = vec![
            self.program("createdb")?.into(),
            "--host=127.0.0.1".into(),
            format!("--port={}", self.port).into(),
            format!("--username={SUPERUSER}").into(),
            "--no-password".into(),
            name.as_str().into(),
        ];
        os::run(&argv, None)?;
        Ok(self.database_url(&name))
    }

    /// Path of program `name` (`psql`, `pgbench`, `pg_dump`, ...) of the installation
    /// running this cluster, so clients match the server's version. Not checked to exist.
    pub fn bin(&self, name: &str) -> PathBuf {
        self.bindir.join(name)
    }

    /// The certificate of the authority that signed the server's certificate, when the
    /// cluster speaks TLS ([`PgOptions::tls`]): what a client passes as `sslrootcert=`.
    pub fn tls_ca_file(&self) -> Option<&Path> {
        self.tls.as_ref().map(|files| files.ca_cert.as_path())
    }

    /// The data directory (`PGDATA`).
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// The server log, kept across restarts; its end is quoted in errors.
    pub fn log_path(&self) -> PathBuf {
        self.root.join("server.log")
    }

    /// Whether the server is running (as far as this value knows: it was started and not
    /// stopped through it).
    pub fn is_running(&self) -> bool {
        *self.lock_running()
    }

    /// Stops the server, keeping its data. Does nothing if it is already stopped.
    pub fn stop(&self, mode: StopMode) -> Result<(), TestkitError> {
        let mut running = self.lock_running();
        if *running {
            self.pg_ctl_stop(mode)?;
            *running = false;
        }
        Ok(())
    }

    /// Starts the stopped server again on the same data and port; after
    /// [`StopMode::Immediate`] this runs crash recovery. Does nothing if it runs.
    ///
    /// Fails if another process took the port while the server was stopped.
    pub fn start_again(&self) -> Result<(), TestkitError> {
        let mut running = self.lock_running();
        if !*running {
            self.pg_ctl_start()?;
            *running = true;
        }
        Ok(())
    }

    /// Stops the server ([`StopMode::Fast`]) if it runs, then starts it again.
    pub fn restart(&self) -> Result<(), TestkitError> {
        let mut running = self.lock_running();
        if *running {
            self.pg_ctl_stop(StopMode::Fast)?;
            *running = false;
        }
        self.pg_ctl_start()?;
        *running = true;
        Ok(())
    }

    fn lock_running(&self) -> MutexGuard<'_, bool> {
        // The flag stays meaningful even if a panic interrupted a holder.
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn program(&self, name: &str) -> Result<PathBuf, TestkitError> {
        let path = self.bin(name);
        if path.is_file() {
            Ok(path)
        } else {
            Err(TestkitError::MissingProgram {
                name: name.to_owned(),
                bindir: self.bindir.clone(),
            })
        }
    }

    fn spawn_watchdog(&self) -> Result<Child, TestkitError> {
        let mut argv: Vec<OsString> = vec![
            "sh".into(),
            "-c".into(),
            WATCHDOG_SCRIPT.into(),
            "regulars-pg-watchdog".into(),
            self.root.as_os_str().into(),
        ];
        argv.extend(immediate_stop_argv(&self.bindir, &self.data_dir()));
        os::command(&argv, Some(Path::new("/")))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| TestkitError::io("could not start the cluster's cleanup watcher (sh)", e))
    }

    fn initdb(&self) -> Result<(), TestkitError> {
        let mut argv: Vec<OsString> = vec![
            self.bin("initdb").into(),
            "--pgdata".into(),
            self.data_dir().into(),
            "--encoding=UTF8".into(),
            format!("--locale={}", self.options.locale).into(),
            "--lc-messages=C".into(),
            "--auth=trust".into(),
            format!("--username={SUPERUSER}").into(),
        ];
        if !self.options.durable {
            argv.push("--no-sync".into());
        }
        os::run(&os::as_server_user(argv), Some(&self.root))
            .map(drop)
            .map_err(|e| {
                let denied = e.to_string().to_lowercase().contains("permission denied");
                let hint = (denied && os::running_as_root()).then(|| {
                    format!(
                        "initdb runs as user `{}`, who must be able to reach {}; \
                         point TMPDIR at a directory everyone can enter, such as /tmp",
                        os::SERVER_OS_USER,
                        self.root.display()
                    )
                });
                e.with_hint(hint)
            })
    }

    fn include_settings_file(&self) -> Result<(), TestkitError> {
        let conf = self.data_dir().join("postgresql.conf");
        fs::OpenOptions::new()
            .append(true)
            .open(&conf)
            .and_then(|mut file| writeln!(file, "\ninclude '{SETTINGS_FILE}'"))
            .map_err(|e| TestkitError::io(format!("could not append to {}", conf.display()), e))
    }

    /// Certificates in `<root>/tls`, and a `pg_hba.conf` that takes TCP over TLS only.
    fn set_up_tls(&mut self) -> Result<(), TestkitError> {
        self.tls = Some(tls::make_certificates(&self.root.join("tls"))?);
        let hba = self.data_dir().join("pg_hba.conf");
        fs::write(&hba, tls::TLS_ONLY_HBA)
            .map_err(|e| TestkitError::io(format!("could not write {}", hba.display()), e))
    }

    fn write_settings(&self) -> Result<(), TestkitError> {
        let path = self.data_dir().join(SETTINGS_FILE);
        fs::write(&path, self.settings_text())
            .map_err(|e| TestkitError::io(format!("could not write {}", path.display()), e))?;
        if os::running_as_root() {
            // Readable by the server even under a strict umask.
            os::give_to_server_user(&path)?;
        }
        Ok(())
    }

    fn settings_text(&self) -> String {
        let mut settings: Vec<(&str, String)> = vec![
            ("listen_addresses", "127.0.0.1".to_owned()),
            ("port", self.port.to_string()),
            (
                "unix_socket_directories",
                self.root.to_string_lossy().into_owned(),
            ),
            ("max_connections", self.options.max_connections.to_string()),
        ];
        if !self.options.durable {
            for name in ["fsync", "synchronous_commit", "full_page_writes"] {
                settings.push((name, "off".to_owned()));
            }
        }
        if let Some(files) = &self.tls {
            settings.push(("ssl", "on".to_owned()));
            settings.push((
                "ssl_cert_file",
                files.server_cert.to_string_lossy().into_owned(),
            ));
            settings.push((
                "ssl_key_file",
                files.server_key.to_string_lossy().into_owned(),
            ));
        }
        for (name, value) in &self.options.settings {
            settings.push((name, value.clone()));
        }
        let mut text = String::from("# Written by regulars-testkit.\n");
        for (name, value) in settings {
            text.push_str(&format!("{name} = {}\n", conf_quote(&value)));
        }
        text
    }

    fn start_on_free_port(&mut self) -> Result<(), TestkitError> {
        let mut attempt = 1;
        loop {
            self.port = free_port()?;
            self.write_settings()?;
            let log_offset = self.log_len();
            match self.pg_ctl_start() {
                Ok(()) => {
                    *self
                        .running
                        .get_mut()
                        .unwrap_or_else(PoisonError::into_inner) = true;
                    return Ok(());
                }
                // Someone took the port between our probe and the server's bind.
                Err(_) if attempt < PORT_ATTEMPTS && self.port_was_taken(log_offset) => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn port_was_taken(&self, log_offset: u64) -> bool {
        let log = fs::read(self.log_path()).unwrap_or_default();
        let recent = log.get(log_offset as usize..).unwrap_or_default();
        String::from_utf8_lossy(recent).contains("could not create any TCP/IP sockets")
    }

    fn pg_ctl_start(&self) -> Result<(), TestkitError> {
        self.pg_ctl(vec![
            "start".into(),
            "--wait".into(),
            format!("--timeout={PG_CTL_TIMEOUT_SECS}").into(),
            "--log".into(),
            self.log_path().into(),
        ])
    }

    fn pg_ctl_stop(&self, mode: StopMode) -> Result<(), TestkitError> {
        self.pg_ctl(vec![
            "stop".into(),
            "--wait".into(),
            format!("--timeout={PG_CTL_TIMEOUT_SECS}").into(),
            "--mode".into(),
            mode.as_arg().into(),
        ])
    }

    fn pg_ctl(&self, args: Vec<OsString>) -> Result<(), TestkitError> {
        let mut argv: Vec<OsString> = vec![
            self.bin("pg_ctl").into(),
            "--pgdata".into(),
            self.data_dir().into(),
        ];
        argv.extend(args);
        os::run(&os::as_server_user(argv), Some(&self.root))
            .map(drop)
            .map_err(|e| e.with_log_tail(self.log_tail()))
    }

    fn log_len(&self) -> u64 {
        fs::metadata(self.log_path()).map_or(0, |m| m.len())
    }

    fn log_tail(&self) -> Option<String> {
        let log = fs::read(self.log_path()).ok()?;
        let log = String::from_utf8_lossy(&log);
        let lines: Vec<&str> = log.lines().collect();
        let start = lines.len().saturating_sub(LOG_TAIL_LINES);
        Some(lines[start..].join("\n"))
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        match self.watchdog.take() {
            Some(mut watchdog) => {
                // End of file tells the watchdog to stop the server and remove the
                // directory; waiting makes both done when drop returns.
                drop(watchdog.stdin.take());
                let _ = watchdog.wait();
            }
            None => {
                let _ = fs::remove_dir_all(&self.root);
            }
        }
    }
}

/// `pg_ctl stop -m immediate` for the cluster in `data_dir`, run as the server's user.
fn immediate_stop_argv(bindir: &Path, data_dir: &Path) -> Vec<OsString> {
    os::as_server_user(vec![
        bindir.join("pg_ctl").into(),
        "--pgdata".into(),
        data_dir.into(),
        "--mode".into(),
        "immediate".into(),
        "--wait".into(),
        "stop".into(),
    ])
}

/// Stops servers and removes directories left by test processes that are gone (killed
/// along with their watchdog), once per process.
fn prune_stale_clusters(bindir: &Path) {
    static PRUNED: Once = Once::new();
    PRUNED.call_once(|| {
        os::prune_stale_scratch_dirs("pg", |dir| {
            let data_dir = dir.join("data");
            if postmaster_of(&data_dir).is_some() {
                let _ = os::run(
                    &immediate_stop_argv(bindir, &data_dir),
                    Some(Path::new("/")),
                );
            }
        });
    });
}

/// The pid of the server running on `data_dir`, if one does.
///
/// Checks the process's command line, not just its pid file: after a reboot the pid in a
/// leftover file may belong to an unrelated server, which must not be stopped.
fn postmaster_of(data_dir: &Path) -> Option<u32> {
    let pid_file = fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    let pid: u32 = pid_file.lines().next()?.trim().parse().ok()?;
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let data_dir = data_dir.to_string_lossy();
    cmdline
        .split(|&b| b == 0)
        .any(|arg| String::from_utf8_lossy(arg) == data_dir)
        .then_some(pid)
}

/// A port on 127.0.0.1 nobody listens on right now.
fn free_port() -> Result<u16, TestkitError> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| TestkitError::io("could not find a free port on 127.0.0.1", e))
}

/// `value` as a quoted string in `postgresql.conf`, where `\` also escapes.
fn conf_quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', r"\\").replace('\'', "''"))
}

/// `<prefix>_<pid>_<n>` made of lower-case ASCII letters, digits and `_`, at most 63
/// bytes, never starting with a digit.
pub(crate) fn unique_database_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let suffix = format!(
        "_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut base: String = prefix
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '_' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '_',
        })
        .collect();
    if base.is_empty() {
        base.push_str("db");
    } else if base.starts_with(|c: char| c.is_ascii_digit()) {
        base.insert_str(0, "db_");
    }
    // All ASCII, so byte truncation cannot split a character.
    base.truncate(MAX_IDENTIFIER_LEN - suffix.len());
    base + &suffix
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_plain_unique_identifiers() {
        let a = unique_database_name("Ledger-Tests");
        let b = unique_database_name("Ledger-Tests");
        assert_ne!(a, b);
        assert!(a.starts_with("ledger_tests_"), "{a}");
        assert!(unique_database_name("").starts_with("db_"));
        assert!(unique_database_name("9lives").starts_with("db_9lives_"));
        assert!(unique_database_name("đồng").starts_with("__ng_"));
        let long = unique_database_name(&"x".repeat(100));
        assert_eq!(long.len(), MAX_IDENTIFIER_LEN);
        assert!(
            long.contains(&format!("_{}_", std::process::id())),
            "{long}"
        );
    }

    #[test]
    fn conf_values_are_quoted_for_postgresql_conf() {
        assert_eq!(conf_quote("4GB"), "'4GB'");
        assert_eq!(conf_quote(r"it's C:\x"), r"'it''s C:\\x'");
    }
}
