//! Referrals: a member invites a friend with a personal link; the friend who joins
//! through it and then buys earns both of them a reward, once.
//!
//! The rules here are pure: [`check_signup`] decides whether a sign-up through an
//! invite is recorded as a referral or refused (and why), and [`step`] moves a recorded
//! referral through its life on the friend's orders and refunds:
//!
//! ```text
//! pending --first order >= minimum--> rewarded --that order refunded in full--> reversed
//!    \--first order < minimum--> refused(below_minimum)
//! ```
//!
//! Only the friend's **first** order after joining decides: it rewards both (the
//! referrer only while under their monthly cap) or, below the minimum, ends the
//! referral. Every other event — a later order, a duplicate, a partial refund, a refund
//! of another order — changes nothing, so replaying any event is harmless. A full refund
//! of the rewarding order takes back exactly what was credited, once.
//!
//! ```
//! use regulars_domain::{EventKey, Points};
//! use regulars_loyalty::referrals::{ReferralEvent, ReferralProgramme, ReferralState, step};
//!
//! let programme = ReferralProgramme {
//!     enabled: true,
//!     referrer_points: Points::new(50),
//!     friend_points: Points::new(30),
//!     min_purchase_minor: 40_000,
//!     monthly_cap: 5,
//! };
//! let order = EventKey::new("pos", "A-1").unwrap();
//! let event = ReferralEvent::Order { order: order.clone(), total_minor: 55_000, referrer_rewarded_this_month: 0 };
//! let done = step(&programme, &ReferralState::Pending, &event).unwrap();
//! assert_eq!((done.friend, done.referrer), (Points::new(30), Points::new(50)));
//! // The same order again, or any later one, gives nothing more.
//! assert!(step(&programme, &done.state, &event).is_none());
//! ```

use regulars_domain::{EventKey, Points};
use serde::{Deserialize, Serialize};

/// Most points either side of a referral may be given: a typo guard.
pub const MAX_REFERRAL_POINTS: i64 = 1_000_000;

/// A brand's referral programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralProgramme {
    /// Whether invites are offered and sign-ups through them recorded.
    pub enabled: bool,
    /// Points the member who invited receives.
    pub referrer_points: Points,
    /// Points the friend who joined receives.
    pub friend_points: Points,
    /// The least the friend's first order must total, in minor units of the brand's
    /// currency (0: any order).
    pub min_purchase_minor: i64,
    /// Most referrals a referrer is rewarded for per calendar month (brand local
    /// time); 0: no limit.
    pub monthly_cap: u32,
}

impl Default for ReferralProgramme {
    fn default() -> Self {
        ReferralProgramme {
            enabled: false,
            referrer_points: Points::ZERO,
            friend_points: Points::ZERO,
            min_purchase_minor: 0,
            monthly_cap: 0,
        }
    }
}

/// What is wrong with a referral programme, field by field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ProgrammeError {
    /// The field at fault.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: &'static str,
}

impl ReferralProgramme {
    /// Checks the programme's numbers.
    ///
    /// # Errors
    ///
    /// [`ProgrammeError`] naming the first field out of range.
    pub fn validate(&self) -> Result<(), ProgrammeError> {
        let points_ok = |p: Points| (0..=MAX_REFERRAL_POINTS).contains(&p.value());
        if !points_ok(self.referrer_points) {
            return Err(ProgrammeError {
                field: "referrer_points",
                message: "must be between 0 and 1000000",
            });
        }
        if !points_ok(self.friend_points) {
            return Err(ProgrammeError {
                field: "friend_points",
                message: "must be between 0 and 1000000",
            });
        }
        if self.min_purchase_minor < 0 {
            return Err(ProgrammeError {
                field: "min_purchase",
                message: "must not be negative",
            });
        }
        if self.enabled && !self.referrer_points.is_positive() && !self.friend_points.is_positive()
        {
            return Err(ProgrammeError {
                field: "friend_points",
                message: "an enabled programme must reward the friend or the referrer",
            });
        }
        Ok(())
    }
}

/// Why a referral was refused. Each is recorded on the referral and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// The brand's referral programme is off.
    Disabled,
    /// The invite's own member signed up through it.
    SelfReferral,
    /// The phone was already a member: referrals bring new customers only.
    ExistingCustomer,
    /// The phone was referred before (by this or another member).
    AlreadyReferred,
    /// Too many referral sign-ups from the same client address in a short time.
    TooManyFromAddress,
    /// The friend's first order was below the programme's minimum.
    BelowMinimum,
}

impl RefusalReason {
    /// Every reason, for reports.
    pub const ALL: [RefusalReason; 6] = [
        RefusalReason::Disabled,
        RefusalReason::SelfReferral,
        RefusalReason::ExistingCustomer,
        RefusalReason::AlreadyReferred,
        RefusalReason::TooManyFromAddress,
        RefusalReason::BelowMinimum,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalReason::Disabled => "disabled",
            RefusalReason::SelfReferral => "self_referral",
            RefusalReason::ExistingCustomer => "existing_customer",
            RefusalReason::AlreadyReferred => "already_referred",
            RefusalReason::TooManyFromAddress => "too_many_from_address",
            RefusalReason::BelowMinimum => "below_minimum",
        }
    }

    /// The reason with this stored name.
    pub fn parse(text: &str) -> Option<RefusalReason> {
        RefusalReason::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// What is known when someone signs up through an invite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignupFacts {
    /// The brand's programme is on.
    pub enabled: bool,
    /// The phone proved is the inviting member's own.
    pub same_customer: bool,
    /// The phone has a referral recorded already (pending, rewarded or reversed).
    pub already_referred: bool,
    /// The phone was a member before this sign-up.
    pub existing_customer: bool,
    /// The client address is within its budget of referral sign-ups.
    pub address_within_budget: bool,
}

/// Whether a sign-up through an invite becomes a pending referral, or why not. The
/// first applicable reason wins, in the order of the fields' importance: a programme
/// that is off, the member inviting themselves, a phone referred before, a phone that
/// was a member, a burst from one address.
///
/// # Errors
///
/// The [`RefusalReason`] recorded instead.
pub fn check_signup(facts: SignupFacts) -> Result<(), RefusalReason> {
    if !facts.enabled {
        Err(RefusalReason::Disabled)
    } else if facts.same_customer {
        Err(RefusalReason::SelfReferral)
    } else if facts.already_referred {
        Err(RefusalReason::AlreadyReferred)
    } else if facts.existing_customer {
        Err(RefusalReason::ExistingCustomer)
    } else if !facts.address_within_budget {
        Err(RefusalReason::TooManyFromAddress)
    } else {
        Ok(())
    }
}

/// Where a referral stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReferralState {
    /// Recorded at sign-up; waiting for the friend's first order.
    Pending,
    /// The friend's first order rewarded them (and the referrer, unless capped).
    Rewarded {
        /// The order that did.
        order: EventKey,
        /// Points credited to the friend.
        friend: Points,
        /// Points credited to the referrer (zero when over their monthly cap).
        referrer: Points,
        /// True when the referrer was over their monthly cap and got nothing.
        referrer_capped: bool,
    },
    /// The rewarding order was refunded in full: both rewards were taken back.
    Reversed {
        /// The refunded order.
        order: EventKey,
    },
    /// Never rewarded, for this reason.
    Refused {
        /// Why.
        reason: RefusalReason,
    },
}

impl ReferralState {
    /// The stored status name.
    pub fn status(&self) -> &'static str {
        match self {
            ReferralState::Pending => "pending",
            ReferralState::Rewarded { .. } => "rewarded",
            ReferralState::Reversed { .. } => "reversed",
            ReferralState::Refused { .. } => "refused",
        }
    }
}

/// Something that happened to the friend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferralEvent {
    /// The friend bought.
    Order {
        /// The order.
        order: EventKey,
        /// What it totals, in minor units.
        total_minor: i64,
        /// How many referrals the referrer has already been rewarded for this month.
        referrer_rewarded_this_month: u32,
    },
    /// An order of the friend's was refunded.
    Refund {
        /// The refunded order.
        order: EventKey,
        /// Whether it is now refunded in full.
        fully: bool,
    },
}

/// A change of state and the points it moves (negative when taken back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The new state.
    pub state: ReferralState,
    /// Points for the friend: positive credited, negative taken back.
    pub friend: Points,
    /// Points for the referrer: positive credited, negative taken back.
    pub referrer: Points,
}

/// The referral's next state on `event`, with the points to move; `None` when the
/// event changes nothing (a later order, a replay, a partial refund, another order's
/// refund, anything once refused or reversed).
pub fn step(
    programme: &ReferralProgramme,
    state: &ReferralState,
    event: &ReferralEvent,
) -> Option<Step> {
    match (state, event) {
        (
            ReferralState::Pending,
            ReferralEvent::Order {
                order,
                total_minor,
                referrer_rewarded_this_month,
            },
        ) => Some(first_order(
            programme,
            order,
            *total_minor,
            *referrer_rewarded_this_month,
        )),
        (
            ReferralState::Rewarded {
                order,
                friend,
                referrer,
                ..
            },
            ReferralEvent::Refund {
                order: refunded,
                fully: true,
            },
        ) if order == refunded => Some(Step {
            state: ReferralState::Reversed {
                order: order.clone(),
            },
            friend: Points::new(-friend.value()),
            referrer: Points::new(-referrer.value()),
        }),
        _ => None,
    }
}

fn first_order(
    programme: &ReferralProgramme,
    order: &EventKey,
    total_minor: i64,
    rewarded_this_month: u32,
) -> Step {
    if total_minor < programme.min_purchase_minor {
        return Step {
            state: ReferralState::Refused {
                reason: RefusalReason::BelowMinimum,
            },
            friend: Points::ZERO,
            referrer: Points::ZERO,
        };
    }
    let capped = programme.monthly_cap > 0 && rewarded_this_month >= programme.monthly_cap;
    let friend = programme.friend_points.max(Points::ZERO);
    let referrer = if capped {
        Points::ZERO
    } else {
        programme.referrer_points.max(Points::ZERO)
    };
    Step {
        state: ReferralState::Rewarded {
            order: order.clone(),
            friend,
            referrer,
            referrer_capped: capped,
        },
        friend,
        referrer,
    }
}

#[cfg(test)]
mod tests;
