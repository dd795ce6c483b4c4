//! The fake's ledgers: entries, cached balances, lots and tallies per account, and the
//! storage contract of an append.

use super::{Handle, World, conflict};
use regulars_domain::{BrandId, CustomerId, Points};
use regulars_loyalty::ledger::{AccountState, LedgerEntry, Lot, LotsWanted, Tally};
use regulars_ports::mocks::MockTransaction;
use regulars_ports::{AccountHead, ExpiringLots, LockedAccount, StoreError};

/// The number of entries, which is the seq the next one must carry.
fn next_seq(entries: &[LedgerEntry]) -> u64 {
    u64::try_from(entries.len()).unwrap_or(u64::MAX)
}

pub(super) fn ledger(tx: &mut MockTransaction, h: &Handle) {
    entry_reads(tx, h);
    state_reads(tx, h);
    appends(tx, h);
}

/// Reads of the entries and the cached balances.
fn entry_reads(tx: &mut MockTransaction, h: &Handle) {
    let r = h.clone();
    tx.ledger
        .expect_lock_account()
        .returning(move |brand, customer| {
            r.read("lock_account", |w| {
                let account = w.account(brand, customer);
                AccountHead {
                    balance: account.balance,
                    next_seq: next_seq(&account.entries),
                }
            })
        });
    let r = h.clone();
    tx.ledger
        .expect_entries()
        .returning(move |brand, customer| {
            r.read("entries", |w| w.account(brand, customer).entries)
        });
    let r = h.clone();
    tx.ledger
        .expect_entries_page()
        .returning(move |brand, customer, from, limit| {
            r.read("entries_page", |w| {
                w.account(brand, customer)
                    .entries
                    .into_iter()
                    .filter(|e| e.seq >= from)
                    .take(usize::try_from(limit).unwrap_or(usize::MAX))
                    .collect()
            })
        });
    let r = h.clone();
    tx.ledger
        .expect_entries_since()
        .returning(move |brand, customer, since| {
            r.read("entries_since", |w| {
                w.account(brand, customer)
                    .entries
                    .into_iter()
                    .filter(|e| e.at >= since)
                    .collect()
            })
        });
    let r = h.clone();
    tx.ledger
        .expect_available_points()
        .returning(move |brand, customer, at| {
            r.read("available_points", |w| {
                let account = w.account(brand, customer);
                account.state.as_ref().map(|_| {
                    let open = account
                        .lots
                        .values()
                        .filter(|l| l.expires_at.is_none_or(|e| e > at));
                    Points::checked_sum(open.map(|l| l.remaining)).unwrap_or(Points::ZERO)
                })
            })
        });
    let r = h.clone();
    tx.ledger
        .expect_balances()
        .returning(move |brand, after, limit| {
            r.read("balances", |w| {
                w.accounts
                    .iter()
                    .filter(|((b, c), _)| *b == brand && after.is_none_or(|a| *c > a))
                    .take(usize::try_from(limit).unwrap_or(usize::MAX))
                    .map(|((_, c), a)| (*c, a.balance))
                    .collect()
            })
        });
}

/// Reads of the stored account state: its lots and tallies.
fn state_reads(tx: &mut MockTransaction, h: &Handle) {
    let r = h.clone();
    tx.ledger
        .expect_lock_account_state()
        .returning(move |brand, customer| {
            r.read("lock_account_state", |w| {
                let account = w.account(brand, customer);
                let first = account.lots.values().filter_map(|l| l.expires_at).min();
                LockedAccount {
                    head: AccountHead {
                        balance: account.balance,
                        next_seq: next_seq(&account.entries),
                    },
                    state: account.state.map(|mut state| {
                        state.no_lot_expires_before(first);
                        state
                    }),
                    config_version: None,
                    // No mark kept: every order looks for a referral.
                    referral_pending: true,
                }
            })
        });
    let r = h.clone();
    tx.ledger
        .expect_stored_account()
        .returning(move |brand, customer| {
            r.read("stored_account", |w| {
                let account = w.account(brand, customer);
                let Some(mut state) = account.state.clone() else {
                    return Ok(None);
                };
                let all = LotsWanted::all();
                state
                    .add_lots(&all, all.select(account.lots_in_order()))
                    .map_err(StoreError::Corrupt)?;
                Ok(Some((state, account.tallies.into_values().collect())))
            })
            .and_then(|found| found)
        });
    let r = h.clone();
    tx.ledger
        .expect_next_expiring_lots()
        .returning(move |brand, customers, after| {
            let customers = customers.to_vec();
            r.read("next_expiring_lots", move |w| {
                customers
                    .iter()
                    .map(|&customer| {
                        let account = w.account(brand, customer);
                        let lots = account.state.as_ref().map(|_| {
                            let open: Vec<Lot> = account
                                .lots
                                .values()
                                .filter(|l| l.remaining.is_positive())
                                .filter(|l| l.expires_at.is_some_and(|e| e > after))
                                .copied()
                                .collect();
                            let first = open.iter().filter_map(|l| l.expires_at).min();
                            open.into_iter().filter(|l| l.expires_at == first).collect()
                        });
                        ExpiringLots { customer, lots }
                    })
                    .collect()
            })
        });
    let r = h.clone();
    tx.ledger
        .expect_lots()
        .returning(move |brand, customer, wanted| {
            let wanted = wanted.clone();
            r.read("lots", move |w| {
                wanted.select(w.account(brand, customer).lots_in_order())
            })
        });
    let r = h.clone();
    tx.ledger
        .expect_tallies()
        .returning(move |brand, customer, keys| {
            let keys = keys.to_vec();
            r.read("tallies", move |w| {
                let account = w.account(brand, customer);
                keys.iter()
                    .filter_map(|k| account.tallies.get(k).cloned())
                    .collect()
            })
        });
}

/// Appends, with or without the account state.
fn appends(tx: &mut MockTransaction, h: &Handle) {
    let r = h.clone();
    tx.ledger
        .expect_append()
        .returning(move |brand, customer, head, entries, balance| {
            let entries = entries.to_vec();
            r.write("append", move |w| {
                append(w, brand, customer, head, entries, balance, None)
            })
        });
    let r = h.clone();
    tx.ledger.expect_append_with_state().returning(
        move |brand, customer, head, entries, state, tallies| {
            let entries = entries.to_vec();
            let stored = (state.clone(), tallies.to_vec());
            // Storage keeps the figures alone in the state and the lots as rows.
            let balance = state.balance();
            r.write("append", move |w| {
                append(w, brand, customer, head, entries, balance, Some(stored))
            })
        },
    );
}

/// The storage contract of an append: entries continue at `next_seq` (numbered from 0,
/// as the ledger numbers them) and the cache moves by exactly their sum; the stored
/// state is replaced (or cleared) and the tallies written.
pub(super) fn append(
    w: &mut World,
    brand: BrandId,
    customer: CustomerId,
    head: AccountHead,
    entries: Vec<LedgerEntry>,
    balance: Points,
    stored: Option<(AccountState, Vec<Tally>)>,
) -> Result<AccountHead, StoreError> {
    let account = w.accounts.entry((brand, customer)).or_default();
    let current = AccountHead {
        balance: account.balance,
        next_seq: next_seq(&account.entries),
    };
    if current != head {
        return Err(conflict("ledger head moved"));
    }
    let numbered = entries
        .iter()
        .zip(head.next_seq..)
        .all(|(e, seq)| e.seq == seq);
    if !numbered {
        return Err(StoreError::Invalid("entries do not follow the head".into()));
    }
    let sum = entries
        .iter()
        .try_fold(head.balance, |b, e| b.checked_add(e.amount));
    if sum != Some(balance) {
        return Err(StoreError::Invalid("new balance does not add up".into()));
    }
    account.entries.extend(entries);
    account.balance = balance;
    let new_seq = next_seq(&account.entries);
    account.state = match stored {
        Some((state, tallies)) => {
            if state.next_seq() != new_seq {
                return Err(StoreError::Invalid("state does not follow the head".into()));
            }
            for tally in tallies {
                account.tallies.insert(tally.key(), tally);
            }
            let changes = state.lot_changes();
            if changes.replace_all {
                account.lots.clear();
            }
            for seq in changes.delete {
                account.lots.remove(&seq);
            }
            for lot in changes.write {
                account.lots.insert(lot.seq, lot);
            }
            Some(state.without_lots())
        }
        None => {
            account.lots.clear();
            None
        }
    };
    Ok(AccountHead {
        balance,
        next_seq: new_seq,
    })
}
