//! Referrals end to end, on SQLite and PostgreSQL, through the use cases with a manual
//! clock: a member's invite, the friend's sign-up with a code sent to the phone, the
//! friend's first purchase rewarding both once (a replay, a second purchase and a
//! racing first order give nothing more), a full refund taking both rewards back, and
//! each refusal recorded with its reason: the member inviting themselves, a phone that
//! was a member, the same phone twice, a burst from one address, a first order below
//! the minimum, the member over their monthly cap, another brand's invite.

use crate::signup::SmsStandIn;
use crate::targets;
use regulars::system::OsIdGen;
use regulars_domain::{
    BrandId, CustomerId, EventKey, LineItem, Money, Order, Phone, Points, Refund, RefundScope,
};
use regulars_loyalty::referrals::{ReferralProgramme, ReferralState, RefusalReason};
use regulars_ports::{Clock, MessageSender};
use regulars_service::{
    ChannelSenders, DeliveryOptions, LocationInput, OtpPurpose, SecretKey, Services, SignupDetails,
};
use regulars_tests::{ManualClock, order, phone};
use std::sync::Arc;

const FRIEND_POINTS: i64 = 30;
const REFERRER_POINTS: i64 = 50;

struct Story {
    name: &'static str,
    services: Services,
    clock: Arc<ManualClock>,
    sms: Arc<SmsStandIn>,
    brand: BrandId,
    poster: String,
}

impl Story {
    async fn new(
        name: &'static str,
        services: Services,
        clock: Arc<ManualClock>,
        brand: BrandId,
    ) -> Story {
        let location = services
            .create_location(
                brand,
                LocationInput {
                    code: "q1".to_owned(),
                    name: "Quận 1".to_owned(),
                    utc_offset: None,
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: location: {e}"));
        let poster = services
            .signup_token(brand, location.id)
            .await
            .unwrap_or_else(|e| panic!("{name}: poster: {e}"));
        Story {
            name,
            services,
            clock,
            sms: Arc::new(SmsStandIn::default()),
            brand,
            poster,
        }
    }

    /// Signs `who` up through `invite` from `client`, proving the phone with a code.
    async fn join(
        &self,
        who: &Phone,
        invite: &str,
        client: &str,
    ) -> (CustomerId, Option<ReferralState>) {
        let (name, brand) = (self.name, self.brand);
        self.services
            .issue_otp(brand, who, OtpPurpose::SignUp, client)
            .await
            .unwrap_or_else(|e| panic!("{name}: issue: {e}"));
        let senders = ChannelSenders::new().with(self.sms.clone() as Arc<dyn MessageSender>);
        self.services
            .deliver_due(&senders, &DeliveryOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{name}: deliver: {e}"));
        let code = self
            .sms
            .bodies(who.as_str())
            .last()
            .map(|b| b[..6].to_owned())
            .unwrap_or_else(|| panic!("{name}: no code"));
        let session = self
            .services
            .verify_otp(brand, who, OtpPurpose::SignUp, &code, client)
            .await
            .unwrap_or_else(|e| panic!("{name}: verify: {e}"));
        let details = SignupDetails {
            name: "Minh".to_owned(),
            programme: true,
            ..SignupDetails::default()
        };
        let (customer, referral) = self
            .services
            .sign_up_referred(&self.poster, &session.token, &details, invite, client)
            .await
            .unwrap_or_else(|e| panic!("{name}: sign up: {e}"));
        // A code per phone per minute: let the next one go.
        self.clock.advance(time::Duration::seconds(61));
        (customer.id, referral)
    }

    async fn buy(&self, order: Order) -> Points {
        let name = self.name;
        self.services
            .ingest_order(self.brand, order)
            .await
            .unwrap_or_else(|e| panic!("{name}: order: {e}"))
            .points_earned
    }

    async fn balance(&self, customer: CustomerId) -> i64 {
        let name = self.name;
        self.services
            .customer_view(self.brand, customer)
            .await
            .unwrap_or_else(|e| panic!("{name}: view: {e}"))
            .balance
            .value()
    }

    async fn state_of(&self, friend: CustomerId) -> ReferralState {
        let name = self.name;
        self.services
            .referrals(self.brand, 500)
            .await
            .unwrap_or_else(|e| panic!("{name}: referrals: {e}"))
            .into_iter()
            .filter(|r| r.friend == friend)
            // The friend's own referral before any refused later attempt.
            .min_by_key(|r| (!r.accepted(), r.created_at))
            .map(|r| r.state)
            .unwrap_or_else(|| panic!("{name}: no referral for {friend}"))
    }
}

/// An order of one drink for `total` đồng.
fn small_order(brand: BrandId, id: &str, who: u64, at: time::OffsetDateTime, total: i64) -> Order {
    let vnd = |n| Money::from_minor_units(n, regulars_domain::Currency::VND);
    Order {
        brand_id: brand,
        key: EventKey::new("pos:generic", id).unwrap_or_else(|e| panic!("{e}")),
        location: Some("q1".into()),
        customer_phone: Some(phone(who)),
        placed_at: at,
        lines: vec![LineItem {
            sku: "CF-DEN".into(),
            name: "Cà phê đen".into(),
            category: Some("coffee".into()),
            quantity: 1,
            unit_price: vnd(total),
            modifiers: Vec::new(),
        }],
        total: vnd(total),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_rewards_both_once_and_every_refusal_has_its_reason() {
    for target in targets("referrals").await {
        let name = target.name;
        let clock = ManualClock::starting_now();
        let services = Services::new(target.world.store.clone(), clock.clone(), Arc::new(OsIdGen))
            .with_secret_key(SecretKey::from_bytes([6; 32]));
        let brand = target.world.brand;
        let story = Story::new(name, services.clone(), clock.clone(), brand).await;
        services
            .set_referral_programme(
                brand,
                ReferralProgramme {
                    enabled: true,
                    referrer_points: Points::new(REFERRER_POINTS),
                    friend_points: Points::new(FRIEND_POINTS),
                    min_purchase_minor: 40_000,
                    monthly_cap: 2,
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: programme: {e}"));

        // The member: a regular the POS knows, and a customer who was a member before.
        story.buy(order(brand, "LAN-1", 9001, clock.now(), 1)).await;
        story.buy(order(brand, "OLD-1", 9002, clock.now(), 1)).await;
        let lan = services
            .customer_lookup(brand, phone(9001).as_str())
            .await
            .unwrap_or_else(|e| panic!("{name}: lookup: {e}"))
            .customer
            .id;
        let invite = services
            .invite_token(brand, lan)
            .await
            .unwrap_or_else(|e| panic!("{name}: invite: {e}"))
            .unwrap_or_else(|| panic!("{name}: the programme is on"));
        assert!(
            !invite.contains(&lan.as_uuid().simple().to_string()),
            "{name}: {invite}"
        );
        let again = services.invite_token(brand, lan).await.ok().flatten();
        assert_eq!(
            again.as_deref(),
            Some(invite.as_str()),
            "{name}: one link per member"
        );
        let page = services
            .invite_page(&invite)
            .await
            .unwrap_or_else(|e| panic!("{name}: invite page: {e}"));
        assert_eq!(page.referrer, lan, "{name}");
        // A token altered in one digit names nobody.
        let mut altered = invite.clone();
        let last = if altered.ends_with('0') { "1" } else { "0" };
        altered.replace_range(altered.len() - 1.., last);
        assert!(services.invite_page(&altered).await.is_err(), "{name}");

        // The friend signs up through the invite: pending until the first purchase.
        let (an, state) = story.join(&phone(9101), &invite, "10.0.0.1").await;
        assert_eq!(state, Some(ReferralState::Pending), "{name}");
        let lan_before = story.balance(lan).await;
        assert_eq!(story.balance(an).await, 0, "{name}");
        let first = order(brand, "AN-1", 9101, clock.now(), 1);
        let earned = story.buy(first.clone()).await.value();
        assert_eq!(
            story.balance(an).await,
            earned + FRIEND_POINTS,
            "{name}: friend rewarded"
        );
        assert_eq!(
            story.balance(lan).await,
            lan_before + REFERRER_POINTS,
            "{name}: member rewarded"
        );
        // The same order again (a POS retry), then a second purchase: nothing more.
        story.buy(first.clone()).await;
        let second = story
            .buy(order(brand, "AN-2", 9101, clock.now(), 1))
            .await
            .value();
        assert_eq!(
            story.balance(an).await,
            earned + second + FRIEND_POINTS,
            "{name}"
        );
        assert_eq!(
            story.balance(lan).await,
            lan_before + REFERRER_POINTS,
            "{name}"
        );
        assert!(
            matches!(
                story.state_of(an).await,
                ReferralState::Rewarded {
                    referrer_capped: false,
                    ..
                }
            ),
            "{name}"
        );

        // Refusals, each recorded with its reason.
        let refused = |reason| Some(ReferralState::Refused { reason });
        let (_, state) = story.join(&phone(9001), &invite, "10.0.0.2").await;
        assert_eq!(state, refused(RefusalReason::SelfReferral), "{name}");
        let (_, state) = story.join(&phone(9002), &invite, "10.0.0.3").await;
        assert_eq!(state, refused(RefusalReason::ExistingCustomer), "{name}");
        let (_, state) = story.join(&phone(9101), &invite, "10.0.0.4").await;
        assert_eq!(state, refused(RefusalReason::AlreadyReferred), "{name}");
        let mut burst = Vec::new();
        for n in 0..4 {
            burst.push(story.join(&phone(9201 + n), &invite, "10.0.0.7").await);
        }
        assert_eq!(
            burst[3].1,
            refused(RefusalReason::TooManyFromAddress),
            "{name}"
        );
        let (binh, chi, dung) = (burst[0].0, burst[1].0, burst[2].0);
        for (_, state) in &burst[..3] {
            assert_eq!(state, &Some(ReferralState::Pending), "{name}");
        }

        // A first order below the minimum ends the referral.
        story
            .buy(small_order(brand, "DUNG-1", 9203, clock.now(), 20_000))
            .await;
        assert_eq!(
            story.state_of(dung).await,
            ReferralState::Refused {
                reason: RefusalReason::BelowMinimum
            },
            "{name}"
        );
        assert_eq!(
            story.balance(lan).await,
            lan_before + REFERRER_POINTS,
            "{name}"
        );
        // The member's second rewarded referral this month reaches the cap of two; the
        // third friend is still rewarded, the member is not.
        story
            .buy(order(brand, "BINH-1", 9201, clock.now(), 1))
            .await;
        assert_eq!(
            story.balance(lan).await,
            lan_before + 2 * REFERRER_POINTS,
            "{name}"
        );
        let chi_earned = story
            .buy(order(brand, "CHI-1", 9202, clock.now(), 1))
            .await
            .value();
        assert_eq!(
            story.balance(chi).await,
            chi_earned + FRIEND_POINTS,
            "{name}"
        );
        assert_eq!(
            story.balance(lan).await,
            lan_before + 2 * REFERRER_POINTS,
            "{name}: capped"
        );
        assert!(
            matches!(
                story.state_of(chi).await,
                ReferralState::Rewarded {
                    referrer_capped: true,
                    ..
                }
            ),
            "{name}"
        );
        assert!(
            matches!(
                story.state_of(binh).await,
                ReferralState::Rewarded {
                    referrer_capped: false,
                    ..
                }
            ),
            "{name}"
        );

        // A full refund of the friend's first order takes both rewards back, once.
        for _ in 0..2 {
            services
                .refund_order(
                    brand,
                    Refund {
                        brand_id: brand,
                        key: EventKey::new("pos:generic", "AN-1-R")
                            .unwrap_or_else(|e| panic!("{e}")),
                        order: first.key.clone(),
                        refunded_at: clock.now(),
                        scope: RefundScope::Full,
                    },
                )
                .await
                .unwrap_or_else(|e| panic!("{name}: refund: {e}"));
        }
        assert_eq!(
            story.balance(an).await,
            second,
            "{name}: friend's reward taken back"
        );
        assert_eq!(
            story.balance(lan).await,
            lan_before + REFERRER_POINTS,
            "{name}: member's taken back"
        );
        assert!(
            matches!(story.state_of(an).await, ReferralState::Reversed { .. }),
            "{name}"
        );

        // Another brand's invite does not count in this brand.
        let (other, _) = regulars_tests::add_brand(&services)
            .await
            .unwrap_or_else(|e| panic!("{name}: brand: {e}"));
        services
            .set_referral_programme(
                other,
                ReferralProgramme {
                    enabled: true,
                    friend_points: Points::new(5),
                    ..ReferralProgramme::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        story
            .services
            .ingest_order(other, order(other, "X-1", 9301, clock.now(), 1))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let stranger = services
            .customer_lookup(other, phone(9301).as_str())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .customer
            .id;
        let foreign = services
            .invite_token(other, stranger)
            .await
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("{name}: other invite"));
        let (_, state) = story.join(&phone(9401), &foreign, "10.0.0.9").await;
        assert_eq!(state, None, "{name}: another brand's invite");
        assert!(
            services.invite_token(brand, stranger).await.is_err(),
            "{name}"
        );

        let counts = services
            .referral_counts(brand)
            .await
            .unwrap_or_else(|e| panic!("{name}: counts: {e}"));
        assert_eq!(counts.invited, 1, "{name}");
        assert_eq!(
            (
                counts.signed_up,
                counts.pending,
                counts.rewarded,
                counts.reversed
            ),
            (3, 0, 2, 1),
            "{name}: {counts:?}"
        );
        let refusals: Vec<(RefusalReason, u64)> = vec![
            (RefusalReason::SelfReferral, 1),
            (RefusalReason::ExistingCustomer, 1),
            (RefusalReason::AlreadyReferred, 1),
            (RefusalReason::TooManyFromAddress, 1),
            (RefusalReason::BelowMinimum, 1),
        ];
        assert_eq!(counts.refused, refusals, "{name}");
        let report = services
            .check_ledger(Some(brand))
            .await
            .unwrap_or_else(|e| panic!("{name}: check: {e}"));
        assert!(report.is_clean(), "{name}: {report:?}");
    }
}

/// Two first orders of the friend delivered at once (two tills): one rewards, the
/// other finds the referral decided.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_first_orders_at_once_reward_once() {
    for target in targets("referrals_race").await {
        let name = target.name;
        let clock = ManualClock::starting_now();
        let services = Services::new(target.world.store.clone(), clock.clone(), Arc::new(OsIdGen))
            .with_secret_key(SecretKey::from_bytes([6; 32]));
        let brand = target.world.brand;
        let story = Story::new(name, services.clone(), clock.clone(), brand).await;
        services
            .set_referral_programme(
                brand,
                ReferralProgramme {
                    enabled: true,
                    referrer_points: Points::new(REFERRER_POINTS),
                    friend_points: Points::new(FRIEND_POINTS),
                    min_purchase_minor: 0,
                    monthly_cap: 0,
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: programme: {e}"));
        story.buy(order(brand, "LAN-1", 9001, clock.now(), 1)).await;
        let lan = services
            .customer_lookup(brand, phone(9001).as_str())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .customer
            .id;
        let lan_before = story.balance(lan).await;
        let invite = services
            .invite_token(brand, lan)
            .await
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("{name}: invite"));
        let (an, _) = story.join(&phone(9101), &invite, "10.0.0.1").await;
        let orders: Vec<Order> = (0..4)
            .map(|n| order(brand, &format!("AN-{n}"), 9101, clock.now(), 1))
            .collect();
        let runs = orders.iter().cloned().map(|o| {
            let services = services.clone();
            tokio::spawn(async move { services.ingest_order(brand, o).await })
        });
        let mut earned = 0;
        for run in runs {
            let receipt = run
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .unwrap_or_else(|e| panic!("{name}: order: {e}"));
            earned += receipt.points_earned.value();
        }
        assert_eq!(story.balance(an).await, earned + FRIEND_POINTS, "{name}");
        assert_eq!(
            story.balance(lan).await,
            lan_before + REFERRER_POINTS,
            "{name}"
        );
    }
}
