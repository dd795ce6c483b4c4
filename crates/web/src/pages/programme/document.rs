//! What the programme's document sections (tiers, stamp cards) share: each has a form
//! and its JSON under "Advanced", both posting to one route, and answers a save the
//! same way.

use super::rules_form::{FieldErrors, Fields};
use super::{Shown as Page, render, reply};
use crate::WebState;
use crate::render::Fail;
use crate::session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};

/// What a document section shows again after a refusal.
#[derive(Debug, Default)]
pub(crate) struct Shown {
    /// The form as posted, with its problems by field.
    pub(crate) form: Option<(Fields, FieldErrors)>,
    /// The JSON document as posted, with its problem.
    pub(crate) json: Option<(String, String)>,
}

/// Answers a section's save: the page saying "saved", or (422) the page with the
/// section as posted — the JSON with its first problem when `json`, else the form with
/// its problems by field — placed in the page by `place`.
pub(crate) async fn answer(
    req: &HttpRequest,
    state: &WebState,
    session: &Session,
    fields: Fields,
    json: bool,
    outcome: Result<(), FieldErrors>,
    place: impl FnOnce(Shown) -> Page,
) -> Result<HttpResponse, Fail> {
    let (shown, status) = match outcome {
        Ok(()) => (
            Page {
                saved: true,
                ..Page::default()
            },
            StatusCode::OK,
        ),
        Err(errors) => {
            let section = if json {
                let text = errors.values().next().cloned().unwrap_or_default();
                Shown {
                    json: Some((fields.get("document").to_owned(), text)),
                    form: None,
                }
            } else {
                Shown {
                    form: Some((fields, errors)),
                    json: None,
                }
            };
            (place(section), StatusCode::UNPROCESSABLE_ENTITY)
        }
    };
    let page = render(state, session, shown).await?;
    Ok(reply(req, page, status))
}
