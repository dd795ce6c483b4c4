//! The page frame (head, style, navigation), error pages and small formatters.

use crate::cookies;
use crate::i18n::{LANG_COOKIE, Lang, Text, query_lang};
use crate::session::Session;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use regulars_ports::Role;
use std::fmt;
use time::OffsetDateTime;
use time::macros::format_description;

/// The style sheet, inline in every page: nothing is fetched.
const STYLE: &str = r#"
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;background:#f6f7f9}
a{color:#0b6bcb}
header.top{background:#14324f;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.8rem;align-items:center}
header.top a{color:#fff;text-decoration:none;padding:.2rem .4rem;border-radius:4px}
header.top a.on{background:#2a5a86}
header.top .brand{font-weight:700;margin-right:1rem}
header.top .who{margin-left:auto;font-size:.85rem;display:flex;gap:.5rem;align-items:center}
main{max-width:1100px;margin:0 auto;padding:1rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:.8rem;margin:1rem 0}
.card{background:#fff;border-radius:8px;padding:.8rem 1rem;box-shadow:0 1px 2px #0002}
.card .label{font-size:.85rem;color:#5a6475}
.card .value{font-size:1.6rem;font-weight:700}
.card .value data{font:inherit}
nav.periods{display:flex;flex-wrap:wrap;gap:.6rem;align-items:center;margin:.5rem 0}
nav.periods a{padding:.2rem .6rem;border-radius:4px;background:#fff;text-decoration:none;box-shadow:0 1px 2px #0002}
nav.periods a.on{background:#14324f;color:#fff}
.scroll{overflow-x:auto}
table.heat td{text-align:center;min-width:3.2rem}
table.heat td.dark{color:#fff}
pre{white-space:pre-wrap;word-break:break-word;font-size:.85rem}
section{background:#fff;border-radius:8px;padding:1rem;margin:1rem 0;box-shadow:0 1px 2px #0002}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e6eb;font-size:.92rem;vertical-align:top}
label{display:block;font-weight:600;margin:.6rem 0 .2rem}
select{max-width:100%}
input[type=text],input[type=password],input[type=number],input[type=search],textarea{width:100%;padding:.45rem;border:1px solid #b8c0cc;border-radius:4px;font:inherit}
textarea{font-family:ui-monospace,monospace;font-size:.85rem;min-height:12rem}
button{background:#0b6bcb;color:#fff;border:0;border-radius:4px;padding:.5rem 1rem;font:inherit;cursor:pointer;margin-top:.6rem}
button.link{background:none;color:#fff;padding:0;margin:0;text-decoration:underline}
.error{color:#b00020;font-size:.9rem;margin:.2rem 0}
.ok{color:#1b7f3b}
.muted{color:#5a6475;font-size:.9rem}
.bar{height:10px;background:#e3e6eb;border-radius:5px;overflow:hidden}
.bar span{display:block;height:100%;background:#1b7f3b}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:1rem}
svg.chart{width:100%;height:auto;max-height:300px}
.login{max-width:420px;margin:3rem auto}
.lang a{margin-right:.5rem}
.phone{max-width:480px;margin:0 auto;padding:1rem}
.phone .balance{font-size:2.6rem;font-weight:800}
.voucher{border:2px dashed #14324f;border-radius:10px;padding:1rem;margin:1rem 0;text-align:center;background:#fff}
.voucher svg{width:70%;max-width:260px;height:auto}
.voucher .code{font-family:ui-monospace,monospace;font-size:1.2rem;letter-spacing:.08em}
.menu-items{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:.6rem}
.menu-group{border:1px solid #e3e6eb;border-radius:8px;padding:.4rem .8rem;margin:0}
.menu-group legend{font-weight:700;padding:0 .3rem}
label.menu-item{display:flex;justify-content:space-between;align-items:center;gap:.6rem;min-height:3.2rem;margin:0;border-bottom:1px solid #f0f2f5;font-weight:500}
label.menu-item input[type=number]{width:5.5rem;min-height:2.8rem;font-size:1.25rem;text-align:center}
ul.legend{list-style:none;padding:0;margin:.4rem 0 0;display:flex;flex-wrap:wrap;gap:.2rem 1rem;font-size:.85rem;color:#1d2330}
ul.legend li{white-space:nowrap}
section{overflow-x:auto}
p.simulated{background:#fff4d6;border:1px solid #e8c770;border-radius:6px;padding:.5rem .8rem;margin:0 0 1rem;overflow-wrap:anywhere}
header.top nav{display:flex;flex-wrap:wrap;gap:.2rem .3rem}
.cards{grid-template-columns:repeat(auto-fill,minmax(200px,1fr))}
.card .value{font-size:1.45rem;white-space:nowrap}
section.poster .qr svg{width:100%;height:auto}
section.poster a{overflow-wrap:anywhere}
"#;

/// What a page may load: nothing from elsewhere, no scripts, inline styles and SVG only;
/// forms post to this server; no framing (clickjacking); no referrer leaves the site
/// (a customer link's token stays private).
const SECURITY_HEADERS: [(&str, &str); 4] = [
    (
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
    ("x-content-type-options", "nosniff"),
];

/// Formats a time as `YYYY-MM-DD HH:MM` UTC.
pub(crate) fn when(at: OffsetDateTime) -> String {
    at.format(format_description!("[year]-[month]-[day] [hour]:[minute]"))
        .unwrap_or_default()
}

/// Formats a date as `YYYY-MM-DD`.
pub(crate) fn day(at: OffsetDateTime) -> String {
    at.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

/// A share as a percentage with one decimal.
pub(crate) fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// The name of a role in the interface's language.
pub(crate) fn role_name(t: &Text, role: Role) -> &'static str {
    match role {
        Role::Admin => t.role_admin,
        Role::Viewer => t.role_viewer,
        Role::Pos => t.role_pos,
        Role::Manager => t.role_manager,
    }
}

/// Which navigation entry a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Overview,
    Segments,
    Customers,
    Programme,
    Campaigns,
    Audit,
    Staff,
    Channels,
    Ratings,
    Referrals,
}

/// A whole HTML document.
pub(crate) fn document(lang: Lang, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (lang.text().app_name) }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
}

/// A dashboard page: navigation, the session's role, sign-out, then `content`.
pub(crate) fn dashboard(session: &Session, nav: Nav, title: &str, content: Markup) -> Markup {
    let t = session.lang.text();
    let entries = [
        (Nav::Overview, "/dashboard/overview", t.nav_overview),
        (Nav::Segments, "/dashboard/segments", t.nav_segments),
        (Nav::Customers, "/dashboard/customers", t.nav_customers),
        (Nav::Programme, "/dashboard/programme", t.nav_programme),
        (Nav::Campaigns, "/dashboard/campaigns", t.nav_campaigns),
        (
            Nav::Referrals,
            "/dashboard/referrals",
            match session.lang {
                crate::i18n::Lang::Vi => "Giới thiệu",
                crate::i18n::Lang::En => "Referrals",
            },
        ),
        (Nav::Audit, "/dashboard/audit", t.nav_audit),
        (
            Nav::Staff,
            "/dashboard/staff",
            crate::till::text(session.lang).nav_staff,
        ),
        (
            Nav::Ratings,
            "/dashboard/ratings",
            match session.lang {
                crate::i18n::Lang::Vi => "Đánh giá",
                crate::i18n::Lang::En => "Ratings",
            },
        ),
        (
            Nav::Channels,
            "/dashboard/channels",
            match session.lang {
                crate::i18n::Lang::Vi => "Kênh gửi",
                crate::i18n::Lang::En => "Channels",
            },
        ),
    ];
    // The access log and the till's staff are an admin's; a viewer is not shown them.
    // A manager sees the pages limited to its locations only.
    let entries = entries.into_iter().filter(|(entry, _, _)| {
        if !session.scope.is_brand() {
            return matches!(
                entry,
                Nav::Overview
                    | Nav::Segments
                    | Nav::Customers
                    | Nav::Campaigns
                    | Nav::Referrals
                    | Nav::Ratings
            );
        }
        !matches!(entry, Nav::Audit | Nav::Staff | Nav::Channels) || session.can_edit()
    });
    document(
        session.lang,
        title,
        html! {
            header.top {
                span.brand { (t.app_name) }
                nav {
                    @for (entry, href, label) in entries {
                        a href=(href) class=[(entry == nav).then_some("on")] { (label) }
                    }
                }
                div.who {
                    span.lang {
                        a href="?lang=vi" { "VI" }
                        a href="?lang=en" { "EN" }
                    }
                    span #role { (t.signed_in_as) " " (role_name(t, session.role)) }
                    form method="post" action="/dashboard/logout" {
                        input type="hidden" name="csrf" value=(session.csrf);
                        button.link type="submit" #sign-out { (t.sign_out) }
                    }
                }
            }
            main {
                @if session.simulated {
                    p.simulated role="note" #simulated { (simulated_note(session.lang)) }
                }
                h1 { (title) }
                (content)
            }
        },
    )
}

/// What the banner of a brand with simulated data says.
fn simulated_note(lang: crate::i18n::Lang) -> &'static str {
    match lang {
        crate::i18n::Lang::Vi => {
            "Dữ liệu mô phỏng: khách hàng và kết quả chiến dịch do mô hình phản hồi của bản demo tạo ra (docs/demo.md), không phải hành vi thật."
        }
        crate::i18n::Lang::En => {
            "Simulated data: the customers and the campaign results come from the demo's stated response model (docs/demo.md), not from real behaviour."
        }
    }
}

/// A 200 HTML answer; remembers a language chosen with `?lang=` in its cookie.
pub(crate) fn ok(req: &HttpRequest, markup: Markup) -> HttpResponse {
    let mut reply = HttpResponse::Ok();
    reply.content_type("text/html; charset=utf-8");
    reply.insert_header((header::CACHE_CONTROL, "no-store"));
    for pair in SECURITY_HEADERS {
        reply.insert_header(pair);
    }
    if let Some(lang) = query_lang(req) {
        reply.append_header((
            header::SET_COOKIE,
            cookies::set(LANG_COOKIE, lang.code(), 365 * 24 * 3600, false),
        ));
    }
    reply.body(markup.into_string())
}

/// A page that could not be shown: an HTML error page or a redirect.
#[derive(Debug)]
pub(crate) struct Fail {
    status: StatusCode,
    location: Option<String>,
    retry_after: Option<u64>,
    body: String,
}

impl Fail {
    /// A redirect (303) to `location`.
    pub(crate) fn redirect(location: &str) -> Fail {
        Fail {
            status: StatusCode::SEE_OTHER,
            location: Some(location.to_owned()),
            retry_after: None,
            body: String::new(),
        }
    }

    /// An error page with `status`, `title` and `message`.
    pub(crate) fn page(lang: Lang, status: StatusCode, title: &str, message: &str) -> Fail {
        let body = document(
            lang,
            title,
            html! {
                main.login {
                    h1 { (title) }
                    p #message { (message) }
                    p { a href="/dashboard/overview" { (lang.text().nav_overview) } }
                }
            },
        );
        Fail {
            status,
            location: None,
            retry_after: None,
            body: body.into_string(),
        }
    }

    /// 429 with `Retry-After: seconds`: the key or the address went over its rate limit.
    pub(crate) fn too_many(lang: Lang, seconds: u64) -> Fail {
        let t = lang.text();
        let mut fail = Fail::page(
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            t.too_many_title,
            t.too_many_body,
        );
        fail.retry_after = Some(seconds);
        fail
    }

    /// 404.
    pub(crate) fn not_found(lang: Lang) -> Fail {
        let t = lang.text();
        Fail::page(
            lang,
            StatusCode::NOT_FOUND,
            t.not_found_title,
            t.not_found_body,
        )
    }

    /// 403 with `message`.
    pub(crate) fn forbidden(lang: Lang, message: &str) -> Fail {
        Fail::page(
            lang,
            StatusCode::FORBIDDEN,
            lang.text().forbidden_title,
            message,
        )
    }

    /// 500 (or 503) for a failure of storage; the details go to the log.
    pub(crate) fn internal(lang: Lang, error: &dyn fmt::Display) -> Fail {
        tracing::error!(%error, "dashboard page failed");
        let t = lang.text();
        Fail::page(
            lang,
            StatusCode::INTERNAL_SERVER_ERROR,
            t.error_title,
            t.error_body,
        )
    }
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "page answered {}", self.status)
    }
}

impl ResponseError for Fail {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut reply = HttpResponse::build(self.status);
        reply.insert_header((header::CACHE_CONTROL, "no-store"));
        for pair in SECURITY_HEADERS {
            reply.insert_header(pair);
        }
        if let Some(location) = &self.location {
            reply.insert_header((header::LOCATION, location.clone()));
        }
        if let Some(seconds) = self.retry_after {
            reply.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        reply
            .content_type("text/html; charset=utf-8")
            .body(self.body.clone())
    }
}

/// A sum of money as people read it (`590.500 ₫`), its number and currency held on one
/// line by a no-break space: a figure never wraps its `₫` onto a line of its own.
pub(crate) fn money_text(money: &regulars_domain::Money) -> String {
    regulars_campaigns::render::format_money(money).replace(' ', "\u{a0}")
}

#[cfg(test)]
mod money_tests {
    use super::money_text;
    use regulars_domain::{Currency, Money};

    #[test]
    fn the_currency_stays_on_the_figure_s_line() {
        let vnd = Money::from_minor_units(1_234_500, Currency::VND);
        assert_eq!(money_text(&vnd), "1.234.500\u{a0}₫");
    }
}
