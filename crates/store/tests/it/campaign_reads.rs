//! What a campaign page reads and writes with one statement each: customers with their
//! latest visit alone (the last of their full histories, without its lines), a page's
//! vouchers in one multi-row insert, and the unused vouchers of many customers.

use crate::support::{customer, order, seed, voucher};
use crate::{Store, TestResult};
use regulars_domain::{OrderId, VoucherId};
use regulars_loyalty::vouchers::{NewVoucher, Voucher, VoucherSource};
use regulars_ports::{CustomerHistory, StoreError, UnitOfWork};
use time::Duration;
use time::macros::datetime;

const ISSUED_AT: time::OffsetDateTime = datetime!(2026-06-01 00:00:00.000001 UTC);
const EXPIRES_AT: time::OffsetDateTime = datetime!(2026-07-01 00:00:00.000001 UTC);

/// `h` as `latest_histories` gives it: the last visit alone, without its lines.
fn latest_of(h: &CustomerHistory) -> CustomerHistory {
    let mut h = h.clone();
    h.visits = h.visits.pop().into_iter().collect();
    for v in &mut h.visits {
        v.skus.clear();
    }
    h
}

pub(crate) async fn latest_histories_hold_the_last_visit_of_the_histories(
    store: Store,
) -> TestResult {
    let (b, lan, _) = seed(&store, 1).await?;
    let minh = customer(b.id, 2, "0901234568");
    let mut tx = store.begin().await?;
    tx.customers().insert_customer(&minh).await?;
    // Lan: an order, then two at the same later time (the last by id is the latest);
    // Minh: none.
    let placed = datetime!(2026-05-06 08:30:15.250001 UTC);
    for (n, at) in [
        (11, placed),
        (13, placed + Duration::days(3)),
        (12, placed + Duration::days(3)),
    ] {
        let mut o = order(b.id, n, &format!("A-{n}"), Some(&lan));
        o.id = OrderId::from_bytes([n; 16]);
        o.order.placed_at = at;
        tx.orders().insert_order(&o).await?;
    }
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let full = tx.intelligence().histories(b.id, None, 10).await?;
    let latest = tx.intelligence().latest_histories(b.id, None, 10).await?;
    assert_eq!(full.len(), 2);
    let expected: Vec<CustomerHistory> = full.iter().map(latest_of).collect();
    assert_eq!(latest, expected);
    let of_lan = latest.iter().find(|h| h.customer.id == lan.id);
    assert_eq!(
        of_lan.map(|h| h.visits.iter().map(|v| v.order_id).collect::<Vec<_>>()),
        Some(vec![OrderId::from_bytes([13; 16])])
    );
    // Paged like the histories.
    let first = full[0].customer.id;
    let rest = tx
        .intelligence()
        .latest_histories(b.id, Some(first), 1)
        .await?;
    assert_eq!(rest, vec![latest_of(&full[1])]);
    Ok(())
}

pub(crate) async fn a_page_of_vouchers_is_one_insert_read_back_by_customer(
    store: Store,
) -> TestResult {
    let (b, lan, reward) = seed(&store, 1).await?;
    let minh = customer(b.id, 2, "0901234568");
    let mut tx = store.begin().await?;
    tx.customers().insert_customer(&minh).await?;
    let page = vec![
        (voucher(1, lan.id, reward.id, ISSUED_AT, EXPIRES_AT), None),
        (
            voucher(
                2,
                lan.id,
                reward.id,
                ISSUED_AT,
                EXPIRES_AT - Duration::days(9),
            ),
            None,
        ),
        (voucher(3, minh.id, reward.id, ISSUED_AT, EXPIRES_AT), None),
        (
            voucher(
                4,
                minh.id,
                reward.id,
                ISSUED_AT,
                ISSUED_AT + Duration::days(1),
            ),
            None,
        ),
    ];
    tx.vouchers().insert_vouchers(b.id, &page).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.vouchers().vouchers_of(b.id, lan.id).await?.len(), 2);
    assert_eq!(tx.vouchers().vouchers_of(b.id, minh.id).await?.len(), 2);
    let now = ISSUED_AT + Duration::days(2);
    let mut unused: Vec<VoucherId> = tx
        .vouchers()
        .unused_vouchers_of(b.id, &[lan.id, minh.id], now)
        .await?
        .iter()
        .map(Voucher::id)
        .collect();
    unused.sort();
    let ids = |ns: &[u8]| {
        ns.iter()
            .map(|n| VoucherId::from_bytes([*n; 16]))
            .collect::<Vec<_>>()
    };
    assert_eq!(unused, ids(&[1, 2, 3]), "voucher 4 expired before now");
    tx.rollback().await?;

    // A code already taken fails the whole insert as a conflict, writing none of it.
    let same_code = Voucher::issue(NewVoucher {
        id: VoucherId::from_bytes([5; 16]),
        code: page[0].0.code().clone(),
        customer: lan.id,
        reward: reward.id,
        source: VoucherSource::Manual {
            actor: "staff".into(),
        },
        issued_at: ISSUED_AT,
        expires_at: EXPIRES_AT,
    })?;
    let fresh = voucher(6, lan.id, reward.id, ISSUED_AT, EXPIRES_AT);
    let mut tx = store.begin().await?;
    let err = tx
        .vouchers()
        .insert_vouchers(b.id, &[(fresh, None), (same_code, None)])
        .await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    Ok(())
}
