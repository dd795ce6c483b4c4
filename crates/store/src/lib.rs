//! Storage adapter of Regulars: the repository ports of `regulars-ports` on SQLite (the
//! embedded default) and PostgreSQL (production), with sea-orm.
//!
//! [`Store::connect`] opens a pool for a `sqlite://…` or `postgres://…` URL, applies the
//! migrations, and hands out transactions through
//! [`UnitOfWork`](regulars_ports::UnitOfWork): every repository
//! (brands, customers, orders, ledger, vouchers, idempotency) works inside one database
//! transaction, applied by `commit` or discarded by `rollback` or by dropping it.
//!
//! Only this crate knows SQL. The schema keeps every value exact and comparable on both
//! databases: money as integer minor units with a currency code, points and timestamps
//! (microseconds since the Unix epoch) as `BIGINT`, documents as JSON text. Every primary
//! key starts with `brand_id` and every query is scoped to one brand.
//!
//! Given [`ContactKeys`] ([`Store::with_contact_keys`]), the store seals contact data at
//! rest — phones, emails, Zalo ids and every row that repeats one — and finds customers by
//! a keyed blind index of their phone; [`Store::seal_contacts`] seals rows stored plain or
//! under a previous key in place. The repositories hand out plain values either way.
//!
//! ```
//! use regulars_domain::{BrandId, CallingCode, Currency};
//! use regulars_loyalty::ledger::RefundPolicy;
//! use regulars_ports::{Brand, UnitOfWork};
//! use regulars_store::{Store, StoreOptions};
//! use time::macros::{datetime, offset};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // An in-memory database lives as long as its one connection: fine for a demo or a test.
//! let store = Store::connect("sqlite::memory:", StoreOptions::default()).await?;
//!
//! let brand = Brand {
//!     id: BrandId::from_bytes([7; 16]),
//!     name: "Trà Sữa Nhà Làm".into(),
//!     currency: Currency::VND,
//!     calling_code: CallingCode(84),
//!     utc_offset: offset!(+7),
//!     refund_policy: RefundPolicy::Clamp,
//!     points_validity_days: Some(365),
//!     created_at: datetime!(2026-06-01 09:00 UTC),
//! };
//! let mut tx = store.begin().await?;
//! tx.brands().insert_brand(&brand).await?;
//! tx.commit().await?;
//!
//! let mut tx = store.begin().await?;
//! assert_eq!(tx.brands().brand(brand.id).await?, Some(brand));
//! # Ok(())
//! # }
//! ```

mod contact;
mod convert;
mod entity;
mod error;
mod migration;
mod options;
mod repo;
mod seal;
mod store;
mod tx;
mod url;

pub use contact::{ContactKey, ContactKeys};
pub use options::{SqliteSync, StoreOptions};
pub use seal::{SealReport, SealScope};
pub use store::{Backend, Store};
pub use url::redact;
