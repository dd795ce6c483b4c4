use super::{campaign, customer, free_item};
use regulars_campaigns::{
    OrderFact, Outcome, Plan, PlannedMessage, PointsExpiry, SentMessage, SkipReason, TierUpgrade,
    plan,
};
use regulars_domain::{Channel, ConsentState, Currency, Money, OrderId, Points};
use serde_json::json;
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-03-02 03:00 UTC); // 10:00 in Vietnam

fn vnd(n: i64) -> Money {
    Money::from_minor_units(n, Currency::VND)
}

fn only(plan: &Plan) -> &Outcome {
    assert_eq!(plan.outcomes.len(), 1);
    &plan.outcomes[0]
}

fn sent(plan: &Plan) -> &PlannedMessage {
    match only(plan) {
        Outcome::Send(m) => m,
        other => panic!("expected a message, got {other:?}"),
    }
}

fn reason(plan: &Plan) -> SkipReason {
    match only(plan) {
        Outcome::Skip { reason, .. } => *reason,
        other => panic!("expected a skip, got {other:?}"),
    }
}

#[test]
fn promotional_messages_wait_for_seven_and_are_marked() {
    let c = campaign(json!({"template": "Chào {{name}}"}));
    // 22:30 local: after hours, so 07:00 the next day.
    let late = datetime!(2026-03-02 15:30 UTC);
    let p = plan(&c, &[customer(1)], late, &[], vnd(0)).unwrap();
    let m = sent(&p);
    assert_eq!(m.send_at, datetime!(2026-03-03 07:00 +7));
    assert_eq!(m.text, "[QC] Chào bạn");
    assert!(m.promotional);
    // 21:59 local is still inside.
    let p = plan(
        &c,
        &[customer(1)],
        datetime!(2026-03-02 14:59 UTC),
        &[],
        vnd(0),
    )
    .unwrap();
    assert_eq!(sent(&p).send_at, datetime!(2026-03-02 14:59 UTC));
}

#[test]
fn transactional_thank_yous_go_now_without_consent() {
    let c = campaign(json!({"trigger": {"type": "after_purchase"}}));
    let mut lan = customer(1);
    lan.consent.sms = ConsentState::NeverAsked;
    lan.opted_out = true;
    lan.points_balance = Points::new(1250);
    lan.last_order = Some(OrderFact {
        id: OrderId::from_bytes([3; 16]),
        at: datetime!(2026-03-02 16:00 UTC),
    });
    let night = datetime!(2026-03-02 16:05 UTC); // 23:05 local
    let p = plan(&c, std::slice::from_ref(&lan), night, &[], vnd(0)).unwrap();
    let m = sent(&p);
    assert!(!m.promotional);
    assert_eq!(m.send_at, night);
    assert_eq!(
        m.text,
        "Cảm ơn bạn đã ghé Trà Sữa Mây! Số dư của bạn: 1.250 điểm."
    );
    assert!(
        m.dedupe_key
            .ends_with(&format!(":order-{}", OrderId::from_bytes([3; 16])))
    );
    // A day later the order is too old.
    let p = plan(&c, &[lan], night + Duration::hours(25), &[], vnd(0)).unwrap();
    assert_eq!(reason(&p), SkipReason::NotTriggered);
}

fn history(c: &regulars_campaigns::CustomerFacts, times: &[OffsetDateTime]) -> Vec<SentMessage> {
    times
        .iter()
        .enumerate()
        .map(|(i, t)| SentMessage {
            campaign_id: regulars_domain::CampaignId::from_bytes([i as u8 + 100; 16]),
            customer_id: c.customer_id,
            phone: c.phone.clone(),
            send_at: *t,
            promotional: true,
            dedupe_key: format!("other-{i}"),
        })
        .collect()
}

#[test]
fn three_promotional_per_phone_per_day() {
    let c = campaign(json!({}));
    let lan = customer(1);
    let two = history(&lan, &[NOW - Duration::hours(20), NOW - Duration::hours(2)]);
    assert!(matches!(
        only(&plan(&c, std::slice::from_ref(&lan), NOW, &two, vnd(0)).unwrap()),
        Outcome::Send(_)
    ));
    let three = history(
        &lan,
        &[
            NOW - Duration::hours(23),
            NOW - Duration::hours(20),
            NOW - Duration::hours(2),
        ],
    );
    assert_eq!(
        reason(&plan(&c, std::slice::from_ref(&lan), NOW, &three, vnd(0)).unwrap()),
        SkipReason::LegalCap
    );
    // Once the oldest is 24 h old, the window has room again.
    let aged = history(
        &lan,
        &[
            NOW - Duration::hours(24),
            NOW - Duration::hours(20),
            NOW - Duration::hours(2),
        ],
    );
    assert!(matches!(
        only(&plan(&c, std::slice::from_ref(&lan), NOW, &aged, vnd(0)).unwrap()),
        Outcome::Send(_)
    ));
    // Scheduled messages in the future count too.
    let ahead = history(
        &lan,
        &[
            NOW + Duration::hours(1),
            NOW + Duration::hours(5),
            NOW + Duration::hours(23),
        ],
    );
    assert_eq!(
        reason(&plan(&c, std::slice::from_ref(&lan), NOW, &ahead, vnd(0)).unwrap()),
        SkipReason::LegalCap
    );
    // Under a brand without the Vietnamese policy there is no legal cap.
    let mut free = campaign(json!({"policy": {}}));
    free.brand_policy = regulars_campaigns::Policy::unrestricted();
    let m = sent(&plan(&free, &[lan], NOW, &three, vnd(0)).unwrap()).clone();
    assert!(!m.text.starts_with("[QC]"));
}

#[test]
fn frequency_cap_across_campaigns() {
    let c = campaign(json!({"frequency_cap": {"max": 2, "days": 7}}));
    let lan = customer(1);
    let h = history(&lan, &[NOW - Duration::days(6), NOW - Duration::days(3)]);
    assert_eq!(
        reason(&plan(&c, std::slice::from_ref(&lan), NOW, &h, vnd(0)).unwrap()),
        SkipReason::FrequencyCap
    );
    let h = history(&lan, &[NOW - Duration::days(8), NOW - Duration::days(3)]);
    assert!(matches!(
        only(&plan(&c, &[lan], NOW, &h, vnd(0)).unwrap()),
        Outcome::Send(_)
    ));
}

#[test]
fn channels_by_preference_consent_and_reach() {
    let c = campaign(json!({}));
    let mut lan = customer(1);
    lan.zalo_user_id = Some("z1".into());
    lan.consent.zalo = ConsentState::Granted;
    assert_eq!(
        sent(&plan(&c, std::slice::from_ref(&lan), NOW, &[], vnd(0)).unwrap()).channel,
        Channel::Zalo
    );
    lan.consent.zalo = ConsentState::NeverAsked;
    assert_eq!(
        sent(&plan(&c, std::slice::from_ref(&lan), NOW, &[], vnd(0)).unwrap()).channel,
        Channel::Sms
    );
    lan.consent.sms = ConsentState::NeverAsked;
    lan.consent.email = ConsentState::Granted;
    assert_eq!(
        reason(&plan(&c, std::slice::from_ref(&lan), NOW, &[], vnd(0)).unwrap()),
        SkipReason::NoChannel
    );
    lan.email = Some("lan@example.com".into());
    assert_eq!(
        sent(&plan(&c, std::slice::from_ref(&lan), NOW, &[], vnd(0)).unwrap()).channel,
        Channel::Email
    );
    lan.opted_out = true;
    assert_eq!(
        reason(&plan(&c, &[lan], NOW, &[], vnd(0)).unwrap()),
        SkipReason::OptedOut
    );
}

#[test]
fn a_withdrawn_channel_is_an_opt_out_and_a_never_asked_one_is_not() {
    let c = campaign(json!({}));
    let mut lan = customer(1);
    lan.consent.sms = ConsentState::Withdrawn;
    assert_eq!(
        reason(&plan(&c, std::slice::from_ref(&lan), NOW, &[], vnd(0)).unwrap()),
        SkipReason::OptedOut
    );
    lan.consent.sms = ConsentState::NeverAsked;
    assert_eq!(
        reason(&plan(&c, std::slice::from_ref(&lan), NOW, &[], vnd(0)).unwrap()),
        SkipReason::NoChannel
    );
    // Withdrawn on every channel: opted out, whatever the campaign's channels.
    lan.consent.zalo = ConsentState::Withdrawn;
    lan.consent.sms = ConsentState::Withdrawn;
    lan.consent.email = ConsentState::Withdrawn;
    assert_eq!(
        reason(&plan(&c, std::slice::from_ref(&lan), NOW, &[], vnd(0)).unwrap()),
        SkipReason::OptedOut
    );
    // A transactional message still goes.
    let receipt = campaign(json!({"trigger": {"type": "after_purchase"}}));
    lan.last_order = Some(OrderFact {
        id: OrderId::from_bytes([3; 16]),
        at: NOW - time::Duration::hours(1),
    });
    assert!(!sent(&plan(&receipt, &[lan], NOW, &[], vnd(0)).unwrap()).promotional);
}

#[test]
fn without_profiling_consent_targeted_campaigns_leave_the_customer_out() {
    let mut lan = customer(1);
    lan.profiling = false;
    lan.segments.push("At risk".into());
    let broadcast = campaign(json!({}));
    assert_eq!(
        sent(&plan(&broadcast, std::slice::from_ref(&lan), NOW, &[], vnd(0)).unwrap()).channel,
        Channel::Sms
    );
    for targeted in [
        campaign(json!({"audience": {"segment": "At risk"}})),
        campaign(json!({"audience": {"rule": "recency_days >= 0"}})),
        personalised(15_000, None),
    ] {
        assert_eq!(
            reason(&plan(&targeted, std::slice::from_ref(&lan), NOW, &[], vnd(0)).unwrap()),
            SkipReason::NoProfilingConsent
        );
    }
    lan.profiling = true;
    let segment = campaign(json!({"audience": {"segment": "At risk"}}));
    assert_eq!(
        sent(&plan(&segment, &[lan], NOW, &[], vnd(0)).unwrap()).channel,
        Channel::Sms
    );
}

proptest::proptest! {
    /// A targeted campaign reaches a customer exactly when profiling is granted, or
    /// never asked and the brand's policy allows it by default; a withdrawal always
    /// leaves them out, and an untargeted campaign never asks.
    #[test]
    fn the_brands_profiling_default_decides_only_for_the_never_asked(
        state in proptest::sample::select(ConsentState::ALL.to_vec()),
        default in proptest::bool::ANY,
        targeted in proptest::bool::ANY,
    ) {
        let mut lan = customer(1);
        lan.consent.profiling = state;
        lan.profiling = state.granted();
        lan.segments.push("At risk".into());
        let mut c = if targeted {
            campaign(json!({"audience": {"segment": "At risk"}}))
        } else {
            campaign(json!({}))
        };
        c.brand_policy.profiling_default = default;
        let planned = plan(&c, &[lan], NOW, &[], vnd(0)).unwrap();
        let left_out = matches!(
            only(&planned),
            Outcome::Skip { reason: SkipReason::NoProfilingConsent, .. }
        );
        let allowed = state == ConsentState::Granted
            || (state == ConsentState::NeverAsked && default);
        proptest::prop_assert_eq!(left_out, targeted && !allowed);
    }
}

#[test]
fn zalo_reaches_a_vietnamese_mobile_without_a_zalo_user_id() {
    // ZNS sends by phone: Zalo consent and a Vietnamese mobile are enough.
    let c = campaign(json!({}));
    let mut lan = customer(1);
    assert!(lan.zalo_user_id.is_none());
    assert!(lan.phone.is_vietnamese_mobile(), "{}", lan.phone.as_str());
    lan.consent.zalo = ConsentState::Granted;
    assert_eq!(
        sent(&plan(&c, std::slice::from_ref(&lan), NOW, &[], vnd(0)).unwrap()).channel,
        Channel::Zalo
    );
    // A number abroad is not reachable by ZNS.
    lan.phone = regulars_domain::Phone::parse_e164("+6591234567").unwrap();
    assert_eq!(
        sent(&plan(&c, &[lan], NOW, &[], vnd(0)).unwrap()).channel,
        Channel::Sms
    );
}

#[test]
fn hold_out_by_default() {
    let c = campaign(json!({"holdout": 0.1}));
    let customers: Vec<_> = (0..2000).map(customer).collect();
    let p = plan(&c, &customers, NOW, &[], vnd(0)).unwrap();
    let held = p.skipped(SkipReason::HoldOut);
    assert!((140..260).contains(&held), "{held} of 2000 held out");
    assert_eq!(p.messages().count(), 2000 - held);
}

fn personalised(max: i64, budget: Option<i64>) -> regulars_campaigns::Campaign {
    let mut doc = json!({
        "offer": {
            "type": "personalised",
            "candidates": [
                free_item(1, "TS-OOLONG", 18_000),
                free_item(2, "CF-SUA", 12_000),
                {
                    "reward": {
                        "id": regulars_domain::RewardId::from_bytes([3; 16]),
                        "name": "Giảm 10.000₫",
                        "cost": 50,
                        "kind": {"type": "fixed_discount", "amount": {"amount": "10000", "currency": "VND"}},
                        "validity_days": 7,
                    },
                    "cost": {"amount": "10000", "currency": "VND"},
                },
            ],
            "max_cost_per_customer": {"amount": max.to_string(), "currency": "VND"},
        },
        "template": "{{reward}} / {{reward_value}} / {{expiry_date}}",
    });
    if let Some(b) = budget {
        doc["budget"] = json!({"amount": b.to_string(), "currency": "VND"});
    }
    campaign(doc)
}

#[test]
fn personalised_offers_follow_taste_within_the_limit() {
    let c = personalised(15_000, None);
    let mut lan = customer(1);
    lan.favourite_item = Some("TS-OOLONG".into()); // 18,000: too dear
    lan.next_best_item = Some("CF-SUA".into());
    let m = sent(&plan(&c, std::slice::from_ref(&lan), NOW, &[], vnd(0)).unwrap()).clone();
    let offer = m.offer.unwrap();
    assert_eq!(offer.reward_name, "1 CF-SUA miễn phí");
    assert_eq!(offer.cost, vnd(12_000));
    assert_eq!(m.text, "[QC] 1 CF-SUA miễn phí /  / 16/03/2026");

    let c = personalised(20_000, None);
    let offer = sent(&plan(&c, std::slice::from_ref(&lan), NOW, &[], vnd(0)).unwrap())
        .offer
        .clone()
        .unwrap();
    assert_eq!(offer.cost, vnd(18_000));

    // No known taste: the discount.
    let anon = customer(2);
    let m = sent(&plan(&c, std::slice::from_ref(&anon), NOW, &[], vnd(0)).unwrap()).clone();
    assert_eq!(m.text, "[QC] Giảm 10.000₫ / 10.000 ₫ / 09/03/2026");

    let c = personalised(9_000, None);
    assert_eq!(
        reason(&plan(&c, &[anon], NOW, &[], vnd(0)).unwrap()),
        SkipReason::OfferTooExpensive
    );
}

#[test]
fn the_budget_is_never_exceeded() {
    let c = personalised(15_000, Some(50_000));
    let customers: Vec<_> = (0..10).map(customer).collect();
    // 10,000 each, 12,000 already spent: 3 fit in the remaining 38,000.
    let p = plan(&c, &customers, NOW, &[], vnd(12_000)).unwrap();
    assert_eq!(p.messages().count(), 3);
    assert_eq!(p.skipped(SkipReason::BudgetExhausted), 7);
    assert_eq!(p.budget_used, vnd(42_000));
    assert!(
        plan(
            &c,
            &customers,
            NOW,
            &[],
            Money::from_minor_units(1, Currency::USD)
        )
        .is_err()
    );
}

#[test]
fn an_occasion_is_messaged_once() {
    let c = campaign(json!({}));
    let lan = customer(1);
    let p = plan(&c, std::slice::from_ref(&lan), NOW, &[], vnd(0)).unwrap();
    let m = sent(&p);
    let h = vec![SentMessage {
        campaign_id: c.id,
        customer_id: lan.customer_id,
        phone: lan.phone.clone(),
        send_at: m.send_at,
        promotional: true,
        dedupe_key: m.dedupe_key.clone(),
    }];
    let again = plan(&c, &[lan], NOW + Duration::days(30), &h, vnd(0)).unwrap();
    assert_eq!(reason(&again), SkipReason::AlreadySent);
}

#[test]
fn triggers_fire_on_their_occasion() {
    let mut lan = customer(1);
    lan.name = Some("Lan".into());
    let fires = |trigger: serde_json::Value, c: &regulars_campaigns::CustomerFacts| {
        let camp = campaign(json!({"trigger": trigger}));
        match only(&plan(&camp, std::slice::from_ref(c), NOW, &[], vnd(0)).unwrap()) {
            Outcome::Send(m) => Some(m.text.clone()),
            Outcome::Skip {
                reason: SkipReason::NotTriggered,
                ..
            } => None,
            other => panic!("{other:?}"),
        }
    };
    let birthday = json!({"type": "birthday", "days_before": 3});
    assert_eq!(fires(birthday.clone(), &lan), None);
    lan.birthday = Some(date!(1990 - 03 - 05));
    assert!(fires(birthday.clone(), &lan).is_some());
    lan.birthday = Some(date!(1990 - 03 - 06));
    assert_eq!(fires(birthday, &lan), None);

    // Expected gap 10 days, 16 days since the last visit: overdue at 1.5, not at 2.
    lan.last_visit_at = Some(NOW - Duration::days(16));
    lan.next_visit_at = Some(NOW - Duration::days(6));
    assert!(fires(json!({"type": "overdue", "factor": 1.5}), &lan).is_some());
    assert_eq!(fires(json!({"type": "overdue", "factor": 2}), &lan), None);

    lan.p_alive = Some(0.29);
    assert!(fires(json!({"type": "p_alive_below", "threshold": 0.3}), &lan).is_some());
    assert_eq!(
        fires(json!({"type": "p_alive_below", "threshold": 0.2}), &lan),
        None
    );

    lan.tier_upgrade = Some(TierUpgrade {
        tier: "Vàng".into(),
        at: NOW - Duration::hours(5),
    });
    assert_eq!(
        fires(json!({"type": "tier_upgrade"}), &lan).unwrap(),
        "[QC] Chúc mừng Lan đã lên hạng Vàng tại Trà Sữa Mây!"
    );
    lan.tier_upgrade = Some(TierUpgrade {
        tier: "Vàng".into(),
        at: NOW - Duration::days(2),
    });
    assert_eq!(fires(json!({"type": "tier_upgrade"}), &lan), None);

    lan.points_balance = Points::new(2_400);
    lan.expiring_points = Some(PointsExpiry {
        points: Points::new(300),
        at: datetime!(2026-03-08 16:59 UTC),
    });
    assert_eq!(
        fires(json!({"type": "points_expiring", "within_days": 7}), &lan).unwrap(),
        "[QC] Lan ơi, 300 điểm của bạn tại Trà Sữa Mây sẽ hết hạn ngày 08/03/2026. Số dư: 2.400 điểm."
    );
    assert_eq!(
        fires(json!({"type": "points_expiring", "within_days": 5}), &lan),
        None
    );
}

#[test]
fn audiences_and_send_hours() {
    let mut lan = customer(1);
    lan.segments = vec!["At risk".into()];
    lan.features.recency_days = 40;
    lan.preferred_hour = Some(19);
    let seg = campaign(
        json!({"audience": {"segment": "At risk"}, "send_time": {"type": "preferred_hour"}}),
    );
    let m = sent(&plan(&seg, std::slice::from_ref(&lan), NOW, &[], vnd(0)).unwrap()).clone();
    assert_eq!(m.send_at, datetime!(2026-03-02 19:00 +7));
    let rule = campaign(json!({"audience": {"rule": "recency_days > 45"}}));
    assert_eq!(
        reason(&plan(&rule, std::slice::from_ref(&lan), NOW, &[], vnd(0)).unwrap()),
        SkipReason::NotInAudience
    );
    // A fixed hour already past today is tomorrow; 06:00 is moved to 07:00.
    let fixed = campaign(json!({"send_time": {"type": "fixed_hour", "hour": 6}}));
    assert_eq!(
        sent(&plan(&fixed, std::slice::from_ref(&lan), NOW, &[], vnd(0)).unwrap()).send_at,
        datetime!(2026-03-03 07:00 +7)
    );
    lan.preferred_hour = None;
    let fallback = campaign(json!({"send_time": {"type": "preferred_hour", "fallback_hour": 9}}));
    assert_eq!(
        sent(&plan(&fallback, &[lan], NOW, &[], vnd(0)).unwrap()).send_at,
        datetime!(2026-03-03 09:00 +7)
    );
}

#[test]
fn a_thank_you_that_carries_an_offer_is_promotional() {
    let c = campaign(json!({"trigger": {"type": "after_purchase"},
                            "offer": {"type": "fixed", "reward": free_item(1, "TS-OOLONG", 18_000)}}));
    assert!(c.is_promotional());
    let order = OrderFact {
        id: OrderId::from_bytes([3; 16]),
        at: datetime!(2026-03-02 16:00 UTC),
    };
    let mut lan = customer(1);
    lan.last_order = Some(order);
    // After hours: moved into the legal window and marked.
    let night = datetime!(2026-03-02 16:05 UTC); // 23:05 local
    let p = plan(&c, std::slice::from_ref(&lan), night, &[], vnd(0)).unwrap();
    let m = sent(&p);
    assert!(m.promotional);
    assert_eq!(m.send_at, datetime!(2026-03-03 07:00 +7));
    assert!(m.text.starts_with("[QC] "), "{}", m.text);
    // Without consent (or opted out) there is no channel for it.
    lan.consent.sms = ConsentState::NeverAsked;
    let p = plan(&c, std::slice::from_ref(&lan), night, &[], vnd(0)).unwrap();
    assert_eq!(reason(&p), SkipReason::NoChannel);
    lan.consent.sms = ConsentState::Granted;
    lan.opted_out = true;
    let p = plan(&c, &[lan], night, &[], vnd(0)).unwrap();
    assert_eq!(reason(&p), SkipReason::OptedOut);
}

#[test]
fn the_brand_policy_rules_and_a_campaign_only_narrows_it() {
    // The brand allows 08:00 to 20:00; the campaign asks for 09:00 to 21:00 (stored
    // before the check existed): the brand's end wins.
    let mut c = campaign(json!({"template": "Chào",
        "policy": {"allowed_hours": {"start_hour": 9, "end_hour": 21}}}));
    c.brand_policy.allowed_hours = Some(regulars_campaigns::AllowedHours {
        start_hour: 8,
        end_hour: 20,
    });
    let at_eight_thirty_pm = datetime!(2026-03-02 13:30 UTC);
    let p = plan(&c, &[customer(1)], at_eight_thirty_pm, &[], vnd(0)).unwrap();
    assert_eq!(sent(&p).send_at, datetime!(2026-03-03 09:00 +7));
    assert_eq!(
        c.check_policy(&c.brand_policy.clone())
            .map_err(|e| e.to_string())
            .unwrap_err()
            .split(':')
            .next(),
        Some("policy.allowed_hours")
    );
}

#[test]
fn a_listed_number_gets_no_promotional_sms_but_other_channels_and_receipts_still_go() {
    let c = campaign(json!({}));
    let mut lan = customer(1);
    assert_eq!(
        sent(&plan(&c, std::slice::from_ref(&lan), NOW, &[], vnd(0)).unwrap()).channel,
        Channel::Sms
    );
    lan.do_not_call = true;
    assert_eq!(
        reason(&plan(&c, std::slice::from_ref(&lan), NOW, &[], vnd(0)).unwrap()),
        SkipReason::DoNotCall
    );
    // Zalo with consent still goes, before and after SMS in the campaign's order.
    lan.zalo_user_id = Some("z1".into());
    lan.consent.zalo = ConsentState::Granted;
    let sms_first = campaign(json!({"channels": ["sms", "zalo"]}));
    assert_eq!(
        sent(&plan(&sms_first, std::slice::from_ref(&lan), NOW, &[], vnd(0)).unwrap()).channel,
        Channel::Zalo
    );
    // A withdrawn channel still reads as an opt-out.
    lan.consent.zalo = ConsentState::Withdrawn;
    assert_eq!(
        reason(&plan(&c, std::slice::from_ref(&lan), NOW, &[], vnd(0)).unwrap()),
        SkipReason::OptedOut
    );
    // No SMS consent at all: a missing channel, not the list.
    lan.consent.zalo = ConsentState::NeverAsked;
    lan.consent.sms = ConsentState::NeverAsked;
    assert_eq!(
        reason(&plan(&c, std::slice::from_ref(&lan), NOW, &[], vnd(0)).unwrap()),
        SkipReason::NoChannel
    );
    // A transactional receipt by SMS still goes to a listed number.
    let receipt = campaign(json!({"trigger": {"type": "after_purchase"}, "channels": ["sms"]}));
    lan.last_order = Some(OrderFact {
        id: OrderId::from_bytes([3; 16]),
        at: NOW - time::Duration::hours(1),
    });
    let m = sent(&plan(&receipt, &[lan], NOW, &[], vnd(0)).unwrap()).clone();
    assert_eq!(m.channel, Channel::Sms);
    assert!(!m.promotional);
}
