//! The stamp cards section of the programme page: the cards form and the card list as
//! an "advanced" JSON view, both posting to `/dashboard/programme/stamp-cards` and saved
//! through the same use case as the API (the whole list at once).

use super::rules_form::{FieldErrors, Fields};
use super::stamps_form::{self, Choices};
use super::{Shown as Page, parse_document};
use crate::WebState;
use crate::i18n::Lang;
use crate::render::Fail;
use crate::session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_loyalty::stamps::StampCard;
use regulars_service::StampCardsError;

pub(crate) use super::document::Shown;

/// The section: the form for editors (the JSON under "Advanced"), the list for others.
pub(crate) fn section(
    session: &Session,
    saved: &[StampCard],
    choices: &Choices,
    shown: Shown,
) -> Markup {
    let l = |en: &'static str, vi: &'static str| match session.lang {
        Lang::En => en,
        Lang::Vi => vi,
    };
    let t = session.lang.text();
    let json = shown.json.as_ref().map_or_else(
        || serde_json::to_string_pretty(saved).unwrap_or_default(),
        |(text, _)| text.clone(),
    );
    let (fields, errors) = shown
        .form
        .unwrap_or_else(|| (stamps_form::to_fields(saved), FieldErrors::new()));
    html! {
        section #stamps-section {
            h2 { (l("Stamp cards", "Thẻ tích dấu")) }
            p.muted { (l(
                "The punch card customers know: \"buy 9, the 10th is free\". Each qualifying item (or visit) earns a stamp; a full card becomes a voucher for the reward it gives; a refund takes its stamps back.",
                "Thẻ đục lỗ khách vẫn quen: \"mua 9 tặng 1\". Mỗi món đủ điều kiện (hoặc mỗi lần ghé) được một dấu; đầy thẻ thành voucher phần thưởng của thẻ; hoàn đơn thì trừ lại dấu."
            )) }
            @if session.can_edit() {
                @if choices.rewards.is_empty() {
                    p.muted #stamps-need-reward { (l(
                        "Add the reward a full card gives (below, under Rewards) first.",
                        "Hãy thêm phần thưởng của thẻ đầy (bên dưới, mục Phần thưởng) trước."
                    )) }
                } @else {
                    (stamps_form::form(session, choices, &fields, &errors))
                }
                details #stamps-advanced open[shown.json.is_some()] {
                    summary { (l("Advanced (JSON)", "Nâng cao (JSON)")) }
                    form method="post" action="/dashboard/programme/stamp-cards" #stamps-json-form {
                        input type="hidden" name="csrf" value=(session.csrf);
                        textarea #stamp-cards name="document" { (json) }
                        @if let Some((_, e)) = &shown.json { p.error #stamps-json-error { (e) } }
                        button type="submit" #save-stamps-json { (t.save) }
                    }
                }
            } @else {
                @if saved.is_empty() { p.muted { (t.none) } }
                @for card in saved {
                    p { strong { (card.name) } " — " (card.stamps_needed) " " (l("stamps", "dấu")) }
                }
            }
        }
    }
}

/// The message for a refused save, under the form field it names; `rows[n]` is the
/// form row of the `n`th card saved.
fn refusal(error: &StampCardsError, rows: &[usize]) -> Option<(String, String)> {
    let row = |index: usize| rows.get(index).copied().unwrap_or(index);
    match error {
        StampCardsError::Invalid(e) => {
            let name = e.index.map_or_else(
                || e.field.to_owned(),
                |i| stamps_form::field_name(row(i), e.field),
            );
            Some((name, e.reason.clone()))
        }
        StampCardsError::UnknownReward { index, .. } => Some((
            stamps_form::field_name(row(*index), "reward"),
            error.to_string(),
        )),
        StampCardsError::UnknownBrand(_) | StampCardsError::Store(_) => None,
    }
}

/// `POST /dashboard/programme/stamp-cards`: the cards form, or the JSON list (a
/// `document` field; an empty one ends every card).
pub(crate) async fn save_stamp_cards(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    let fields = Fields(form.into_inner());
    session.authorise_change(&state, fields.get("csrf"))?;
    let brand = session.brand();
    let currency = state
        .services
        .brand(brand)
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?
        .currency;
    let json = fields.0.iter().any(|(name, _)| name == "document");
    let parsed = if json {
        let text = fields.get("document").trim();
        if text.is_empty() {
            Ok((Vec::new(), Vec::new()))
        } else {
            parse_document::<Vec<StampCard>>(text)
                .map(|cards| {
                    let rows = (0..cards.len()).collect();
                    (cards, rows)
                })
                .map_err(|e| FieldErrors::from([(String::new(), e)]))
        }
    } else {
        stamps_form::from_fields(&fields, currency)
    };
    let outcome = match parsed {
        Err(errors) => Err(errors),
        Ok((cards, rows)) => match state.services.put_stamp_cards(brand, cards).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let (name, text) =
                    refusal(&e, &rows).ok_or_else(|| Fail::internal(session.lang, &e))?;
                let name = if json { String::new() } else { name.clone() };
                let text = if json { e.to_string() } else { text };
                Err(FieldErrors::from([(name, text)]))
            }
        },
    };
    super::document::answer(&req, &state, &session, fields, json, outcome, |stamps| {
        Page {
            stamps,
            ..Page::default()
        }
    })
    .await
}
