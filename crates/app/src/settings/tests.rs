//! Defaults, the file and the environment, in that order; bad values named.

use super::*;
use std::time::Duration;

fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

#[test]
fn defaults_then_file_then_environment() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("regulars-settings-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("regulars.toml");
    std::fs::write(
        &path,
        "listen = \"0.0.0.0:9000\"\nbody_limit_bytes = 4096\n",
    )?;
    let s = Settings::load(Some(&path), env_of(&[]))?;
    assert_eq!(s.listen, "0.0.0.0:9000");
    assert_eq!(s.body_limit, 4096);
    assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
    let s = Settings::load(
        Some(&path),
        env_of(&[
            ("REGULARS_LISTEN", "127.0.0.1:0"),
            ("DATABASE_URL", "postgres://a@b/c"),
            ("REGULARS_LOG_FORMAT", "json"),
        ]),
    )?;
    assert_eq!(s.listen, "127.0.0.1:0");
    assert_eq!(s.database_url, "postgres://a@b/c");
    assert_eq!(s.log_format, LogFormat::Json);
    assert_eq!(s.rate_limit, Some(regulars_http::RateLimit::DEFAULT));
    assert_eq!(s.metrics_token, None);
    std::fs::write(&path, "rate_limit_per_second = 5\nrate_limit_burst = 20\n")?;
    let s = Settings::load(Some(&path), env_of(&[]))?;
    let limit = regulars_http::RateLimit {
        per_second: 5,
        burst: 20,
    };
    assert_eq!(s.rate_limit, Some(limit));
    let s = Settings::load(
        Some(&path),
        env_of(&[
            ("REGULARS_RATE_LIMIT_BURST", "30"),
            ("REGULARS_METRICS_TOKEN", "scrape-me"),
        ]),
    )?;
    assert_eq!(
        s.rate_limit,
        Some(regulars_http::RateLimit {
            per_second: 5,
            burst: 30
        })
    );
    assert_eq!(s.metrics_token.as_deref(), Some("scrape-me"));
    let s = Settings::load(
        Some(&path),
        env_of(&[("REGULARS_RATE_LIMIT_PER_SECOND", "0")]),
    )?;
    assert_eq!(s.rate_limit, None, "0 turns the limit off");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn link_host_and_cookie_security_come_from_file_or_environment()
-> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("regulars-web-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("regulars.toml");
    std::fs::write(
        &path,
        "public_url = \"https://a.example\"\nsecure_cookies = true\n",
    )?;
    let s = Settings::load(Some(&path), env_of(&[]))?;
    assert_eq!(s.public_url.as_deref(), Some("https://a.example"));
    assert!(s.secure_cookies);
    let s = Settings::load(
        Some(&path),
        env_of(&[
            ("REGULARS_PUBLIC_URL", "https://b.example"),
            ("REGULARS_SECURE_COOKIES", "false"),
        ]),
    )?;
    assert_eq!(s.public_url.as_deref(), Some("https://b.example"));
    assert!(!s.secure_cookies);
    let e = Settings::load(Some(&path), env_of(&[("REGULARS_SECURE_COOKIES", "maybe")]))
        .map(|_| ())
        .unwrap_err();
    assert!(e.to_string().contains("REGULARS_SECURE_COOKIES"), "{e}");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn bad_settings_are_named() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("regulars-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("regulars.toml");
    std::fs::write(&path, "listn = \"x\"\n")?;
    let e = Settings::load(Some(&path), env_of(&[]))
        .map(|_| ())
        .unwrap_err();
    assert!(e.to_string().contains("listn"), "{e}");
    std::fs::write(&path, format!("secret_key = \"{}\"\n", "ab".repeat(32)))?;
    let e = Settings::load(Some(&path), env_of(&[]))
        .map(|_| ())
        .unwrap_err();
    assert!(e.to_string().contains("REGULARS_SECRET_KEY"), "{e}");
    let e = Settings::load(None, env_of(&[("REGULARS_SECRET_KEY", "abc")]))
        .map(|_| ())
        .unwrap_err();
    assert!(e.to_string().starts_with("REGULARS_SECRET_KEY"), "{e}");
    let e = Settings::load(None, env_of(&[("REGULARS_BODY_LIMIT_BYTES", "ten")]))
        .map(|_| ())
        .unwrap_err();
    assert!(e.to_string().contains("ten"), "{e}");
    let missing = dir.join("absent.toml");
    assert!(Settings::load(Some(&missing), env_of(&[])).is_err());
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn previous_secret_keys_come_from_the_environment_beside_the_current_one() {
    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const BOTH: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb, cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
    let s = Settings::load(
        None,
        env_of(&[
            ("REGULARS_SECRET_KEY", A),
            ("REGULARS_PREVIOUS_SECRET_KEYS", BOTH),
        ]),
    )
    .map_err(|e| e.to_string());
    let s = s.as_ref().map_err(String::as_str);
    assert_eq!(s.map(|s| s.previous_secret_keys.len()), Ok(2));
    let s = s.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.secret_keys().map(|k| k.all().count()), Some(3));
    let e = Settings::load(None, env_of(&[("REGULARS_PREVIOUS_SECRET_KEYS", B)]))
        .map(|_| ())
        .unwrap_err();
    assert!(e.to_string().contains("REGULARS_SECRET_KEY"), "{e}");
    let e = Settings::load(
        None,
        env_of(&[
            ("REGULARS_SECRET_KEY", A),
            ("REGULARS_PREVIOUS_SECRET_KEYS", "xyz"),
        ]),
    )
    .map(|_| ())
    .unwrap_err();
    assert!(
        e.to_string().starts_with("REGULARS_PREVIOUS_SECRET_KEYS"),
        "{e}"
    );
}

#[test]
fn the_pos_poll_interval_comes_from_file_or_environment() -> Result<(), Box<dyn std::error::Error>>
{
    assert_eq!(
        Settings::default().worker.pos_poll_interval,
        Some(Duration::from_secs(300))
    );
    let dir = std::env::temp_dir().join(format!("regulars-poll-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("regulars.toml");
    std::fs::write(&path, "[worker]\npos_poll_interval_minutes = 2\n")?;
    let s = Settings::load(Some(&path), env_of(&[]))?;
    assert_eq!(s.worker.pos_poll_interval, Some(Duration::from_secs(120)));
    let env = env_of(&[("REGULARS_POS_POLL_INTERVAL_MINUTES", "0")]);
    assert_eq!(
        Settings::load(Some(&path), env)?.worker.pos_poll_interval,
        None
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
