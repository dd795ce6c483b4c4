//! `regulars serve` as a process: it prints its port, answers, stops gracefully on
//! SIGTERM, and refuses a bad configuration file with a clear message.

use crate::{Scratch, databases, regulars};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A plain HTTP/1.1 GET: the status and the body.
fn get(port: u16, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {answer}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Waits for the process to end; a server that ignores SIGTERM for a minute is killed
/// and reported.
fn wait(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("regulars serve did not stop after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn serve(db: &Scratch) -> Child {
    regulars(db.dir())
        .arg("serve")
        .env("REGULARS_LISTEN", "127.0.0.1:0")
        .env("DATABASE_URL", &db.url)
        .env("REGULARS_SHUTDOWN_TIMEOUT_SECONDS", "5")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start regulars serve")
}

#[test]
fn serve_prints_its_port_answers_and_stops_gracefully_on_sigterm() {
    for db in databases("serve") {
        let mut child = serve(&db);
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut stderr = child.stderr.take().expect("stderr");
        // Drained on the side so a chatty log never blocks the server.
        let logs = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read stdout");
        let port: Option<u16> = line
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|p| p.parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let logs = logs.join().unwrap_or_default();
            panic!("{}: no port in {line:?}: {logs}", db.name)
        };
        assert_ne!(port, 0);

        let (status, body) = get(port, "/healthz");
        assert_eq!(status, 200, "{}: {body}", db.name);
        let (status, body) = get(port, "/readyz");
        assert_eq!(status, 200, "{}: {body}", db.name);
        let (status, _) = get(port, "/v1/brand");
        assert_eq!(status, 401, "{}: the API needs a key", db.name);

        let killed = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(killed.success());
        let status = wait(&mut child);
        let logs = logs.join().unwrap_or_default();
        if std::env::var_os("TEST_LOG").is_some() {
            eprintln!("{logs}");
        }
        assert!(status.success(), "{}: {status:?}\n{logs}", db.name);
        assert!(
            logs.contains("stopped"),
            "{}: graceful stop logged:\n{logs}",
            db.name
        );
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "{}: the port is closed",
            db.name
        );
    }
}

#[test]
fn a_bad_configuration_file_is_refused_with_its_name_and_key() {
    let db = databases("badconf").into_iter().next().expect("sqlite");
    let dir = db.dir();
    for (text, expected) in [
        ("listn = \"127.0.0.1:0\"\n", "listn"),
        ("listen = \n", "regulars.toml"),
        ("body_limit_bytes = 10\n", "body_limit_bytes"),
        (
            "secret_key = \"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"\n",
            "REGULARS_SECRET_KEY",
        ),
    ] {
        std::fs::write(dir.join("regulars.toml"), text).expect("write regulars.toml");
        let output = regulars(dir)
            .arg("serve")
            .env("DATABASE_URL", &db.url)
            .output()
            .expect("run regulars serve");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{text:?} was accepted");
        assert!(
            stderr.contains("invalid configuration") && stderr.contains(expected),
            "{text:?}: {stderr}"
        );
    }
    let missing = dir.join("absent.toml");
    let output = regulars(dir)
        .args(["serve", "--config", missing.to_str().expect("utf-8 path")])
        .output()
        .expect("run regulars serve");
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("absent.toml"),
        "{output:?}"
    );
}

#[test]
fn a_database_password_never_shows_in_what_serve_prints() {
    let db = databases("password").into_iter().next().expect("sqlite");
    // Nothing listens on port 9: the connection fails and the URL is reported.
    let url = "postgres://app@127.0.0.1:9/regulars?sslmode=disable&password=hunter2";
    let output = regulars(db.dir())
        .args(["serve"])
        .env("DATABASE_URL", url)
        .env("REGULARS_DATABASE_TIMEOUT_SECONDS", "1")
        .output()
        .expect("run regulars serve");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!output.status.success(), "{printed}");
    assert!(printed.contains("password=***"), "{printed}");
    assert!(!printed.contains("hunter2"), "{printed}");
}
