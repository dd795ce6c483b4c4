//! Customer habits read off their purchase history.
//!
//! * [`regularity`]: gaps between visit days, the typical gap, how regular the customer
//!   is, when the next visit is expected and how overdue it is.
//! * [`affinity`]: item co-occurrence (support, confidence, lift), each customer's
//!   favourite item and the next best item to offer them.
//! * [`segment_time`]: a segment's send-time pattern and the prior it gives its members.
//! * [`send_time`]: the local hour and weekday a customer is most likely to respond,
//!   smoothed toward the brand's or segment's habits and updated by engagement.
//!
//! ```
//! use regulars_models::habits::regularity::VisitRegularity;
//! use time::macros::{datetime, offset};
//!
//! // A customer who comes every 6 or 7 days; it is now 14 days since the last visit.
//! let visits = [
//!     datetime!(2026-03-01 02:00 UTC),
//!     datetime!(2026-03-07 03:00 UTC),
//!     datetime!(2026-03-14 01:30 UTC),
//!     datetime!(2026-03-20 09:00 UTC),
//! ];
//! let r = VisitRegularity::from_visits(&visits, offset!(+7));
//! assert_eq!(r.typical_gap_days(), Some(6.0));
//! let overdue = r.overdue(datetime!(2026-04-03 03:00 UTC)).ok_or("no typical gap")?;
//! assert!((overdue - 14.0 / 6.0).abs() < 1e-9);
//! # Ok::<(), &str>(())
//! ```

pub mod affinity;
pub mod regularity;
pub mod segment_time;
pub mod send_time;

/// A parameter outside its domain.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HabitsError {
    /// A weight that is negative, NaN or infinite.
    #[error("weight must be a finite number ≥ 0, got {value}")]
    InvalidWeight {
        /// The weight given.
        value: f64,
    },
    /// An hour outside 0–23.
    #[error("hour must be 0–23, got {hour}")]
    InvalidHour {
        /// The hour given.
        hour: u8,
    },
    /// A prior strength that is negative, NaN or infinite.
    #[error("prior strength must be a finite number ≥ 0, got {value}")]
    InvalidStrength {
        /// The strength given.
        value: f64,
    },
    /// A recency half-life that is not a positive finite number of days.
    #[error("half-life must be a finite number of days > 0, got {value}")]
    InvalidHalfLife {
        /// The half-life given.
        value: f64,
    },
}
