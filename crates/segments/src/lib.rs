//! Segments of Regulars: who the customers of a brand are, in groups a shop owner can act
//! on.
//!
//! * [`rfm`] scores every customer 1–5 on recency, frequency and monetary value by
//!   quintiles over the brand's customers, and names the standard segments (Champions,
//!   At risk, Hibernating, ...).
//! * [`rule`] is a small language for custom segments over [`CustomerFeatures`]:
//!   `recency_days > 30 and p_alive < 0.5 and tier in ("gold", "silver")`, read by a
//!   hand-written parser with a type checker and errors that point at the problem, then
//!   compiled to closures.
//! * [`movement`] compares two snapshots of segment membership: who entered and who left
//!   each segment ("who just became at risk").
//!
//! The crate is pure: no I/O, no clock. Day counts in the features are computed by the
//! caller for its own "now".
//!
//! ```
//! use regulars_domain::CustomerId;
//! use regulars_segments::movement::{movement, Snapshot};
//! use regulars_segments::rfm::{score_all, RfmSegment};
//! use regulars_segments::{CustomerFeatures, SegmentDefinition};
//!
//! let id = |n: u8| CustomerId::from_bytes([n; 16]);
//! // (customer, days since last visit, visits, spend in đồng)
//! let mut customers = vec![
//!     CustomerFeatures::new(id(1), 1, 40, 2_400_000),
//!     CustomerFeatures::new(id(2), 90, 35, 2_000_000),
//!     CustomerFeatures::new(id(3), 2, 1, 45_000),
//!     CustomerFeatures::new(id(4), 200, 1, 40_000),
//!     CustomerFeatures::new(id(5), 20, 8, 500_000),
//! ];
//! customers[1].tier = Some("gold".into());
//! customers[1].p_alive = Some(0.3);
//!
//! // RFM: quintile scores and the named segment of each customer.
//! let scores = score_all(&customers);
//! assert_eq!(scores[0].segment(), RfmSegment::Champions);
//! assert_eq!(scores[3].segment(), RfmSegment::Lost);
//!
//! // A custom segment, as a shop owner would write it.
//! let lapsing_vips = SegmentDefinition::new(
//!     "Lapsing VIPs",
//!     r#"recency_days > 30 and p_alive < 0.5 and tier in ("gold", "silver")"#,
//! )?;
//! let members: Vec<_> = lapsing_vips.rule.filter(&customers).map(|c| c.customer_id).collect();
//! assert_eq!(members, vec![id(2)]);
//!
//! // Movement between last week's and today's snapshot.
//! let mut last_week = Snapshot::new();
//! last_week.insert(id(2), ["Loyal".to_owned()].into());
//! let mut today = Snapshot::new();
//! today.insert(id(2), ["At risk".to_owned()].into());
//! let moves = movement(&last_week, &today);
//! assert_eq!(moves["At risk"].entered, vec![id(2)]);
//! assert_eq!(moves["Loyal"].left, vec![id(2)]);
//! # Ok::<(), regulars_segments::RuleError>(())
//! ```

mod features;
pub mod movement;
pub mod rfm;
pub mod rule;

pub use features::CustomerFeatures;
pub use rule::{Rule, RuleError, SegmentDefinition};
