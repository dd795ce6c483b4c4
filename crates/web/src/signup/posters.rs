//! `/dashboard/posters`: an admin's page of each location's sign-up poster, with its
//! downloads (SVG, PNG, PDF; Vietnamese or English) and the rotation of its link.

use super::text;
use crate::link::base_url;
use crate::poster::{self, Poster};
use crate::render::{Fail, Nav, dashboard, ok};
use crate::session::Session;
use crate::{Lang, WebState};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{PreEscaped, html};
use regulars_domain::LocationId;
use regulars_service::ManageError;
use serde::Deserialize;

fn fail(lang: Lang, error: &ManageError) -> Fail {
    match error {
        ManageError::NotFound { .. } | ManageError::UnknownBrand(_) => Fail::not_found(lang),
        other => Fail::internal(lang, other),
    }
}

/// The sign-up link of a token.
pub(crate) fn join_url(req: &HttpRequest, state: &WebState, token: &str) -> String {
    format!("{}/j/{token}", base_url(req, state))
}

/// `GET /dashboard/posters` (admins only).
pub(crate) async fn show(
    req: HttpRequest,
    state: web::Data<WebState>,
) -> Result<HttpResponse, Fail> {
    let session = Session::admin(&req, &state).await?;
    let t = text(session.lang);
    let brand = session.brand();
    let locations = state
        .services
        .locations(brand)
        .await
        .map_err(|e| fail(session.lang, &e))?;
    let brand_name = state
        .services
        .brand(brand)
        .await
        .map_err(|e| fail(session.lang, &e))?
        .name;
    let mut rows = Vec::new();
    for location in &locations {
        let token = state
            .services
            .signup_token(brand, location.id)
            .await
            .map_err(|e| fail(session.lang, &e))?;
        let url = join_url(&req, &state, &token);
        let preview = poster::svg(&Poster {
            url: &url,
            brand: &brand_name,
            line: text(Lang::Vi).scan_line,
            location: &location.name,
        });
        rows.push((location, url, preview));
    }
    let body = html! {
        p.muted { (t.posters_intro) }
        @if locations.is_empty() { p.muted { (t.no_locations) } }
        @for (location, url, preview) in &rows {
            section.poster id={ "poster-" (location.code) } {
                h2 { (location.name) " (" (location.code) ")" }
                p { a.join-link href=(url) { (url) } }
                @if let Some(svg) = preview {
                    div.qr style="max-width:210px" { (PreEscaped(svg)) }
                }
                p {
                    (t.download) ": "
                    @for lang in ["vi", "en"] {
                        @for ext in ["svg", "png", "pdf"] {
                            a href={ "/dashboard/posters/" (location.id) "/poster." (ext) "?text=" (lang) } {
                                (ext.to_uppercase()) " (" (lang) ")"
                            }
                            " "
                        }
                    }
                }
                form method="post" action={ "/dashboard/posters/" (location.id) "/rotate" } {
                    input type="hidden" name="csrf" value=(session.csrf);
                    button type="submit" { (t.rotate) }
                    " " span.muted { (t.rotate_note) }
                }
            }
        }
    };
    Ok(ok(
        &req,
        dashboard(&session, Nav::Staff, t.nav_posters, body),
    ))
}

/// The poster's language.
#[derive(Debug, Deserialize)]
pub(crate) struct PosterQuery {
    #[serde(default)]
    text: String,
}

/// `GET /dashboard/posters/{location}/poster.{svg|png|pdf}?text=vi|en` (admins only).
pub(crate) async fn download(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<(String, String)>,
    query: web::Query<PosterQuery>,
) -> Result<HttpResponse, Fail> {
    let session = Session::admin(&req, &state).await?;
    let (location, ext) = path.into_inner();
    let location: LocationId = location
        .parse()
        .map_err(|_| Fail::not_found(session.lang))?;
    let brand = session.brand();
    let token = state
        .services
        .signup_token(brand, location)
        .await
        .map_err(|e| fail(session.lang, &e))?;
    let place = state
        .services
        .locations(brand)
        .await
        .map_err(|e| fail(session.lang, &e))?
        .into_iter()
        .find(|l| l.id == location)
        .ok_or_else(|| Fail::not_found(session.lang))?;
    let brand_name = state
        .services
        .brand(brand)
        .await
        .map_err(|e| fail(session.lang, &e))?
        .name;
    let url = join_url(&req, &state, &token);
    let lang = Lang::parse(&query.text).unwrap_or(Lang::Vi);
    let poster = Poster {
        url: &url,
        brand: &brand_name,
        line: text(lang).scan_line,
        location: &place.name,
    };
    let (body, content_type) = match ext.as_str() {
        "svg" => (
            poster::svg(&poster).map(String::into_bytes),
            "image/svg+xml",
        ),
        "png" => (poster::png(&url, 12), "image/png"),
        "pdf" => (poster::pdf(&poster), "application/pdf"),
        _ => return Err(Fail::not_found(session.lang)),
    };
    let body =
        body.ok_or_else(|| Fail::internal(session.lang, &"the link is too long for a QR code"))?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"poster-{}-{}.{ext}\"",
                place
                    .code
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
                lang.code()
            ),
        ))
        .body(body))
}

/// A form that carries only its CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /dashboard/posters/{location}/rotate`: a new link; printed posters stop working.
pub(crate) async fn rotate(
    req: HttpRequest,
    state: web::Data<WebState>,
    path: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, Fail> {
    let session = Session::admin(&req, &state).await?;
    session.authorise_change(&state, &form.csrf)?;
    let location: LocationId = path.parse().map_err(|_| Fail::not_found(session.lang))?;
    state
        .services
        .rotate_signup_token(session.brand(), location)
        .await
        .map_err(|e| fail(session.lang, &e))?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/dashboard/posters"))
        .finish())
}
