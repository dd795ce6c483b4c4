//! The members of a segment, a page at a time, for owners who use other tools: each
//! with what the export shows of them (name, phone, e-mail, points, tier, last visit and
//! consent per channel), and the CSV those rows are written as.
//!
//! A segment is named as people read it: one of the named RFM segments ("At risk"), as
//! the latest scoring run placed customers, or one of the brand's custom segments,
//! evaluated on the stored features as its live count is. Pages are walked by customer
//! id, so memory does not grow with the brand, and each page is one list of reads.

use crate::Services;
use crate::lookup::LookupError;
use crate::segments::{SegmentError, features_now};
use regulars_domain::{BrandId, CallingCode, Customer, CustomerId, Phone, Points};
use regulars_ports::StoreError;
use regulars_segments::Rule;
use regulars_segments::rfm::RfmSegment;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Most members in one page.
pub const MAX_EXPORT_PAGE: u64 = 500;

/// The header line of a segment's CSV.
pub const SEGMENT_CSV_HEADER: &str =
    "name,phone,email,points,tier,last_visit,consent_zalo,consent_sms,consent_email\n";

/// One member of a segment, as the export shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentMember {
    /// The profile (name, phone, e-mail, consent).
    pub customer: Customer,
    /// Points spendable now.
    pub balance: Points,
    /// The tier held, by code.
    pub tier: Option<String>,
    /// The last counted visit.
    pub last_visit_at: Option<OffsetDateTime>,
}

/// A page of a segment's members, and the cursor of the next page (`None`: the last).
#[derive(Debug, Clone, PartialEq)]
pub struct MembersPage {
    /// The members, by customer id.
    pub members: Vec<SegmentMember>,
    /// Pass as `after` to read on.
    pub next: Option<CustomerId>,
}

/// How a named segment is recognised in a stored score.
enum Membership {
    Named(String),
    Custom(Rule),
}

impl Services {
    /// Up to `limit` members (at most [`MAX_EXPORT_PAGE`]) of the segment named
    /// `segment`, after the customer `after`, by customer id.
    pub async fn segment_members(
        &self,
        brand: BrandId,
        segment: &str,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<MembersPage, SegmentError> {
        let membership = self.membership(brand, segment).await?;
        let limit = usize::try_from(limit.clamp(1, MAX_EXPORT_PAGE)).unwrap_or(1);
        let now = self.clock.now();
        let mut ids: Vec<CustomerId> = Vec::new();
        let mut more = false;
        self.each_score_page(brand, after, |page| {
            for score in &page {
                let member = match &membership {
                    Membership::Named(name) => score.segments.iter().any(|s| s == name),
                    Membership::Custom(rule) => {
                        features_now(score, now).is_some_and(|f| rule.matches(&f))
                    }
                };
                if member {
                    if ids.len() == limit {
                        more = true;
                        return false;
                    }
                    ids.push(score.customer_id);
                }
            }
            true
        })
        .await?;
        let mut members = Vec::with_capacity(ids.len());
        for id in &ids {
            match self.customer_view(brand, *id).await {
                Ok(view) => members.push(SegmentMember {
                    customer: view.customer,
                    balance: view.balance,
                    tier: view.tier.map(|t| t.code),
                    last_visit_at: view.stats.last_visit_at,
                }),
                // Erased since the scoring run: nobody to export.
                Err(LookupError::UnknownCustomer(_)) => {}
                Err(LookupError::UnknownBrand(b)) => return Err(SegmentError::UnknownBrand(b)),
                Err(LookupError::Store(e)) => return Err(SegmentError::Store(e)),
                Err(other) => {
                    return Err(SegmentError::Store(StoreError::Corrupt(other.to_string())));
                }
            }
        }
        let next = if more { ids.last().copied() } else { None };
        Ok(MembersPage { members, next })
    }

    /// How members of the segment named `name` are recognised: a custom segment of the
    /// brand by that name (case aside), else a named RFM segment.
    async fn membership(&self, brand: BrandId, name: &str) -> Result<Membership, SegmentError> {
        let name = name.trim();
        let custom = self
            .segments(brand)
            .await?
            .into_iter()
            .find(|s| s.segment.name.eq_ignore_ascii_case(name));
        if let Some(view) = custom {
            let rule = Rule::parse(&view.segment.rule)
                .map_err(|e| SegmentError::InvalidRule(e.to_string()))?;
            return Ok(Membership::Custom(rule));
        }
        RfmSegment::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
            .map(|s| Membership::Named(s.name().to_owned()))
            .ok_or_else(|| SegmentError::NoSuchSegment(format!("no segment named {name:?}")))
    }
}

/// A phone number in the national form people of its country read (`0981000296`) when
/// it is of the brand's calling code; in E.164 otherwise.
pub fn national_phone(phone: &Phone, code: CallingCode) -> String {
    phone
        .as_str()
        .strip_prefix(&format!("+{}", code.0))
        .map_or_else(|| phone.as_str().to_owned(), |rest| format!("0{rest}"))
}

/// A CSV cell: a text a spreadsheet would run as a formula (starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return) is prefixed with `'`, and a cell holding a
/// separator, a quote or a line break is quoted.
pub fn csv_cell(text: &str) -> String {
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

/// A member's CSV line (see [`SEGMENT_CSV_HEADER`]), ending with a line break.
pub fn segment_csv_line(member: &SegmentMember, code: CallingCode) -> String {
    let c = &member.customer;
    let last_visit = member
        .last_visit_at
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default();
    let consent = |state: regulars_domain::ConsentState| match state {
        regulars_domain::ConsentState::NeverAsked => "none",
        regulars_domain::ConsentState::Granted => "granted",
        regulars_domain::ConsentState::Withdrawn => "withdrawn",
    };
    let mut line = [
        csv_cell(c.name.as_deref().unwrap_or("")),
        csv_cell(&national_phone(&c.phone, code)),
        csv_cell(c.email.as_deref().unwrap_or("")),
        member.balance.value().to_string(),
        csv_cell(member.tier.as_deref().unwrap_or("")),
        last_visit,
        consent(c.consent.zalo).to_owned(),
        consent(c.consent.sms).to_owned(),
        consent(c.consent.email).to_owned(),
    ]
    .join(",");
    line.push('\n');
    line
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn phones_read_in_the_national_form() {
        let vn = Phone::parse("0981000296", Phone::VIETNAM).unwrap();
        assert_eq!(national_phone(&vn, Phone::VIETNAM), "0981000296");
        let us = Phone::parse("+1 415 555 2671", Phone::VIETNAM).unwrap();
        assert_eq!(national_phone(&us, Phone::VIETNAM), "+14155552671");
    }

    #[test]
    fn cells_never_start_a_formula() {
        assert_eq!(csv_cell("Lan"), "Lan");
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("+84"), "'+84");
        assert_eq!(csv_cell("a,\"b\""), "\"a,\"\"b\"\"\"");
    }

    proptest! {
        /// Whatever a name holds, its cell neither starts a formula nor breaks the row.
        #[test]
        fn any_text_makes_one_safe_cell(text in "\\PC{0,20}[=+@,\"\n-]?\\PC{0,5}") {
            let cell = csv_cell(&text);
            prop_assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']));
            if let Some(inner) = cell.strip_prefix('"') {
                prop_assert!(inner.ends_with('"'));
                prop_assert!(!inner[..inner.len() - 1].replace("\"\"", "").contains('"'));
                prop_assert!(!inner.starts_with(['=', '+', '-', '@', '\t', '\r']));
            } else {
                prop_assert!(!cell.contains([',', '"', '\n', '\r']));
            }
        }
    }
}
