//! Campaigns, their members' revenue, and the outbox's claim / record life cycle.

use crate::support::{customer, order, seed, vnd};
use crate::{Store, TestResult};
use regulars_domain::{BrandId, CampaignId, Channel, CustomerId};
use regulars_ports::{
    CampaignMember, CampaignRecord, CampaignStatus, DeliveryStatus, MemberGroup, OutboxMessage,
    OutboxStatus, Route, UnitOfWork,
};
use std::collections::BTreeMap;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

fn campaign(brand: BrandId, n: u8, created_at: OffsetDateTime) -> CampaignRecord {
    CampaignRecord {
        id: CampaignId::from_bytes([n; 16]),
        brand_id: brand,
        name: format!("Campaign {n}"),
        definition: format!("{{\"n\": {n}}}"),
        status: CampaignStatus::Draft,
        budget_used_minor: 0,
        created_at,
        updated_at: created_at,
        last_run_at: None,
    }
}

pub(crate) fn message(brand: BrandId, n: u8, key: &str, due_at: OffsetDateTime) -> OutboxMessage {
    OutboxMessage {
        id: Uuid::from_bytes([n; 16]),
        brand_id: brand,
        campaign_id: Some(CampaignId::from_bytes([1; 16])),
        customer_id: Some(CustomerId::from_bytes([brand.as_uuid().as_bytes()[0]; 16])),
        phone: Some("+84901234567".into()),
        dedupe_key: key.into(),
        route: Route {
            channel: Channel::Zalo,
            recipient: "+84901234567".into(),
        },
        fallbacks: vec![
            Route {
                channel: Channel::Sms,
                recipient: "+84901234567".into(),
            },
            Route {
                channel: Channel::Email,
                recipient: "lan@example.vn".into(),
            },
        ],
        template: Some("tpl-1".into()),
        subject: Some("Chào bạn".into()),
        body: "[QC] Chào Lan, mã 7K2M".into(),
        data: BTreeMap::from([("code".into(), "7K2M".into())]),
        promotional: true,
        send_window: Some(regulars_ports::SendWindow {
            utc_offset_seconds: 7 * 3600,
            start_hour: 7,
            end_hour: 22,
        }),
        sms: regulars_domain::sms::SmsOptions {
            fold_accents: true,
            max_segments: Some(2),
        },
        zns_params: BTreeMap::from([("code".into(), regulars_domain::zns::ZnsParamType::Code)]),
        opt_out: Some("Tu choi QC: {link}".into()),
        bonus_points: None,
        status: OutboxStatus::Pending,
        attempts: 0,
        due_at,
        last_error: None,
        sent_at: None,
        delivered_at: None,
        provider_message_id: None,
        created_at: due_at - Duration::minutes(1),
    }
}

pub(crate) async fn campaigns_round_trip_page_and_filter(store: Store) -> TestResult {
    let (b, _, _) = seed(&store, 1).await?;
    let (other, _, _) = seed(&store, 2).await?;
    let t0 = datetime!(2026-06-01 08:00 UTC);
    let mut tx = store.begin().await?;
    for n in 1..=3u8 {
        tx.campaigns()
            .insert_campaign(&campaign(b.id, n, t0 + Duration::hours(i64::from(n))))
            .await?;
    }
    tx.campaigns()
        .insert_campaign(&campaign(other.id, 9, t0))
        .await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let first = tx.campaigns().campaigns(b.id, None, 2).await?;
    let ids: Vec<u8> = first.iter().map(|c| c.id.as_uuid().as_bytes()[0]).collect();
    assert_eq!(ids, vec![3, 2], "newest first");
    let rest = tx.campaigns().campaigns(b.id, Some(first[1].id), 2).await?;
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0], campaign(b.id, 1, t0 + Duration::hours(1)));

    let mut active = campaign(b.id, 2, t0 + Duration::hours(2));
    active.status = CampaignStatus::Active;
    active.budget_used_minor = 45_000;
    active.last_run_at = Some(t0 + Duration::days(1));
    active.updated_at = t0 + Duration::days(1);
    assert!(tx.campaigns().update_campaign(&active).await?);
    // Another brand's campaign is not reachable through this brand.
    let mut foreign = campaign(b.id, 9, t0);
    foreign.status = CampaignStatus::Active;
    assert!(!tx.campaigns().update_campaign(&foreign).await?);
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(
        tx.campaigns()
            .campaigns_with_status(b.id, CampaignStatus::Active)
            .await?,
        vec![active.clone()]
    );
    assert_eq!(
        tx.campaigns().campaign(b.id, active.id).await?,
        Some(active)
    );
    assert_eq!(
        tx.campaigns()
            .campaign(b.id, CampaignId::from_bytes([9; 16]))
            .await?,
        None
    );
    Ok(())
}

pub(crate) async fn members_keep_their_first_assignment_and_revenue_counts_the_window(
    store: Store,
) -> TestResult {
    let (b, c1, _) = seed(&store, 1).await?;
    let c2 = customer(b.id, 2, "0902222222");
    let c3 = customer(b.id, 3, "0903333333");
    let campaign_id = CampaignId::from_bytes([7; 16]);
    let at = datetime!(2026-05-01 08:00 UTC);
    let mut tx = store.begin().await?;
    tx.customers().insert_customer(&c2).await?;
    tx.customers().insert_customer(&c3).await?;
    tx.campaigns()
        .insert_campaign(&campaign(b.id, 7, at))
        .await?;
    // c1: one order inside the 14-day window (129,000 less 29,000 refunded), one
    // before it and one after it; c2 (hold-out): one order inside; c3: nothing.
    let mut inside = order(b.id, 10, "A-10", Some(&c1));
    inside.order.placed_at = at + Duration::days(3);
    inside.refunded = vnd(29_000);
    let mut before = order(b.id, 11, "A-11", Some(&c1));
    before.order.placed_at = at - Duration::hours(1);
    let mut after = order(b.id, 12, "A-12", Some(&c1));
    after.order.placed_at = at + Duration::days(14);
    let mut held = order(b.id, 13, "A-13", Some(&c2));
    held.order.placed_at = at + Duration::days(13);
    for o in [&inside, &before, &after, &held] {
        tx.orders().insert_order(o).await?;
    }
    let members = [
        CampaignMember {
            campaign_id,
            customer_id: c1.id,
            group: MemberGroup::Treatment,
            at,
            variant: None,
        },
        CampaignMember {
            campaign_id,
            customer_id: c2.id,
            group: MemberGroup::Holdout,
            at,
            variant: None,
        },
        CampaignMember {
            campaign_id,
            customer_id: c3.id,
            group: MemberGroup::Holdout,
            at,
            variant: None,
        },
    ];
    assert_eq!(tx.campaigns().add_members(b.id, &members).await?, 3);
    // A second run puts c1 in the hold-out: the first assignment stays.
    let again = [CampaignMember {
        group: MemberGroup::Holdout,
        at: at + Duration::days(5),
        ..members[0]
    }];
    assert_eq!(tx.campaigns().add_members(b.id, &again).await?, 0);
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(
        tx.campaigns().member_counts(b.id, campaign_id).await?,
        (1, 2)
    );
    let mut revenue = tx
        .campaigns()
        .member_revenue(b.id, campaign_id, 14, None)
        .await?;
    revenue.sort_by_key(|r| r.customer_id);
    let got: Vec<(CustomerId, MemberGroup, i64, u64)> = revenue
        .iter()
        .map(|r| (r.customer_id, r.group, r.net_minor, r.orders))
        .collect();
    assert_eq!(
        got,
        vec![
            (c1.id, MemberGroup::Treatment, 100_000, 1),
            (c2.id, MemberGroup::Holdout, 129_000, 1),
            (c3.id, MemberGroup::Holdout, 0, 0),
        ]
    );
    drop(tx);
    // Another brand sees no members.
    let (other, _, _) = seed(&store, 2).await?;
    let mut tx = store.begin().await?;
    assert!(
        tx.campaigns()
            .member_revenue(other.id, campaign_id, 14, None)
            .await?
            .is_empty()
    );
    Ok(())
}

pub(crate) async fn outbox_claims_records_and_reports(store: Store) -> TestResult {
    let (b, _, _) = seed(&store, 1).await?;
    let now = datetime!(2026-06-01 08:00 UTC);
    let lease = now + Duration::seconds(60);
    let mut tx = store.begin().await?;
    let first = message(b.id, 1, "c:1:a", now - Duration::minutes(5));
    let second = message(b.id, 2, "c:1:b", now - Duration::minutes(1));
    let later = message(b.id, 3, "c:1:c", now + Duration::hours(1));
    assert_eq!(
        tx.outbox()
            .enqueue(&[first.clone(), second.clone(), later.clone()])
            .await?,
        3
    );
    // The same dedupe key again is skipped, not an error.
    let dup = message(b.id, 4, "c:1:a", now);
    assert_eq!(tx.outbox().enqueue(&[dup]).await?, 0);
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let claimed = tx.outbox().claim_due(now, lease, 10).await?;
    tx.commit().await?;
    let ids: Vec<Uuid> = claimed.iter().map(|m| m.id).collect();
    assert_eq!(ids, vec![first.id, second.id], "due only, oldest first");
    assert!(
        claimed
            .iter()
            .all(|m| m.status == OutboxStatus::Sending && m.attempts == 1 && m.due_at == lease)
    );
    assert_eq!(claimed[0].data, first.data);
    assert_eq!(claimed[0].fallbacks, first.fallbacks);
    assert_eq!(claimed[0].send_window, first.send_window);
    assert_eq!(claimed[0].sms, first.sms);
    assert_eq!(claimed[0].zns_params, first.zns_params);
    assert_eq!(claimed[0].opt_out, first.opt_out);

    // Nothing more is due while the lease runs.
    let mut tx = store.begin().await?;
    // A deferred message gives its attempt back.
    assert!(tx.outbox().defer(&claimed[1], now).await?);
    let again = tx.outbox().claim_due(now, lease, 10).await?;
    assert_eq!((again.len(), again[0].attempts), (1, 1));
    let claimed = [claimed[0].clone(), again[0].clone()];
    assert!(tx.outbox().claim_due(now, lease, 10).await?.is_empty());
    assert!(
        tx.outbox()
            .mark_sent(&claimed[0], "zns-1", now + Duration::seconds(1))
            .await?
    );
    tx.commit().await?;

    // The second claim's lease ends; another worker claims it again (attempt 2), and the
    // first worker's late record is refused.
    let mut tx = store.begin().await?;
    let reclaimed = tx
        .outbox()
        .claim_due(lease, lease + Duration::seconds(60), 10)
        .await?;
    assert_eq!(reclaimed.len(), 1);
    assert_eq!((reclaimed[0].id, reclaimed[0].attempts), (second.id, 2));
    assert!(
        !tx.outbox()
            .reschedule(&claimed[1], lease + Duration::seconds(30), "late")
            .await?
    );
    // A permanent failure on Zalo: fall back to SMS.
    assert!(
        tx.outbox()
            .fall_back(&reclaimed[0], lease, "-118 no Zalo account")
            .await?
    );
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let on_sms = tx
        .outbox()
        .claim_due(lease, lease + Duration::seconds(60), 10)
        .await?;
    assert_eq!(on_sms.len(), 1);
    assert_eq!(on_sms[0].route.channel, Channel::Sms);
    assert_eq!(on_sms[0].attempts, 1);
    assert_eq!(on_sms[0].fallbacks.len(), 1);
    assert_eq!(
        on_sms[0].last_error.as_deref(),
        Some("-118 no Zalo account")
    );
    assert!(
        tx.outbox()
            .mark_dead(&on_sms[0], "invalid number", lease)
            .await?
    );
    tx.commit().await?;

    // Delivery reports: matched by channel and provider id, once.
    let mut tx = store.begin().await?;
    let at = now + Duration::minutes(2);
    assert_eq!(
        tx.outbox()
            .record_delivery(Channel::Zalo, "zns-1", None, &DeliveryStatus::Delivered, at)
            .await?,
        Some((b.id, first.id))
    );
    assert_eq!(
        tx.outbox()
            .record_delivery(Channel::Zalo, "zns-1", None, &DeliveryStatus::Delivered, at)
            .await?,
        None
    );
    assert_eq!(
        tx.outbox()
            .record_delivery(Channel::Sms, "zns-1", None, &DeliveryStatus::Delivered, at)
            .await?,
        None
    );
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let counts = tx.outbox().counts(b.id, None).await?;
    assert_eq!(
        counts,
        BTreeMap::from([
            (OutboxStatus::Pending, 1),
            (OutboxStatus::Delivered, 1),
            (OutboxStatus::Dead, 1),
        ])
    );
    assert_eq!(tx.outbox().depth().await?, counts);
    let page = tx.outbox().messages(b.id, None, None, 2).await?;
    assert_eq!(page.len(), 2);
    let rest = tx
        .outbox()
        .messages(b.id, None, Some(page[1].id), 2)
        .await?;
    assert_eq!(rest.len(), 1);
    let delivered = page
        .iter()
        .chain(&rest)
        .find(|m| m.id == first.id)
        .ok_or("first message")?;
    assert_eq!(delivered.status, OutboxStatus::Delivered);
    assert_eq!(delivered.provider_message_id.as_deref(), Some("zns-1"));
    assert_eq!(delivered.delivered_at, Some(at));

    // History: not the dead one; the later one counts from its due time.
    let customer = first.customer_id.ok_or("customer")?;
    let history = tx
        .outbox()
        .history(b.id, &[customer], None, now - Duration::days(1))
        .await?;
    let mut keys: Vec<&str> = history.iter().map(|h| h.dedupe_key.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(keys, vec!["c:1:a", "c:1:c"]);
    drop(tx);
    // Another brand's outbox is empty.
    let (other, _, _) = seed(&store, 2).await?;
    let mut tx = store.begin().await?;
    assert!(tx.outbox().counts(other.id, None).await?.is_empty());
    assert!(
        tx.outbox()
            .messages(other.id, None, None, 10)
            .await?
            .is_empty()
    );
    Ok(())
}

/// Eight workers claiming at once never get the same message: on PostgreSQL rows locked
/// by one claim are skipped by the others, on SQLite claims run one at a time.
pub(crate) async fn concurrent_claims_never_share_a_message(store: Store) -> TestResult {
    let (b, _, _) = seed(&store, 1).await?;
    let now = datetime!(2026-06-01 08:00 UTC);
    let messages: Vec<OutboxMessage> = (0..200u32)
        .map(|i| {
            let mut m = message(
                b.id,
                0,
                &format!("k:{i}"),
                now - Duration::seconds(i64::from(i)),
            );
            m.id = Uuid::from_u128(u128::from(i) + 1);
            m
        })
        .collect();
    let mut tx = store.begin().await?;
    assert_eq!(tx.outbox().enqueue(&messages).await?, 200);
    tx.commit().await?;

    let mut workers = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let mut tx = store.begin().await?;
                let claimed = tx
                    .outbox()
                    .claim_due(now, now + Duration::minutes(5), 7)
                    .await?;
                tx.commit().await?;
                if claimed.is_empty() {
                    return Ok::<_, regulars_ports::StoreError>(mine);
                }
                mine.extend(claimed.into_iter().map(|m| m.id));
            }
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await??);
    }
    let before = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(before, 200, "every message claimed exactly once");
    assert_eq!(all.len(), 200);
    Ok(())
}
