//! `GET /dashboard/segments/export.csv?segment=<name>`: the members of a segment as a
//! spreadsheet (admins only), written a page at a time as it is read so memory does not
//! grow with the brand, each page recorded in the access log as an export. The segment
//! page carries the form that asks for it.

use crate::WebState;
use crate::i18n::Lang;
use crate::pages::audit;
use crate::render::Fail;
use crate::session::Session;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt as _;
use maud::{Markup, html};
use regulars_domain::{BrandId, CallingCode, CustomerId};
use regulars_ports::PersonalData;
use regulars_service::{
    MAX_EXPORT_PAGE, MembersPage, SEGMENT_CSV_HEADER, SegmentError, SegmentView, segment_csv_line,
};
use serde::Deserialize;

/// The route as the access log names it.
pub(crate) const ROUTE: &str = "GET /dashboard/segments/export.csv";

/// What the export shows of each member.
const PARTS: [PersonalData; 4] = [
    PersonalData::Export,
    PersonalData::Profile,
    PersonalData::Contact,
    PersonalData::Consent,
];

/// The named segments, as the scoring run names them.
const NAMED: [&str; 11] = [
    "Champions",
    "Loyal",
    "Potential loyalist",
    "New customers",
    "Promising",
    "Need attention",
    "About to sleep",
    "At risk",
    "Can't lose them",
    "Hibernating",
    "Lost",
];

/// The query: `?segment=<name>`.
#[derive(Debug, Deserialize)]
pub(crate) struct ExportQuery {
    segment: Option<String>,
}

fn words(lang: Lang) -> (&'static str, &'static str) {
    match lang {
        Lang::En => ("Export a segment's members (CSV)", "Download"),
        Lang::Vi => ("Xuất danh sách thành viên của phân khúc (CSV)", "Tải xuống"),
    }
}

/// The export form of the segments page: every named and custom segment.
pub(crate) fn form(lang: Lang, custom: &[SegmentView]) -> Markup {
    let (heading, download) = words(lang);
    html! {
        section #segment-export {
            h2 { (heading) }
            form method="get" action="/dashboard/segments/export.csv" {
                select #export-segment name="segment" {
                    @for name in NAMED { option value=(name) { (name) } }
                    @for s in custom { option value=(s.segment.name) { (s.segment.name) } }
                }
                " "
                button #export-download type="submit" { (download) }
            }
        }
    }
}

/// Where the stream is.
struct Walk {
    state: web::Data<WebState>,
    session: Session,
    brand: BrandId,
    code: CallingCode,
    segment: String,
    next: Option<CustomerId>,
}

impl Walk {
    /// The CSV of a page, its members recorded in the access log first.
    async fn write(&self, page: &MembersPage) -> Result<String, Fail> {
        let ids: Vec<CustomerId> = page.members.iter().map(|m| m.customer.id).collect();
        audit::record(&self.state, &self.session, ROUTE, &PARTS, &ids).await?;
        let mut text = String::new();
        for member in &page.members {
            text.push_str(&segment_csv_line(member, self.code));
        }
        Ok(text)
    }
}

/// `GET /dashboard/segments/export.csv` (admins).
pub(crate) async fn csv(
    req: HttpRequest,
    state: web::Data<WebState>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    let lang = session.lang;
    if !session.sees_contact() {
        return Err(Fail::forbidden(lang, lang.text().export_admin_only));
    }
    let segment = query.segment.clone().unwrap_or_default();
    let brand = session.brand();
    let found = state
        .services
        .brand(brand)
        .await
        .map_err(|e| Fail::internal(lang, &e))?;
    // The first page is read before anything is sent, so a segment that does not exist
    // is a plain 404 page rather than a broken download.
    let first = match state
        .services
        .segment_members(brand, &segment, None, MAX_EXPORT_PAGE)
        .await
    {
        Ok(page) => page,
        Err(SegmentError::NoSuchSegment(_)) => return Err(Fail::not_found(lang)),
        Err(e) => return Err(Fail::internal(lang, &e)),
    };
    let walk = Walk {
        state: state.clone(),
        session,
        brand,
        code: found.calling_code,
        segment,
        next: first.next,
    };
    let mut head = String::from(SEGMENT_CSV_HEADER);
    head.push_str(&walk.write(&first).await?);
    let rest = futures_util::stream::unfold(Some(walk), |walk| async move {
        let mut walk = walk?;
        let after = walk.next?;
        let page = walk
            .state
            .services
            .segment_members(walk.brand, &walk.segment, Some(after), MAX_EXPORT_PAGE)
            .await;
        let chunk = match page {
            Ok(page) => {
                walk.next = page.next;
                walk.write(&page).await.map_err(|_| "the access log")
            }
            Err(_) => Err("a page of the segment"),
        };
        match chunk {
            Ok(text) => Some((Ok::<_, actix_web::Error>(Bytes::from(text)), Some(walk))),
            // Cut the download short rather than send a partial file as if whole.
            Err(what) => Some((
                Err(actix_web::error::ErrorInternalServerError(format!(
                    "could not read {what}"
                ))),
                None,
            )),
        }
    });
    let body =
        futures_util::stream::once(async move { Ok::<_, actix_web::Error>(Bytes::from(head)) })
            .chain(rest);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"segment.csv\"",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("x-content-type-options", "nosniff"))
        .streaming(body))
}
