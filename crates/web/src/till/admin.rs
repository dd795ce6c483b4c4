//! `/dashboard/staff`: an admin's form for the till's staff members and devices.

use super::{set_device_cookie, text};
use crate::WebState;
use crate::render::{Fail, Nav, dashboard, ok};
use crate::session::Session;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;
use regulars_domain::LocationId;
use regulars_service::TillError;
use serde::Deserialize;

async fn render(
    req: &HttpRequest,
    state: &WebState,
    session: &Session,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, Fail> {
    let t = text(session.lang);
    let brand = session.brand();
    let fail = |e: &dyn std::fmt::Display| Fail::internal(session.lang, e);
    let locations = state
        .services
        .locations(brand)
        .await
        .map_err(|e| fail(&e))?;
    let staff = state.services.staff(brand).await.map_err(|e| fail(&e))?;
    let devices = state
        .services
        .till_devices(brand)
        .await
        .map_err(|e| fail(&e))?;
    let place = |id: LocationId| {
        locations
            .iter()
            .find(|l| l.id == id)
            .map_or_else(String::new, |l| l.name.clone())
    };
    let location_select = html! {
        select name="location" required {
            @for l in &locations { option value=(l.id) { (l.name) " (" (l.code) ")" } }
        }
    };
    let body = html! {
        p.muted { (t.staff_intro) }
        p { a #posters-link href="/dashboard/posters" { (crate::signup::text(session.lang).nav_posters) } }
        p { a #menu-link href="/dashboard/menu" { (crate::till::text(session.lang).menu) } }
        @if let Some(error) = &error { p.error #staff-error { (error) } }
        section {
            h2 { (t.staff) }
            table #staff-list {
                @for s in &staff {
                    tr {
                        td { (s.name) }
                        td { (place(s.location_id)) }
                        td {
                            @if s.revoked_at.is_some() { (t.removed) }
                            @else if s.locked { (t.locked) }
                        }
                    }
                }
            }
            form #add-staff method="post" action="/dashboard/staff" {
                input type="hidden" name="csrf" value=(session.csrf);
                label { (t.location) " " (location_select) }
                label { (t.name) " " input #staff-name type="text" name="name" required; }
                label { (t.pin) " " input #staff-pin type="password" name="pin" inputmode="numeric" pattern="[0-9]{4,6}" required; }
                button #add-staff-button type="submit" { (t.add_staff) }
            }
        }
        section {
            h2 { (t.devices) }
            table #device-list {
                @for d in &devices {
                    tr {
                        td { (d.label.as_deref().unwrap_or("—")) }
                        td { (place(d.location_id)) }
                        td {
                            @if d.revoked_at.is_some() { (t.removed) }
                            @else if d.locked { (t.locked) }
                        }
                    }
                }
            }
            form #enrol-device method="post" action="/dashboard/staff/devices" {
                input type="hidden" name="csrf" value=(session.csrf);
                label { (t.location) " " (location_select) }
                label { (t.label) " " input type="text" name="label"; }
                button #enrol-here type="submit" { (t.enrol_here) }
            }
        }
    };
    let mut reply = ok(req, dashboard(session, Nav::Staff, t.nav_staff, body));
    *reply.status_mut() = status;
    Ok(reply)
}

/// `GET /dashboard/staff` (admins only).
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<WebState>,
) -> Result<HttpResponse, Fail> {
    let session = Session::admin(&req, &state).await?;
    render(&req, &state, &session, StatusCode::OK, None).await
}

/// The add-staff form.
#[derive(Debug, Deserialize)]
pub(crate) struct StaffForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    pin: String,
}

fn refusal(error: &TillError) -> Option<String> {
    match error {
        TillError::Store(_) => None,
        other => Some(other.to_string()),
    }
}

/// `POST /dashboard/staff`: adds a staff member.
pub(crate) async fn add(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<StaffForm>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    session.authorise_change(&state, &form.csrf)?;
    let Ok(location) = form.location.parse::<LocationId>() else {
        let message = TillError::InvalidName("location").to_string();
        return render(
            &req,
            &state,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(message),
        )
        .await;
    };
    match state
        .services
        .add_staff(session.brand(), location, &form.name, form.pin.trim())
        .await
    {
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/dashboard/staff"))
            .finish()),
        Err(e) => match refusal(&e) {
            Some(message) => {
                render(
                    &req,
                    &state,
                    &session,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(message),
                )
                .await
            }
            None => Err(Fail::internal(session.lang, &e)),
        },
    }
}

/// The enrol form.
#[derive(Debug, Deserialize)]
pub(crate) struct DeviceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    label: String,
}

/// `POST /dashboard/staff/devices`: enrols this browser as a till of the location (the
/// device token goes straight into its device cookie) and opens the till.
pub(crate) async fn enrol(
    req: HttpRequest,
    state: web::Data<WebState>,
    form: web::Form<DeviceForm>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    session.authorise_change(&state, &form.csrf)?;
    let Ok(location) = form.location.parse::<LocationId>() else {
        let message = TillError::InvalidName("location").to_string();
        return render(
            &req,
            &state,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(message),
        )
        .await;
    };
    match state
        .services
        .enrol_till_device(session.brand(), location, Some(form.label.clone()))
        .await
    {
        Ok(enrolled) => {
            let mut reply = HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/till/"))
                .finish();
            set_device_cookie(&mut reply, &state, &enrolled.token);
            Ok(reply)
        }
        Err(e) => match refusal(&e) {
            Some(message) => {
                render(
                    &req,
                    &state,
                    &session,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(message),
                )
                .await
            }
            None => Err(Fail::internal(session.lang, &e)),
        },
    }
}
