//! `/u/{token}`: the customer's opt-out page, opened from the link at the end of a
//! promotional message, without signing in. It shows whose messages they are and offers
//! to stop them on the channel the message came by or on every channel; a `POST` does
//! it. A `POST` whose body is `List-Unsubscribe=One-Click` (RFC 8058, sent by mail
//! programs from an email's `List-Unsubscribe-Post` header) opts out of the link's
//! channel with no page at all. The use case records the change as consent data with
//! source `unsubscribe_link`; nothing here decides anything.

use crate::WebState;
use crate::i18n::Lang;
use crate::render::{Fail, document, ok};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_domain::Channel;
use regulars_service::{OptOutError, OptOutView};

/// The page's words.
struct Words {
    title: &'static str,
    intro: &'static str,
    stop_one: &'static str,
    stop_all: &'static str,
    stopped: &'static str,
    still: &'static str,
    done: &'static str,
    invalid: &'static str,
    bad_choice: &'static str,
}

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Vi => &Words {
            title: "Từ chối nhận quảng cáo",
            intro: "Tin nhắn quảng cáo từ",
            stop_one: "Ngừng nhận quảng cáo qua",
            stop_all: "Ngừng nhận mọi quảng cáo",
            stopped: "Bạn không còn nhận quảng cáo qua",
            still: "Bạn vẫn nhận quảng cáo qua",
            done: "Đã ghi nhận. Tin nhắn giao dịch (hoá đơn, điểm) vẫn được gửi.",
            invalid: "Liên kết không hợp lệ.",
            bad_choice: "Lựa chọn không hợp lệ (channel: zalo, sms, email hoặc all).",
        },
        Lang::En => &Words {
            title: "Stop promotional messages",
            intro: "Promotional messages from",
            stop_one: "Stop promotional messages by",
            stop_all: "Stop all promotional messages",
            stopped: "You no longer get promotional messages by",
            still: "You still get promotional messages by",
            done: "Done. Receipts and points notices still come.",
            invalid: "This link is not valid.",
            bad_choice: "Not a valid choice (channel: zalo, sms, email or all).",
        },
    }
}

fn channel_code(channel: Channel) -> &'static str {
    match channel {
        Channel::Zalo => "zalo",
        Channel::Sms => "sms",
        Channel::Email => "email",
    }
}

fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Zalo => "Zalo",
        Channel::Sms => "SMS",
        Channel::Email => "Email",
    }
}

/// What a `POST` asks.
#[derive(Debug, PartialEq, Eq)]
enum Choice {
    /// RFC 8058 one-click: the link's own channel, no page.
    OneClick,
    /// One channel, or every channel (`None`), from the page's form.
    Form(Option<Channel>),
}

/// Reads a `POST` body: `List-Unsubscribe=One-Click` (URL-encoded or as a multipart
/// field), else `channel=zalo|sms|email|all`. `Err` names what is wrong.
fn choice(body: &[u8]) -> Result<Choice, ()> {
    let text = String::from_utf8_lossy(body);
    let multipart_one_click =
        text.contains("name=\"List-Unsubscribe\"") && text.contains("One-Click");
    let mut channel = None;
    for pair in text.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = value.trim().replace('+', " ");
        match name.trim() {
            "List-Unsubscribe" if value == "One-Click" => return Ok(Choice::OneClick),
            "channel" => channel = Some(value),
            _ => {}
        }
    }
    if multipart_one_click {
        return Ok(Choice::OneClick);
    }
    match channel.as_deref() {
        Some("all") => Ok(Choice::Form(None)),
        Some("zalo") => Ok(Choice::Form(Some(Channel::Zalo))),
        Some("sms") => Ok(Choice::Form(Some(Channel::Sms))),
        Some("email") => Ok(Choice::Form(Some(Channel::Email))),
        _ => Err(()),
    }
}

fn page(lang: Lang, token: &str, view: &OptOutView, done: bool) -> Markup {
    let w = words(lang);
    let channels = [Channel::Zalo, Channel::Sms, Channel::Email];
    html! {
        main.phone {
            h1 { (w.title) }
            p { (w.intro) " " strong #brand { (view.brand_name) } }
            @if done { p #done { (w.done) } }
            ul #state {
                @for ch in channels {
                    @if view.consent.opted_out_of(ch) {
                        li data-channel=(channel_code(ch)) data-state="withdrawn" { (w.stopped) " " (channel_name(ch)) }
                    } @else if view.consent.allows(ch) {
                        li data-channel=(channel_code(ch)) data-state="granted" { (w.still) " " (channel_name(ch)) }
                    }
                }
            }
            @if let Some(ch) = view.channel {
                @if !view.consent.opted_out_of(ch) {
                    form method="post" action={ "/u/" (token) } {
                        input type="hidden" name="channel" value=(channel_code(ch));
                        button #stop-one type="submit" { (w.stop_one) " " (channel_name(ch)) }
                    }
                }
            }
            @if !view.consent.opted_out() {
                form method="post" action={ "/u/" (token) } {
                    input type="hidden" name="channel" value="all";
                    button #stop-all type="submit" { (w.stop_all) }
                }
            }
            p.lang.muted {
                a href="?lang=vi" { "Tiếng Việt" }
                a href="?lang=en" { "English" }
            }
        }
    }
}

fn failed(lang: Lang, error: &OptOutError) -> Fail {
    match error {
        OptOutError::UnknownLink => {
            let w = words(lang);
            Fail::page(lang, StatusCode::NOT_FOUND, w.title, w.invalid)
        }
        OptOutError::Store(e) => Fail::internal(lang, e),
    }
}

/// `GET /u/{token}`: what the link would stop, and the buttons to stop it. Changes
/// nothing (mail scanners open links).
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Fail> {
    let lang = Lang::of(&req);
    let view = state
        .services
        .opt_out_view(&path)
        .await
        .map_err(|e| failed(lang, &e))?;
    Ok(ok(
        &req,
        document(lang, words(lang).title, page(lang, &path, &view, false)),
    ))
}

/// `POST /u/{token}`: opts out, then shows the page again (or, for a one-click `POST`,
/// answers 200 with the same page, which mail programs ignore).
pub(crate) async fn stop(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Fail> {
    let lang = Lang::of(&req);
    let w = words(lang);
    let claims = state
        .services
        .open_opt_out_token(&path)
        .ok_or_else(|| failed(lang, &OptOutError::UnknownLink))?;
    let channel = match choice(&body) {
        Ok(Choice::OneClick) => claims.channel,
        Ok(Choice::Form(channel)) => channel,
        Err(()) => {
            return Err(Fail::page(
                lang,
                StatusCode::BAD_REQUEST,
                w.title,
                w.bad_choice,
            ));
        }
    };
    let view = state
        .services
        .opt_out(&path, channel)
        .await
        .map_err(|e| failed(lang, &e))?;
    Ok(ok(
        &req,
        document(lang, w.title, page(lang, &path, &view, true)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_read_as_rfc_8058_or_the_form() {
        assert_eq!(choice(b"List-Unsubscribe=One-Click"), Ok(Choice::OneClick));
        assert_eq!(
            choice(b"--b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b--"),
            Ok(Choice::OneClick)
        );
        assert_eq!(choice(b"channel=sms"), Ok(Choice::Form(Some(Channel::Sms))));
        assert_eq!(choice(b"channel=all"), Ok(Choice::Form(None)));
        assert_eq!(choice(b"channel=fax"), Err(()));
        assert_eq!(choice(b""), Err(()));
    }
}
