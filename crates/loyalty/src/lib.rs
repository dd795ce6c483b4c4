//! The loyalty rules of Regulars — the part that must never be wrong.
//!
//! * [`rules`]: earning rules as data (JSON), evaluated to points with an explanation.
//! * [`ledger`]: the append-only points ledger, FIFO expiry lots, refunds as exact inverses.
//! * [`tiers`]: tier programmes with rolling qualification windows.
//! * [`rewards`]: the rewards catalogue bought with points.
//! * [`vouchers`]: voucher codes and the voucher life cycle.
//! * [`stamps`]: stamp cards (the digital punch card) and the counting of stamps.
//!
//! The crate is pure: no I/O, no clock reads, no randomness of its own. "Now" and random
//! bytes are arguments.

pub mod ledger;
pub mod referrals;
pub mod reward_cost;
pub mod rewards;
pub mod rules;
pub mod stamps;
pub mod tiers;
pub mod vouchers;
