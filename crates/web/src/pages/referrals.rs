//! Referrals on the dashboard: the programme as a form (no JSON), the figures
//! (invited, signed up, rewarded, refusals by reason) and the latest referrals.

use crate::WebState;
use crate::i18n::Lang;
use crate::pages::by_location;
use crate::render::{Fail, Nav, dashboard, ok, when};
use crate::session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use regulars_domain::Points;
use regulars_loyalty::referrals::{ReferralProgramme, ReferralState};
use regulars_service::{ManageError, Scope};
use serde::Deserialize;

/// The page's words.
struct Words {
    title: &'static str,
    intro: &'static str,
    enabled: &'static str,
    referrer_points: &'static str,
    friend_points: &'static str,
    min_purchase: &'static str,
    monthly_cap: &'static str,
    cap_help: &'static str,
    save: &'static str,
    saved: &'static str,
    figures: &'static str,
    invited: &'static str,
    signed_up: &'static str,
    pending: &'static str,
    rewarded: &'static str,
    reversed: &'static str,
    refused: &'static str,
    latest: &'static str,
    none: &'static str,
    status: &'static str,
    reason: &'static str,
    points: &'static str,
    signed_up_at: &'static str,
}

fn words(lang: Lang) -> Words {
    match lang {
        Lang::Vi => Words {
            title: "Giới thiệu bạn bè",
            intro: "Mỗi thành viên có một đường dẫn mời riêng trên trang thẻ. Bạn bè tham gia qua đường dẫn đó và mua lần đầu đạt mức tối thiểu: cả hai được cộng điểm một lần. Hoàn tiền toàn bộ đơn đó thì điểm thưởng bị thu lại.",
            enabled: "Bật chương trình giới thiệu",
            referrer_points: "Điểm cho người mời",
            friend_points: "Điểm cho bạn được mời",
            min_purchase: "Giá trị đơn đầu tiên tối thiểu",
            monthly_cap: "Số lượt thưởng tối đa mỗi người mời mỗi tháng",
            cap_help: "0: không giới hạn. Quá mức này, bạn được mời vẫn được thưởng, người mời thì không.",
            save: "Lưu",
            saved: "Đã lưu.",
            figures: "Số liệu",
            invited: "Thành viên có đường dẫn mời",
            signed_up: "Bạn bè đã tham gia",
            pending: "Chờ lần mua đầu",
            rewarded: "Đã thưởng",
            reversed: "Đã thu lại (hoàn tiền)",
            refused: "Bị từ chối",
            latest: "Lượt giới thiệu gần đây",
            none: "Chưa có lượt giới thiệu nào.",
            status: "Trạng thái",
            reason: "Lý do",
            points: "Điểm (bạn / người mời)",
            signed_up_at: "Tham gia lúc",
        },
        Lang::En => Words {
            title: "Referrals",
            intro: "Every member has a personal invite link on their card page. A friend who joins through it and makes a first purchase at the minimum earns both of them their points, once. A full refund of that order takes the rewards back.",
            enabled: "Referral programme on",
            referrer_points: "Points for the member who invites",
            friend_points: "Points for the invited friend",
            min_purchase: "Least first purchase",
            monthly_cap: "Most rewarded referrals per member per month",
            cap_help: "0: no limit. Over it, the friend is still rewarded, the member is not.",
            save: "Save",
            saved: "Saved.",
            figures: "Figures",
            invited: "Members with an invite link",
            signed_up: "Friends who joined",
            pending: "Waiting for a first purchase",
            rewarded: "Rewarded",
            reversed: "Taken back (refunded)",
            refused: "Refused",
            latest: "Latest referrals",
            none: "No referrals yet.",
            status: "Status",
            reason: "Reason",
            points: "Points (friend / member)",
            signed_up_at: "Joined",
        },
    }
}

/// A refusal reason in words.
fn reason_words(lang: Lang, reason: &str) -> &'static str {
    let vi = lang == Lang::Vi;
    match reason {
        "disabled" if vi => "chương trình đang tắt",
        "disabled" => "programme off",
        "self_referral" if vi => "tự mời chính mình",
        "self_referral" => "invited themselves",
        "existing_customer" if vi => "đã là thành viên",
        "existing_customer" => "already a member",
        "already_referred" if vi => "số điện thoại đã được mời",
        "already_referred" => "phone invited before",
        "too_many_from_address" if vi => "quá nhiều lượt từ một địa chỉ",
        "too_many_from_address" => "too many from one address",
        "below_minimum" if vi => "đơn đầu dưới mức tối thiểu",
        "below_minimum" => "first order below the minimum",
        "referrer_monthly_cap" if vi => "người mời quá giới hạn tháng",
        "referrer_monthly_cap" => "member over their monthly cap",
        _ => "—",
    }
}

/// The programme form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ProgrammeForm {
    #[serde(default)]
    csrf: String,
    enabled: Option<String>,
    #[serde(default)]
    referrer_points: String,
    #[serde(default)]
    friend_points: String,
    #[serde(default)]
    min_purchase: String,
    #[serde(default)]
    monthly_cap: String,
}

impl ProgrammeForm {
    fn of(p: &ReferralProgramme) -> Self {
        ProgrammeForm {
            csrf: String::new(),
            enabled: p.enabled.then(|| "yes".to_owned()),
            referrer_points: p.referrer_points.value().to_string(),
            friend_points: p.friend_points.value().to_string(),
            min_purchase: p.min_purchase_minor.to_string(),
            monthly_cap: p.monthly_cap.to_string(),
        }
    }

    /// The programme, or the field that is not a whole number.
    fn programme(&self) -> Result<ReferralProgramme, &'static str> {
        fn whole(text: &str, field: &'static str) -> Result<i64, &'static str> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(0);
            }
            text.parse::<i64>().map_err(|_| field)
        }
        let cap = whole(&self.monthly_cap, "monthly_cap")?;
        Ok(ReferralProgramme {
            enabled: self.enabled.is_some(),
            referrer_points: Points::new(whole(&self.referrer_points, "referrer_points")?),
            friend_points: Points::new(whole(&self.friend_points, "friend_points")?),
            min_purchase_minor: whole(&self.min_purchase, "min_purchase")?,
            monthly_cap: u32::try_from(cap).map_err(|_| "monthly_cap")?,
        })
    }
}

async fn render(
    state: &WebState,
    session: &Session,
    scope: &Scope,
    form: Option<ProgrammeForm>,
    note: Option<String>,
) -> Result<Markup, Fail> {
    let lang = session.lang;
    let w = words(lang);
    let brand = session.brand();
    let fail = |e: ManageError| Fail::internal(lang, &e);
    let form = match form {
        Some(form) => form,
        None => ProgrammeForm::of(
            &state
                .services
                .referral_programme(brand)
                .await
                .map_err(fail)?,
        ),
    };
    let counts = state
        .services
        .referral_counts_in(brand, scope)
        .await
        .map_err(fail)?;
    // The latest referrals are the whole brand's: listed for the whole brand only.
    let latest = if scope.is_brand() {
        state.services.referrals(brand, 50).await.map_err(fail)?
    } else {
        Vec::new()
    };
    let known = state.services.locations(brand).await.map_err(fail)?;
    let edit = session.can_edit();
    let body = html! {
        h1 { (w.title) }
        p.muted { (w.intro) }
        @if let Some(note) = note { p.notice #referrals-note { (note) } }
        @if !session.scope.is_brand() {
            (read_only(&w, &form))
        } @else {
        form #referrals-form method="post" action="/dashboard/referrals" {
            input type="hidden" name="csrf" value=(session.csrf);
            label { input #referrals-enabled type="checkbox" name="enabled" value="yes" checked[form.enabled.is_some()] disabled[!edit]; " " (w.enabled) }
            label for="referrals-referrer" { (w.referrer_points) }
            input #referrals-referrer type="number" min="0" max="1000000" name="referrer_points" value=(form.referrer_points) disabled[!edit];
            label for="referrals-friend" { (w.friend_points) }
            input #referrals-friend type="number" min="0" max="1000000" name="friend_points" value=(form.friend_points) disabled[!edit];
            label for="referrals-min" { (w.min_purchase) }
            input #referrals-min type="number" min="0" name="min_purchase" value=(form.min_purchase) disabled[!edit];
            label for="referrals-cap" { (w.monthly_cap) }
            input #referrals-cap type="number" min="0" name="monthly_cap" value=(form.monthly_cap) disabled[!edit];
            p.muted { (w.cap_help) }
            @if edit { button #referrals-save type="submit" { (w.save) } }
        }
        }
        h2 { (w.figures) }
        (by_location::filter(session, "/dashboard/referrals", &known, scope, &[]))
        (scope_note(lang, scope))
        table #referral-figures {
            tr { th { (w.invited) } td #fig-invited { (if scope.is_brand() { counts.invited.to_string() } else { "—".to_owned() }) } }
            tr { th { (w.signed_up) } td #fig-signed-up { (counts.signed_up) } }
            tr { th { (w.pending) } td #fig-pending { (counts.pending) } }
            tr { th { (w.rewarded) } td #fig-rewarded { (counts.rewarded) } }
            tr { th { (w.reversed) } td #fig-reversed { (counts.reversed) } }
            @for (reason, n) in &counts.refused {
                tr { th { (w.refused) ": " (reason_words(lang, reason.as_str())) } td { (n) } }
            }
        }
        @if !scope.is_brand() {}
        @else if latest.is_empty() { h2 { (w.latest) } p.muted { (w.none) } }
        @else {
            h2 { (w.latest) }
            table #referral-list {
                tr { th { (w.signed_up_at) } th { (w.status) } th { (w.reason) } th { (w.points) } }
                @for r in &latest {
                    @let (reason, points) = shown(&r.state);
                    tr {
                        td { (when(r.created_at)) }
                        td { (r.state.status()) }
                        td { (reason.map_or("—", |r| reason_words(lang, r))) }
                        td { (points) }
                    }
                }
            }
        }
    };
    Ok(dashboard(session, Nav::Referrals, w.title, body))
}

/// The programme as a manager reads it: figures, no form.
fn read_only(w: &Words, form: &ProgrammeForm) -> Markup {
    html! {
        table #referral-programme {
            tr { th { (w.enabled) } td { (if form.enabled.is_some() { "✓" } else { "—" }) } }
            tr { th { (w.referrer_points) } td { (form.referrer_points) } }
            tr { th { (w.friend_points) } td { (form.friend_points) } }
            tr { th { (w.min_purchase) } td { (form.min_purchase) } }
            tr { th { (w.monthly_cap) } td { (form.monthly_cap) } }
        }
    }
}

/// What the figures of some locations count; nothing for the whole brand.
fn scope_note(lang: Lang, scope: &Scope) -> Markup {
    if scope.is_brand() {
        return html! {};
    }
    let text = match lang {
        Lang::En => {
            "The friends whose first purchase was at these locations. Invites and refusals              belong to no location."
        }
        Lang::Vi => {
            "Bạn bè có lần mua đầu tiên tại các cửa hàng này. Lời mời và các lần từ chối              không thuộc cửa hàng nào."
        }
    };
    html! { p.muted #referrals-scope { (text) } }
}

/// A referral's reason and points, as shown.
fn shown(state: &ReferralState) -> (Option<&'static str>, String) {
    match state {
        ReferralState::Rewarded {
            friend,
            referrer,
            referrer_capped,
            ..
        } => (
            referrer_capped.then_some("referrer_monthly_cap"),
            format!("{} / {}", friend.value(), referrer.value()),
        ),
        ReferralState::Refused { reason } => (Some(reason.as_str()), "—".to_owned()),
        _ => (None, "—".to_owned()),
    }
}

/// The page's query: one location's figures.
#[derive(Debug, Deserialize)]
pub(crate) struct ReferralsQuery {
    location: Option<String>,
}

/// `GET /dashboard/referrals`: for a manager, read only and its locations' figures.
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<WebState>,
    query: web::Query<ReferralsQuery>,
) -> Result<HttpResponse, Fail> {
    let session = Session::scoped(&req, &state).await?;
    let scope = by_location::page_scope(&session, query.location.as_deref())?;
    let page = render(&state, &session, &scope, None, None).await?;
    Ok(ok(&req, page))
}

/// `POST /dashboard/referrals`: saves the programme (admins); a refusal is shown
/// beside the form, which keeps what was typed.
pub(crate) async fn save(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<ProgrammeForm>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    session.authorise_change(&state, &form.csrf)?;
    let w = words(session.lang);
    let outcome = match form.programme() {
        Err(field) => Err(format!("{field}: must be a whole number")),
        Ok(programme) => match state
            .services
            .set_referral_programme(session.brand(), programme)
            .await
        {
            Ok(_) => Ok(()),
            Err(ManageError::Invalid { field, message }) => Err(format!("{field}: {message}")),
            Err(e) => return Err(Fail::internal(session.lang, &e)),
        },
    };
    let (page, status) = match outcome {
        Ok(()) => (
            render(
                &state,
                &session,
                &Scope::Brand,
                None,
                Some(w.saved.to_owned()),
            )
            .await?,
            StatusCode::OK,
        ),
        Err(message) => (
            render(
                &state,
                &session,
                &Scope::Brand,
                Some(form.into_inner()),
                Some(message),
            )
            .await?,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    };
    let mut reply = ok(&req, page);
    *reply.status_mut() = status;
    Ok(reply)
}
