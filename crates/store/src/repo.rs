//! The repository ports, implemented on [`StoreTransaction`](crate::tx::StoreTransaction).
//!
//! Every query filters on the brand it is given; none reads or writes another brand's rows
//! (the exceptions find the brand itself: `brand_ids` lists brands for operator jobs, an
//! API key is found by its prefix and a webhook by its integration id).

mod access;
mod brands;
pub(crate) mod customers;
mod idempotency;
mod intelligence;
mod ledger;
mod locations;
mod orders;
mod reports;
mod vouchers;
