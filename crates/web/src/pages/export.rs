//! `GET /dashboard/customers.csv`: the brand's customers as a spreadsheet (admins only),
//! each page of it recorded in the access log as an export.

use crate::WebState;
use crate::pages::audit;
use crate::render::Fail;
use crate::session::Session;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use regulars_domain::{Customer, CustomerId};
use regulars_ports::PersonalData;
use regulars_service::MAX_PAGE;
use time::format_description::well_known::Rfc3339;

/// The route as the access log names it.
const ROUTE: &str = "GET /dashboard/customers.csv";

/// What the export shows of each customer.
const PARTS: [PersonalData; 4] = [
    PersonalData::Export,
    PersonalData::Profile,
    PersonalData::Contact,
    PersonalData::Consent,
];

/// A CSV cell: quoted when it holds a separator, a quote or a line break, and a text
/// that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) is prefixed
/// with `'`, so a name typed at a till cannot become a formula on the owner's computer.
fn cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn line(c: &Customer) -> String {
    let birthday = c.birthday.map(|d| d.to_string()).unwrap_or_default();
    let joined = c.created_at.format(&Rfc3339).unwrap_or_default();
    [
        c.id.to_string(),
        cell(c.phone.as_str()),
        cell(c.name.as_deref().unwrap_or("")),
        cell(c.email.as_deref().unwrap_or("")),
        cell(c.zalo_user_id.as_deref().unwrap_or("")),
        birthday,
        c.consent.zalo.as_str().to_owned(),
        c.consent.sms.as_str().to_owned(),
        c.consent.email.as_str().to_owned(),
        joined,
    ]
    .join(",")
}

/// `GET /dashboard/customers.csv` (admins): every customer of the brand, by id.
pub(crate) async fn customers_csv(
    req: HttpRequest,
    state: web::Data<WebState>,
) -> Result<HttpResponse, Fail> {
    let session = Session::of(&req, &state).await?;
    let t = session.lang.text();
    if !session.sees_contact() {
        return Err(Fail::forbidden(session.lang, t.export_admin_only));
    }
    let mut body = String::from(
        "id,phone,name,email,zalo_user_id,birthday,consent_zalo,consent_sms,consent_email,joined\n",
    );
    let mut after: Option<CustomerId> = None;
    loop {
        let page = state
            .services
            .customers(session.brand(), after, MAX_PAGE)
            .await
            .map_err(|e| Fail::internal(session.lang, &e))?;
        let ids: Vec<CustomerId> = page.iter().map(|c| c.id).collect();
        audit::record(&state, &session, ROUTE, &PARTS, &ids).await?;
        for customer in &page {
            body.push_str(&line(customer));
            body.push('\n');
        }
        match page.last() {
            Some(last) if page.len() as u64 == MAX_PAGE => after = Some(last.id),
            _ => break,
        }
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"customers.csv\"",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("x-content-type-options", "nosniff"))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_are_quoted_and_never_formulas() {
        assert_eq!(cell("Lan"), "Lan");
        assert_eq!(cell("Lan, Q1"), "\"Lan, Q1\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+84981234567"), "'+84981234567");
        assert_eq!(cell("@cmd"), "'@cmd");
    }
}
