//! What the brand reports read: orders page by page in (placed_at, id) order, customers
//! with counted orders before a time, voucher counts and current segments.

use crate::support::{customer, keep_counted_times, order, seed, vnd, voucher};
use crate::{Store, TestResult};
use regulars_domain::{CustomerId, OrderId};
use regulars_ports::{CustomerScores, UnitOfWork};
use regulars_reports::Period;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// Brand 1 with customers 1 (seeded), 2 and 3, and orders placed at these times (order
/// `n` has id `[n; 16]`); brand 2 with one order in the middle of everything.
pub(crate) async fn order_facts_page_by_time_then_id(store: Store) -> TestResult {
    let (b, c1, _) = seed(&store, 1).await?;
    let (other, oc, _) = seed(&store, 2).await?;
    let c2 = customer(b.id, 12, "0901234502");
    let c3 = customer(b.id, 13, "0901234503");
    let t = datetime!(2026-05-01 00:00 UTC);
    // (n, customer, minutes after t, refunded)
    let rows: [(u8, Option<&regulars_domain::Customer>, i64, i64); 8] = [
        (10, Some(&c3), -10, 0),      // before: 3 is a prior customer
        (11, Some(&c2), -5, 129_000), // before, refunded in full: 2 is not
        (12, Some(&c2), -1, 1_000),   // before, partly refunded: 2 is after all
        (15, Some(&c1), 0, 0),        // at the start
        (13, Some(&c1), 30, 0),       // three at the same time, ids 13 < 14 < 16
        (16, None, 30, 0),
        (14, Some(&c3), 30, 129_000), // refunded in full: still a fact
        (17, Some(&c1), 60, 0),       // at the end: outside
    ];
    let mut tx = store.begin().await?;
    tx.customers().insert_customer(&c2).await?;
    tx.customers().insert_customer(&c3).await?;
    // Points the orders of the hour before t earned, per location.
    let mut points: std::collections::BTreeMap<Option<String>, i64> = Default::default();
    for (n, who, minutes, refunded) in rows {
        let mut o = order(b.id, n, &format!("R-{n}"), who);
        o.order.placed_at = t + Duration::minutes(minutes);
        if n == 10 {
            o.order.location = Some("q3".to_owned());
        }
        if minutes < 0 {
            *points.entry(o.order.location.clone()).or_default() += o.points_earned.value();
        }
        tx.orders().insert_order(&o).await?;
        if refunded > 0 {
            tx.orders()
                .set_refunded(b.id, o.id, vnd(0), vnd(refunded))
                .await?;
        }
    }
    keep_counted_times(tx.as_mut(), b.id, &[&c1, &c2, &c3]).await?;
    let mut theirs = order(other.id, 99, "R-99", Some(&oc));
    theirs.order.placed_at = t + Duration::minutes(30);
    tx.orders().insert_order(&theirs).await?;
    tx.commit().await?;

    let period = Period::new(t, t + Duration::minutes(60))?;
    let mut tx = store.begin().await?;
    let mut walked = Vec::new();
    let mut after: Option<(OffsetDateTime, OrderId)> = None;
    loop {
        let page = tx.reports().order_facts(b.id, period, after, 2).await?;
        assert!(page.len() <= 2);
        walked.extend(page.iter().cloned());
        match page.last() {
            Some(last) if page.len() == 2 => after = Some((last.placed_at, last.id)),
            _ => break,
        }
    }
    let ids: Vec<u8> = walked
        .iter()
        .map(|f| f.id.as_uuid().as_bytes()[0])
        .collect();
    assert_eq!(ids, vec![15, 13, 14, 16]);
    let refunded = &walked[2];
    assert_eq!(refunded.customer, Some(c3.id));
    assert_eq!(
        (refunded.total, refunded.refunded),
        (vnd(129_000), vnd(129_000))
    );
    assert!(!refunded.counts());
    assert_eq!(walked[3].customer, None);
    assert_eq!(walked[0].location.as_deref(), Some("q1"));
    assert_eq!(walked[0].placed_at, t);

    let mut prior: Vec<CustomerId> = Vec::new();
    let mut after = None;
    loop {
        let page = tx
            .reports()
            .customers_before(b.id, t, None, after, 1)
            .await?;
        prior.extend(&page);
        match page.last() {
            Some(&last) => after = Some(last),
            None => break,
        }
    }
    let mut expected = vec![c2.id, c3.id];
    expected.sort();
    assert_eq!(prior, expected);

    // Limited to locations: customer 3's earlier order was at q3.
    let q1 = Some(vec!["q1".to_owned()]);
    let at_q1 = tx.reports().customers_before(b.id, t, q1, None, 10).await?;
    assert_eq!(at_q1, vec![c2.id]);
    let q3 = Some(vec!["q3".to_owned()]);
    let at_q3 = tx.reports().customers_before(b.id, t, q3, None, 10).await?;
    assert_eq!(at_q3, vec![c3.id]);
    // Counted by storage: the same answers.
    assert_eq!(tx.reports().count_customers_before(b.id, t, None).await?, 2);
    let q3 = Some(vec!["q3".to_owned()]);
    assert_eq!(
        tx.reports()
            .count_customers_before(b.id, t, q3.clone(),)
            .await?,
        1
    );
    let hour_before = Period::new(t - Duration::minutes(60), t)?;
    let mut summed: Vec<(Option<String>, i64)> = tx
        .reports()
        .points_by_location(b.id, hour_before)
        .await?
        .into_iter()
        .map(|(l, p)| (l, p.value()))
        .collect();
    summed.sort();
    assert_eq!(summed, points.into_iter().collect::<Vec<_>>());
    Ok(())
}

pub(crate) async fn vouchers_are_counted_by_issue_time(store: Store) -> TestResult {
    let (b, c, reward) = seed(&store, 1).await?;
    let (other, oc, oreward) = seed(&store, 2).await?;
    let t = datetime!(2026-05-01 00:00 UTC);
    let mut tx = store.begin().await?;
    for (n, minutes) in [(1u8, -1i64), (2, 0), (3, 10), (4, 20), (5, 60)] {
        let at = t + Duration::minutes(minutes);
        let v = voucher(n, c.id, reward.id, at, at + Duration::days(30));
        tx.vouchers().insert_voucher(b.id, &v, None).await?;
    }
    let v = voucher(9, oc.id, oreward.id, t, t + Duration::days(30));
    tx.vouchers().insert_voucher(other.id, &v, None).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    // Redeemed: one before the period (does not count), one inside; later counts too.
    for n in [1u8, 3] {
        tx.vouchers()
            .redeem_voucher(
                b.id,
                &crate::support::code(n),
                t + Duration::days(2),
                None,
                None,
            )
            .await?;
    }
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let counts = tx
        .reports()
        .voucher_counts(b.id, Period::new(t, t + Duration::minutes(60))?)
        .await?;
    assert_eq!((counts.issued, counts.redeemed), (3, 1));
    let none = tx
        .reports()
        .voucher_counts(
            b.id,
            Period::new(t - Duration::days(9), t - Duration::days(8))?,
        )
        .await?;
    assert_eq!((none.issued, none.redeemed), (0, 0));
    let totals = tx
        .reports()
        .points_totals(b.id, Period::new(t, t + Duration::minutes(60))?)
        .await?;
    assert_eq!((totals.earned.value(), totals.redeemed.value()), (0, 0));
    Ok(())
}

/// A redemption counts where the till that made it stands, else where the order it names
/// was placed, whether that order arrived before or after it; with neither it is at no
/// location.
pub(crate) async fn redemptions_count_at_their_location(store: Store) -> TestResult {
    let (b, c, reward) = seed(&store, 1).await?;
    let t = datetime!(2026-05-01 00:00 UTC);
    let mut tx = store.begin().await?;
    for n in 1u8..=4 {
        let v = voucher(n, c.id, reward.id, t, t + Duration::days(30));
        tx.vouchers().insert_voucher(b.id, &v, None).await?;
    }
    let mut early = order(b.id, 21, "R-21", Some(&c));
    early.order.location = Some("q1".to_owned());
    tx.orders().insert_order(&early).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let at = t + Duration::days(1);
    let code = crate::support::code;
    // At the q2 till; on the order already at q1; on an order not arrived yet; bare.
    let redeemed = [
        (1u8, None, Some("q2".to_owned())),
        (2, Some(early.order.key.clone()), None),
        (3, Some(crate::support::key("pos:generic", "R-22")), None),
        (4, None, None),
    ];
    for (n, order, location) in redeemed {
        tx.vouchers()
            .redeem_voucher(b.id, &code(n), at, order, location)
            .await?;
    }
    let mut late = order(b.id, 22, "R-22", Some(&c));
    late.order.location = Some("q3".to_owned());
    tx.orders().insert_order(&late).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let period = Period::new(t, t + Duration::days(2))?;
    let mut found: Vec<(u8, Option<String>)> = tx
        .reports()
        .redeemed_vouchers(b.id, period, None, 10)
        .await?
        .into_iter()
        .map(|v| (v.id.as_uuid().as_bytes()[0], v.location))
        .collect();
    found.sort();
    let expected = [(1, Some("q2")), (2, Some("q1")), (3, Some("q3")), (4, None)];
    let expected: Vec<(u8, Option<String>)> = expected
        .into_iter()
        .map(|(n, l)| (n, l.map(str::to_owned)))
        .collect();
    assert_eq!(found, expected);
    Ok(())
}

pub(crate) async fn segments_are_the_first_of_the_latest_scores(store: Store) -> TestResult {
    let (b, c1, _) = seed(&store, 1).await?;
    let c2 = customer(b.id, 12, "0901234502");
    let c3 = customer(b.id, 13, "0901234503");
    let score = |customer: CustomerId, segments: &[&str]| CustomerScores {
        customer_id: customer,
        scored_at: datetime!(2026-06-01 00:00 UTC),
        p_alive: None,
        expected_visits_30d: None,
        expected_spend_minor: None,
        clv_minor: None,
        typical_gap_days: None,
        regularity: None,
        next_visit_at: None,
        preferred_hour: None,
        preferred_weekday: None,
        favourite_item: None,
        next_best_item: None,
        rfm: None,
        segments: segments.iter().map(|s| (*s).to_owned()).collect(),
        previous_segments: vec!["Lost".into()],
        features: None,
    };
    let mut tx = store.begin().await?;
    tx.customers().insert_customer(&c2).await?;
    tx.customers().insert_customer(&c3).await?;
    tx.intelligence()
        .save_scores(
            b.id,
            &[
                score(c1.id, &["Champions", "Weekday regulars"]),
                score(c2.id, &[]),
                score(c3.id, &["At risk"]),
            ],
        )
        .await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let first = tx.reports().current_segments(b.id, None, 2).await?;
    let after = first.last().map(|(c, _)| *c);
    let rest = tx.reports().current_segments(b.id, after, 2).await?;
    let mut all: Vec<(CustomerId, String)> = first.into_iter().chain(rest).collect();
    all.sort();
    let mut expected = vec![
        (c1.id, "Champions".to_owned()),
        (c3.id, "At risk".to_owned()),
    ];
    expected.sort();
    assert_eq!(
        all, expected,
        "a customer scored into no segment is left out"
    );
    assert!(
        tx.reports()
            .current_segments(crate::support::brand_id(2), None, 10)
            .await?
            .is_empty()
    );
    Ok(())
}
