//! What an earning order writes once its points are worked out, handed to the store in
//! one piece ([`OrderRepo::write_order`](crate::OrderRepo::write_order)) so a database
//! that can apply it in one statement does.

use crate::{AccountHead, CustomerStats, IdempotentRecord, StoredOrder};
use regulars_domain::{CustomerId, EventKey};
use regulars_loyalty::ledger::{AccountState, LedgerEntry, Tally};

/// An order's writes: the order with its lines, what its account appends, the
/// customer's new stats and the record that answers a repeated delivery.
#[derive(Debug, Clone)]
pub struct OrderWrites {
    /// The order to store (its brand and key are the record's too).
    pub order: StoredOrder,
    /// The account's append, when the order moves the ledger.
    pub account: Option<AccountAppend>,
    /// The customer's stats after the order, replacing the stored ones.
    pub stats: Option<CustomerStats>,
    /// The record remembered under the order's key.
    pub record: IdempotentRecord,
    /// Another record remembered with it, under its own key: a POS webhook's event id
    /// with the outcome it answers.
    pub also: Option<(EventKey, IdempotentRecord)>,
}

/// Entries appended to a locked account with the state they fold to, as
/// [`LedgerRepo::append_with_state`](crate::LedgerRepo::append_with_state) takes them.
#[derive(Debug, Clone)]
pub struct AccountAppend {
    /// The account's customer.
    pub customer: CustomerId,
    /// The head the entries continue (read under the account's lock).
    pub head: AccountHead,
    /// The entries, numbered from `head.next_seq`.
    pub entries: Vec<LedgerEntry>,
    /// The state after them.
    pub state: AccountState,
    /// The tallies they changed.
    pub tallies: Vec<Tally>,
}
