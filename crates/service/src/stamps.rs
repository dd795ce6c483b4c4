//! Stamp cards: the brand's cards (admins replace them as a whole, checked against the
//! catalogue first), the stamps an order earns and a refund removes, in the order's or
//! the refund's own transaction under the customer's account lock, and the vouchers full
//! cards turn into, issued and voided through the ordinary voucher life cycle.

use crate::account::load_brand;
use crate::error::{common_variants, store_class};
use crate::{ErrorClass, Services, UseCaseError};
use regulars_domain::{BrandId, Customer, CustomerId, EventKey, Order, RewardId, VoucherId};
use regulars_loyalty::ledger::RefundFraction;
use regulars_loyalty::stamps::{
    OrderStamps, StampCard, StampCardError, StampEvent, StampEventKind, StampState, earn, refund,
    validate_cards,
};
use regulars_loyalty::vouchers::{NewVoucher, Voucher, VoucherSource, VoucherStatus};
use regulars_ports::{StoreError, Transaction};
use serde::Serialize;
use std::collections::BTreeMap;
use thiserror::Error;
use time::OffsetDateTime;

/// The reason recorded on a stamp card's voucher voided because a refund took back
/// stamps that filled its card.
pub const STAMP_VOID_REASON: &str = "stamps refunded";

/// Why the brand's stamp cards could not be read or replaced.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StampCardsError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// A card is invalid; the error names the card and field.
    #[error(transparent)]
    Invalid(StampCardError),
    /// A card gives a reward the catalogue does not have.
    #[error("cards[{index}].reward: the catalogue has no reward {reward}")]
    UnknownReward {
        /// The position of the card.
        index: usize,
        /// The reward named.
        reward: RewardId,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(StampCardsError, brand);

impl UseCaseError for StampCardsError {
    fn class(&self) -> ErrorClass {
        match self {
            StampCardsError::UnknownBrand(_) => ErrorClass::NotFound,
            StampCardsError::Invalid(_) | StampCardsError::UnknownReward { .. } => {
                ErrorClass::Invalid
            }
            StampCardsError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            StampCardsError::UnknownBrand(_) => Some("brand"),
            StampCardsError::Invalid(e) => Some(e.field),
            StampCardsError::UnknownReward { .. } => Some("reward"),
            StampCardsError::Store(_) => None,
        }
    }
}

/// A customer's progress on one of the brand's cards, as the till and the card page
/// show it ("7 of 10").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StampProgress {
    /// The card's code.
    pub code: String,
    /// The card's name.
    pub name: String,
    /// Stamps on the current card now (none once they expired).
    pub stamps: u32,
    /// Stamps that fill the card.
    pub needed: u32,
    /// Cards completed and not reopened by a refund.
    pub completed: u32,
    /// When the current card's stamps expire, if they do.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

impl Services {
    /// The brand's stamp cards, in the order they were given.
    pub async fn stamp_cards(&self, brand: BrandId) -> Result<Vec<StampCard>, StampCardsError> {
        self.transact("stamp_cards", |mut tx| async move {
            let result = async {
                load_brand::<StampCardsError>(tx.as_mut(), brand).await?;
                Ok(tx.stamps().stamp_cards(brand).await?)
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// Replaces the brand's stamp cards, checked as a whole first (each card, unique
    /// codes, rewards in the catalogue): on any error nothing is written.
    pub async fn put_stamp_cards(
        &self,
        brand: BrandId,
        cards: Vec<StampCard>,
    ) -> Result<Vec<StampCard>, StampCardsError> {
        let cards = &cards;
        self.transact("put_stamp_cards", |mut tx| async move {
            let result = async {
                let found = load_brand::<StampCardsError>(tx.as_mut(), brand).await?;
                validate_cards(cards, found.currency).map_err(StampCardsError::Invalid)?;
                for (index, card) in cards.iter().enumerate() {
                    if tx.brands().reward(brand, card.reward).await?.is_none() {
                        return Err(StampCardsError::UnknownReward {
                            index,
                            reward: card.reward,
                        });
                    }
                }
                let now = self.clock.now();
                tx.stamps().replace_stamp_cards(brand, cards, now).await?;
                Ok(cards.clone())
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// The customer's progress on each of the brand's cards, in the cards' order.
    pub(crate) async fn stamp_progress_in(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Vec<StampProgress>, StoreError> {
        let cards = tx.stamps().stamp_cards(brand).await?;
        if cards.is_empty() {
            return Ok(Vec::new());
        }
        let states: BTreeMap<String, StampState> = tx
            .stamps()
            .stamp_states(brand, customer)
            .await?
            .into_iter()
            .collect();
        let now = self.clock.now();
        Ok(cards
            .iter()
            .filter(|card| card.active || states.contains_key(&card.code))
            .map(|card| {
                let state = states.get(&card.code).cloned().unwrap_or_default();
                let stamps = state.stamps_at(card, now);
                StampProgress {
                    code: card.code.clone(),
                    name: card.name.clone(),
                    stamps,
                    needed: card.stamps_needed,
                    completed: state.completed.saturating_sub(state.reopened),
                    expires_at: state.expires_at(card).filter(|_| stamps > 0),
                }
            })
            .collect())
    }

    /// Stamps `order` earns the customer on each of the brand's cards, and the vouchers
    /// of the cards it fills. Called in the order's transaction, under the customer's
    /// account lock; an order that already earned on a card earns nothing again.
    pub(crate) async fn stamp_order_in(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        customer: &Customer,
        cards: &[StampCard],
        order: &Order,
    ) -> Result<(), StoreError> {
        if cards.iter().all(|card| card.stamps_for(order) == 0) {
            return Ok(());
        }
        let mut states = self.states_of(tx, brand, customer.id).await?;
        let now = self.clock.now();
        for card in cards.iter().filter(|card| card.stamps_for(order) > 0) {
            let Some(reward) = tx.brands().reward(brand, card.reward).await? else {
                tracing::warn!(card = %card.code, reward = %card.reward,
                    "stamp card skipped: its reward is no longer in the catalogue");
                continue;
            };
            let state = states.remove(&card.code).unwrap_or_default();
            let past = tx
                .stamps()
                .order_stamp_events(brand, customer.id, &card.code, &order.key)
                .await?;
            let tally = OrderStamps::of(&order.key, &past);
            let mut next_voucher = || VoucherId::from_uuid(self.ids.new_id());
            let at = order.placed_at.min(now);
            let events = earn(card, &state, order, &tally, at, &mut next_voucher)
                .map_err(|e| StoreError::Corrupt(format!("stamps of card {}: {e}", card.code)))?;
            for event in &events {
                if let StampEventKind::Completed { voucher, .. } = event.kind {
                    let expires_at = reward
                        .voucher_expires_at(now)
                        .map_err(|e| StoreError::Other(format!("reward {}: {e}", reward.id)))?;
                    let issued = Voucher::issue(NewVoucher {
                        id: voucher,
                        code: self.voucher_code(),
                        customer: customer.id,
                        reward: reward.id,
                        source: VoucherSource::StampCard {
                            card: card.code.clone(),
                        },
                        issued_at: now,
                        expires_at,
                    })
                    .map_err(|e| StoreError::Other(format!("stamp card voucher: {e}")))?;
                    tx.vouchers().insert_voucher(brand, &issued, None).await?;
                }
            }
            self.append_stamps(tx, brand, customer.id, card, state, &events)
                .await?;
        }
        Ok(())
    }

    /// Takes back the stamps of `order` once `share` of it is refunded in all, on each
    /// card it earned on: completed cards whose voucher is unused are reopened (the
    /// voucher voided) when the card holds too few. Returns the vouchers voided. Called
    /// in the refund's transaction, under the customer's account lock.
    pub(crate) async fn unstamp_order_in(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        customer: CustomerId,
        order: &EventKey,
        share: RefundFraction,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let mut states = self.states_of(tx, brand, customer).await?;
        if states.is_empty() {
            return Ok(0);
        }
        let cards = tx.stamps().stamp_cards(brand).await?;
        let now = self.clock.now();
        let mut voided = 0;
        for card in &cards {
            let Some(state) = states.remove(&card.code) else {
                continue;
            };
            let past = tx
                .stamps()
                .order_stamp_events(brand, customer, &card.code, order)
                .await?;
            let tally = OrderStamps::of(order, &past);
            if tally.earned == 0 {
                continue;
            }
            let unused = self
                .unused_card_vouchers(tx, brand, customer, card, now)
                .await?;
            let events = refund(card, &state, order, &tally, share, &unused, at)
                .map_err(|e| StoreError::Corrupt(format!("stamps of card {}: {e}", card.code)))?;
            for event in &events {
                if let StampEventKind::Reopened { voucher, .. } = event.kind {
                    // Redeemed at the till since it was read: run again and see it used.
                    if !tx
                        .vouchers()
                        .void_voucher(brand, voucher, now, STAMP_VOID_REASON)
                        .await?
                    {
                        return Err(StoreError::Conflict(format!(
                            "voucher {voucher} changed while the refund voided it"
                        )));
                    }
                    voided += 1;
                }
            }
            self.append_stamps(tx, brand, customer, card, state, &events)
                .await?;
        }
        Ok(voided)
    }

    async fn states_of(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<BTreeMap<String, StampState>, StoreError> {
        Ok(tx
            .stamps()
            .stamp_states(brand, customer)
            .await?
            .into_iter()
            .collect())
    }

    /// The card's vouchers the customer can still use, newest first.
    async fn unused_card_vouchers(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        customer: CustomerId,
        card: &StampCard,
        now: OffsetDateTime,
    ) -> Result<Vec<VoucherId>, StoreError> {
        let mut unused: Vec<Voucher> = tx
            .vouchers()
            .vouchers_of(brand, customer)
            .await?
            .into_iter()
            .filter(|v| {
                *v.status() == VoucherStatus::Issued
                    && v.expires_at() > now
                    && matches!(v.source(), VoucherSource::StampCard { card: c } if *c == card.code)
            })
            .collect();
        unused.sort_by_key(|v| std::cmp::Reverse((v.issued_at(), v.id())));
        Ok(unused.iter().map(Voucher::id).collect())
    }

    async fn append_stamps(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        customer: CustomerId,
        card: &StampCard,
        mut state: StampState,
        events: &[StampEvent],
    ) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        for event in events {
            state
                .apply(event)
                .map_err(|e| StoreError::Corrupt(format!("stamps of card {}: {e}", card.code)))?;
        }
        tx.stamps()
            .append_stamps(brand, customer, &card.code, &state, events)
            .await
    }
}
