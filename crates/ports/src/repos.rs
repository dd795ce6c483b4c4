//! Repository ports. Every method is scoped to one brand: there is no way to ask for
//! another brand's rows through a brand's id.

use crate::{
    AccountHead, ApiKeyRecord, Brand, BrandConfig, CampaignVoucherCount, CustomerListQuery,
    CustomerListRow, CustomerStats, IdempotentRecord, IntegrationRecord, Location, LoyaltyProgram,
    RedeemOutcome, StoreError, StoredOrder, TierReview,
};
use async_trait::async_trait;
use regulars_domain::{
    ApiKeyId, BrandId, CampaignId, ChannelConsent, ConsentEvent, Customer, CustomerChange,
    CustomerId, EventKey, IntegrationId, LocationId, Money, Order, OrderId, Phone, RewardId,
    VoucherId,
};
use regulars_loyalty::rewards::Reward;
use regulars_loyalty::vouchers::{Voucher, VoucherCode};
use time::OffsetDateTime;

/// Brands, their programmes and reward catalogues.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait BrandRepo: Send {
    /// Stores a new brand.
    async fn insert_brand(&mut self, brand: &Brand) -> Result<(), StoreError>;
    /// A brand by id.
    async fn brand(&mut self, brand: BrandId) -> Result<Option<Brand>, StoreError>;
    /// Writes the settings of an existing brand (its id, currency and creation time never
    /// change); [`StoreError::NotFound`] when there is no such brand.
    async fn update_brand(&mut self, brand: &Brand) -> Result<(), StoreError>;
    /// Every brand's id, for operator jobs that visit brands one by one.
    async fn brand_ids(&mut self) -> Result<Vec<BrandId>, StoreError>;
    /// The brand's loyalty programme.
    async fn program(&mut self, brand: BrandId) -> Result<Option<LoyaltyProgram>, StoreError>;
    /// The brand, its programme and its config version, read in one consistent view;
    /// `None` when there is no such brand. [`update_brand`](BrandRepo::update_brand) and
    /// [`save_program`](BrandRepo::save_program) move the version.
    async fn brand_config(&mut self, brand: BrandId) -> Result<Option<BrandConfig>, StoreError>;
    /// Replaces the brand's loyalty programme.
    async fn save_program(
        &mut self,
        brand: BrandId,
        program: &LoyaltyProgram,
    ) -> Result<(), StoreError>;
    /// Inserts or replaces a catalogue reward.
    async fn save_reward(&mut self, brand: BrandId, reward: &Reward) -> Result<(), StoreError>;
    /// A catalogue reward.
    async fn reward(&mut self, brand: BrandId, id: RewardId) -> Result<Option<Reward>, StoreError>;
    /// The whole catalogue.
    async fn rewards(&mut self, brand: BrandId) -> Result<Vec<Reward>, StoreError>;
}

/// Customers and their running facts.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CustomerRepo: Send {
    /// A customer by phone. The phone is unique within a brand.
    async fn customer_by_phone(
        &mut self,
        brand: BrandId,
        phone: &Phone,
    ) -> Result<Option<Customer>, StoreError>;
    /// The brand's customers (not erased) with this Zalo user id, as the brand's Official
    /// Account names them.
    async fn customers_by_zalo_user(
        &mut self,
        brand: BrandId,
        zalo_user_id: &str,
    ) -> Result<Vec<Customer>, StoreError>;
    /// A customer by id.
    async fn customer(
        &mut self,
        brand: BrandId,
        id: CustomerId,
    ) -> Result<Option<Customer>, StoreError>;
    /// A page of the brand's customers ordered by id, starting after `after`.
    async fn customers(
        &mut self,
        brand: BrandId,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Vec<Customer>, StoreError>;
    /// A page of the brand's customers (not erased) as the customer list shows them:
    /// filtered, sorted and paged by storage (see [`CustomerListQuery`]).
    async fn customer_list(
        &mut self,
        brand: BrandId,
        query: &CustomerListQuery,
    ) -> Result<Vec<CustomerListRow>, StoreError>;
    /// Whether the customer has at least one order at one of the location `codes`.
    async fn ordered_at(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        codes: &[String],
    ) -> Result<bool, StoreError>;
    /// The brand's customers among `ids` (unknown and erased ones left out), in no
    /// particular order: one read for a page that names the customers it lists.
    async fn customers_by_ids(
        &mut self,
        brand: BrandId,
        ids: &[CustomerId],
    ) -> Result<Vec<Customer>, StoreError> {
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(customer) = self.customer(brand, *id).await? {
                found.push(customer);
            }
        }
        Ok(found)
    }
    /// Stores a new customer; a duplicate phone is a [`StoreError::Conflict`].
    async fn insert_customer(&mut self, customer: &Customer) -> Result<(), StoreError>;
    /// Updates profile fields (name, birthday, email, Zalo id, consent).
    async fn update_customer(&mut self, customer: &Customer) -> Result<(), StoreError>;
    /// Gives the customer the number `phone`: the sealed number and its blind index
    /// (under the current key) are written in one statement, and the customer's messages
    /// not yet sent to the old number are re-addressed to the new one. A number another
    /// customer of the brand has is [`PhoneChange::Taken`](crate::PhoneChange::Taken) and writes nothing; a missing
    /// or erased customer is [`StoreError::NotFound`].
    async fn change_phone(
        &mut self,
        brand: BrandId,
        id: CustomerId,
        phone: &Phone,
    ) -> Result<crate::PhoneChange, StoreError>;
    /// Records who changed a customer's profile or consent, when and from where.
    async fn record_change(&mut self, change: &CustomerChange) -> Result<(), StoreError>;
    /// The recorded changes of a customer's profile and consent, oldest first.
    async fn changes(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Vec<CustomerChange>, StoreError>;
    /// Appends changes of consent to the customer's history (numbered after the last
    /// one; two writers numbering alike is a [`StoreError::Conflict`]).
    async fn record_consent(&mut self, events: &[ConsentEvent]) -> Result<(), StoreError>;
    /// The customer's consent history, oldest first.
    async fn consent_history(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Vec<ConsentEvent>, StoreError>;
    /// The customer's running facts; `None` until they are first saved with
    /// [`save_stats`](CustomerRepo::save_stats), even for an existing customer.
    async fn stats(
        &mut self,
        brand: BrandId,
        id: CustomerId,
    ) -> Result<Option<CustomerStats>, StoreError>;
    /// Replaces the customer's running facts.
    async fn save_stats(&mut self, brand: BrandId, stats: &CustomerStats)
    -> Result<(), StoreError>;
    /// A page of the ids of the brand's customers who hold a tier, ordered by id,
    /// starting after `after`.
    async fn tiered_customers(
        &mut self,
        brand: BrandId,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Vec<CustomerId>, StoreError>;
    /// The customer's review of the period ending at `period_end`, if it happened.
    async fn tier_review(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        period_end: OffsetDateTime,
    ) -> Result<Option<TierReview>, StoreError>;
    /// Records a customer's period-end review; a second record for the same customer
    /// and period end is a [`StoreError::Conflict`].
    async fn record_tier_review(
        &mut self,
        brand: BrandId,
        review: &TierReview,
    ) -> Result<(), StoreError>;
    /// The consent now of those of `ids` still stored (not erased), in any order: what
    /// the delivery re-checks before sending, in one read instead of one per customer.
    async fn consents(
        &mut self,
        brand: BrandId,
        ids: &[CustomerId],
    ) -> Result<Vec<(CustomerId, ChannelConsent)>, StoreError>;
}

/// Orders and their refunds.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OrderRepo: Send {
    /// An order by its POS identity.
    async fn order_by_key(
        &mut self,
        brand: BrandId,
        key: &EventKey,
    ) -> Result<Option<StoredOrder>, StoreError>;
    /// An order by its POS identity, locked for the rest of the transaction (on
    /// PostgreSQL `SELECT … FOR UPDATE`; SQLite runs one writer at a time), so that a use
    /// case that changes it builds on a total no one else can change meanwhile.
    async fn lock_order_by_key(
        &mut self,
        brand: BrandId,
        key: &EventKey,
    ) -> Result<Option<StoredOrder>, StoreError>;
    /// An order by id.
    async fn order(
        &mut self,
        brand: BrandId,
        id: OrderId,
    ) -> Result<Option<StoredOrder>, StoreError>;
    /// A page of the brand's orders ordered by id (ids grow with time), starting after
    /// `after`; only the customer's when `customer` is given.
    async fn orders(
        &mut self,
        brand: BrandId,
        customer: Option<CustomerId>,
        after: Option<OrderId>,
        limit: u64,
    ) -> Result<Vec<StoredOrder>, StoreError>;
    /// A page of the brand's orders placed at any of the location `codes`, by id after
    /// `after`; only the customer's when `customer` is given.
    async fn orders_at(
        &mut self,
        brand: BrandId,
        codes: &[String],
        customer: Option<CustomerId>,
        after: Option<OrderId>,
        limit: u64,
    ) -> Result<Vec<StoredOrder>, StoreError>;
    /// Stores a new order with its lines; a duplicate key is a [`StoreError::Conflict`].
    async fn insert_order(&mut self, order: &StoredOrder) -> Result<(), StoreError>;
    /// [`insert_order`](Self::insert_order) for an order whose customer's stats, with the
    /// order counted, are `stats` (as they will be saved): what the store keeps about
    /// the customer's counted orders builds on them instead of reading their orders.
    async fn insert_counted_order(
        &mut self,
        order: &StoredOrder,
        stats: &CustomerStats,
    ) -> Result<(), StoreError>;
    /// Writes everything an earning order writes — the order and its lines, the
    /// account's append (as [`LedgerRepo::append_with_state`](crate::LedgerRepo::append_with_state), returning the new head),
    /// the customer's stats and the idempotency record — in one statement where the
    /// database allows (PostgreSQL), else one after another. A duplicate order key or
    /// record is a [`StoreError::Conflict`], as is a head that moved.
    async fn write_order(
        &mut self,
        writes: &crate::OrderWrites,
    ) -> Result<Option<AccountHead>, StoreError>;
    /// When the customer's orders that count in reports
    /// ([`regulars_reports::order_counts`]) were placed, `except` left out: probes of the
    /// orders by customer and time.
    async fn counted_times(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        except: OrderId,
    ) -> Result<crate::CountedTimes, StoreError>;
    /// Moves an order's refunded total from `before` to `after`. When the stored total is
    /// no longer `before` (another refund committed in between), nothing is written and
    /// the answer is a [`StoreError::Conflict`], so the use case runs again on fresh data.
    async fn set_refunded(
        &mut self,
        brand: BrandId,
        id: OrderId,
        before: Money,
        after: Money,
    ) -> Result<(), StoreError>;
}

/// Vouchers.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait VoucherRepo: Send {
    /// Stores a new voucher; `issued_by` is the order whose refund must void it, if any.
    async fn insert_voucher(
        &mut self,
        brand: BrandId,
        voucher: &Voucher,
        issued_by: Option<OrderId>,
    ) -> Result<(), StoreError>;
    /// Stores new vouchers, each with the order whose refund must void it, if any: one
    /// multi-row statement for up to hundreds of them.
    async fn insert_vouchers(
        &mut self,
        brand: BrandId,
        vouchers: &[(Voucher, Option<OrderId>)],
    ) -> Result<(), StoreError>;
    /// A voucher by code.
    async fn voucher_by_code(
        &mut self,
        brand: BrandId,
        code: &VoucherCode,
    ) -> Result<Option<Voucher>, StoreError>;
    /// A customer's vouchers, newest first.
    async fn vouchers_of(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Vec<Voucher>, StoreError>;
    /// The unused vouchers of these customers that expire after `after`, newest first:
    /// a page of customers' in one read.
    async fn unused_vouchers_of(
        &mut self,
        brand: BrandId,
        customers: &[CustomerId],
        after: OffsetDateTime,
    ) -> Result<Vec<Voucher>, StoreError>;
    /// How many vouchers a campaign issued and how many were redeemed, per reward. With
    /// `codes`, `redeemed` counts only the vouchers redeemed on an order placed at one of
    /// those location codes (a redemption without its order is at no location);
    /// `issued` stays all.
    async fn campaign_vouchers<'a>(
        &mut self,
        brand: BrandId,
        campaign: CampaignId,
        codes: Option<&'a [String]>,
    ) -> Result<Vec<CampaignVoucherCount>, StoreError>;
    /// Redeems a voucher with one conditional update (issued, already valid, and not
    /// expired at `now`), so concurrent attempts redeem it exactly once. A voucher not yet
    /// valid (`issued_at > now`) is [`RedeemOutcome::Refused`] like an expired one.
    /// The redemption is recorded at `location` (a location's code, as orders carry it)
    /// when the till names one, else at the location of `order` when that order has
    /// reached the server, else at none.
    async fn redeem_voucher(
        &mut self,
        brand: BrandId,
        code: &VoucherCode,
        now: OffsetDateTime,
        order: Option<EventKey>,
        location: Option<String>,
    ) -> Result<RedeemOutcome, StoreError>;
    /// Voids one voucher if it is still issued, with one conditional update (so a
    /// concurrent redemption and this void cannot both succeed); `false` when it is not
    /// issued any more or does not exist.
    async fn void_voucher(
        &mut self,
        brand: BrandId,
        voucher: VoucherId,
        now: OffsetDateTime,
        reason: &str,
    ) -> Result<bool, StoreError>;
    /// Voids every still-issued voucher issued by `order`; returns how many.
    async fn void_issued_by(
        &mut self,
        brand: BrandId,
        order: OrderId,
        now: OffsetDateTime,
        reason: &str,
    ) -> Result<u64, StoreError>;
}

/// Results of external events, so a repeated delivery returns the first result.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait IdempotencyRepo: Send {
    /// The remembered result for an event, if it was seen.
    async fn seen(
        &mut self,
        brand: BrandId,
        key: &EventKey,
    ) -> Result<Option<IdempotentRecord>, StoreError>;
    /// [`seen`](Self::seen) for several keys in one round trip: the records in the
    /// order of `keys`.
    async fn seen_each(
        &mut self,
        brand: BrandId,
        keys: &[EventKey],
    ) -> Result<Vec<Option<IdempotentRecord>>, StoreError>;
    /// [`seen`](Self::seen) and the customer's stats
    /// ([`CustomerRepo::stats`](crate::CustomerRepo::stats)) read together: what an
    /// order needs once the customer's account is locked, in one round trip.
    async fn seen_with_stats(
        &mut self,
        brand: BrandId,
        key: &EventKey,
        customer: CustomerId,
    ) -> Result<(Option<IdempotentRecord>, Option<CustomerStats>), StoreError>;
    /// [`seen`](Self::seen) and the brand's customer with this phone
    /// ([`CustomerRepo::customer_by_phone`](crate::CustomerRepo::customer_by_phone)) read
    /// together: what an order needs before it locks anything, in one round trip.
    async fn seen_with_customer(
        &mut self,
        brand: BrandId,
        key: &EventKey,
        phone: &Phone,
    ) -> Result<(Option<IdempotentRecord>, Option<Customer>), StoreError>;
    /// [`seen_each`](Self::seen_each) and the brand's customer with this phone, in one
    /// round trip: what a POS webhook's order needs before it locks anything (its event
    /// id and the order's keys).
    async fn seen_each_with_customer(
        &mut self,
        brand: BrandId,
        keys: &[EventKey],
        phone: &Phone,
    ) -> Result<(Vec<Option<IdempotentRecord>>, Option<Customer>), StoreError>;
    /// Remembers an event's result; a second record for the same key is a
    /// [`StoreError::Conflict`].
    async fn remember(
        &mut self,
        brand: BrandId,
        key: &EventKey,
        record: &IdempotentRecord,
    ) -> Result<(), StoreError>;
    /// Forgets the records of these kinds remembered before `before`, in every brand
    /// (housekeeping for the kinds kept for a while only); returns how many.
    async fn prune(
        &mut self,
        kinds: &[&'static str],
        before: OffsetDateTime,
    ) -> Result<u64, StoreError>;
}

/// API keys and POS integrations: who may call in, and with which secret.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AccessRepo: Send {
    /// Stores a new key; a duplicate prefix is a [`StoreError::Conflict`].
    async fn insert_api_key(&mut self, key: &ApiKeyRecord) -> Result<(), StoreError>;
    /// The key with this prefix, whatever its brand: the one look-up not scoped to a
    /// brand, because it is how a request's brand is found.
    async fn api_key_by_prefix(&mut self, prefix: &str)
    -> Result<Option<ApiKeyRecord>, StoreError>;
    /// The brand's keys, revoked ones included, oldest first.
    async fn api_keys(&mut self, brand: BrandId) -> Result<Vec<ApiKeyRecord>, StoreError>;
    /// [`api_keys`](AccessRepo::api_keys), with every row locked until the transaction
    /// ends (PostgreSQL `SELECT … FOR UPDATE`; SQLite runs one writer at a time): a
    /// decision over all the brand's keys, such as keeping the last admin, is not made on
    /// rows a concurrent transaction is changing.
    async fn lock_api_keys(&mut self, brand: BrandId) -> Result<Vec<ApiKeyRecord>, StoreError>;
    /// Marks a key revoked at `now`; `false` when the brand has no such key or it was
    /// revoked already.
    async fn revoke_api_key(
        &mut self,
        brand: BrandId,
        id: ApiKeyId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// The generation of an active key's dashboard sessions (`None` when the brand has
    /// no such active key): a session cookie signed at another epoch is void.
    async fn session_epoch(
        &mut self,
        brand: BrandId,
        id: ApiKeyId,
    ) -> Result<Option<i64>, StoreError>;
    /// Ends every dashboard session of a key by bumping its session epoch; `false` when
    /// the brand has no such key.
    async fn end_sessions(&mut self, brand: BrandId, id: ApiKeyId) -> Result<bool, StoreError>;
    /// Stores a new integration.
    async fn insert_integration(
        &mut self,
        integration: &IntegrationRecord,
    ) -> Result<(), StoreError>;
    /// The integration with this id, whatever its brand: webhooks are addressed by
    /// integration id and authenticated by its secret, not by an API key.
    async fn integration(
        &mut self,
        id: IntegrationId,
    ) -> Result<Option<IntegrationRecord>, StoreError>;
    /// The brand's integrations, oldest first.
    async fn integrations(&mut self, brand: BrandId) -> Result<Vec<IntegrationRecord>, StoreError>;
    /// Replaces an integration's sealed secret with `sealed` if it is still `expected`
    /// (re-sealing under a new server key); `false` when it is not, or there is no such
    /// integration.
    async fn reseal_integration(
        &mut self,
        brand: BrandId,
        id: IntegrationId,
        expected: &str,
        sealed: &str,
    ) -> Result<bool, StoreError>;
    /// Replaces an integration's sealed API credentials with `sealed` (`None` removes
    /// them); with `expected`, only if they are still that (re-sealing under a new server
    /// key). `false` when nothing was replaced.
    async fn replace_integration_access(
        &mut self,
        brand: BrandId,
        id: IntegrationId,
        expected: Option<String>,
        sealed: Option<String>,
    ) -> Result<bool, StoreError>;
    /// Marks an integration revoked at `now`; `false` when the brand has no such
    /// integration or it was revoked already.
    async fn revoke_integration(
        &mut self,
        brand: BrandId,
        id: IntegrationId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Records (or replaces) the phone number of the POS's customer `customer_ref`, as
    /// the integration last reported it.
    async fn link_pos_customer(
        &mut self,
        brand: BrandId,
        integration: IntegrationId,
        customer_ref: &str,
        phone: &Phone,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// The phone number linked to the POS's customer `customer_ref`, if any.
    async fn pos_customer_phone(
        &mut self,
        brand: BrandId,
        integration: IntegrationId,
        customer_ref: &str,
    ) -> Result<Option<Phone>, StoreError>;
    /// Keeps an order of a POS customer whose phone is not known yet, until it is; a
    /// second copy of the same order (by its key) is ignored.
    async fn keep_waiting_order(
        &mut self,
        brand: BrandId,
        integration: IntegrationId,
        customer_ref: &str,
        order: &Order,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Removes and returns the orders waiting for the POS's customer `customer_ref`,
    /// oldest first.
    async fn take_waiting_orders(
        &mut self,
        brand: BrandId,
        integration: IntegrationId,
        customer_ref: &str,
    ) -> Result<Vec<Order>, StoreError>;
    /// Removes the waiting order with this key; `false` when none waits.
    async fn drop_waiting_order(
        &mut self,
        brand: BrandId,
        integration: IntegrationId,
        order: &EventKey,
    ) -> Result<bool, StoreError>;
    /// Every active (not revoked) integration of this kind, across brands: the worker
    /// polls them.
    async fn integrations_of_kind(
        &mut self,
        kind: crate::IntegrationKind,
    ) -> Result<Vec<IntegrationRecord>, StoreError>;
    /// Takes the integration's poll lease for `owner` until `until` (the cursor row is
    /// made on first use) and returns the cursor; `None` when another poll holds an
    /// unexpired lease, the back-off has not run out at `now`, or polling is disabled.
    async fn lease_poll(
        &mut self,
        brand: BrandId,
        integration: IntegrationId,
        owner: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Option<crate::PollCursor>, StoreError>;
    /// Stores what a poll leased by `owner` achieved and gives the lease up; `false`
    /// when `owner` no longer holds it (it expired and another poll took it).
    async fn finish_poll(
        &mut self,
        owner: &str,
        cursor: &crate::PollCursor,
    ) -> Result<bool, StoreError>;
    /// The integration's poll cursor, if it was ever polled.
    async fn poll_cursor(
        &mut self,
        brand: BrandId,
        integration: IntegrationId,
    ) -> Result<Option<crate::PollCursor>, StoreError>;
    /// Lets a disabled poll run again at once (new credentials were given); the
    /// cursor stays.
    async fn resume_poll(
        &mut self,
        brand: BrandId,
        integration: IntegrationId,
    ) -> Result<(), StoreError>;
}

/// The shops of a brand.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LocationRepo: Send {
    /// Stores a new location; a duplicate code is a [`StoreError::Conflict`].
    async fn insert_location(&mut self, location: &Location) -> Result<(), StoreError>;
    /// Replaces a location's code, name and offset; [`StoreError::NotFound`] when absent,
    /// [`StoreError::Conflict`] when the new code is taken.
    async fn update_location(&mut self, location: &Location) -> Result<(), StoreError>;
    /// A location by id.
    async fn location(
        &mut self,
        brand: BrandId,
        id: LocationId,
    ) -> Result<Option<Location>, StoreError>;
    /// Every location of the brand, by code.
    async fn locations(&mut self, brand: BrandId) -> Result<Vec<Location>, StoreError>;
    /// The location's public sign-up secret (its poster's link), if one was made.
    async fn signup_secret(
        &mut self,
        brand: BrandId,
        location: LocationId,
    ) -> Result<Option<String>, StoreError>;
    /// Sets (or replaces) the location's public sign-up secret.
    async fn set_signup_secret(
        &mut self,
        brand: BrandId,
        location: LocationId,
        secret: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
}
