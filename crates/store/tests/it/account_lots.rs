//! Open lots as rows: stored with the account state, read back by what a command can
//! touch exactly as `LotsWanted::select` defines it (to the nanosecond of an expiry),
//! written back by what a command changed, and the stored state with its rows equal to
//! the fold of the entries.

use crate::support::{key, seed};
use crate::{Store, TestResult};
use regulars_domain::Points;
use regulars_loyalty::ledger::{Ledger, Lot, LotsWanted, fold};
use regulars_ports::UnitOfWork;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const AT: OffsetDateTime = datetime!(2026-05-06 08:30:15.250001 UTC);

/// A ledger with lots of every kind: several expiries (two equal, one with nanoseconds
/// within its microsecond), one that never expires, one part spent.
fn history() -> Result<Ledger, Box<dyn std::error::Error + Send + Sync>> {
    let mut ledger = Ledger::new();
    let expiries = [
        Some(AT + Duration::days(30)),
        Some(AT + Duration::days(10) + Duration::nanoseconds(777)),
        None,
        Some(AT + Duration::days(10) + Duration::nanoseconds(777)),
        Some(AT + Duration::days(20)),
        Some(AT + Duration::days(10)),
    ];
    for (i, expires_at) in expiries.into_iter().enumerate() {
        let points = Points::new(10 * (i as i64 + 1));
        ledger.earn(
            key("pos:generic", &format!("L-{i}")),
            points,
            AT,
            expires_at,
        )?;
    }
    ledger.redeem(Points::new(15), AT, "reward:cake")?;
    Ok(ledger)
}

fn in_order(ledger: &Ledger) -> Vec<Lot> {
    ledger.state().lots().collect()
}

pub(crate) async fn lots_are_rows_read_by_what_a_command_needs(store: Store) -> TestResult {
    let (brand, lan, _) = seed(&store, 1).await?;
    let full = history()?;
    // Stored as the service stores an account built from its entries.
    let built = Ledger::from_entries(full.entries().to_vec())?;
    let mut tx = store.begin().await?;
    let head = tx.ledger().lock_account(brand.id, lan.id).await?;
    tx.ledger()
        .append_with_state(
            brand.id,
            lan.id,
            head,
            built.entries(),
            built.state().account(),
            &built.all_tallies(),
        )
        .await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let locked = tx.ledger().lock_account_state(brand.id, lan.id).await?;
    let state = locked.state.ok_or("a state is stored")?;
    assert_eq!(state.balance(), full.balance());
    let held = Ledger::resume(state.clone(), []);
    assert_eq!(
        held.state().lots().count(),
        0,
        "the lots are rows, not in the state"
    );
    let resumed = Ledger::resume(state.clone(), []);
    // The lock's word on the earliest expiry: nothing due before it, so no read.
    assert!(resumed.holds_lots_for(&LotsWanted::sweep(AT + Duration::days(9))));
    assert!(!resumed.holds_lots_for(&LotsWanted::sweep(AT + Duration::days(10))));

    let lots = in_order(&full);
    let seqs = |n: u64| (0..n).collect::<Vec<_>>();
    let mut cases = Vec::new();
    for days in [0, 10, 15, 25, 40] {
        let at = AT + Duration::days(days);
        cases.push(LotsWanted::sweep(at));
        cases.push(LotsWanted::sweep(at + Duration::nanoseconds(777)));
        for debit in [1, 5, 40, 95, 1_000] {
            cases.push(LotsWanted::debit(at, Points::new(debit)));
            for seq in seqs(7) {
                cases.push(LotsWanted::refund(at, Points::new(debit), seq));
            }
        }
    }
    cases.push(LotsWanted::all());
    for wanted in &cases {
        let found = tx.ledger().lots(brand.id, lan.id, wanted).await?;
        assert_eq!(found, wanted.select(lots.clone()), "{wanted:?}");
    }

    // A redemption through the partial view, written back as rows.
    let at = AT + Duration::days(15);
    let mut resumed = Ledger::resume(state, []);
    let wanted = LotsWanted::debit(at, Points::new(25));
    let found = tx.ledger().lots(brand.id, lan.id, &wanted).await?;
    resumed.add_lots(&wanted, found)?;
    let entries = resumed.redeem(Points::new(25), at, "reward:tea")?;
    let mut expected = full.clone();
    assert_eq!(expected.redeem(Points::new(25), at, "reward:tea")?, entries);
    tx.ledger()
        .append_with_state(
            brand.id,
            lan.id,
            locked.head,
            &entries,
            resumed.state().account(),
            &resumed.changed_tallies(),
        )
        .await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let (stored, _) = tx
        .ledger()
        .stored_account(brand.id, lan.id)
        .await?
        .ok_or("a state is stored")?;
    let all = tx.ledger().entries(brand.id, lan.id).await?;
    let folded = fold(&all)?;
    assert_eq!(&stored, folded.account());
    assert_eq!(
        in_order(&Ledger::resume(stored.clone(), [])),
        in_order(&expected),
        "the rows are the fold's open lots"
    );
    Ok(())
}
