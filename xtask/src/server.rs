//! A `regulars serve` process on a fresh SQLite database, with a brand and its admin key,
//! for the steps that test the server from outside (`cargo xtask fuzz`).

use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

/// A running server; stopped (and its scratch directory removed) when dropped.
pub struct Server {
    child: Child,
    dir: PathBuf,
    base: String,
    key: String,
    logs: Option<JoinHandle<String>>,
}

/// `regulars` from the debug build, with none of the caller's `REGULARS_*` settings.
fn regulars(binary: &Path, dir: &Path, url: &str) -> Command {
    let mut command = Command::new(binary);
    for (name, _) in std::env::vars_os() {
        let text = name.to_string_lossy();
        if text.starts_with("REGULARS_") || text == "DATABASE_URL" || text == "RUST_LOG" {
            command.env_remove(&name);
        }
    }
    command
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn");
    command
}

impl Server {
    /// Builds the binary, creates a brand with the bubble-tea rules on a new database in a
    /// scratch directory named after `purpose`, and starts `regulars serve` on a free port.
    pub fn start(root: &Path, purpose: &str) -> Result<Server> {
        crate::run(crate::cargo().current_dir(root).args([
            "build",
            "--package",
            "regulars",
            "--locked",
        ]))?;
        let binary = crate::target_dir(root)
            .join("debug")
            .join(format!("regulars{}", std::env::consts::EXE_SUFFIX));
        let dir = std::env::temp_dir().join(format!("regulars-{purpose}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        let url = format!("sqlite://{}?mode=rwc", dir.join("regulars.db").display());

        let rules = root.join("docs/examples/bubble-tea.rules.json");
        let created = regulars(&binary, &dir, &url)
            .args(["brand", "create", "--name", "Fuzzed tea", "--rules"])
            .arg(&rules)
            .output()
            .with_context(|| format!("run {}", binary.display()))?;
        let text = String::from_utf8_lossy(&created.stdout);
        let Some(key) = text
            .lines()
            .find_map(|l| l.strip_prefix("admin key:"))
            .map(|k| k.trim().to_owned())
        else {
            bail!(
                "regulars brand create printed no key: {text}{}",
                String::from_utf8_lossy(&created.stderr)
            );
        };

        let mut child = regulars(&binary, &dir, &url)
            .arg("serve")
            .env("REGULARS_LISTEN", "127.0.0.1:0")
            .env("REGULARS_SECRET_KEY", "5a".repeat(32))
            // The fuzzer sends as fast as it can; a 429 would only hide the answers.
            .env("REGULARS_RATE_LIMIT_PER_SECOND", "0")
            .env("REGULARS_SCORING_INTERVAL_HOURS", "0")
            .env("REGULARS_SHUTDOWN_TIMEOUT_SECONDS", "5")
            // Delivery reports are taken (and their signatures checked) only for the
            // providers configured; without these every report would be a 404.
            .env("REGULARS_ZALO_APP_ID", "fuzz-app")
            .env("REGULARS_ZALO_OA_SECRET_KEY", "fuzz-oa-secret")
            .env("REGULARS_ESMS_CALLBACK_TOKEN", "fuzz-esms-token")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("start regulars serve")?;
        let mut stderr = child.stderr.take().context("stderr")?;
        // Drained on the side so a chatty log never blocks the server.
        let logs = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let mut stdout = BufReader::new(child.stdout.take().context("stdout")?);
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = stdout.read_to_string(&mut rest);
        });
        let port = line
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|p| p.parse::<u16>().ok());
        let mut server = Server {
            child,
            dir,
            base: String::new(),
            key,
            logs: Some(logs),
        };
        let Some(port) = port else {
            let logs = server.stop().unwrap_or_default();
            bail!("regulars serve printed no port ({line:?}): {logs}");
        };
        server.base = format!("http://127.0.0.1:{port}");
        Ok(server)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The brand's admin key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The scratch directory (database, reports).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stops the server with SIGTERM and returns its log.
    pub fn stop(mut self) -> Result<String> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().context("wait for regulars serve")?;
        let logs = self
            .logs
            .take()
            .and_then(|l| l.join().ok())
            .unwrap_or_default();
        if !status.success() {
            bail!("regulars serve ended with {status}: {logs}");
        }
        Ok(logs)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
