//! How an [`AccountState`] is stored: the compact form (see `compact.rs`), still reading
//! the earlier JSON object; a state read back is checked against its invariants.

use super::account::{AccountState, Expiry};
use super::compact;
use super::lots::LotView;
use regulars_domain::Points;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

/// The earlier stored form of an [`AccountState`], still read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredAccount {
    balance: Points,
    debt: Points,
    next_seq: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    last_at: Option<OffsetDateTime>,
    lots: Vec<StoredLot>,
    earned: Vec<(i64, Points)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredLot {
    seq: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
    remaining: Points,
}

impl Serialize for AccountState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let lots = self
            .lots
            .iter()
            .map(|(&(expiry, seq), &remaining)| (seq, expiry, remaining));
        serializer.serialize_str(&compact::encode(
            self.balance,
            self.debt,
            self.next_seq,
            self.last_at,
            lots,
            self.earned.iter(),
        ))
    }
}

impl<'de> Deserialize<'de> for AccountState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StateVisitor)
    }
}

/// Reads the compact string, or the earlier JSON object.
struct StateVisitor;

impl<'de> Visitor<'de> for StateVisitor {
    type Value = AccountState;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an account state (compact string or JSON object)")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<AccountState, E> {
        let parsed = compact::decode(text).map_err(E::custom)?;
        AccountState::checked(
            Head {
                balance: parsed.balance,
                debt: parsed.debt,
                next_seq: parsed.next_seq,
                last_at: parsed.last_at,
            },
            parsed.lots,
            parsed.earned,
            true,
        )
        .map_err(E::custom)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<AccountState, A::Error> {
        let stored = StoredAccount::deserialize(de::value::MapAccessDeserializer::new(map))?;
        let lots = stored
            .lots
            .into_iter()
            .map(|lot| (lot.seq, Expiry::from_option(lot.expires_at), lot.remaining));
        AccountState::checked(
            Head {
                balance: stored.balance,
                debt: stored.debt,
                next_seq: stored.next_seq,
                last_at: stored.last_at,
            },
            lots,
            stored.earned,
            false,
        )
        .map_err(de::Error::custom)
    }
}

/// The figures of a stored state besides its lots and earnings.
pub(super) struct Head {
    pub(super) balance: Points,
    pub(super) debt: Points,
    pub(super) next_seq: u64,
    pub(super) last_at: Option<OffsetDateTime>,
}

impl AccountState {
    /// Builds a state read from storage, refusing one that breaks an invariant. With
    /// `lots_elsewhere` (the compact form), a state without lots is the figures alone,
    /// its lots kept as rows and loaded as needed.
    pub(super) fn checked(
        head: Head,
        lots: impl IntoIterator<Item = (u64, Expiry, Points)>,
        earned: impl IntoIterator<Item = (i64, Points)>,
        lots_elsewhere: bool,
    ) -> Result<Self, String> {
        let mut state = AccountState {
            balance: head.balance,
            debt: head.debt,
            next_seq: head.next_seq,
            last_at: head.last_at,
            ..AccountState::default()
        };
        let mut held = Points::ZERO;
        for (seq, expiry, remaining) in lots {
            if !remaining.is_positive() {
                return Err(format!("lot {seq} holds no points"));
            }
            if state.lot_expiry.insert(seq, expiry).is_some() {
                return Err(format!("lot {seq} listed twice"));
            }
            state.lots.insert((expiry, seq), remaining);
            held = held
                .checked_add(remaining)
                .ok_or("lots overflow".to_owned())?;
        }
        if state.debt.is_negative() || (state.debt.is_positive() && !state.lots.is_empty()) {
            return Err("debt must be zero or positive, and only without open lots".into());
        }
        let in_lots = state
            .balance
            .checked_add(state.debt)
            .ok_or("balance overflow".to_owned())?;
        if held != in_lots {
            // Stored without its lots (they are rows of their own): only the figures
            // can be checked here, the lots when they are loaded.
            if !lots_elsewhere || !state.lots.is_empty() {
                return Err("the balance is not the open lots less the debt".into());
            }
            if in_lots.is_negative() || (state.debt.is_positive() && in_lots.is_positive()) {
                return Err("the balance is not the open lots less the debt".into());
            }
            state.view = LotView::Nothing;
        } else {
            // Every lot is here: an earlier form that kept them inline. They are written
            // as rows with the next state.
            state.touched = state.lot_expiry.keys().copied().collect();
            state.replace_lots = true;
        }
        state.earned = earned.into_iter().collect();
        Ok(state)
    }
}
