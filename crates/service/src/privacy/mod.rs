//! Customers' rights over their data and how long it is kept: erasure by
//! de-identification, export, and the retention sweep. Every request is logged with its
//! outcome and the deadline the law gives for answering it.

mod csv;
mod erase;
mod export;
mod own;
mod own_phone;
mod phone;
mod retention;

pub use csv::export_csv;
pub use erase::{ANSWER_PERIOD, ErasureReport};
pub use export::CustomerExport;
pub use own::{CUSTOMER_ACTOR, OwnCorrection, OwnRequestError};
pub use phone::{PhoneChangeError, PhoneChanged};
pub use retention::{RETENTION_ACTOR, RetentionReport, inactive_since};
