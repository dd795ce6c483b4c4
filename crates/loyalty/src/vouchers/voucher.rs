//! The voucher life cycle: issued, then exactly one of redeemed, expired or voided.

use super::VoucherCode;
use regulars_domain::{CampaignId, CustomerId, EventKey, Points, RewardId, VoucherId};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::OffsetDateTime;

/// Longest accepted void reason or manual actor, in bytes.
const MAX_TEXT_BYTES: usize = 500;

/// Why a voucher exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum VoucherSource {
    /// The customer bought the reward with points.
    Redemption {
        /// The points spent (positive).
        points: Points,
        /// `seq` of the ledger entry that spent them (whose reference is
        /// `voucher:<voucher id>`); absent on vouchers bought before it was recorded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ledger_seq: Option<u64>,
    },
    /// A campaign gave it away.
    Campaign {
        /// The campaign.
        campaign: CampaignId,
    },
    /// A full stamp card turned into it.
    StampCard {
        /// The card's code.
        card: String,
    },
    /// Staff issued it by hand (a complaint, a goodwill gesture).
    Manual {
        /// Who issued it, as the audit trail should show it.
        actor: String,
    },
}

/// Where a voucher is in its life cycle.
///
/// `Issued` is the only state with a way out; the three others are final.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case", deny_unknown_fields)]
pub enum VoucherStatus {
    /// Can be redeemed while `issued_at <= now < expires_at`.
    Issued,
    /// Used.
    Redeemed {
        /// When it was redeemed.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// The order it was redeemed on, when the POS said.
        #[serde(default)]
        order: Option<EventKey>,
    },
    /// Lapsed unused.
    Expired {
        /// When it lapsed: always the voucher's `expires_at`, however late the expiry
        /// was recorded.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Cancelled by staff or by the system (for example when the purchase of the
    /// reward was refunded).
    Voided {
        /// When it was cancelled.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// Why.
        reason: String,
    },
}

impl VoucherStatus {
    /// True for `Redeemed`, `Expired` and `Voided`: no transition leaves them.
    pub fn is_final(&self) -> bool {
        !matches!(self, VoucherStatus::Issued)
    }
}

/// Why a voucher cannot do what was asked. Returned as a value, never a panic; a failed
/// operation leaves the voucher unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum VoucherError {
    /// It was already redeemed. A POS retrying its own request can recognise itself by
    /// `order`.
    #[error("voucher already redeemed at {at}")]
    AlreadyRedeemed {
        /// When it was redeemed.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// The order it was redeemed on.
        order: Option<EventKey>,
    },
    /// It expired (whether or not the expiry was recorded yet).
    #[error("voucher expired at {at}")]
    Expired {
        /// When it expired.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// It was voided.
    #[error("voucher voided at {at}: {reason}")]
    Voided {
        /// When it was voided.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// Why.
        reason: String,
    },
    /// It is not valid yet.
    #[error("voucher is valid from {valid_from}")]
    NotYetValid {
        /// When it becomes valid.
        #[serde(with = "time::serde::rfc3339")]
        valid_from: OffsetDateTime,
    },
    /// Asked to record an expiry before the voucher's expiry time.
    #[error("voucher does not expire before {expires_at}")]
    NotYetExpired {
        /// When it will expire.
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    /// An input or a stored value is invalid.
    #[error("{field}: {reason}")]
    Invalid {
        /// The offending field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// What is needed to issue a voucher; see [`Voucher::issue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVoucher {
    /// Its id (from the id generator).
    pub id: VoucherId,
    /// Its code, from [`VoucherCode::from_random_bytes`] with CSPRNG bytes.
    pub code: VoucherCode,
    /// Who may use it.
    pub customer: CustomerId,
    /// What it is good for.
    pub reward: RewardId,
    /// Why it exists.
    pub source: VoucherSource,
    /// When it was issued; it cannot be redeemed before.
    pub issued_at: OffsetDateTime,
    /// When it stops being redeemable (exclusive), for example from
    /// [`Reward::voucher_expires_at`](crate::rewards::Reward::voucher_expires_at).
    pub expires_at: OffsetDateTime,
}

/// A voucher issued to a customer.
///
/// Its status only moves through the methods below, each of which checks the transition
/// is legal: `Issued → Redeemed | Expired | Voided`, nothing else. Validity is the
/// half-open interval `issued_at <= now < expires_at`.
///
/// Exactly-once redemption across concurrent requests needs the store to write the
/// redeemed status only if the stored one is still `Issued` (a compare-and-set); this type
/// decides, the store arbitrates.
///
/// ```
/// use regulars_domain::{CampaignId, CustomerId, EventKey, RewardId, VoucherId};
/// use regulars_loyalty::vouchers::{
///     NewVoucher, Voucher, VoucherCode, VoucherError, VoucherSource, VoucherStatus,
/// };
/// use time::macros::datetime;
///
/// let mut voucher = Voucher::issue(NewVoucher {
///     id: VoucherId::from_bytes([1; 16]),
///     code: VoucherCode::from_random_bytes([9, 8, 7, 6, 5, 4, 3, 2]),
///     customer: CustomerId::from_bytes([2; 16]),
///     reward: RewardId::from_bytes([3; 16]),
///     source: VoucherSource::Campaign { campaign: CampaignId::from_bytes([4; 16]) },
///     issued_at: datetime!(2026-05-01 09:00 UTC),
///     expires_at: datetime!(2026-05-31 09:00 UTC),
/// })?;
///
/// let now = datetime!(2026-05-10 15:30 UTC);
/// assert_eq!(voucher.validate(now), Ok(()));
/// let order = EventKey::new("pos:generic", "A-1042").ok();
/// voucher.redeem(now, order.clone())?;
/// assert_eq!(voucher.status(), &VoucherStatus::Redeemed { at: now, order: order.clone() });
///
/// // A second attempt is refused, and says when and on which order it was used.
/// assert_eq!(
///     voucher.redeem(now, None),
///     Err(VoucherError::AlreadyRedeemed { at: now, order }),
/// );
/// # Ok::<(), VoucherError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "VoucherRecord")]
pub struct Voucher {
    id: VoucherId,
    code: VoucherCode,
    customer: CustomerId,
    reward: RewardId,
    status: VoucherStatus,
    #[serde(with = "time::serde::rfc3339")]
    issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    source: VoucherSource,
}

/// The stored shape of a voucher, checked before it becomes a [`Voucher`]: storage
/// rebuilds vouchers with `Voucher::try_from(record)`, so a row can only become a voucher
/// the life cycle could have produced.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoucherRecord {
    /// Its id.
    pub id: VoucherId,
    /// Its code.
    pub code: VoucherCode,
    /// Who holds it.
    pub customer: CustomerId,
    /// What it gives.
    pub reward: RewardId,
    /// Where it is in its life cycle.
    pub status: VoucherStatus,
    /// When it was issued.
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// When it stops being redeemable.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Who issued it and why.
    pub source: VoucherSource,
}

impl TryFrom<VoucherRecord> for Voucher {
    type Error = VoucherError;

    fn try_from(r: VoucherRecord) -> Result<Self, Self::Error> {
        let mut voucher = Voucher::issue(NewVoucher {
            id: r.id,
            code: r.code,
            customer: r.customer,
            reward: r.reward,
            source: r.source,
            issued_at: r.issued_at,
            expires_at: r.expires_at,
        })?;
        check_status(&r.status, r.issued_at, r.expires_at)?;
        voucher.status = r.status;
        Ok(voucher)
    }
}

impl Voucher {
    /// A new voucher in the `Issued` state.
    ///
    /// Errors when `expires_at` is not after `issued_at`, when a redemption source spent
    /// no points, or when a manual source names no actor.
    pub fn issue(new: NewVoucher) -> Result<Voucher, VoucherError> {
        if new.expires_at <= new.issued_at {
            return Err(invalid("expires_at", "must be after issued_at"));
        }
        match &new.source {
            VoucherSource::Redemption { points, .. } if !points.is_positive() => {
                return Err(invalid("source.points", "must be positive"));
            }
            VoucherSource::Manual { actor } => check_text("source.actor", actor)?,
            _ => {}
        }
        Ok(Voucher {
            id: new.id,
            code: new.code,
            customer: new.customer,
            reward: new.reward,
            status: VoucherStatus::Issued,
            issued_at: new.issued_at,
            expires_at: new.expires_at,
            source: new.source,
        })
    }

    /// Whether the voucher can be redeemed at `now`, and if not, why not.
    ///
    /// [`Voucher::redeem`] succeeds exactly when this returns `Ok(())`.
    pub fn validate(&self, now: OffsetDateTime) -> Result<(), VoucherError> {
        match &self.status {
            VoucherStatus::Issued if now < self.issued_at => Err(VoucherError::NotYetValid {
                valid_from: self.issued_at,
            }),
            VoucherStatus::Issued if now >= self.expires_at => Err(VoucherError::Expired {
                at: self.expires_at,
            }),
            VoucherStatus::Issued => Ok(()),
            final_status => Err(final_error(final_status)),
        }
    }

    /// Redeems the voucher at `now`, on `order` when the POS gives one.
    ///
    /// Refuses (leaving the voucher unchanged) whenever [`Voucher::validate`] does; in
    /// particular an expired voucher reports [`VoucherError::Expired`] even before its
    /// expiry is recorded with [`Voucher::expire`].
    pub fn redeem(
        &mut self,
        now: OffsetDateTime,
        order: Option<EventKey>,
    ) -> Result<(), VoucherError> {
        self.validate(now)?;
        if let Some(key) = &order {
            key.validate()
                .map_err(|e| invalid("order", e.to_string()))?;
        }
        self.status = VoucherStatus::Redeemed { at: now, order };
        Ok(())
    }

    /// Records that the voucher lapsed, once `now` has reached `expires_at`.
    ///
    /// The recorded time is `expires_at`, so a late sweep records the same history as a
    /// punctual one.
    pub fn expire(&mut self, now: OffsetDateTime) -> Result<(), VoucherError> {
        match &self.status {
            VoucherStatus::Issued if now < self.expires_at => Err(VoucherError::NotYetExpired {
                expires_at: self.expires_at,
            }),
            VoucherStatus::Issued => {
                self.status = VoucherStatus::Expired {
                    at: self.expires_at,
                };
                Ok(())
            }
            final_status => Err(final_error(final_status)),
        }
    }

    /// Cancels an issued voucher at `now`, with a reason for the audit trail.
    ///
    /// Allowed at any time while the status is `Issued` (including after `expires_at`
    /// when the expiry has not been recorded yet).
    pub fn void(
        &mut self,
        now: OffsetDateTime,
        reason: impl Into<String>,
    ) -> Result<(), VoucherError> {
        let reason = reason.into();
        match &self.status {
            VoucherStatus::Issued => {
                check_text("reason", &reason)?;
                self.status = VoucherStatus::Voided { at: now, reason };
                Ok(())
            }
            final_status => Err(final_error(final_status)),
        }
    }

    /// Its id.
    pub fn id(&self) -> VoucherId {
        self.id
    }

    /// Its code.
    pub fn code(&self) -> &VoucherCode {
        &self.code
    }

    /// Who may use it.
    pub fn customer(&self) -> CustomerId {
        self.customer
    }

    /// What it is good for.
    pub fn reward(&self) -> RewardId {
        self.reward
    }

    /// Where it is in its life cycle.
    pub fn status(&self) -> &VoucherStatus {
        &self.status
    }

    /// When it was issued.
    pub fn issued_at(&self) -> OffsetDateTime {
        self.issued_at
    }

    /// When it stops being redeemable (exclusive).
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }

    /// Why it exists.
    pub fn source(&self) -> &VoucherSource {
        &self.source
    }
}

/// The error for an operation attempted on a voucher in a final state.
fn final_error(status: &VoucherStatus) -> VoucherError {
    match status {
        VoucherStatus::Redeemed { at, order } => VoucherError::AlreadyRedeemed {
            at: *at,
            order: order.clone(),
        },
        VoucherStatus::Expired { at } => VoucherError::Expired { at: *at },
        VoucherStatus::Voided { at, reason } => VoucherError::Voided {
            at: *at,
            reason: reason.clone(),
        },
        // Not final; callers match `Issued` first. Kept total rather than panicking.
        VoucherStatus::Issued => invalid("status", "voucher is still issued"),
    }
}

/// Checks a stored status is one the transitions could have produced.
fn check_status(
    status: &VoucherStatus,
    issued_at: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<(), VoucherError> {
    match status {
        VoucherStatus::Issued => Ok(()),
        VoucherStatus::Redeemed { at, order } => {
            if *at < issued_at || *at >= expires_at {
                return Err(invalid(
                    "status.at",
                    "a redemption must fall within the validity period",
                ));
            }
            match order {
                Some(key) => key
                    .validate()
                    .map_err(|e| invalid("status.order", e.to_string())),
                None => Ok(()),
            }
        }
        VoucherStatus::Expired { at } if *at != expires_at => {
            Err(invalid("status.at", "an expiry is recorded at expires_at"))
        }
        VoucherStatus::Expired { .. } => Ok(()),
        VoucherStatus::Voided { reason, .. } => check_text("status.reason", reason),
    }
}

fn check_text(field: &'static str, value: &str) -> Result<(), VoucherError> {
    if value.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.len() > MAX_TEXT_BYTES {
        return Err(invalid(field, format!("at most {MAX_TEXT_BYTES} bytes")));
    }
    Ok(())
}

fn invalid(field: &'static str, reason: impl Into<String>) -> VoucherError {
    VoucherError::Invalid {
        field,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn new_voucher() -> NewVoucher {
        NewVoucher {
            id: VoucherId::from_bytes([1; 16]),
            code: VoucherCode::from_random_bytes([1; 8]),
            customer: CustomerId::from_bytes([2; 16]),
            reward: RewardId::from_bytes([3; 16]),
            source: VoucherSource::Redemption {
                points: Points::new(100),
                ledger_seq: None,
            },
            issued_at: datetime!(2026-01-01 00:00 UTC),
            expires_at: datetime!(2026-02-01 00:00 UTC),
        }
    }

    #[test]
    fn issuing_checks_its_inputs() {
        let mut n = new_voucher();
        n.expires_at = n.issued_at;
        assert!(matches!(
            Voucher::issue(n),
            Err(VoucherError::Invalid {
                field: "expires_at",
                ..
            })
        ));
        let mut n = new_voucher();
        n.source = VoucherSource::Redemption {
            points: Points::ZERO,
            ledger_seq: None,
        };
        assert!(matches!(
            Voucher::issue(n),
            Err(VoucherError::Invalid {
                field: "source.points",
                ..
            })
        ));
        let mut n = new_voucher();
        n.source = VoucherSource::Manual { actor: " ".into() };
        assert!(matches!(
            Voucher::issue(n),
            Err(VoucherError::Invalid {
                field: "source.actor",
                ..
            })
        ));
    }

    #[test]
    fn validity_is_half_open() -> Result<(), VoucherError> {
        let v = Voucher::issue(new_voucher())?;
        assert_eq!(v.validate(v.issued_at()), Ok(()));
        assert_eq!(
            v.validate(v.issued_at() - time::Duration::SECOND),
            Err(VoucherError::NotYetValid {
                valid_from: v.issued_at()
            })
        );
        assert_eq!(
            v.validate(v.expires_at()),
            Err(VoucherError::Expired { at: v.expires_at() })
        );
        Ok(())
    }

    #[test]
    fn late_expiry_records_the_expiry_time() -> Result<(), VoucherError> {
        let mut v = Voucher::issue(new_voucher())?;
        assert_eq!(
            v.expire(datetime!(2026-01-31 23:59 UTC)),
            Err(VoucherError::NotYetExpired {
                expires_at: v.expires_at()
            })
        );
        v.expire(datetime!(2026-03-15 04:00 UTC))?;
        assert_eq!(v.status(), &VoucherStatus::Expired { at: v.expires_at() });
        assert_eq!(
            v.void(datetime!(2026-03-16 00:00 UTC), "late"),
            Err(VoucherError::Expired { at: v.expires_at() })
        );
        Ok(())
    }

    #[test]
    fn void_needs_a_reason_and_is_final() -> Result<(), VoucherError> {
        let mut v = Voucher::issue(new_voucher())?;
        let at = datetime!(2026-01-05 00:00 UTC);
        assert!(matches!(
            v.void(at, ""),
            Err(VoucherError::Invalid {
                field: "reason",
                ..
            })
        ));
        assert_eq!(v.status(), &VoucherStatus::Issued);
        v.void(at, "order refunded")?;
        assert_eq!(
            v.redeem(at, None),
            Err(VoucherError::Voided {
                at,
                reason: "order refunded".into()
            })
        );
        Ok(())
    }
}
