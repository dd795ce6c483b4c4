//! The campaign form: a new or a draft/paused campaign edited without JSON. Every input
//! is named by the JSON path of the document the API takes (see `fields`), so the form
//! builds exactly that document and saves it through the same use cases; a refusal's
//! path puts its message next to the input. "Preview" plans the document over the
//! brand's customers and saves nothing. The document itself stays available under
//! "Advanced (JSON)" and loads back into the form.

mod audience;
mod fields;
mod offer;
mod page;
mod preview;
#[cfg(test)]
mod tests;

use crate::WebState;
use crate::pages::campaigns::example_document;
use crate::pages::programme::{FieldErrors, Fields};
use crate::render::{Fail, Nav, dashboard, ok};
use crate::session::Session;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use fields::{RowMap, document_of, from_fields, to_fields};
use maud::{Markup, html};
use page::{Choices, tr};
use regulars_campaigns::Campaign;
use regulars_domain::CampaignId;
use regulars_segments::rfm::RfmSegment;
use regulars_service::{CampaignError, DraftPreview};
use serde_json::Value;

/// What the page shows besides the form's fields.
#[derive(Default)]
struct Shown {
    errors: FieldErrors,
    preview: Option<DraftPreview>,
    /// The JSON document as posted, with its problem.
    json: Option<(String, String)>,
}

async fn choices(state: &WebState, session: &Session) -> Result<Choices, Fail> {
    let brand = session.brand();
    let rewards = state
        .services
        .rewards(brand)
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    let custom = state
        .services
        .segments(brand)
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    let segments = RfmSegment::ALL
        .iter()
        .map(|s| s.name().to_owned())
        .chain(custom.into_iter().map(|v| v.segment.name))
        .map(|n| (n.clone(), n))
        .collect();
    let rewards = rewards
        .iter()
        .map(|r| {
            let off = if r.active { "" } else { " (inactive)" };
            (r.id.to_string(), format!("{}{off}", r.name))
        })
        .collect();
    Ok(Choices { segments, rewards })
}

async fn currency(state: &WebState, session: &Session) -> Result<String, Fail> {
    let brand = state
        .services
        .brand(session.brand())
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    Ok(brand.currency.code().to_owned())
}

/// The campaign page's link to the form.
pub(crate) fn edit_label(lang: crate::i18n::Lang) -> &'static str {
    tr(lang, "Edit", "Sửa")
}

fn action_of(id: Option<CampaignId>) -> String {
    match id {
        Some(id) => format!("/dashboard/campaigns/{id}/edit"),
        None => "/dashboard/campaigns".to_owned(),
    }
}

fn page(
    session: &Session,
    id: Option<CampaignId>,
    title: &str,
    fields: &Fields,
    choices: &Choices,
    shown: &Shown,
) -> Markup {
    let lang = session.lang;
    let t = lang.text();
    let action = action_of(id);
    let json = shown.json.as_ref().map_or_else(
        || {
            from_fields(fields)
                .0
                .ok()
                .map(|d| serde_json::to_string_pretty(&d).unwrap_or_default())
                .unwrap_or_default()
        },
        |(text, _)| text.clone(),
    );
    let body = html! {
        section {
            p.muted { (tr(lang, "Fill in the campaign; “Preview” shows whom it would reach and what it would cost now, without saving.", "Điền thông tin chiến dịch; “Xem trước” cho biết chiến dịch sẽ đến ai và tốn bao nhiêu ngay lúc này, không lưu gì.")) }
            (page::form(lang, &session.csrf, &action, fields, &shown.errors, choices))
        }
        @if let Some(p) = &shown.preview { (preview::section(lang, p)) }
        section {
            details #campaign-advanced open[shown.json.is_some()] {
                summary { (tr(lang, "Advanced (JSON)", "Nâng cao (JSON)")) }
                p.muted { (t.campaign_document_help) }
                form method="post" action=(action) #campaign-form {
                    input type="hidden" name="csrf" value=(session.csrf);
                    label for="campaign-document" { (t.campaign_document) }
                    textarea #campaign-document name="document" rows="24" { (json) }
                    @if let Some((_, e)) = &shown.json { p.error #document-error { (e) } }
                    button #load-campaign type="submit" name="action" value="load" { (tr(lang, "Show in the form", "Hiện trong biểu mẫu")) }
                    " "
                    button #create-campaign type="submit" name="action" value="save" { (if id.is_some() { t.save } else { t.create_campaign }) }
                }
            }
        }
    };
    dashboard(session, Nav::Campaigns, title, body)
}

/// `GET /dashboard/campaigns/new`: the form, prefilled with a win-back example.
pub(crate) async fn new(
    req: HttpRequest,
    state: web::Data<WebState>,
) -> Result<HttpResponse, Fail> {
    let session = Session::admin(&req, &state).await?;
    let fail = |e: regulars_service::ManageError| Fail::internal(session.lang, &e);
    let brand = state.services.brand(session.brand()).await.map_err(fail)?;
    let rewards = state
        .services
        .rewards(session.brand())
        .await
        .map_err(fail)?;
    let doc = example_document(&rewards, brand.currency);
    let fields = to_fields(&doc, brand.currency.code());
    let choices = choices(&state, &session).await?;
    let t = session.lang.text();
    Ok(ok(
        &req,
        page(
            &session,
            None,
            t.new_campaign,
            &fields,
            &choices,
            &Shown::default(),
        ),
    ))
}

fn parse_id(session: &Session, raw: &str) -> Result<CampaignId, Fail> {
    raw.parse().map_err(|_| Fail::not_found(session.lang))
}

fn campaign_fail(session: &Session, error: CampaignError) -> Fail {
    match error {
        CampaignError::UnknownCampaign(_) | CampaignError::UnknownBrand(_) => {
            Fail::not_found(session.lang)
        }
        other => Fail::internal(session.lang, &other),
    }
}

/// `GET /dashboard/campaigns/{id}/edit`: the form showing a campaign's document.
pub(crate) async fn edit(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Fail> {
    let session = Session::admin(&req, &state).await?;
    let id = parse_id(&session, &path)?;
    let record = state
        .services
        .campaign(session.brand(), id)
        .await
        .map_err(|e| campaign_fail(&session, e))?;
    let campaign =
        Campaign::from_json(&record.definition).map_err(|e| Fail::internal(session.lang, &e))?;
    let fields = to_fields(&document_of(&campaign), campaign.currency.code());
    let choices = choices(&state, &session).await?;
    Ok(ok(
        &req,
        page(
            &session,
            Some(id),
            &record.name,
            &fields,
            &choices,
            &Shown::default(),
        ),
    ))
}

/// `POST /dashboard/campaigns`: the form (or the JSON document) of a new campaign.
pub(crate) async fn create(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, Fail> {
    submit(&req, &state, None, Fields(form.into_inner())).await
}

/// `POST /dashboard/campaigns/{id}/edit`: the form (or the JSON document) of a campaign.
pub(crate) async fn update(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    let id = parse_id(&session, &path)?;
    submit(&req, &state, Some(id), Fields(form.into_inner())).await
}

/// The document posted (the form's fields, or the JSON text), the fields it is shown in
/// and where the document's rows came from; its problems are noted in `shown`.
fn read(
    posted: &Fields,
    json: bool,
    currency: &str,
    shown: &mut Shown,
) -> (Option<Value>, Fields, RowMap) {
    if json {
        let text = posted.get("document").to_owned();
        match serde_json::from_str::<Value>(&text) {
            Ok(doc) => {
                let fields = to_fields(&doc, currency);
                let rows = from_fields(&fields).1;
                (Some(doc), fields, rows)
            }
            Err(e) => {
                shown.json = Some((text, e.to_string()));
                (None, to_fields(&Value::Null, currency), RowMap::default())
            }
        }
    } else {
        let (doc, rows) = from_fields(posted);
        match doc {
            Ok(doc) => (Some(doc), posted.clone(), rows),
            Err(errors) => {
                shown.errors = errors;
                (None, posted.clone(), rows)
            }
        }
    }
}

/// Previews, loads or saves what was posted; saving opens the campaign, a refusal shows
/// the form again with each problem next to its input (422).
async fn submit(
    req: &HttpRequest,
    state: &WebState,
    id: Option<CampaignId>,
    posted: Fields,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(req, state).await?;
    session.authorise_change(state, posted.get("csrf"))?;
    let brand = session.brand();
    let json = posted.0.iter().any(|(name, _)| name == "document");
    let action = posted.get("action").to_owned();
    let currency = currency(state, &session).await?;
    let mut shown = Shown::default();
    let (document, fields, rows) = read(&posted, json, &currency, &mut shown);
    if let Some(doc) = &document {
        let outcome = match action.as_str() {
            "load" if json => Ok(None),
            "preview" => {
                // A preview plans the whole customer base: one per brand at a time.
                let Some(_slot) = state.services.exclusive(brand, "campaign preview") else {
                    return Err(Fail::too_many(session.lang, 1));
                };
                state
                    .services
                    .preview_campaign_document(brand, id, doc)
                    .await
                    .map(|p| {
                        shown.preview = Some(p);
                        None
                    })
            }
            _ => match id {
                Some(id) => state
                    .services
                    .update_campaign(brand, id, doc)
                    .await
                    .map(Some),
                None => state.services.create_campaign(brand, doc).await.map(Some),
            },
        };
        match outcome {
            Ok(Some(record)) => {
                return Ok(HttpResponse::SeeOther()
                    .insert_header((
                        header::LOCATION,
                        format!("/dashboard/campaigns/{}", record.id),
                    ))
                    .finish());
            }
            Ok(None) => {}
            Err(CampaignError::Invalid { path, message }) => {
                let text = if path.is_empty() {
                    message.clone()
                } else {
                    format!("{path}: {message}")
                };
                if json {
                    shown.json = Some((posted.get("document").to_owned(), text));
                } else {
                    let name = rows.field_of(&fields, &path);
                    shown
                        .errors
                        .insert(name, if path.is_empty() { message } else { text });
                }
            }
            Err(CampaignError::WrongStatus { action, .. }) => {
                shown.errors.insert(String::new(), action.to_owned());
            }
            Err(other) => return Err(campaign_fail(&session, other)),
        }
    }
    let refused = !shown.errors.is_empty() || shown.json.is_some();
    let choices = choices(state, &session).await?;
    let t = session.lang.text();
    let title = if id.is_some() {
        t.campaign_document
    } else {
        t.new_campaign
    };
    let mut reply = ok(req, page(&session, id, title, &fields, &choices, &shown));
    if refused && action != "load" {
        *reply.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(reply)
}
