//! The provider stand-ins, spoken to over raw HTTP/1.1 like any client would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use regulars_testkit::providers::{
    EsmsStub, Fault, ZaloZnsStub, require_smtp, require_smtp_with_logins,
};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One request on a fresh connection: `Some((status, body))`, or `None` when the server
/// closed the connection without answering.
fn post(base: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Option<(u16, String)> {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    if reader.read_line(&mut status_line).unwrap_or(0) == 0 {
        return None;
    }
    let status = status_line
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    Some((status, String::from_utf8(body).unwrap()))
}

fn zns(stub: &ZaloZnsStub, token: &str, phone: &str, tracking: &str) -> Option<(u16, Value)> {
    let body = json!({
        "phone": phone,
        "template_id": "240871",
        "template_data": {"points": "120"},
        "tracking_id": tracking,
    });
    post(
        &stub.base_url(),
        "/message/template",
        &[("access_token", token)],
        &body.to_string(),
    )
    .map(|(s, b)| (s, serde_json::from_str(&b).unwrap()))
}

#[test]
fn zalo_validates_replays_and_refreshes_like_zalo() {
    let stub = ZaloZnsStub::start().unwrap();
    let token = stub.access_token();
    let (_, answer) = zns(&stub, "wrong", "84912345678", "t1").unwrap();
    assert_eq!(answer["error"], -124);
    let (_, answer) = zns(&stub, &token, "12345", "t1").unwrap();
    assert_eq!(answer["error"], -108);

    let (status, first) = zns(&stub, &token, "0912345678", "t1").unwrap();
    assert_eq!(status, 200);
    assert_eq!(first["error"], 0);
    let (_, again) = zns(&stub, &token, "0912345678", "t1").unwrap();
    assert_eq!(again, first, "a repeated tracking id gets the first answer");
    assert_eq!(stub.accepted_count(), 1);
    assert_eq!(stub.deliveries()[0].requests, 2);

    let form = format!(
        "refresh_token={}&app_id={}&grant_type=refresh_token",
        stub.refresh_token(),
        stub.app_id()
    );
    let secret = stub.secret_key();
    let (_, refused) = post(
        &stub.base_url(),
        "/v4/oa/access_token",
        &[("secret_key", "nope")],
        &form,
    )
    .unwrap();
    assert!(
        serde_json::from_str::<Value>(&refused).unwrap()["error"]
            .as_i64()
            .unwrap()
            < 0
    );
    let (_, granted) = post(
        &stub.base_url(),
        "/v4/oa/access_token",
        &[("secret_key", &secret)],
        &form,
    )
    .unwrap();
    let granted: Value = serde_json::from_str(&granted).unwrap();
    assert_eq!(granted["access_token"], stub.access_token());
    assert_ne!(stub.access_token(), token, "old access token retired");
    // Refresh tokens are single use.
    let (_, reused) = post(
        &stub.base_url(),
        "/v4/oa/access_token",
        &[("secret_key", &secret)],
        &form,
    )
    .unwrap();
    assert!(
        serde_json::from_str::<Value>(&reused).unwrap()["error"]
            .as_i64()
            .unwrap()
            < 0
    );
    assert_eq!(stub.refresh_count(), 1);
}

#[test]
fn esms_validates_and_refuses_a_repeated_request_id() {
    let stub = EsmsStub::start().unwrap();
    let send = |api_key: &str, phone: &str, request_id: &str| {
        let body = json!({
            "ApiKey": api_key, "SecretKey": stub.secret_key(), "Phone": phone,
            "Content": "Xin chào", "Brandname": stub.brandname(), "SmsType": "2",
            "IsUnicode": "1", "RequestId": request_id,
        });
        let (_, answer) = post(
            &stub.base_url(),
            "/MainService.svc/json/SendMultipleMessage_V4_post_json/",
            &[("Content-Type", "application/json")],
            &body.to_string(),
        )
        .unwrap();
        serde_json::from_str::<Value>(&answer).unwrap()
    };
    assert_eq!(send("bad", "0912345678", "r1")["CodeResult"], "101");
    assert_eq!(send(&stub.api_key(), "09123", "r1")["CodeResult"], "108");
    let first = send(&stub.api_key(), "0912345678", "r1");
    assert_eq!(first["CodeResult"], "100");
    assert!(first["SMSID"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(
        send(&stub.api_key(), "0912345678", "r1")["CodeResult"],
        "124"
    );
    assert_eq!(stub.accepted_count(), 1);
    assert_eq!(stub.deliveries()[0].text, "Xin chào");
}

/// The outcome of each of `n` distinct sends: `Ok(())` delivered, `Err(what)` failed.
fn outcomes(stub: &ZaloZnsStub, n: usize) -> Vec<Result<(), String>> {
    let token = stub.access_token();
    (0..n)
        .map(
            |i| match zns(stub, &token, "84912345678", &format!("k{i}")) {
                None => Err("dropped".into()),
                Some((200, a)) if a["error"] == 0 => Ok(()),
                Some((status, a)) => Err(format!("{status} {}", a["error"])),
            },
        )
        .collect()
}

#[test]
fn failure_injection_is_seeded_and_proportional() {
    let a = ZaloZnsStub::start().unwrap();
    let b = ZaloZnsStub::start().unwrap();
    a.set_failure_ratio(0.3, 42);
    b.set_failure_ratio(0.3, 42);
    let first = outcomes(&a, 200);
    assert_eq!(first, outcomes(&b, 200), "same seed, same failures");
    let failed = first.iter().filter(|o| o.is_err()).count();
    assert!(
        (30..=90).contains(&failed),
        "{failed} of 200 failed at ratio 0.3"
    );
    assert_eq!(
        a.accepted_count(),
        200 - failed,
        "failed sends are not delivered"
    );
    for kind in ["dropped", "503 503", "200 -100"] {
        assert!(
            first
                .iter()
                .any(|o| o.as_ref().err().is_some_and(|e| e == kind)),
            "{kind} injected"
        );
    }

    let c = ZaloZnsStub::start().unwrap();
    c.set_failure_ratio(0.3, 43);
    assert_ne!(first, outcomes(&c, 200), "another seed, other failures");
    c.set_failure_ratio(0.0, 0);
    assert!(outcomes(&c, 20).iter().all(Result::is_ok));
}

#[test]
fn forced_faults_come_in_order_and_a_lost_ack_still_delivers() {
    let stub = ZaloZnsStub::start().unwrap();
    stub.force_error(-118);
    stub.push_fault(Fault::Http(502));
    stub.push_fault(Fault::DropAfterAccept);
    let token = stub.access_token();
    assert_eq!(
        zns(&stub, &token, "84912345678", "a").unwrap().1["error"],
        -118
    );
    assert_eq!(zns(&stub, &token, "84912345678", "b").unwrap().0, 502);
    assert!(zns(&stub, &token, "84912345678", "c").is_none());
    assert_eq!(stub.accepted_count(), 1, "the unacknowledged one went out");
    assert_eq!(stub.deliveries()[0].dedupe_key, "c");
}

/// One SMTP session on a fresh connection: each command's reply must start with its
/// code (multi-line replies read to their last line).
fn smtp_session(addr: &str, steps: &[(&str, &str)]) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut expect = |code: &str, after: &str| loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(
            line.starts_with(code),
            "after {after:?}: expected {code}, got {line:?}"
        );
        if line.as_bytes().get(3) == Some(&b' ') {
            break;
        }
    };
    expect("220", "connecting");
    for (cmd, code) in steps {
        stream.write_all(format!("{cmd}\r\n").as_bytes()).unwrap();
        expect(code, cmd);
    }
}

#[test]
fn smtp_server_starts_receives_and_stops() {
    let Some(server) = require_smtp() else { return };
    let addr = format!("{}:{}", server.host(), server.port());
    smtp_session(
        &addr,
        &[
            ("EHLO test.local", "250"),
            ("MAIL FROM:<a@example.com>", "250"),
            ("RCPT TO:<b@example.com>", "250"),
            ("DATA", "354"),
            ("Subject: hello\r\n\r\nbody line\r\n.", "250"),
            ("QUIT", "221"),
        ],
    );
    let mails = server.messages().unwrap();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].header("subject"), Some("hello"));
    assert_eq!(
        mails[0].body.as_deref().map(str::trim_end),
        Some("body line")
    );
    assert_eq!(mails[0].rcpt_tos, vec!["b@example.com".to_owned()]);
    assert_eq!(mails[0].auth_user, None);
    drop(server);
    assert!(TcpStream::connect(&addr).is_err(), "killed on drop");
}

#[test]
fn smtp_server_with_logins_requires_one_and_keeps_it() {
    let logins = [("shop-a", "secret-a"), ("shop-b", "secret-b")];
    let Some(server) = require_smtp_with_logins(&logins) else {
        return;
    };
    let addr = format!("{}:{}", server.host(), server.port());
    let message = [
        ("RCPT TO:<b@example.com>", "250"),
        ("DATA", "354"),
        ("Subject: hello\r\n\r\nbody\r\n.", "250"),
        ("QUIT", "221"),
    ];
    // No login: refused. A wrong password: 535.
    smtp_session(
        &addr,
        &[
            ("EHLO test.local", "250"),
            ("MAIL FROM:<a@example.com>", "530"),
            // base64("\0shop-a\0wrong")
            ("AUTH PLAIN AHNob3AtYQB3cm9uZw==", "535"),
            ("QUIT", "221"),
        ],
    );
    // AUTH PLAIN as shop-a, base64("\0shop-a\0secret-a").
    let mut plain = vec![
        ("EHLO test.local", "250"),
        ("AUTH PLAIN AHNob3AtYQBzZWNyZXQtYQ==", "235"),
        ("MAIL FROM:<a@example.com>", "250"),
    ];
    plain.extend(message);
    smtp_session(&addr, &plain);
    // AUTH LOGIN as shop-b, base64("shop-b") then base64("secret-b").
    let mut login = vec![
        ("EHLO test.local", "250"),
        ("AUTH LOGIN", "334"),
        ("c2hvcC1i", "334"),
        ("c2VjcmV0LWI=", "235"),
        ("MAIL FROM:<a@example.com>", "250"),
    ];
    login.extend(message);
    smtp_session(&addr, &login);
    let users: Vec<Option<String>> = server
        .messages()
        .unwrap()
        .into_iter()
        .map(|m| m.auth_user)
        .collect();
    assert_eq!(
        users,
        vec![Some("shop-a".to_owned()), Some("shop-b".to_owned())]
    );
}
