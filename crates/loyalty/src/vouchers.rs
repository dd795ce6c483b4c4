//! Voucher codes and the voucher life cycle.
//!
//! A voucher is a reward a customer holds: bought with points, given by a campaign or by
//! staff. It carries an unguessable, self-checking [`VoucherCode`] (shown as text and as a
//! QR payload) and moves through a strict life cycle, [`VoucherStatus`]:
//! `Issued → Redeemed | Expired | Voided`. Every illegal move is a [`VoucherError`]
//! value, never a panic.
//!
//! Nothing here reads the clock or a random number generator: "now" and the random bytes
//! of a code are arguments.
//!
//! ```
//! use regulars_domain::{CustomerId, Points, RewardId, VoucherId};
//! use regulars_loyalty::vouchers::{NewVoucher, Voucher, VoucherCode, VoucherError, VoucherSource};
//! use time::macros::datetime;
//!
//! // At the till, the cashier types the code from the customer's phone.
//! let issued = VoucherCode::from_random_bytes([0x42; 8]);
//! let typed = issued.to_string().to_lowercase();
//! let code = VoucherCode::parse(&typed).map_err(|e| e.to_string())?;
//!
//! let mut voucher = Voucher::issue(NewVoucher {
//!     id: VoucherId::from_bytes([1; 16]),
//!     code,
//!     customer: CustomerId::from_bytes([2; 16]),
//!     reward: RewardId::from_bytes([3; 16]),
//!     source: VoucherSource::Redemption { points: Points::new(500), ledger_seq: Some(3) },
//!     issued_at: datetime!(2026-06-01 00:00 UTC),
//!     expires_at: datetime!(2026-07-01 00:00 UTC),
//! })
//! .map_err(|e| e.to_string())?;
//!
//! // Too late: the voucher reports why it cannot be used, and stays as it was.
//! let late = datetime!(2026-07-01 00:00 UTC);
//! assert_eq!(voucher.redeem(late, None), Err(VoucherError::Expired { at: late }));
//! voucher.expire(late).map_err(|e| e.to_string())?;
//! # Ok::<(), String>(())
//! ```

mod code;
mod voucher;

pub use code::{VoucherCode, VoucherCodeError, masked_code};
pub use voucher::{NewVoucher, Voucher, VoucherError, VoucherRecord, VoucherSource, VoucherStatus};
