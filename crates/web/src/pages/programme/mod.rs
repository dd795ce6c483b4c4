//! The programme: earning rules, tiers and the reward catalogue, editable by admins.
//! The earning rules have a form with a preview (`rules_page`) and their JSON document
//! as an "advanced" view; documents are read exactly as the API reads them (the same
//! types, the JSON path of the first problem named) and saved through the same use
//! cases, whose validation errors are shown next to the field.

mod document;
mod preview;
mod rewards_form;
mod rules_form;
mod rules_page;
mod stamps_form;
#[cfg(test)]
mod stamps_form_tests;
mod stamps_page;
mod tiers_form;
mod tiers_page;

pub(crate) use rewards_form::create_reward;
pub(crate) use rules_form::{FieldErrors, Fields};
pub(crate) use stamps_page::save_stamp_cards;
pub(crate) use tiers_page::save_tiers;

use crate::WebState;
use crate::i18n::Text;
use crate::render::{Fail, Nav, dashboard, ok};
use crate::session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_domain::{Points, RewardId};
use regulars_loyalty::rewards::Reward;
use regulars_loyalty::rules::EarningRules;
use regulars_service::ManageError;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Reads a JSON document as `T`, naming the JSON path of the first problem (as the
/// API's body reader does).
pub(crate) fn parse_document<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path == "." || path.is_empty() {
            inner
        } else {
            format!("{path}: {inner}")
        }
    })?;
    de.end().map_err(|e| e.to_string())?;
    Ok(value)
}

/// A reward form's fields as typed.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RewardForm {
    csrf: String,
    name: String,
    cost: String,
    validity_days: String,
    active: Option<String>,
}

/// What the page shows again after a save or a refusal.
#[derive(Debug, Default)]
pub(crate) struct Shown {
    rules: rules_page::Shown,
    tiers: tiers_page::Shown,
    stamps: stamps_page::Shown,
    reward: Option<(RewardId, RewardForm, String)>,
    new_reward: Option<(rules_form::Fields, rules_form::FieldErrors)>,
    saved: bool,
}

pub(crate) fn message(error: &ManageError) -> Option<String> {
    match error {
        ManageError::Invalid { field, message } => Some(format!("{field}: {message}")),
        ManageError::Taken { message, .. } => Some(message.clone()),
        _ => None,
    }
}

pub(crate) async fn render(
    state: &WebState,
    session: &Session,
    shown: Shown,
) -> Result<Markup, Fail> {
    let t = session.lang.text();
    let brand = session.brand();
    let fail = |e: ManageError| Fail::internal(session.lang, &e);
    let program = state.services.program(brand).await.map_err(fail)?;
    let rewards = state.services.rewards(brand).await.map_err(fail)?;
    let policy = state
        .services
        .messaging_policy(brand)
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    let edit = session.can_edit();
    let currency = state.services.brand(brand).await.map_err(fail)?.currency;
    let menu = state
        .services
        .menu(brand)
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    let rules_section = rules_section(
        state,
        session,
        program.as_ref(),
        &menu,
        currency,
        shown.rules,
    )
    .await?;
    let (new_fields, new_errors) = shown.new_reward.unwrap_or_default();
    let new_reward = rewards_form::form(session, &menu, &new_fields, &new_errors);
    let tiers_section = tiers_page::section(
        session,
        program.as_ref().and_then(|p| p.tiers.as_ref()),
        currency,
        shown.tiers,
    );
    let cards = state
        .services
        .stamp_cards(brand)
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    let stamps_section = stamps_page::section(
        session,
        &cards,
        &stamps_form::Choices {
            menu: &menu,
            rewards: &rewards,
        },
        shown.stamps,
    );
    let body = html! {
        @if shown.saved { p.ok #saved { (t.saved) } }
        @if program.is_none() { p.muted { (t.no_programme) } }
        (rules_section)
        (tiers_section)
        (stamps_section)
        (profiling_section(session, policy.profiling_default, edit))
        section #rewards {
            h2 { (t.rewards) }
            @if rewards.is_empty() { p.muted { (t.none) } }
            @for reward in &rewards {
                @let again = shown.reward.as_ref().filter(|(id, _, _)| *id == reward.id);
                @let name = again.map_or(reward.name.clone(), |(_, f, _)| f.name.clone());
                @let cost = again.map_or(reward.cost.value().to_string(), |(_, f, _)| f.cost.clone());
                @let days = again.map_or(reward.validity_days.to_string(), |(_, f, _)| f.validity_days.clone());
                @let active = again.map_or(reward.active, |(_, f, _)| f.active.is_some());
                @if edit {
                    form.reward method="post" action=(format!("/dashboard/programme/rewards/{}", reward.id)) id=(format!("reward-{}", reward.id)) {
                        input type="hidden" name="csrf" value=(session.csrf);
                        div.grid2 {
                            div { label { (t.name) } input type="text" name="name" value=(name); }
                            div { label { (t.cost) } input type="number" name="cost" value=(cost); }
                            div { label { (t.validity_days) } input type="number" name="validity_days" value=(days); }
                            div { label { input type="checkbox" name="active" value="on" checked[active]; " " (t.active) } }
                        }
                        @if let Some((_, _, e)) = again { p.error.reward-error { (e) } }
                        button type="submit" { (t.save) }
                    }
                } @else {
                    p { strong { (reward.name) } " — " (reward.cost.value()) " " (t.points) }
                }
            }
            @if edit { (new_reward) }
        }
    };
    Ok(dashboard(session, Nav::Programme, t.programme_title, body))
}

/// The earning rules section, with the brand's menu, shops and tiers as pick-lists.
async fn rules_section(
    state: &WebState,
    session: &Session,
    program: Option<&regulars_ports::LoyaltyProgram>,
    menu: &[regulars_domain::MenuItem],
    currency: regulars_domain::Currency,
    shown: rules_page::Shown,
) -> Result<Markup, Fail> {
    let brand = session.brand();
    let fail = |e: ManageError| Fail::internal(session.lang, &e);
    let locations = state.services.locations(brand).await.map_err(fail)?;
    let tiers = program
        .and_then(|p| p.tiers.as_ref())
        .map(|t| {
            t.tiers()
                .iter()
                .map(|tier| (tier.code.as_str().to_owned(), tier.name.clone()))
                .collect()
        })
        .unwrap_or_default();
    let choices = rules_page::Choices {
        menu,
        locations: &locations,
        tiers,
    };
    Ok(rules_page::section(
        session,
        &choices,
        program.map(|p| &p.earning_rules),
        currency,
        shown,
    ))
}

/// The brand's default for customers never asked about profiling.
fn profiling_section(session: &Session, allowed: bool, edit: bool) -> Markup {
    let (title, help, label, now_yes, now_no) = match session.lang {
        crate::i18n::Lang::Vi => (
            "Cá nhân hoá khi khách chưa được hỏi",
            "Theo tư vấn pháp lý của thương hiệu: khách chưa từng được hỏi về cá nhân hoá có được nhắm theo phân nhóm và nhận ưu đãi cá nhân hoá không. Mặc định là không (im lặng không phải là đồng ý); khách đã rút lại luôn bị loại.",
            "Cho phép cá nhân hoá khi khách chưa được hỏi",
            "Đang cho phép",
            "Không cho phép (mặc định)",
        ),
        crate::i18n::Lang::En => (
            "Profiling when never asked",
            "What the brand's counsel says: may customers never asked about profiling be targeted by segment and get personalised offers? Off by default (silence is not consent); a customer who withdrew is always left out.",
            "Allow profiling of customers never asked",
            "Allowed",
            "Not allowed (default)",
        ),
    };
    let t = session.lang.text();
    html! {
        section #profiling {
            h2 { (title) }
            p.muted { (help) }
            @if edit {
                form method="post" action="/dashboard/programme/profiling" #profiling-form {
                    input type="hidden" name="csrf" value=(session.csrf);
                    label { input #profiling-default type="checkbox" name="profiling_default" value="on" checked[allowed]; " " (label) }
                    button type="submit" { (t.save) }
                }
            } @else {
                p #profiling-default { (if allowed { now_yes } else { now_no }) }
            }
        }
    }
}

/// The profiling default's form.
#[derive(Debug, Deserialize)]
pub(crate) struct ProfilingForm {
    #[serde(default)]
    csrf: String,
    profiling_default: Option<String>,
}

/// `POST /dashboard/programme/profiling`: sets the brand's profiling default and keeps
/// the rest of its messaging policy.
pub(crate) async fn save_profiling(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<ProfilingForm>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    session.authorise_change(&state, &form.csrf)?;
    let fail = |e: &dyn std::fmt::Display| Fail::internal(session.lang, e);
    let mut policy = state
        .services
        .messaging_policy(session.brand())
        .await
        .map_err(|e| fail(&e))?;
    policy.profiling_default = form.profiling_default.is_some();
    state
        .services
        .set_messaging_policy(session.brand(), policy)
        .await
        .map_err(|e| fail(&e))?;
    let shown = Shown {
        saved: true,
        ..Shown::default()
    };
    let page = render(&state, &session, shown).await?;
    Ok(ok(&req, page))
}

pub(crate) fn reply(req: &HttpRequest, page: Markup, status: StatusCode) -> HttpResponse {
    let mut reply = ok(req, page);
    *reply.status_mut() = status;
    reply
}

/// `GET /dashboard/programme`.
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<WebState>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    let page = render(&state, &session, Shown::default()).await?;
    Ok(ok(&req, page))
}

/// `POST /dashboard/programme/earning-rules`: the rules form (previewed with
/// `action=preview`, saved with `action=save`), or the JSON document (a `document`
/// field) of the advanced view.
pub(crate) async fn save_rules(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    let fields = rules_form::Fields(form.into_inner());
    session.authorise_change(&state, fields.get("csrf"))?;
    let brand = session.brand();
    let json = fields.0.iter().any(|(name, _)| name == "document");
    if !json && fields.get("action") == "preview" {
        return preview_rules(&req, &state, &session, fields).await;
    }
    let parsed = if json {
        parse_document::<EarningRules>(fields.get("document")).map_err(|e| {
            let mut errors = rules_form::FieldErrors::new();
            errors.insert(String::new(), e);
            errors
        })
    } else {
        rules_form::from_fields(&fields)
    };
    let outcome = match parsed {
        Err(errors) => Err(errors),
        Ok(rules) => match state.services.set_earning_rules(brand, rules).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let text = message(&e).ok_or_else(|| Fail::internal(session.lang, &e))?;
                let mut errors = rules_form::FieldErrors::new();
                errors.insert(String::new(), text);
                Err(errors)
            }
        },
    };
    let (shown, status) = match outcome {
        Ok(()) => (
            Shown {
                saved: true,
                ..Shown::default()
            },
            StatusCode::OK,
        ),
        Err(errors) => {
            let rules = if json {
                let text = errors.values().next().cloned().unwrap_or_default();
                rules_page::Shown {
                    json: Some((fields.get("document").to_owned(), text)),
                    ..rules_page::Shown::default()
                }
            } else {
                rules_page::Shown {
                    fields: Some(fields),
                    errors,
                    ..rules_page::Shown::default()
                }
            };
            (
                Shown {
                    rules,
                    ..Shown::default()
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    };
    let page = render(&state, &session, shown).await?;
    Ok(reply(&req, page, status))
}

/// The rules form shown again with what its sample order earns; nothing is saved.
async fn preview_rules(
    req: &HttpRequest,
    state: &WebState,
    session: &Session,
    fields: rules_form::Fields,
) -> Result<HttpResponse, Fail> {
    let brand = session.brand();
    let found = state
        .services
        .brand(brand)
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    let menu = state
        .services
        .menu(brand)
        .await
        .map_err(|e| Fail::internal(session.lang, &e))?;
    let shop = preview::Shop {
        menu: &menu,
        offset: found.utc_offset,
    };
    let (rules, earning, sample_errors) = rules_page::read(&fields, &shop, true);
    let errors = rules.err().unwrap_or(sample_errors);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let shown = Shown {
        rules: rules_page::Shown {
            fields: Some(fields),
            errors,
            preview: earning,
            json: None,
        },
        ..Shown::default()
    };
    let page = render(state, session, shown).await?;
    Ok(reply(req, page, status))
}

/// The reward as edited by `form`, or what is wrong with the form.
fn edited(t: &Text, mut reward: Reward, form: &RewardForm) -> Result<Reward, String> {
    reward.name = form.name.trim().to_owned();
    reward.cost = Points::new(
        form.cost
            .trim()
            .parse::<i64>()
            .map_err(|_| t.cost_not_number.to_owned())?,
    );
    reward.validity_days = form
        .validity_days
        .trim()
        .parse::<u32>()
        .map_err(|_| t.days_not_number.to_owned())?;
    reward.active = form.active.is_some();
    Ok(reward)
}

/// `POST /dashboard/programme/rewards/{id}`.
pub(crate) async fn save_reward(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    form: web::Form<RewardForm>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    session.authorise_change(&state, &form.csrf)?;
    let brand = session.brand();
    let Ok(id) = path.parse::<RewardId>() else {
        return Err(Fail::not_found(session.lang));
    };
    let reward = match state.services.reward(brand, id).await {
        Ok(reward) => reward,
        Err(ManageError::NotFound { .. }) => return Err(Fail::not_found(session.lang)),
        Err(e) => return Err(Fail::internal(session.lang, &e)),
    };
    let outcome = match edited(session.lang.text(), reward, &form) {
        Err(e) => Err(e),
        Ok(reward) => match state.services.save_reward(brand, Some(id), reward).await {
            Ok(_) => Ok(()),
            Err(e) => Err(message(&e).ok_or_else(|| Fail::internal(session.lang, &e))?),
        },
    };
    let (shown, status) = match outcome {
        Ok(()) => (
            Shown {
                saved: true,
                ..Shown::default()
            },
            StatusCode::OK,
        ),
        Err(e) => (
            Shown {
                reward: Some((id, form.into_inner(), e)),
                ..Shown::default()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    };
    let page = render(&state, &session, shown).await?;
    Ok(reply(&req, page, status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use regulars_loyalty::tiers::TierProgram;

    #[test]
    fn documents_name_the_path_of_the_first_problem() {
        let error = parse_document::<TierProgram>("{\"metric\": 5}")
            .err()
            .unwrap_or_default();
        assert!(error.starts_with("metric"), "{error}");
        assert!(parse_document::<TierProgram>("{} x").is_err());
    }
}
