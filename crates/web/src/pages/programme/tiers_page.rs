//! The tiers section of the programme page: the tiers form and the tier document as an
//! "advanced" view, both posting to `/dashboard/programme/tiers` and saved through the
//! same use case as the API.

use super::rules_form::{FieldErrors, Fields};
use super::{Shown as Page, message, parse_document, tiers_form};
use crate::WebState;
use crate::i18n::Lang;
use crate::render::Fail;
use crate::session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_domain::Currency;
use regulars_loyalty::tiers::TierProgram;

pub(crate) use super::document::Shown;

/// The section: the form for editors (the JSON under "Advanced"), the JSON for others.
pub(crate) fn section(
    session: &Session,
    saved: Option<&TierProgram>,
    currency: Currency,
    shown: Shown,
) -> Markup {
    let t = session.lang.text();
    let json = shown.json.as_ref().map_or_else(
        || {
            saved
                .and_then(|p| serde_json::to_string_pretty(p).ok())
                .unwrap_or_default()
        },
        |(text, _)| text.clone(),
    );
    let (fields, errors) = shown
        .form
        .unwrap_or_else(|| (tiers_form::to_fields(saved, currency), FieldErrors::new()));
    let advanced = match session.lang {
        Lang::En => "Advanced (JSON)",
        Lang::Vi => "Nâng cao (JSON)",
    };
    html! {
        section #tiers-section {
            h2 { (t.tiers) }
            p.muted { (t.tiers_help) }
            @if session.can_edit() {
                (tiers_form::form(session, &fields, &errors))
                details #tiers-advanced open[shown.json.is_some()] {
                    summary { (advanced) }
                    form method="post" action="/dashboard/programme/tiers" #tiers-json-form {
                        input type="hidden" name="csrf" value=(session.csrf);
                        textarea #tiers name="document" { (json) }
                        @if let Some((_, e)) = &shown.json { p.error #tiers-json-error { (e) } }
                        button type="submit" #save-tiers-json { (t.save) }
                    }
                }
            } @else {
                pre #tiers { (json) }
            }
        }
    }
}

/// `POST /dashboard/programme/tiers`: the tiers form (no tier rows removes the tiers),
/// or the JSON document (a `document` field; an empty one removes the tiers).
pub(crate) async fn save_tiers(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    let fields = Fields(form.into_inner());
    session.authorise_change(&state, fields.get("csrf"))?;
    let json = fields.0.iter().any(|(name, _)| name == "document");
    let parsed = if json {
        let text = fields.get("document").trim();
        if text.is_empty() {
            Ok(None)
        } else {
            parse_document::<TierProgram>(text)
                .map(Some)
                .map_err(|e| FieldErrors::from([(String::new(), e)]))
        }
    } else {
        tiers_form::from_fields(&fields)
    };
    let outcome = match parsed {
        Err(errors) => Err(errors),
        Ok(tiers) => match state.services.set_tiers(session.brand(), tiers).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let text = message(&e).ok_or_else(|| Fail::internal(session.lang, &e))?;
                Err(FieldErrors::from([(String::new(), text)]))
            }
        },
    };
    super::document::answer(&req, &state, &session, fields, json, outcome, |tiers| {
        Page {
            tiers,
            ..Page::default()
        }
    })
    .await
}
