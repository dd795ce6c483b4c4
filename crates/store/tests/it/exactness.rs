//! Money, timestamps and points come back exactly as they went in.

use crate::support::{customer, key, order, seed};
use crate::{Store, TestResult};
use regulars_domain::{Currency, Money, OrderId, Points};
use regulars_loyalty::ledger::{EntryKind, LedgerEntry};
use regulars_ports::{CountedTimes, CustomerStats, TierState, UnitOfWork};
use rust_decimal_macros::dec;
use time::macros::datetime;

pub(crate) async fn money_round_trips_exactly(store: Store) -> TestResult {
    let (brand, lan, _) = seed(&store, 1).await?;
    let usd = |amount| Money::new(amount, Currency::USD);

    let mut dollars = order(brand.id, 1, "USD-1", Some(&lan));
    dollars.order.total = usd(dec!(19.99))?;
    dollars.order.lines[0].unit_price = usd(dec!(9.99))?;
    dollars.order.lines[0].modifiers[0].unit_price = usd(dec!(0.01))?;
    dollars.order.lines[1].unit_price = usd(dec!(0.10))?;
    dollars.refunded = usd(dec!(0.01))?;

    // Larger than any f64 represents exactly (2^53 ≈ 9.0e15).
    let huge = 123_456_789_012_345_678;
    let mut dong = order(brand.id, 2, "VND-1", Some(&lan));
    dong.id = OrderId::from_bytes([2; 16]);
    dong.order.total = Money::from_minor_units(huge, Currency::VND);
    dong.order.lines[0].unit_price = Money::from_minor_units(huge - 1, Currency::VND);
    dong.refunded = Money::from_minor_units(huge - 3, Currency::VND);

    let stats = CustomerStats {
        customer_id: lan.id,
        visits: u64::try_from(i64::MAX)?,
        spend: Money::from_minor_units(i64::MAX, Currency::VND),
        first_visit_at: None,
        counted: CountedTimes::default(),
        last_visit_at: None,
        tier: None,
    };

    let mut tx = store.begin().await?;
    tx.orders().insert_order(&dollars).await?;
    tx.orders().insert_order(&dong).await?;
    tx.customers().save_stats(brand.id, &stats).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let stored = tx
        .orders()
        .order_by_key(brand.id, &key("pos:generic", "USD-1"))
        .await?
        .expect("stored");
    assert_eq!(stored, dollars);
    assert_eq!(stored.order.total.amount(), dec!(19.99));
    assert_eq!(
        stored.order.total.to_string(),
        usd(dec!(19.99))?.to_string()
    );
    let stored = tx
        .orders()
        .order_by_key(brand.id, &key("pos:generic", "VND-1"))
        .await?
        .expect("stored");
    assert_eq!(stored, dong);
    assert_eq!(stored.order.total.to_minor_units()?, huge);
    assert_eq!(tx.customers().stats(brand.id, lan.id).await?, Some(stats));

    // Refunds keep the exact figure too.
    tx.orders()
        .set_refunded(brand.id, dollars.id, usd(dec!(0.01))?, usd(dec!(19.98))?)
        .await?;
    let stored = tx
        .orders()
        .order_by_key(brand.id, &key("pos:generic", "USD-1"))
        .await?
        .expect("stored");
    assert_eq!(stored.refunded, usd(dec!(19.98))?);
    Ok(())
}

pub(crate) async fn timestamps_round_trip_to_the_microsecond(store: Store) -> TestResult {
    let (brand, _, _) = seed(&store, 1).await?;
    let instants = [
        datetime!(2026-06-01 12:34:56.123456 UTC),
        // Other offsets come back as the same instant (in UTC).
        datetime!(2026-06-01 19:34:56.123457 +07:00),
        datetime!(1969-12-31 23:59:59.999999 UTC),
        datetime!(1900-01-01 00:00:00.000001 UTC),
        datetime!(9999-12-31 23:59:59.999999 UTC),
    ];
    let mut tx = store.begin().await?;
    for (n, at) in instants.iter().enumerate() {
        let n = u8::try_from(n)? + 10;
        let mut c = customer(brand.id, n, &format!("09012345{n:02}"));
        c.created_at = *at;
        tx.customers().insert_customer(&c).await?;
        tx.customers()
            .save_stats(
                brand.id,
                &CustomerStats {
                    customer_id: c.id,
                    visits: 1,
                    spend: Money::from_minor_units(0, Currency::VND),
                    first_visit_at: Some(*at),
                    counted: CountedTimes {
                        first: Some(*at),
                        last: Some(*at),
                        second_last: None,
                    },
                    last_visit_at: Some(*at),
                    tier: Some(TierState {
                        code: "member".into(),
                        since: *at,
                    }),
                },
            )
            .await?;
    }
    tx.commit().await?;

    let mut tx = store.begin().await?;
    for (n, at) in instants.iter().enumerate() {
        let n = u8::try_from(n)? + 10;
        let id = regulars_domain::CustomerId::from_bytes([n; 16]);
        let c = tx
            .customers()
            .customer(brand.id, id)
            .await?
            .expect("stored");
        assert_eq!(c.created_at, *at);
        assert_eq!(c.created_at.offset(), time::UtcOffset::UTC);
        let stats = tx.customers().stats(brand.id, id).await?.expect("stored");
        assert_eq!(stats.first_visit_at, Some(*at));
        assert_eq!(stats.tier.map(|t| t.since), Some(*at));
    }
    Ok(())
}

pub(crate) async fn points_round_trip_at_the_extremes(store: Store) -> TestResult {
    let (brand, lan, _) = seed(&store, 1).await?;
    let entry = |seq, amount| LedgerEntry {
        seq,
        at: datetime!(2026-05-06 08:30:00.000001 UTC),
        amount: Points::new(amount),
        kind: EntryKind::Adjust {
            reason: "migration from the old system".into(),
            actor: "ops".into(),
            expires_at: None,
        },
    };
    let entries = [entry(0, i64::MAX), entry(1, -i64::MAX), entry(2, -i64::MAX)];
    let mut placed = order(brand.id, 1, "A-1", Some(&lan));
    placed.points_earned = Points::new(i64::MAX);

    let mut tx = store.begin().await?;
    let head = tx.ledger().lock_account(brand.id, lan.id).await?;
    tx.ledger()
        .append(brand.id, lan.id, head, &entries, Points::new(-i64::MAX))
        .await?;
    tx.orders().insert_order(&placed).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(
        tx.ledger().entries(brand.id, lan.id).await?,
        entries.to_vec()
    );
    assert_eq!(
        tx.ledger().balances(brand.id, None, 1).await?,
        vec![(lan.id, Points::new(-i64::MAX))]
    );
    assert_eq!(
        tx.orders()
            .order_by_key(brand.id, &placed.order.key)
            .await?
            .map(|o| o.points_earned),
        Some(Points::new(i64::MAX))
    );
    Ok(())
}
