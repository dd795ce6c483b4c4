//! The customer list of a caller's scope: its customers with their points, tier, visits,
//! last visit and segment, sorted and filtered by storage; and whether one customer is
//! inside a scope.
//!
//! A customer *of a location* is one with at least one order placed there (at any time,
//! refunded or not): the data model records where each order was placed, and no home
//! location. A manager's scope covers the customers of its locations.

use crate::Services;
use crate::account::load_brand;
use crate::manage::{MAX_PAGE, ManageError, invalid, not_found};
use crate::scope::Scope;
use regulars_domain::{BrandId, CustomerId};
use regulars_ports::{CustomerListQuery, CustomerListRow, CustomerSort, Transaction};
use regulars_segments::rfm::RfmSegment;

/// The deepest row a page may start at: further than anyone pages by hand, and well
/// within what both databases skip quickly enough.
pub const MAX_LIST_OFFSET: u64 = 1_000_000;

/// Longest segment name or name search a filter may carry.
const MAX_SEGMENT_NAME: usize = 200;

/// A page of the customer list: which customers and in what order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerListRequest {
    /// Customers the last scoring run put in this segment; `None`: every segment.
    pub segment: Option<String>,
    /// Customers whose name contains this, case aside; `None`: every name.
    pub name: Option<String>,
    /// The sort.
    pub sort: CustomerSort,
    /// Largest first.
    pub descending: bool,
    /// Customers whose id is greater: the next page of a list sorted by id.
    pub after: Option<CustomerId>,
    /// Rows skipped before the page (at most [`MAX_LIST_OFFSET`]).
    pub offset: u64,
    /// Rows in the page (1 to [`MAX_PAGE`]).
    pub limit: u64,
}

/// The location codes a scope covers; `None` for the whole brand.
pub(crate) async fn scope_codes(
    tx: &mut dyn Transaction,
    brand: BrandId,
    scope: &Scope,
) -> Result<Option<Vec<String>>, ManageError> {
    let Scope::Locations(ids) = scope else {
        return Ok(None);
    };
    let known = tx.locations().locations(brand).await?;
    if let Some(unknown) = ids.iter().find(|id| !known.iter().any(|l| l.id == **id)) {
        return Err(invalid(
            "location",
            format!("the brand has no location {unknown}"),
        ));
    }
    let codes = known
        .into_iter()
        .filter(|l| ids.contains(&l.id))
        .map(|l| l.code)
        .collect();
    Ok(Some(codes))
}

impl Services {
    /// A page of the customers `scope` covers, as `request` asks.
    pub async fn customer_list(
        &self,
        brand: BrandId,
        scope: &Scope,
        request: &CustomerListRequest,
    ) -> Result<Vec<CustomerListRow>, ManageError> {
        if !(1..=MAX_PAGE).contains(&request.limit) {
            return Err(invalid("limit", format!("must be 1 to {MAX_PAGE}")));
        }
        if request.offset > MAX_LIST_OFFSET {
            return Err(invalid(
                "offset",
                format!("must be at most {MAX_LIST_OFFSET}"),
            ));
        }
        let segment = request
            .segment
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if segment.is_some_and(|s| s.chars().count() > MAX_SEGMENT_NAME) {
            return Err(invalid(
                "segment",
                format!("must be at most {MAX_SEGMENT_NAME} characters"),
            ));
        }
        let name = request
            .name
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if name.is_some_and(|s| s.chars().count() > MAX_SEGMENT_NAME) {
            return Err(invalid(
                "q",
                format!("must be at most {MAX_SEGMENT_NAME} characters"),
            ));
        }
        self.manage("customer_list", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            let locations = scope_codes(tx, brand, scope).await?;
            if locations.as_ref().is_some_and(Vec::is_empty) {
                return Ok(Vec::new());
            }
            let query = CustomerListQuery {
                locations,
                segment: segment.map(str::to_owned),
                name: name.map(str::to_owned),
                sort: request.sort,
                descending: request.descending,
                after: request.after,
                offset: request.offset,
                limit: request.limit,
            };
            Ok(tx.customers().customer_list(brand, &query).await?)
        })
        .await
    }

    /// The names the list's segment filter offers: the named RFM segments, then the
    /// brand's custom segments (without counting their members).
    pub async fn segment_names(&self, brand: BrandId) -> Result<Vec<String>, ManageError> {
        self.manage("segment_names", async |tx| {
            load_brand::<ManageError>(tx, brand).await?;
            let custom = tx.intelligence().segments(brand).await?;
            Ok(RfmSegment::ALL
                .into_iter()
                .map(|s| s.name().to_owned())
                .chain(custom.into_iter().map(|s| s.name))
                .collect())
        })
        .await
    }

    /// Whether `scope` covers the customer: always for the whole brand, else when they
    /// have an order at one of its locations. A customer of no such location is
    /// [`ManageError::NotFound`] to the caller, as one of another brand would be.
    pub async fn customer_in_scope(
        &self,
        brand: BrandId,
        scope: &Scope,
        customer: CustomerId,
    ) -> Result<(), ManageError> {
        if scope.is_brand() {
            return Ok(());
        }
        self.manage("customer_in_scope", async |tx| {
            let Some(codes) = scope_codes(tx, brand, scope).await? else {
                return Ok(());
            };
            if tx.customers().ordered_at(brand, customer, &codes).await? {
                Ok(())
            } else {
                Err(not_found("customer", customer))
            }
        })
        .await
    }
}
