//! A customer's progress on a card: the event log, its fold, and the commands.

use super::StampCard;
use crate::ledger::RefundFraction;
use regulars_domain::{EventKey, Order, Points, VoucherId};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::{Duration, OffsetDateTime};

/// A customer's progress on one card: the fold of its [`StampEvent`]s.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StampState {
    /// Stamps on the current card.
    pub stamps: u32,
    /// When the first stamp of the current card was given (what expiry counts from).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub card_started_at: Option<OffsetDateTime>,
    /// Cards completed, ever.
    pub completed: u32,
    /// Completed cards reopened by a refund (their voucher voided).
    pub reopened: u32,
    /// `seq` of the last expiry, if any.
    #[serde(default)]
    pub expired_seq: Option<u64>,
    /// The `seq` the next event takes.
    pub next_seq: u64,
    /// The time of the last event: events are in time order.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_at: Option<OffsetDateTime>,
}

/// One entry of a customer's stamp log for one card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StampEvent {
    /// Position in the log, from 0.
    pub seq: u64,
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What happened.
    pub kind: StampEventKind,
}

/// What a stamp event did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StampEventKind {
    /// An order earned stamps.
    Earned {
        /// The order.
        order: EventKey,
        /// How many (positive).
        stamps: u32,
    },
    /// The card filled: `stamps` (the stamps needed) left it and a voucher was issued.
    Completed {
        /// The voucher issued.
        voucher: VoucherId,
        /// The stamps the card took.
        stamps: u32,
    },
    /// A refund took an order's stamps back.
    Removed {
        /// The refunded order.
        order: EventKey,
        /// Stamps taken from the card.
        stamps: u32,
        /// Stamps that could not be taken (the card had fewer) and are left to the
        /// customer.
        forgiven: u32,
    },
    /// A refund reopened a completed card: its unused voucher was voided and its
    /// stamps came back.
    Reopened {
        /// The voided voucher.
        voucher: VoucherId,
        /// The stamps that came back.
        stamps: u32,
    },
    /// The card's stamps expired.
    Expired {
        /// How many.
        stamps: u32,
    },
}

/// An event that does not fit the state: a corrupt log, never a customer's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum StampError {
    /// The event's `seq` is not the next one.
    #[error("stamp event {got} out of sequence, expected {expected}")]
    OutOfSequence {
        /// The expected `seq`.
        expected: u64,
        /// The event's.
        got: u64,
    },
    /// The event would take more stamps than the card holds, or overflow.
    #[error("stamp event {seq} does not fit a card holding {stamps} stamps")]
    Arithmetic {
        /// The event's `seq`.
        seq: u64,
        /// Stamps on the card before it.
        stamps: u32,
    },
    /// The card's definition cannot count (it needs at least one stamp).
    #[error("the card needs no stamps")]
    InvalidCard,
}

/// What one order did on one card so far, read off its events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderStamps {
    /// Stamps it earned.
    pub earned: u32,
    /// `seq` of its `Earned` event, when it earned any.
    pub earned_seq: Option<u64>,
    /// Stamps refunds took back, forgiven ones included.
    pub removed: u32,
}

impl OrderStamps {
    /// What `order` did, from any events (those of other orders are skipped).
    pub fn of<'a>(order: &EventKey, events: impl IntoIterator<Item = &'a StampEvent>) -> Self {
        let mut tally = OrderStamps::default();
        for event in events {
            match &event.kind {
                StampEventKind::Earned { order: o, stamps } if o == order => {
                    tally.earned = tally.earned.saturating_add(*stamps);
                    tally.earned_seq = Some(event.seq);
                }
                StampEventKind::Removed {
                    order: o,
                    stamps,
                    forgiven,
                } if o == order => {
                    tally.removed = tally
                        .removed
                        .saturating_add(*stamps)
                        .saturating_add(*forgiven);
                }
                _ => {}
            }
        }
        tally
    }
}

impl StampState {
    /// Applies one event: the only way a state changes.
    pub fn apply(&mut self, event: &StampEvent) -> Result<(), StampError> {
        if event.seq != self.next_seq {
            return Err(StampError::OutOfSequence {
                expected: self.next_seq,
                got: event.seq,
            });
        }
        let bad = StampError::Arithmetic {
            seq: event.seq,
            stamps: self.stamps,
        };
        match &event.kind {
            StampEventKind::Earned { stamps, .. } | StampEventKind::Reopened { stamps, .. } => {
                self.stamps = self.stamps.checked_add(*stamps).ok_or(bad)?;
                if self.card_started_at.is_none() && self.stamps > 0 {
                    self.card_started_at = Some(event.at);
                }
                if matches!(event.kind, StampEventKind::Reopened { .. }) {
                    self.reopened = self.reopened.checked_add(1).ok_or(bad)?;
                }
            }
            StampEventKind::Completed { stamps, .. } => {
                self.stamps = self.stamps.checked_sub(*stamps).ok_or(bad)?;
                self.completed = self.completed.checked_add(1).ok_or(bad)?;
                // Carried-over stamps start the next card.
                self.card_started_at = (self.stamps > 0).then_some(event.at);
            }
            StampEventKind::Removed { stamps, .. } => {
                self.stamps = self.stamps.checked_sub(*stamps).ok_or(bad)?;
                if self.stamps == 0 {
                    self.card_started_at = None;
                }
            }
            StampEventKind::Expired { stamps } => {
                self.stamps = self.stamps.checked_sub(*stamps).ok_or(bad)?;
                self.card_started_at = None;
                self.expired_seq = Some(event.seq);
            }
        }
        self.next_seq += 1;
        self.last_at = Some(self.last_at.map_or(event.at, |last| last.max(event.at)));
        Ok(())
    }

    /// The state after `events`, from nothing.
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a StampEvent>) -> Result<Self, StampError> {
        let mut state = StampState::default();
        for event in events {
            state.apply(event)?;
        }
        Ok(state)
    }

    /// When the current card's stamps expire, if they do.
    pub fn expires_at(&self, card: &StampCard) -> Option<OffsetDateTime> {
        let days = card.expiry_days?;
        let start = self.card_started_at?;
        start.checked_add(Duration::days(i64::from(days)))
    }

    /// Stamps on the card as of `now`: none once they expired, even before the expiry is
    /// recorded (the next order records it).
    pub fn stamps_at(&self, card: &StampCard, now: OffsetDateTime) -> u32 {
        match self.expires_at(card) {
            Some(expiry) if expiry <= now => 0,
            _ => self.stamps,
        }
    }

    /// Applies `kind` at `at` as the next event, recording it in `events`.
    fn push(
        &mut self,
        events: &mut Vec<StampEvent>,
        at: OffsetDateTime,
        kind: StampEventKind,
    ) -> Result<(), StampError> {
        let event = StampEvent {
            seq: self.next_seq,
            at,
            kind,
        };
        self.apply(&event)?;
        events.push(event);
        Ok(())
    }

    /// `at`, moved forward to the last event's time: the log stays in time order.
    fn time_for(&self, at: OffsetDateTime) -> OffsetDateTime {
        self.last_at.map_or(at, |last| last.max(at))
    }
}

/// The events `order` produces on `card`: a due expiry of the card's stamps, the stamps
/// earned, and one completion per filled card, each with a voucher id from
/// `next_voucher`. Nothing when the order already earned on this card (`tally`, from
/// [`OrderStamps::of`]) or earns nothing.
pub fn earn(
    card: &StampCard,
    state: &StampState,
    order: &Order,
    tally: &OrderStamps,
    at: OffsetDateTime,
    next_voucher: &mut dyn FnMut() -> VoucherId,
) -> Result<Vec<StampEvent>, StampError> {
    if card.stamps_needed == 0 {
        return Err(StampError::InvalidCard);
    }
    let mut events = Vec::new();
    if tally.earned_seq.is_some() {
        return Ok(events);
    }
    let stamps = card.stamps_for(order);
    if stamps == 0 {
        return Ok(events);
    }
    let mut next = state.clone();
    let at = next.time_for(at);
    if next.stamps > 0 && next.expires_at(card).is_some_and(|expiry| expiry <= at) {
        let expired = next.stamps;
        next.push(&mut events, at, StampEventKind::Expired { stamps: expired })?;
    }
    let earned = StampEventKind::Earned {
        order: order.key.clone(),
        stamps,
    };
    next.push(&mut events, at, earned)?;
    while next.stamps >= card.stamps_needed {
        let completed = StampEventKind::Completed {
            voucher: next_voucher(),
            stamps: card.stamps_needed,
        };
        next.push(&mut events, at, completed)?;
    }
    Ok(events)
}

/// The events a refund of `order` produces on `card`, once `share` of it is refunded in
/// all: the order keeps `stamps − floor(stamps × share)`. Completed cards are reopened,
/// newest `unused` voucher first, while the card holds fewer stamps than must go; what
/// still cannot be taken is forgiven. Nothing when there is nothing more to take.
pub fn refund(
    card: &StampCard,
    state: &StampState,
    order: &EventKey,
    tally: &OrderStamps,
    share: RefundFraction,
    unused: &[VoucherId],
    at: OffsetDateTime,
) -> Result<Vec<StampEvent>, StampError> {
    let mut events = Vec::new();
    let target = share
        .reversal_target(Points::new(i64::from(tally.earned)))
        .ok()
        .and_then(|p| u32::try_from(p.value()).ok())
        .unwrap_or(tally.earned);
    let take = target.saturating_sub(tally.removed);
    if take == 0 {
        return Ok(events);
    }
    let mut next = state.clone();
    let at = next.time_for(at);
    let expired_since = match (tally.earned_seq, next.expired_seq) {
        (Some(earned), Some(expired)) => earned < expired,
        _ => false,
    };
    if !expired_since {
        for voucher in unused {
            if next.stamps >= take {
                break;
            }
            let reopened = StampEventKind::Reopened {
                voucher: *voucher,
                stamps: card.stamps_needed,
            };
            next.push(&mut events, at, reopened)?;
        }
    }
    let taken = if expired_since {
        0
    } else {
        take.min(next.stamps)
    };
    let removed = StampEventKind::Removed {
        order: order.clone(),
        stamps: taken,
        forgiven: take - taken,
    };
    next.push(&mut events, at, removed)?;
    Ok(events)
}
