//! The repository ports, implemented on [`StoreTransaction`](crate::tx::StoreTransaction).
//!
//! Every query filters on the brand it is given; none reads or writes another brand's rows
//! (the one exception, `brand_ids`, lists brands themselves for operator jobs).

mod brands;
mod customers;
mod idempotency;
mod ledger;
mod orders;
mod vouchers;
