//! A real SMTP server for email tests: Python's `aiosmtpd` in a subprocess.

use std::env;
use std::fs;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::TestkitError;

/// Makes a missing `aiosmtpd` a failure instead of a skip.
const REQUIRE_SMTP_ENV: &str = "REGULARS_REQUIRE_SMTP";

/// How long the server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The server script: `aiosmtpd`'s `Controller` with a handler that stores each message
/// as JSON, and, when logins are given, requires AUTH (PLAIN or LOGIN) with one of them.
const SERVER_SCRIPT: &str = include_str!("smtp_server.py");

/// One message the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// Envelope sender (`MAIL FROM`).
    pub mail_from: String,
    /// Envelope recipients (`RCPT TO`).
    pub rcpt_tos: Vec<String>,
    /// Headers in order, values decoded (RFC 2047 words turned back into text).
    pub headers: Vec<(String, String)>,
    /// The `text/plain` body, transfer encoding undone.
    pub body: Option<String>,
    /// The message source as received.
    pub raw: String,
    /// The login name the message was sent under; `None` when the server takes mail
    /// without a login.
    pub auth_user: Option<String>,
}

impl ReceivedMail {
    /// The first header of that name (any case), decoded.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A running `aiosmtpd` on a free loopback port; killed, and its directory removed, on
/// drop. Plain SMTP; no authentication unless started with logins
/// ([`SmtpServer::start_with_logins`]).
#[derive(Debug)]
pub struct SmtpServer {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

/// Whether `python3 -c "import aiosmtpd"` succeeds.
#[must_use]
pub fn smtp_available() -> bool {
    Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A started [`SmtpServer`], or `None` when `aiosmtpd` is not installed and the test
/// should skip itself (printing why).
///
/// # Panics
///
/// When `REGULARS_REQUIRE_SMTP` is `1`/`true` and `aiosmtpd` is missing, and when it is
/// installed but the server does not start.
#[must_use]
pub fn require_smtp() -> Option<SmtpServer> {
    require_smtp_with_logins(&[])
}

/// Like [`require_smtp`], but the server requires a login with one of these
/// `(user, password)` pairs ([`SmtpServer::start_with_logins`]).
///
/// # Panics
///
/// As [`require_smtp`].
#[must_use]
pub fn require_smtp_with_logins(logins: &[(&str, &str)]) -> Option<SmtpServer> {
    if !smtp_available() {
        let required = env::var(REQUIRE_SMTP_ENV)
            .is_ok_and(|v| v == "1" || v.trim().eq_ignore_ascii_case("true"));
        assert!(
            !required,
            "aiosmtpd is required ({REQUIRE_SMTP_ENV} is set) but `python3 -c \"import aiosmtpd\"` \
             fails; install it with `python3 -m pip install aiosmtpd`"
        );
        eprintln!(
            "skipped: aiosmtpd not installed (python3 -m pip install aiosmtpd); \
             set {REQUIRE_SMTP_ENV}=1 to make this a failure"
        );
        return None;
    }
    match SmtpServer::start_with_logins(logins) {
        Ok(server) => Some(server),
        Err(e) => panic!("aiosmtpd did not start: {e}"),
    }
}

static NEXT_DIR: AtomicU64 = AtomicU64::new(0);

impl SmtpServer {
    /// Starts an SMTP server that takes mail without a login, and waits until it
    /// accepts connections.
    ///
    /// # Errors
    ///
    /// As [`SmtpServer::start_with_logins`].
    pub fn start() -> Result<Self, TestkitError> {
        Self::start_with_logins(&[])
    }

    /// Starts `python3 regulars_smtp_server.py PORT MAIL_DIR LOGINS` on 127.0.0.1 and
    /// waits until it accepts connections. With `logins` non-empty, every message needs
    /// `AUTH PLAIN` or `AUTH LOGIN` with one of these `(user, password)` pairs, offered
    /// over plain TCP (the server is on loopback); any other pair is answered
    /// `535 5.7.8`, mail without a login `530 5.7.0`. Each stored message keeps its
    /// login ([`ReceivedMail::auth_user`]).
    ///
    /// # Errors
    ///
    /// When the directory cannot be made, Python cannot be started, or the server exits
    /// or does not listen within 20 seconds.
    pub fn start_with_logins(logins: &[(&str, &str)]) -> Result<Self, TestkitError> {
        let dir = env::temp_dir().join(format!(
            "regulars-smtp-{}-{}",
            std::process::id(),
            NEXT_DIR.fetch_add(1, Ordering::SeqCst)
        ));
        let mail_dir = dir.join("mail");
        fs::create_dir_all(&mail_dir)
            .map_err(|e| TestkitError::io(format!("creating {}", mail_dir.display()), e))?;
        let script = dir.join("regulars_smtp_server.py");
        fs::write(&script, SERVER_SCRIPT)
            .map_err(|e| TestkitError::io("writing the SMTP server script", e))?;
        let logins_file = dir.join("logins.json");
        fs::write(
            &logins_file,
            serde_json::Value::from(logins_json(logins)).to_string(),
        )
        .map_err(|e| TestkitError::io("writing the SMTP logins", e))?;
        let port = free_port()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let log = fs::File::create(dir.join("aiosmtpd.log"))
            .map_err(|e| TestkitError::io("creating the aiosmtpd log", e))?;
        let log_err = log
            .try_clone()
            .map_err(|e| TestkitError::io("creating the aiosmtpd log", e))?;
        let child = Command::new("python3")
            .arg(&script)
            .arg(port.to_string())
            .arg(&mail_dir)
            .arg(&logins_file)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| TestkitError::io("starting python3 with aiosmtpd", e))?;
        let mut server = Self { child, addr, dir };
        server.wait_until_listening()?;
        Ok(server)
    }

    fn wait_until_listening(&mut self) -> Result<(), TestkitError> {
        let started = Instant::now();
        loop {
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            let exited = self
                .child
                .try_wait()
                .map_err(|e| TestkitError::io("watching aiosmtpd", e))?;
            if exited.is_some() || started.elapsed() > START_TIMEOUT {
                let log = fs::read_to_string(self.dir.join("aiosmtpd.log")).unwrap_or_default();
                return Err(TestkitError::CommandFailed {
                    command: format!("python3 regulars_smtp_server.py {}", self.addr.port()),
                    status: exited
                        .map_or_else(|| "not listening after 20 s".to_owned(), |s| s.to_string()),
                    output: log,
                    log_tail: None,
                    hint: Some("is aiosmtpd installed? python3 -m pip install aiosmtpd".into()),
                });
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The loopback host the server listens on.
    #[must_use]
    pub fn host(&self) -> String {
        self.addr.ip().to_string()
    }

    /// Its port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// From now on, answers every `DATA` with this SMTP reply (e.g.
    /// `451 4.3.0 try again later` or `550 5.1.1 no such user`) and stores nothing;
    /// `None` goes back to accepting.
    ///
    /// # Errors
    ///
    /// When the control file cannot be written or removed.
    pub fn set_reply(&self, reply: Option<&str>) -> Result<(), TestkitError> {
        let path = self.dir.join("mail").join("reply");
        match reply {
            Some(text) => fs::write(&path, text)
                .map_err(|e| TestkitError::io(format!("writing {}", path.display()), e)),
            None => match fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(TestkitError::io(format!("removing {}", path.display()), e))
                }
                _ => Ok(()),
            },
        }
    }

    /// Every message received so far, in order.
    ///
    /// # Errors
    ///
    /// When the stored messages cannot be read or parsed.
    pub fn messages(&self) -> Result<Vec<ReceivedMail>, TestkitError> {
        let mail_dir = self.dir.join("mail");
        let mut names: Vec<PathBuf> = fs::read_dir(&mail_dir)
            .map_err(|e| TestkitError::io(format!("listing {}", mail_dir.display()), e))?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && !p
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with('.'))
            })
            .collect();
        names.sort();
        names.iter().map(|p| read_mail(p)).collect()
    }
}

fn read_mail(path: &Path) -> Result<ReceivedMail, TestkitError> {
    let text = fs::read_to_string(path)
        .map_err(|e| TestkitError::io(format!("reading {}", path.display()), e))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| {
        TestkitError::io(
            format!("parsing {}", path.display()),
            std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        )
    })?;
    let string = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    Ok(ReceivedMail {
        mail_from: string(&doc["mail_from"]),
        rcpt_tos: doc["rcpt_tos"]
            .as_array()
            .map(|a| a.iter().map(string).collect())
            .unwrap_or_default(),
        headers: doc["headers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|pair| (string(&pair[0]), string(&pair[1])))
                    .collect()
            })
            .unwrap_or_default(),
        body: doc["body"].as_str().map(str::to_owned),
        raw: string(&doc["raw"]),
        auth_user: doc["auth_user"].as_str().map(str::to_owned),
    })
}

fn logins_json(logins: &[(&str, &str)]) -> Vec<Value> {
    logins
        .iter()
        .map(|(user, password)| Value::from(vec![*user, *password]))
        .collect()
}

fn free_port() -> Result<u16, TestkitError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| TestkitError::io("finding a free loopback port", e))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| TestkitError::io("finding a free loopback port", e))
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}
