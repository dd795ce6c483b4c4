//! Properties of vouchers and of the rewards they carry: codes survive every way of
//! writing them and catch every typo of one symbol or one swap; a voucher's life cycle
//! matches a reference model under random operations, so it is redeemed at most once;
//! discounts stay between zero and the order total.

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use regulars_domain::{
    CampaignId, Currency, CustomerId, EventKey, LineItem, Modifier, Money, Points, RewardId,
    VoucherId,
};
use regulars_loyalty::rewards::{Reward, RewardError, RewardKind};
use regulars_loyalty::vouchers::{
    NewVoucher, Voucher, VoucherCode, VoucherCodeError, VoucherError, VoucherSource, VoucherStatus,
};
use rust_decimal::Decimal;
use time::{Duration, OffsetDateTime};

const ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Failing cases are kept in `proptest-regressions/vouchers_props.txt` (relative to the crate),
/// committed, and replayed first on every run.
fn config() -> Config {
    Config {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/vouchers_props.txt",
        ))),
        ..Config::default()
    }
}

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

// ---------------------------------------------------------------------------------------
// Codes
// ---------------------------------------------------------------------------------------

/// Writes a code the way a person might: any case, separators sprinkled in.
fn sloppy(code: &str, lower: &[bool], separators: &[u8]) -> String {
    let mut out = String::new();
    for (i, c) in code.chars().enumerate() {
        match separators.get(i).copied().unwrap_or(0) % 4 {
            1 => out.push('-'),
            2 => out.push(' '),
            _ => {}
        }
        if lower.get(i).copied().unwrap_or(false) {
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_generated_code_reads_back_as_itself(
        bytes in any::<[u8; 8]>(),
        lower in prop::collection::vec(any::<bool>(), 13),
        separators in prop::collection::vec(any::<u8>(), 13),
    ) {
        let code = VoucherCode::from_random_bytes(bytes);
        prop_assert_eq!(code.as_str().len(), 13);
        prop_assert!(code.as_str().chars().all(|c| ALPHABET.contains(c)));
        prop_assert_eq!(VoucherCode::parse(code.as_str()), Ok(code.clone()));
        prop_assert_eq!(VoucherCode::parse(&code.to_string()), Ok(code.clone()));
        prop_assert_eq!(VoucherCode::parse(&sloppy(code.as_str(), &lower, &separators)), Ok(code.clone()));
        let json = serde_json::to_string(&code).map_err(fail)?;
        prop_assert_eq!(serde_json::from_str::<VoucherCode>(&json).map_err(fail)?, code.clone());
        let payload = code.qr_payload("https://r.example/b/7");
        prop_assert_eq!(VoucherCode::parse_qr_payload(&payload, "https://r.example/b/7"), Ok(code));
    }

    #[test]
    fn the_60_random_bits_all_reach_the_code(bytes in any::<[u8; 8]>(), bit in 0u32..60) {
        let flipped = (u64::from_be_bytes(bytes) ^ (1 << bit)).to_be_bytes();
        prop_assert_ne!(VoucherCode::from_random_bytes(bytes), VoucherCode::from_random_bytes(flipped));
    }

    #[test]
    fn every_single_symbol_substitution_is_rejected(bytes in any::<[u8; 8]>()) {
        let code = VoucherCode::from_random_bytes(bytes);
        let symbols: Vec<char> = code.as_str().chars().collect();
        for position in 0..symbols.len() {
            for replacement in ALPHABET.chars().filter(|&c| c != symbols[position]) {
                let mut typo = symbols.clone();
                typo[position] = replacement;
                let typo: String = typo.into_iter().collect();
                prop_assert_eq!(
                    VoucherCode::parse(&typo),
                    Err(VoucherCodeError::CheckSymbolMismatch),
                    "{} accepted for {}", typo, code
                );
            }
        }
    }

    #[test]
    fn every_adjacent_transposition_is_rejected(bytes in any::<[u8; 8]>()) {
        let code = VoucherCode::from_random_bytes(bytes);
        let symbols: Vec<char> = code.as_str().chars().collect();
        for position in 0..symbols.len() - 1 {
            if symbols[position] == symbols[position + 1] {
                continue;
            }
            let mut swapped = symbols.clone();
            swapped.swap(position, position + 1);
            let swapped: String = swapped.into_iter().collect();
            prop_assert_eq!(
                VoucherCode::parse(&swapped),
                Err(VoucherCodeError::CheckSymbolMismatch),
                "{} accepted for {}", swapped, code
            );
        }
    }

    #[test]
    fn exactly_one_check_symbol_completes_any_twelve_symbols(
        data in prop::collection::vec(prop::sample::select(ALPHABET.chars().collect::<Vec<_>>()), 12),
    ) {
        let data: String = data.into_iter().collect();
        let accepted = ALPHABET
            .chars()
            .filter(|&check| VoucherCode::parse(&format!("{data}{check}")).is_ok())
            .count();
        prop_assert_eq!(accepted, 1);
    }

    #[test]
    fn parse_never_panics_and_only_yields_canonical_codes(
        input in prop_oneof![
            any::<String>(),
            "[0-9A-Za-z \\-]{0,20}",
            "[0-9A-HJKMNP-TV-Z]{13}",
        ],
    ) {
        if let Ok(code) = VoucherCode::parse(&input) {
            prop_assert_eq!(code.as_str().len(), 13);
            prop_assert!(code.as_str().chars().all(|c| ALPHABET.contains(c)));
            prop_assert_eq!(VoucherCode::parse(code.as_str()), Ok(code));
        }
        let _ = VoucherCode::parse_qr_payload(&input, "https://r.example");
    }
}

// ---------------------------------------------------------------------------------------
// Voucher life cycle: a reference model driven through random operations
// ---------------------------------------------------------------------------------------

fn issued_at() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + Duration::days(20_500)
}

fn order_key(n: u8) -> Option<EventKey> {
    EventKey::new("pos:test", format!("A-{n}")).ok()
}

/// The reference: what the life cycle must do, written independently of the
/// implementation, with times in seconds after issue.
#[derive(Debug, Clone, PartialEq)]
enum ModelStatus {
    Issued,
    Redeemed { at: i64, order: Option<u8> },
    Expired,
    Voided { at: i64, reason: String },
}

#[derive(Debug, Clone)]
struct Model {
    /// Seconds from issue to expiry.
    valid_for: i64,
    status: ModelStatus,
}

#[derive(Debug, Clone)]
enum Op {
    Redeem { at: i64, order: Option<u8> },
    Void { at: i64, reason: String },
    Expire { at: i64 },
    Validate { at: i64 },
}

impl Op {
    fn at(&self) -> i64 {
        match self {
            Op::Redeem { at, .. }
            | Op::Void { at, .. }
            | Op::Expire { at }
            | Op::Validate { at } => *at,
        }
    }
}

fn time_at(seconds: i64) -> OffsetDateTime {
    issued_at() + Duration::seconds(seconds)
}

impl Model {
    /// The outcome the specification demands: the new status, or the error.
    fn outcome(&self, op: &Op) -> Result<ModelStatus, VoucherError> {
        let expires = self.valid_for;
        // Nothing leaves a final state.
        match &self.status {
            ModelStatus::Issued => {}
            ModelStatus::Redeemed { at, order } => {
                return Err(VoucherError::AlreadyRedeemed {
                    at: time_at(*at),
                    order: order.and_then(order_key),
                });
            }
            ModelStatus::Expired => {
                return Err(VoucherError::Expired {
                    at: time_at(expires),
                });
            }
            ModelStatus::Voided { at, reason } => {
                return Err(VoucherError::Voided {
                    at: time_at(*at),
                    reason: reason.clone(),
                });
            }
        }
        let at = op.at();
        let redeemable = if at < 0 {
            Err(VoucherError::NotYetValid {
                valid_from: time_at(0),
            })
        } else if at >= expires {
            Err(VoucherError::Expired {
                at: time_at(expires),
            })
        } else {
            Ok(())
        };
        match op {
            Op::Validate { .. } => redeemable.map(|()| ModelStatus::Issued),
            Op::Redeem { at, order } => redeemable.map(|()| ModelStatus::Redeemed {
                at: *at,
                order: *order,
            }),
            Op::Expire { at } if *at >= expires => Ok(ModelStatus::Expired),
            Op::Expire { .. } => Err(VoucherError::NotYetExpired {
                expires_at: time_at(expires),
            }),
            Op::Void { reason, .. } if reason.trim().is_empty() => Err(VoucherError::Invalid {
                field: "reason",
                reason: "must not be empty".into(),
            }),
            Op::Void { at, reason } => Ok(ModelStatus::Voided {
                at: *at,
                reason: reason.clone(),
            }),
        }
    }

    fn as_status(&self) -> VoucherStatus {
        match &self.status {
            ModelStatus::Issued => VoucherStatus::Issued,
            ModelStatus::Redeemed { at, order } => VoucherStatus::Redeemed {
                at: time_at(*at),
                order: order.and_then(order_key),
            },
            ModelStatus::Expired => VoucherStatus::Expired {
                at: time_at(self.valid_for),
            },
            ModelStatus::Voided { at, reason } => VoucherStatus::Voided {
                at: time_at(*at),
                reason: reason.clone(),
            },
        }
    }
}

struct VoucherMachine;

impl ReferenceStateMachine for VoucherMachine {
    type State = Model;
    type Transition = Op;

    fn init_state() -> BoxedStrategy<Model> {
        (1i64..200_000)
            .prop_map(|valid_for| Model {
                valid_for,
                status: ModelStatus::Issued,
            })
            .boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Op> {
        // Times before issue, inside the validity, exactly at expiry, and after.
        let valid_for = state.valid_for;
        let at = prop_oneof![
            -1_000i64..0,
            0..valid_for,
            Just(valid_for - 1),
            Just(valid_for),
            valid_for..valid_for + 100_000,
        ];
        let reason = prop_oneof![Just(String::new()), Just("  ".to_owned()), "[a-z ]{1,12}"];
        prop_oneof![
            (at.clone(), prop::option::of(0u8..4)).prop_map(|(at, order)| Op::Redeem { at, order }),
            (at.clone(), reason).prop_map(|(at, reason)| Op::Void { at, reason }),
            at.clone().prop_map(|at| Op::Expire { at }),
            at.prop_map(|at| Op::Validate { at }),
        ]
        .boxed()
    }

    fn apply(mut state: Model, op: &Op) -> Model {
        if let Ok(status) = state.outcome(op) {
            state.status = status;
        }
        state
    }
}

/// The voucher under test, with what it has done so far.
struct Sut {
    voucher: Voucher,
    successful_redemptions: u32,
    first_final: Option<VoucherStatus>,
}

struct VoucherLifeCycleTest;

impl StateMachineTest for VoucherLifeCycleTest {
    type SystemUnderTest = Sut;
    type Reference = VoucherMachine;

    fn init_test(model: &Model) -> Sut {
        let voucher = Voucher::issue(NewVoucher {
            id: VoucherId::from_bytes([1; 16]),
            code: VoucherCode::from_random_bytes([5; 8]),
            customer: CustomerId::from_bytes([2; 16]),
            reward: RewardId::from_bytes([3; 16]),
            source: VoucherSource::Campaign {
                campaign: CampaignId::from_bytes([4; 16]),
            },
            issued_at: issued_at(),
            expires_at: time_at(model.valid_for),
        });
        match voucher {
            Ok(voucher) => Sut {
                voucher,
                successful_redemptions: 0,
                first_final: None,
            },
            Err(e) => panic!("a valid voucher was refused: {e}"),
        }
    }

    fn apply(mut sut: Sut, model_after: &Model, op: Op) -> Sut {
        // The model before the step is the SUT's state (checked after every step).
        let before = Model {
            valid_for: model_after.valid_for,
            status: status_to_model(sut.voucher.status()),
        };
        let expected = before.outcome(&op).map(|_| ());
        let unchanged = sut.voucher.clone();
        let actual = match &op {
            Op::Redeem { at, order } => sut.voucher.redeem(time_at(*at), order.and_then(order_key)),
            Op::Void { at, reason } => sut.voucher.void(time_at(*at), reason.clone()),
            Op::Expire { at } => sut.voucher.expire(time_at(*at)),
            Op::Validate { at } => sut.voucher.validate(time_at(*at)),
        };
        assert_eq!(actual, expected, "{op:?} from {:?}", before.status);
        if actual.is_err() {
            assert_eq!(
                sut.voucher, unchanged,
                "a refused {op:?} changed the voucher"
            );
        }
        if actual.is_ok() && matches!(op, Op::Redeem { .. }) {
            sut.successful_redemptions += 1;
        }
        if sut.first_final.is_none() && sut.voucher.status().is_final() {
            sut.first_final = Some(sut.voucher.status().clone());
        }
        sut
    }

    fn check_invariants(sut: &Sut, model: &Model) {
        let status = sut.voucher.status();
        assert_eq!(status, &model.as_status());
        assert!(sut.successful_redemptions <= 1, "redeemed twice");
        assert_eq!(
            sut.successful_redemptions == 1,
            matches!(status, VoucherStatus::Redeemed { .. })
        );
        if let Some(first) = &sut.first_final {
            assert_eq!(status, first, "a final status changed");
        }
        // Every reachable state survives storage.
        let json = serde_json::to_string(&sut.voucher).unwrap_or_default();
        let back: Result<Voucher, _> = serde_json::from_str(&json);
        assert_eq!(back.ok().as_ref(), Some(&sut.voucher), "{json}");
    }
}

fn status_to_model(status: &VoucherStatus) -> ModelStatus {
    let seconds = |at: &OffsetDateTime| (*at - issued_at()).whole_seconds();
    match status {
        VoucherStatus::Issued => ModelStatus::Issued,
        VoucherStatus::Redeemed { at, order } => ModelStatus::Redeemed {
            at: seconds(at),
            order: order
                .as_ref()
                .and_then(|k| k.external_id.strip_prefix("A-"))
                .and_then(|n| n.parse().ok()),
        },
        VoucherStatus::Expired { .. } => ModelStatus::Expired,
        VoucherStatus::Voided { at, reason } => ModelStatus::Voided {
            at: seconds(at),
            reason: reason.clone(),
        },
    }
}

prop_state_machine! {
    #![proptest_config(Config { cases: 512, ..config() })]

    #[test]
    fn a_voucher_follows_its_life_cycle_and_is_redeemed_at_most_once(sequential 1..24 => VoucherLifeCycleTest);
}

// ---------------------------------------------------------------------------------------
// Rewards on baskets
// ---------------------------------------------------------------------------------------

fn money(units: i64, currency: Currency) -> Money {
    Money::from_minor_units(units, currency)
}

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![Just(Currency::VND), Just(Currency::USD)]
}

fn basket(currency: Currency) -> impl Strategy<Value = Vec<LineItem>> {
    let modifier = (prop::sample::select(vec!["PEARL", "JELLY"]), 0i64..20_000).prop_map(
        move |(sku, price)| Modifier {
            sku: sku.into(),
            name: sku.into(),
            unit_price: money(price, currency),
        },
    );
    let line = (
        prop::sample::select(vec!["TS", "CF", "MT"]),
        0u32..4,
        0i64..200_000,
        prop::collection::vec(modifier, 0..3),
    )
        .prop_map(move |(sku, quantity, price, modifiers)| LineItem {
            sku: sku.into(),
            name: sku.into(),
            category: None,
            quantity,
            unit_price: money(price, currency),
            modifiers,
        });
    prop::collection::vec(line, 0..6)
}

/// Rewards, including invalid ones (percent outside (0, 100], zero amounts).
fn reward_kind(currency: Currency) -> impl Strategy<Value = RewardKind> {
    prop_oneof![
        prop::sample::select(vec!["TS", "CF", "XX"])
            .prop_map(|sku| RewardKind::FreeItem { sku: sku.into() }),
        prop::sample::select(vec!["PEARL", "JELLY", "XX"])
            .prop_map(|sku| RewardKind::FreeModifier { sku: sku.into() }),
        (0i64..500_000).prop_map(move |n| RewardKind::FixedDiscount {
            amount: money(n, currency)
        }),
        (-500i64..25_000, prop::option::of(0i64..100_000)).prop_map(move |(hundredths, cap)| {
            RewardKind::PercentDiscount {
                percent: Decimal::new(hundredths, 2),
                cap: cap.map(|c| money(c, currency)),
            }
        }),
    ]
}

fn reward(kind: RewardKind, min_order_total: Option<Money>) -> Reward {
    Reward {
        id: RewardId::from_bytes([9; 16]),
        name: "Reward".into(),
        cost: Points::new(100),
        kind,
        active: true,
        validity_days: 30,
        min_order_total,
    }
}

fn case() -> impl Strategy<Value = (Vec<LineItem>, Money, Reward)> {
    currency().prop_flat_map(|c| {
        (
            basket(c),
            (0i64..2_000_000).prop_map(move |n| money(n, c)),
            reward_kind(c),
            prop::option::of((0i64..1_000_000).prop_map(move |n| money(n, c))),
        )
            .prop_map(|(lines, total, kind, minimum)| (lines, total, reward(kind, minimum)))
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_discount_is_between_zero_and_the_order_total((lines, total, reward) in case()) {
        match reward.discount_for(&lines, total) {
            Ok(discount) => {
                prop_assert_eq!(discount.currency(), total.currency());
                prop_assert!(!discount.is_negative());
                prop_assert!(discount.amount() <= total.amount());
                prop_assert!(reward.validate().is_ok());
                if let Some(minimum) = reward.min_order_total {
                    prop_assert!(total.amount() >= minimum.amount());
                }
            }
            Err(RewardError::Invalid { .. }) => prop_assert!(reward.validate().is_err()),
            Err(RewardError::BelowMinimumOrder { minimum, .. }) => {
                prop_assert!(total.amount() < minimum.amount());
            }
            Err(RewardError::NotInBasket { .. }) => {}
            Err(other) => return Err(fail(format!("unexpected {other}"))),
        }
    }

    #[test]
    fn a_percent_discount_is_the_rounded_share_within_its_cap((lines, total, reward) in case()) {
        let RewardKind::PercentDiscount { percent, cap } = reward.kind else {
            return Ok(());
        };
        if let Ok(discount) = reward.discount_for(&lines, total) {
            prop_assert!(percent > Decimal::ZERO && percent <= Decimal::ONE_HUNDRED);
            if let Some(cap) = cap {
                prop_assert!(discount.amount() <= cap.amount());
            }
            let exact = total.amount() * percent / Decimal::ONE_HUNDRED;
            let half_unit = Decimal::new(5, total.currency().minor_units() + 1);
            let capped = cap.map_or(exact, |c| exact.min(c.amount()));
            prop_assert!((discount.amount() - capped).abs() <= half_unit, "{} vs {}", discount, capped);
        }
    }

    #[test]
    fn a_free_item_is_the_cheapest_matching_unit((lines, total, _reward) in case()) {
        let reward = reward(RewardKind::FreeItem { sku: "TS".into() }, None);
        let cheapest = lines
            .iter()
            .filter(|l| l.sku == "TS" && l.quantity > 0)
            .map(|l| l.unit_price.amount())
            .min();
        match (reward.discount_for(&lines, total), cheapest) {
            (Ok(discount), Some(price)) => prop_assert_eq!(discount.amount(), price.min(total.amount())),
            (Err(RewardError::NotInBasket { sku }), None) => prop_assert_eq!(sku, "TS"),
            (outcome, cheapest) => return Err(fail(format!("{outcome:?} with cheapest {cheapest:?}"))),
        }
    }
}
