use super::{campaign, customer, free_item};
use proptest::prelude::*;
use regulars_campaigns::plan::in_holdout;
use regulars_campaigns::{Campaign, CustomerFacts, Outcome, Plan, SentMessage, plan};
use regulars_domain::{CampaignId, Currency, Money, Phone};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use time::{Duration, OffsetDateTime, UtcOffset};

const DAY: i64 = 86_400;

fn phone(n: u32) -> Phone {
    Phone::parse(&format!("091{:07}", n), Phone::VIETNAM).unwrap()
}

/// Customers sharing a small pool of phone numbers (so the per-phone cap binds), with
/// random consent, hours, tastes and segments.
fn customers() -> impl Strategy<Value = Vec<CustomerFacts>> {
    prop::collection::vec(
        (
            0u32..6,
            prop::array::uniform3(0usize..3),
            prop::option::of(0u8..24),
            0u8..4,
            any::<bool>(),
            any::<bool>(),
            prop::bool::weighted(0.8),
        ),
        1..60,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (ph, consent, hour, taste, zalo, seg, profiling))| {
                let mut c = customer(i as u32);
                c.phone = phone(ph);
                // Never asked, granted and withdrawn alike.
                let state = |k: usize| regulars_domain::ConsentState::ALL[k];
                c.consent.zalo = state(consent[0]);
                c.consent.sms = state(consent[1]);
                c.consent.email = state(consent[2]);
                c.zalo_user_id = zalo.then(|| format!("z{i}"));
                c.preferred_hour = hour;
                c.favourite_item = ["TS-OOLONG", "CF-SUA", "BANH-MI", "X"]
                    .get(usize::from(taste))
                    .map(|s| (*s).to_owned());
                c.opted_out = i % 17 == 3;
                c.profiling = profiling;
                if seg {
                    c.segments.push("Regulars".into());
                }
                c
            })
            .collect()
    })
}

/// Promotional history within two days of `now`, at most 3 per phone per rolling 24 h
/// (a lawful past), some of it for this campaign's dedupe keys.
fn history(
    now: OffsetDateTime,
    raw: &[(u32, i64)],
    customers: &[CustomerFacts],
) -> Vec<SentMessage> {
    let mut out: Vec<SentMessage> = Vec::new();
    for (k, (ph, secs)) in raw.iter().enumerate() {
        let at = now + Duration::seconds(*secs);
        let p = phone(*ph % 6);
        let fits = out
            .iter()
            .filter(|m| m.phone == p && (m.send_at - at).abs() < Duration::days(1))
            .count()
            < 2;
        if fits {
            let owner = &customers[k % customers.len()];
            out.push(SentMessage {
                campaign_id: CampaignId::from_bytes([200; 16]),
                customer_id: owner.customer_id,
                phone: p,
                send_at: at,
                promotional: true,
                dedupe_key: format!("old-{k}"),
            });
        }
    }
    out
}

fn the_campaign(variant: u8, holdout: f64) -> Campaign {
    let mut doc = json!({
        "holdout": holdout,
        "offer": {
            "type": "personalised",
            "candidates": [free_item(1, "TS-OOLONG", 18_000), free_item(2, "CF-SUA", 12_000), free_item(3, "BANH-MI", 25_000)],
            "max_cost_per_customer": {"amount": "20000", "currency": "VND"},
        },
        "budget": {"amount": "100000", "currency": "VND"},
        "frequency_cap": {"max": 2, "days": 7},
    });
    match variant % 3 {
        0 => doc["send_time"] = json!({"type": "preferred_hour"}),
        1 => doc["send_time"] = json!({"type": "fixed_hour", "hour": 23}),
        _ => doc["audience"] = json!({"segment": "Regulars"}),
    }
    campaign(doc)
}

fn lawful_hours(plan: &Plan, offset: UtcOffset) -> bool {
    plan.messages()
        .filter(|m| m.promotional)
        .all(|m| (7..22).contains(&m.send_at.to_offset(offset).hour()))
}

fn per_phone_cap(plan: &Plan, customers: &[CustomerFacts], history: &[SentMessage]) -> bool {
    let phones: BTreeMap<_, _> = customers
        .iter()
        .map(|c| (c.customer_id, c.phone.clone()))
        .collect();
    let mut events: BTreeMap<String, Vec<(OffsetDateTime, bool)>> = BTreeMap::new();
    for m in history.iter().filter(|m| m.promotional) {
        events
            .entry(m.phone.as_str().to_owned())
            .or_default()
            .push((m.send_at, false));
    }
    for m in plan.messages().filter(|m| m.promotional) {
        events
            .entry(phones[&m.customer_id].as_str().to_owned())
            .or_default()
            .push((m.send_at, true));
    }
    events.values().all(|evs| {
        evs.iter().all(|(s, _)| {
            let window: Vec<_> = evs
                .iter()
                .filter(|(t, _)| t >= s && *t < *s + Duration::days(1))
                .collect();
            !window.iter().any(|(_, planned)| *planned) || window.len() <= 3
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn plans_keep_every_rule(
        customers in customers(),
        now_secs in 1_767_225_600i64..1_767_225_600 + 30 * DAY,
        raw_history in prop::collection::vec((0u32..6, -2 * DAY..2 * DAY), 0..30),
        variant in 0u8..3,
        used in 0i64..120_000,
        order_keys in prop::collection::vec(any::<u64>(), 60),
    ) {
        let now = OffsetDateTime::from_unix_timestamp(now_secs).unwrap();
        let history = history(now, &raw_history, &customers);
        let camp = the_campaign(variant, 0.1);
        let used_money = Money::from_minor_units(used, Currency::VND);
        let p = plan(&camp, &customers, now, &history, used_money).unwrap();

        // Exactly one outcome per customer, by id.
        let mut ids: Vec<_> = customers.iter().map(|c| c.customer_id).collect();
        ids.sort();
        prop_assert_eq!(p.outcomes.iter().map(Outcome::customer_id).collect::<Vec<_>>(), ids);

        prop_assert!(lawful_hours(&p, camp.utc_offset));
        prop_assert!(per_phone_cap(&p, &customers, &history));
        let facts: BTreeMap<_, _> = customers.iter().map(|c| (c.customer_id, c)).collect();
        for m in p.messages() {
            // Consent: every campaign here personalises its offer (profiling), and is
            // promotional (marketing consent on the channel, never after an opt-out).
            let c = facts[&m.customer_id];
            prop_assert!(c.profiling);
            prop_assert!(c.consent.allows(m.channel));
            prop_assert!(!c.opted_out && !c.consent.opted_out());
            prop_assert!(!in_holdout(camp.id, m.customer_id, camp.holdout));
            prop_assert!(m.send_at >= now);
            prop_assert!(m.text.starts_with("[QC] "));
        }

        // Budget: what was used before plus the offers, never more than the budget
        // (unless it was already exceeded, when nothing with a cost is planned).
        let cost: i64 = p.messages().filter_map(|m| m.offer.as_ref()).map(|o| o.cost.to_minor_units().unwrap()).sum();
        prop_assert_eq!(p.budget_used.to_minor_units().unwrap(), used + cost);
        prop_assert!(cost == 0 || used + cost <= 100_000);

        // Dedupe keys are unique, and none repeats the history.
        let keys: HashSet<_> = p.messages().map(|m| m.dedupe_key.as_str()).collect();
        prop_assert_eq!(keys.len(), p.messages().count());
        prop_assert!(history.iter().all(|h| !keys.contains(h.dedupe_key.as_str())));

        // Deterministic and independent of input order.
        let mut shuffled: Vec<_> = customers.iter().cloned().zip(order_keys.iter()).collect();
        shuffled.sort_by_key(|(_, k)| **k);
        let shuffled: Vec<_> = shuffled.into_iter().map(|(c, _)| c).collect();
        prop_assert_eq!(&plan(&camp, &shuffled, now, &history, used_money).unwrap(), &p);
        prop_assert_eq!(&plan(&camp, &customers, now, &history, used_money).unwrap(), &p);
    }

    #[test]
    fn planning_twice_never_sends_an_occasion_twice(
        customers in customers(),
        now_secs in 1_767_225_600i64..1_767_225_600 + 30 * DAY,
    ) {
        let now = OffsetDateTime::from_unix_timestamp(now_secs).unwrap();
        let camp = the_campaign(2, 0.0);
        let first = plan(&camp, &customers, now, &[], Money::zero(Currency::VND)).unwrap();
        let phones: BTreeMap<_, _> = customers.iter().map(|c| (c.customer_id, c.phone.clone())).collect();
        let history: Vec<_> = first.messages().map(|m| SentMessage {
            campaign_id: camp.id,
            customer_id: m.customer_id,
            phone: phones[&m.customer_id].clone(),
            send_at: m.send_at,
            promotional: m.promotional,
            dedupe_key: m.dedupe_key.clone(),
        }).collect();
        let later = now + Duration::days(10);
        let second = plan(&camp, &customers, later, &history, first.budget_used).unwrap();
        // Those not messaged the first time (caps) may be now; nobody messaged twice.
        let first_ids: HashSet<_> = first.messages().map(|m| m.customer_id).collect();
        prop_assert!(second.messages().all(|m| !first_ids.contains(&m.customer_id)));
        prop_assert_eq!(
            second.skipped(regulars_campaigns::SkipReason::AlreadySent),
            first_ids.len()
        );
    }

    #[test]
    fn hold_out_is_about_ten_percent(campaign_bytes in any::<[u8; 16]>()) {
        let campaign = CampaignId::from_bytes(campaign_bytes);
        let n = 20_000u32;
        let held = (0..n).filter(|i| in_holdout(campaign, customer(*i).customer_id, 0.1)).count();
        // Binomial(20000, 0.1): sd 42.4; ±6 sd.
        prop_assert!((1_745..=2_255).contains(&held), "{}", held);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Outside the allowed hours a promotional message is moved, never dropped; a
    /// transactional one goes at once, unmarked.
    #[test]
    fn late_messages_are_moved_not_dropped(
        n in 1u32..40,
        now_secs in 1_767_225_600i64..1_767_225_600 + 3 * DAY,
        hour in prop::option::of(0u8..24),
    ) {
        let now = OffsetDateTime::from_unix_timestamp(now_secs).unwrap();
        let customers: Vec<_> = (0..n)
            .map(|i| {
                let mut c = customer(i);
                c.preferred_hour = hour;
                c.last_order = Some(regulars_campaigns::OrderFact {
                    id: regulars_domain::OrderId::from_bytes([i as u8; 16]),
                    at: now - Duration::minutes(5),
                });
                c
            })
            .collect();
        let promo = campaign(json!({"send_time": {"type": "preferred_hour"}}));
        let p = plan(&promo, &customers, now, &[], Money::zero(Currency::VND)).unwrap();
        prop_assert_eq!(p.messages().count(), customers.len());
        for m in p.messages() {
            let local = m.send_at.to_offset(promo.utc_offset);
            prop_assert!((7..22).contains(&local.hour()));
            prop_assert!(m.send_at >= now && m.send_at - now < Duration::days(2));
        }
        let thanks = campaign(json!({"trigger": {"type": "after_purchase"}}));
        let p = plan(&thanks, &customers, now, &[], Money::zero(Currency::VND)).unwrap();
        prop_assert_eq!(p.messages().count(), customers.len());
        for m in p.messages() {
            prop_assert!(!m.promotional);
            prop_assert_eq!(m.send_at, now);
            prop_assert!(!m.text.starts_with("[QC]"));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A campaign built without validation (say a document stored before its spans were
    /// bounded) never panics the planner, whatever its spans and with history near now:
    /// it is planned when its spans are in bounds and refused, naming the field, if not.
    #[test]
    fn unbounded_spans_never_panic_the_planner(
        days in prop_oneof![1u32..=366, any::<u32>()],
        hours in prop_oneof![1u32..=744, any::<u32>()],
        within in prop_oneof![0u32..=744, any::<u32>()],
        trigger in 0u8..4,
        n in 1u32..8,
    ) {
        let now = OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
        let mut c = campaign(json!({"policy": {"max_per_phone": 3}}));
        c.frequency_cap = Some(regulars_campaigns::FrequencyCap { max: 2, days });
        c.policy.cap_window_hours = Some(hours);
        c.trigger = match trigger {
            0 => regulars_campaigns::Trigger::AfterPurchase { within_hours: within },
            1 => regulars_campaigns::Trigger::Birthday { days_before: within },
            2 => regulars_campaigns::Trigger::TierUpgrade { within_days: within },
            _ => regulars_campaigns::Trigger::Broadcast,
        };
        let customers: Vec<CustomerFacts> = (0..n)
            .map(|i| {
                let mut f = customer(i);
                f.birthday = Some(time::Date::from_calendar_date(1990, time::Month::March, 3).unwrap());
                f.last_order = Some(regulars_campaigns::OrderFact {
                    id: regulars_domain::OrderId::from_bytes([i as u8; 16]),
                    at: now - Duration::hours(3),
                });
                f
            })
            .collect();
        let history: Vec<SentMessage> = customers
            .iter()
            .map(|f| SentMessage {
                campaign_id: CampaignId::from_bytes([7; 16]),
                customer_id: f.customer_id,
                phone: f.phone.clone(),
                send_at: now - Duration::hours(1),
                promotional: true,
                dedupe_key: format!("other:{}", f.customer_id),
            })
            .collect();
        let p = plan(&c, &customers, now, &history, Money::zero(Currency::VND));
        match c.validate() {
            Ok(()) => prop_assert!(p.is_ok(), "{:?}", p.err()),
            Err(e) => prop_assert!(
                matches!(&p, Err(regulars_campaigns::PlanError::Campaign(c)) if *c == e),
                "{:?}", p.err()
            ),
        }
    }
}

mod policy_limits {
    use proptest::prelude::*;
    use regulars_campaigns::{AllowedHours, Policy, PolicyLimits};

    fn hours() -> impl Strategy<Value = Option<AllowedHours>> {
        prop::option::of((0u8..24, 1u8..=24).prop_filter_map("a window", |(a, b)| {
            (a < b).then_some(AllowedHours {
                start_hour: a,
                end_hour: b,
            })
        }))
    }

    fn policy() -> impl Strategy<Value = Policy> {
        (
            prop::sample::select(vec!["", "[QC] "]),
            prop::option::of(1u32..6),
            1u32..100,
            hours(),
            prop::sample::select(vec![
                "",
                "Tu choi QC: {link}",
                "Tu choi QC soan TC gui 8079",
            ]),
        )
            .prop_map(|(prefix, max, window, hours, opt_out)| Policy {
                promotional_prefix: prefix.to_owned(),
                max_per_phone: max,
                cap_window_hours: window,
                allowed_hours: hours,
                opt_out_instruction: opt_out.to_owned(),
                profiling_default: false,
                opt_out_keywords: Vec::new(),
            })
    }

    fn limits() -> impl Strategy<Value = PolicyLimits> {
        (
            prop::option::of(prop::sample::select(vec![
                "",
                "[QC] ",
                "[QC] Ưu đãi: ",
                "X ",
            ])),
            prop::option::of(prop::option::of(1u32..6)),
            prop::option::of(1u32..100),
            prop::option::of(hours()),
        )
            .prop_map(|(prefix, max, window, hours)| PolicyLimits {
                promotional_prefix: prefix.map(str::to_owned),
                max_per_phone: max,
                cap_window_hours: window,
                allowed_hours: hours,
            })
    }

    /// `a` never allows what `b` forbids.
    fn at_least_as_strict(a: &Policy, b: &Policy) -> bool {
        let prefix = a.promotional_prefix.starts_with(&b.promotional_prefix);
        let cap = match (a.max_per_phone, b.max_per_phone) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(x), Some(y)) => x <= y && a.cap_window_hours >= b.cap_window_hours,
        };
        let hours = match (a.allowed_hours, b.allowed_hours) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(x), Some(y)) => x.start_hour >= y.start_hour && x.end_hour <= y.end_hour,
        };
        prefix && cap && hours && a.opt_out_instruction == b.opt_out_instruction
    }

    proptest! {
        /// Whatever a campaign document says, the policy in force is never looser than
        /// the brand's: a relaxation is refused at the door and ignored if stored.
        #[test]
        fn never_looser_than_the_brand(brand in policy(), mine in limits()) {
            let in_force = mine.in_force(&brand);
            prop_assert!(at_least_as_strict(&in_force, &brand), "{in_force:?} vs {brand:?}");
            prop_assert!(in_force.validate().is_ok());
        }

        /// A campaign that passes the check gets exactly the limits it asked for.
        #[test]
        fn an_accepted_tightening_is_applied(brand in policy(), mine in limits()) {
            prop_assume!(mine.relaxes(&brand).is_none() && mine.validate().is_ok());
            let in_force = mine.in_force(&brand);
            if let Some(p) = &mine.promotional_prefix {
                prop_assert_eq!(&in_force.promotional_prefix, p);
            }
            if let Some(Some(h)) = mine.allowed_hours {
                prop_assert_eq!(in_force.allowed_hours, Some(h));
            }
            if let Some(Some(m)) = mine.max_per_phone {
                prop_assert_eq!(in_force.max_per_phone, Some(m));
            }
        }

        /// Accepting is the same as changing nothing the brand forbids.
        #[test]
        fn accepted_exactly_when_not_looser(brand in policy(), mine in limits()) {
            prop_assume!(mine.validate().is_ok());
            let asked = Policy {
                promotional_prefix: mine
                    .promotional_prefix
                    .clone()
                    .unwrap_or_else(|| brand.promotional_prefix.clone()),
                max_per_phone: mine.max_per_phone.unwrap_or(brand.max_per_phone),
                cap_window_hours: mine.cap_window_hours.unwrap_or(brand.cap_window_hours),
                allowed_hours: mine.allowed_hours.unwrap_or(brand.allowed_hours),
                opt_out_instruction: brand.opt_out_instruction.clone(),
                profiling_default: brand.profiling_default,
                opt_out_keywords: brand.opt_out_keywords.clone(),
            };
            prop_assert_eq!(mine.relaxes(&brand).is_none(), at_least_as_strict(&asked, &brand));
        }
    }
}
