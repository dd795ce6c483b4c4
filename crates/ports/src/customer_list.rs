//! The customer list an owner reads: a page of a brand's customers with their points,
//! tier, visits, last visit and segment, sorted and filtered by storage, so that a
//! brand of a million customers is never read whole to show twenty-five of them.

use regulars_domain::{Customer, CustomerId, Points};
use time::OffsetDateTime;

/// What the list is sorted by. Ties are broken by customer id, in the same direction,
/// so that a page always follows from the one before. Missing values (a customer never
/// scored, never seen at the till) come last whichever the direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerSort {
    /// When they joined (the default).
    Joined,
    /// Their name.
    Name,
    /// Their points balance.
    Points,
    /// The tier held, by code.
    Tier,
    /// Counted visits.
    Visits,
    /// The last counted visit.
    LastVisit,
    /// The named segment of the last scoring run.
    Segment,
    /// The customer id, ascending only: the order of a list paged by an `after` id.
    Id,
}

impl CustomerSort {
    /// Every sort, in the order the list's columns show them.
    pub const ALL: [CustomerSort; 7] = [
        CustomerSort::Name,
        CustomerSort::Points,
        CustomerSort::Tier,
        CustomerSort::Visits,
        CustomerSort::LastVisit,
        CustomerSort::Segment,
        CustomerSort::Joined,
    ];

    /// Its name in a query string (`sort=points`).
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerSort::Joined => "joined",
            CustomerSort::Name => "name",
            CustomerSort::Points => "points",
            CustomerSort::Tier => "tier",
            CustomerSort::Visits => "visits",
            CustomerSort::LastVisit => "last_visit",
            CustomerSort::Segment => "segment",
            CustomerSort::Id => "id",
        }
    }

    /// The sort named `name`, if any.
    pub fn parse(name: &str) -> Option<CustomerSort> {
        CustomerSort::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// Which customers a page lists and in what order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerListQuery {
    /// Customers with at least one order at one of these location codes; `None`: all.
    pub locations: Option<Vec<String>>,
    /// Customers the last scoring run put in this segment (named or custom); `None`: all.
    pub segment: Option<String>,
    /// Customers whose name contains this, case aside; `None`: all.
    pub name: Option<String>,
    /// The sort.
    pub sort: CustomerSort,
    /// Largest first.
    pub descending: bool,
    /// Customers whose id is greater (with [`CustomerSort::Id`], a page after the one
    /// that ended with this customer).
    pub after: Option<CustomerId>,
    /// Rows skipped before the page.
    pub offset: u64,
    /// Rows in the page.
    pub limit: u64,
}

/// One customer of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerListRow {
    /// The profile.
    pub customer: Customer,
    /// The points balance as the ledger's head holds it.
    pub points: Points,
    /// The tier held, by code.
    pub tier: Option<String>,
    /// Counted visits.
    pub visits: u64,
    /// The last counted visit.
    pub last_visit_at: Option<OffsetDateTime>,
    /// The named segment of the last scoring run.
    pub segment: Option<String>,
}
