//! The access audit in the dashboard: recording what a session was shown of customers'
//! personal data, and the admin's page of the brand's access log.

use crate::WebState;
use crate::i18n::Text;
use crate::render::{Fail, Nav, dashboard, ok};
use crate::session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_domain::{ApiKeyId, CustomerId};
use regulars_ports::{AccessQuery, AccessRecord, PersonalData};
use regulars_service::Reader;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// Records of the log per page.
const PAGE: u64 = 100;

/// Records that the session was shown `fields` of `customers` on the page `route`; the
/// page fails (and shows nothing) when the record cannot be kept (the buffer of
/// unwritten records is full).
pub(crate) async fn record(
    state: &WebState,
    session: &Session,
    route: &str,
    fields: &[PersonalData],
    customers: &[CustomerId],
) -> Result<(), Fail> {
    state
        .services
        .record_access(
            session.brand(),
            Reader::dashboard(session.claims.key),
            route,
            fields,
            customers,
        )
        .await
        .map_err(|e| Fail::internal(session.lang, &e))
}

/// The page's filters.
#[derive(Debug, Deserialize)]
pub(crate) struct LogQuery {
    since: Option<String>,
    key_id: Option<String>,
    customer_id: Option<String>,
    after: Option<String>,
}

fn uuid_of(raw: Option<&String>) -> Option<Uuid> {
    raw.map(|r| r.trim())
        .filter(|r| !r.is_empty())?
        .parse()
        .ok()
}

/// `GET /dashboard/audit`: the brand's access log, oldest first (admin only).
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<WebState>,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    let t = session.lang.text();
    if !session.can_edit() {
        return Err(Fail::forbidden(session.lang, t.audit_admin_only));
    }
    let since_text = query.since.clone().unwrap_or_default();
    let since = OffsetDateTime::parse(since_text.trim(), &Rfc3339).ok();
    let key = uuid_of(query.key_id.as_ref());
    let customer = uuid_of(query.customer_id.as_ref());
    let filter = AccessQuery {
        since,
        until: None,
        key: key.map(ApiKeyId::from_uuid),
        customer: customer.map(CustomerId::from_uuid),
        after: query.after.as_deref().and_then(after_cursor),
        limit: PAGE,
    };
    let records = state
        .services
        .access_log(session.brand(), &filter)
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    let next = (records.len() as u64 == PAGE)
        .then(|| records.last())
        .flatten()
        .map(|r| next_link(r, &filter, key, customer));
    let body = html! {
        p.muted { (t.audit_intro) }
        form method="get" action="/dashboard/audit" #audit-filter {
            label for="since" { (t.audit_since) }
            input #since type="text" name="since" value=(since_text);
            label for="key_id" { (t.audit_key) }
            input #key_id type="text" name="key_id" value=(key.map(|k| k.to_string()).unwrap_or_default());
            label for="customer_id" { (t.audit_customers) }
            input #customer_id type="text" name="customer_id" value=(customer.map(|c| c.to_string()).unwrap_or_default());
            button type="submit" { (t.audit_filter) }
        }
        (log_table(t, &records))
        @if let Some(next) = next { p { a #next-page href=(next) { (t.next_page) } } }
    };
    Ok(ok(
        &req,
        dashboard(&session, Nav::Audit, t.audit_title, body),
    ))
}

/// Reads `?after=`, the microseconds and id of the last record of the previous page.
fn after_cursor(raw: &str) -> Option<(OffsetDateTime, Uuid)> {
    let (micros, id) = raw.split_once('_')?;
    let at =
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros.parse::<i64>().ok()?) * 1000)
            .ok()?;
    Some((at, id.parse().ok()?))
}

/// The link to the page after `last`, keeping the page's filters.
fn next_link(
    last: &AccessRecord,
    filter: &AccessQuery,
    key: Option<Uuid>,
    customer: Option<Uuid>,
) -> String {
    let mut url = format!(
        "/dashboard/audit?after={}_{}",
        last.at.unix_timestamp_nanos() / 1000,
        last.id
    );
    for (name, value) in [("key_id", key), ("customer_id", customer)] {
        if let Some(value) = value {
            url.push_str(&format!("&{name}={value}"));
        }
    }
    if let Some(since) = filter.since.and_then(|s| s.format(&Rfc3339).ok()) {
        url.push_str("&since=");
        url.push_str(&since.replace('+', "%2B").replace(':', "%3A"));
    }
    url
}

/// The records of a page, or a note that there are none.
fn log_table(t: &Text, records: &[AccessRecord]) -> Markup {
    html! {
        @if records.is_empty() { p.muted #no-reads { (t.audit_empty) } }
        @else {
            div.scroll {
                table #access-log {
                    tr {
                        th { (t.audit_when) } th { (t.audit_key) } th { (t.audit_channel) }
                        th { (t.audit_route) } th { (t.audit_fields) } th { (t.audit_customers) }
                    }
                    @for r in records {
                        tr.access {
                            td { (r.at.format(&Rfc3339).unwrap_or_default()) }
                            td.key { (r.key_id.map(|k| k.to_string()).unwrap_or_else(|| "—".to_owned())) }
                            td { (r.channel.as_str()) }
                            td { code { (r.route) } }
                            td { (r.fields.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")) }
                            td.customers {
                                @for c in &r.customers {
                                    a href=(format!("/dashboard/customers/{c}")) { (c) } " "
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
