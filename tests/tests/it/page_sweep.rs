//! Every dashboard page as an owner sees it: `regulars demo` fills a café chain's
//! database and serves it; a headless Chromium signs in and visits every page it can
//! reach from the navigation and from the pages' own links (one page of each kind), in
//! Vietnamese and in English, on a laptop (1366×1000) and on a phone (390×844). Each
//! visit saves a screenshot under `target/browser-screenshots/pages/` and checks, in the
//! browser, that the page is no wider than the screen and that no element with text
//! cuts it off, nor shows an id where a customer's name belongs or a SKU where an item's
//! name does. A page added to the navigation joins the sweep by itself.
//!
//! Needs the `regulars` binary (`cargo build -p regulars`) and chromedriver; without a
//! chromedriver the test says so and passes, unless `REGULARS_REQUIRE_BROWSER=1`.

use crate::browser::{Driver, chromedriver, click, context, fill, text_of, wait_for_url};
use crate::reliability::binary;
use fantoccini::{Client, Locator};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The screen sizes of the sweep: a laptop and a phone.
const SIZES: [(u32, u32); 2] = [(1366, 1000), (390, 844)];
/// Pages of different kinds visited at most (a bound on a crawl gone wrong).
const MAX_PAGES: usize = 40;

/// `regulars demo` serving its brand; stopped on drop.
struct Demo {
    child: Child,
    base: String,
    key: String,
    dir: PathBuf,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("free port: {e}"))
}

/// Runs a small demo (150 customers, 120 days) and waits until it serves.
fn demo() -> Demo {
    let dir = std::env::temp_dir().join(format!("regulars-sweep-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("temp dir: {e}"));
    let port = free_port();
    let db = format!("sqlite://{}?mode=rwc", dir.join("demo.db").display());
    let mut child = Command::new(binary())
        .args(["demo", "--customers", "150", "--days", "120", "--seed", "7"])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--database-url", &db])
        .current_dir(&dir)
        .env("REGULARS_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start regulars demo: {e}"));
    let stdout = child
        .stdout
        .take()
        .unwrap_or_else(|| panic!("demo has no stdout"));
    let mut key = None;
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.unwrap_or_else(|e| panic!("demo output: {e}"));
        if let Some(rest) = line.trim().strip_prefix("admin key") {
            key = Some(rest.trim().to_owned());
            break;
        }
    }
    // The demo goes on writing: keep reading, or it stops on a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    let key = key.unwrap_or_else(|| panic!("regulars demo printed no admin key"));
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the demo does not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Demo {
        child,
        base: format!("http://127.0.0.1:{port}"),
        key,
        dir,
    }
}

/// The kind of page a link leads to: its path with ids replaced by `{id}`.
fn shape(href: &str) -> Option<String> {
    let path = href.split(['?', '#']).next().unwrap_or_default();
    if !path.starts_with("/dashboard/") {
        return None;
    }
    let skipped = ["/logout", "/login", ".csv", ".png", ".pdf", ".svg"];
    if skipped.iter().any(|s| path.contains(s)) {
        return None;
    }
    let parts: Vec<String> = path
        .split('/')
        .map(|part| {
            let id = part.len() >= 8
                && part.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
                && part.chars().any(|c| c.is_ascii_digit());
            if id {
                "{id}".to_owned()
            } else {
                part.to_owned()
            }
        })
        .collect();
    Some(parts.join("/"))
}

/// `url` with `?lang=` (or `&lang=`) added.
fn with_lang(url: &str, lang: &str) -> String {
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}lang={lang}")
}

/// The script run on each page: the page's overflow and every element that clips its
/// text, described by tag, id, class and the start of its text; and the page's links.
const CHECK: &str = r#"
const describe = (el) => {
  let name = el.tagName.toLowerCase();
  if (el.id) name += '#' + el.id;
  if (typeof el.className === 'string' && el.className.trim()) name += '.' + el.className.trim().split(/\s+/).join('.');
  const text = (el.innerText || el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 50);
  return name + ' "' + text + '"';
};
const scrolls = (el) => {
  for (let e = el; e && e !== document.body; e = e.parentElement) {
    const o = getComputedStyle(e).overflowX;
    if (o === 'auto' || o === 'scroll') return true;
  }
  return false;
};
const problems = [];
const inner = window.innerWidth;
const doc = document.documentElement;
if (doc.scrollWidth > inner) {
  const wide = [...document.body.querySelectorAll('*')]
    .filter((el) => el.getBoundingClientRect().right > inner + 1 && !scrolls(el.parentElement))
    .slice(-3).map(describe);
  problems.push('page is ' + doc.scrollWidth + ' px wide on a ' + inner + ' px screen: ' + wide.join(' | '));
}
for (const el of document.body.querySelectorAll('*')) {
  if (el instanceof SVGElement || ['INPUT', 'TEXTAREA', 'SELECT', 'OPTION'].includes(el.tagName)) continue;
  const own = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join(' ').trim();
  if (own === '') continue;
  const id = own.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i);
  // The access log is the record of which ids were read: ids are its content there.
  const log = location.pathname.startsWith('/dashboard/audit');
  if (id && !log && !el.closest('pre, code, textarea')) problems.push('an id where a name belongs: ' + describe(el));
  if (el.closest('#at-risk-entrants td, #favourite') && /^[A-Z]{2,5}-[A-Z0-9-]{2,}$/.test(own)) {
    problems.push('an item by its SKU: ' + describe(el));
  }
  if (el.clientWidth === 0) continue;
  const o = getComputedStyle(el).overflowX;
  if (o === 'auto' || o === 'scroll') continue;
  if (el.scrollWidth > el.clientWidth + 1) {
    problems.push('clipped: ' + describe(el) + ' (' + el.scrollWidth + ' > ' + el.clientWidth + ' px)');
  }
}
const links = [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href'));
return { problems, links };
"#;

fn screenshot_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("browser-screenshots")
        .join("pages")
}

/// Visits `url` at the current size, saves its screenshot as `name`, and gives the
/// problems found and the page's links.
async fn visit(
    browser: &Client,
    url: &str,
    name: &str,
) -> Result<(Vec<String>, Vec<String>), String> {
    context(browser.goto(url).await, url)?;
    let status: Value = context(
        browser.execute("return document.title;", vec![]).await,
        "title",
    )?;
    let png = context(browser.screenshot().await, "screenshot")?;
    let dir = screenshot_dir();
    context(std::fs::create_dir_all(&dir), "screenshot directory")?;
    context(
        std::fs::write(dir.join(format!("{name}.png")), png),
        "screenshot",
    )?;
    let found: Value = context(browser.execute(CHECK, vec![]).await, "page check")?;
    let strings = |key: &str| -> Vec<String> {
        found[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut problems = strings("problems");
    let title = status.as_str().unwrap_or_default();
    if title.contains("404") || title.is_empty() {
        problems.push(format!("page title {title:?}"));
    }
    Ok((problems, strings("links")))
}

/// Signs in, then walks the pages reachable from the overview in both languages and
/// at both sizes; every problem is named with its page, language and size.
async fn sweep(browser: &Client, demo: &Demo) -> Result<Vec<String>, String> {
    let base = &demo.base;
    context(
        browser
            .goto(&format!("{base}/dashboard/login?lang=en"))
            .await,
        "login",
    )?;
    fill(browser, "#key", &demo.key).await?;
    click(browser, "#sign-in").await?;
    wait_for_url(browser, |url| url.contains("/dashboard/overview")).await?;
    // The demo's brand says its campaign results are simulated.
    let banner = text_of(browser, "#simulated").await?;
    if !banner.contains("Simulated data") {
        return Err(format!("the simulated-data banner says {banner:?}"));
    }
    // One link of each kind, found breadth-first from the overview (laptop, English).
    let mut pages: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = vec!["/dashboard/overview".to_owned()];
    let mut problems = Vec::new();
    context(
        browser.set_window_size(SIZES[0].0, SIZES[0].1).await,
        "window size",
    )?;
    while let Some(href) = queue.pop() {
        let Some(kind) = shape(&href) else { continue };
        if pages.contains_key(&kind) || pages.len() >= MAX_PAGES {
            continue;
        }
        let (_, links) =
            visit(browser, &with_lang(&format!("{base}{href}"), "en"), "crawl").await?;
        pages.insert(kind, href);
        queue.extend(links.into_iter().rev());
    }
    for lang in ["vi", "en"] {
        for (width, height) in SIZES {
            context(browser.set_window_size(width, height).await, "window size")?;
            for (kind, href) in &pages {
                let slug = kind
                    .trim_start_matches("/dashboard/")
                    .replace(['/', '{', '}'], "_");
                let name = format!("{lang}-{width}x{height}-{slug}");
                let url = with_lang(&format!("{base}{href}"), lang);
                let (found, _) = visit(browser, &url, &name).await?;
                if browser.find(Locator::Css("#simulated")).await.is_err() {
                    problems.push(format!("{kind} ({lang}): no simulated-data banner"));
                }
                problems.extend(
                    found
                        .into_iter()
                        .map(|p| format!("{kind} ({lang}, {width}×{height}): {p}")),
                );
            }
        }
    }
    let kinds: Vec<&String> = pages.keys().collect();
    for wanted in [
        "/dashboard/overview",
        "/dashboard/segments",
        "/dashboard/customers",
        "/dashboard/customers/{id}",
        "/dashboard/campaigns",
        "/dashboard/campaigns/{id}",
        "/dashboard/campaigns/new",
        "/dashboard/programme",
    ] {
        if !pages.contains_key(wanted) {
            problems.push(format!("{wanted} was not reached; reached {kinds:?}"));
        }
    }
    Ok(problems)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_page_fits_a_laptop_and_a_phone_in_both_languages() {
    let Some(driver_binary) = chromedriver() else {
        let required = std::env::var("REGULARS_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        assert!(!required, "REGULARS_REQUIRE_BROWSER=1 but no chromedriver");
        eprintln!("skipped: no chromedriver on PATH (install chromium and chromium-driver)");
        return;
    };
    let demo = tokio::task::spawn_blocking(demo)
        .await
        .unwrap_or_else(|e| panic!("demo: {e}"));
    let driver = Driver::start(&driver_binary).await;
    let browser = driver.browser().await;
    let result = sweep(&browser, &demo).await;
    let _ = browser.close().await;
    match result {
        Ok(problems) => assert!(
            problems.is_empty(),
            "{} problems (screenshots in {}):\n{}",
            problems.len(),
            screenshot_dir().display(),
            problems.join("\n")
        ),
        Err(step) => panic!("sweep stopped: {step}"),
    }
}
