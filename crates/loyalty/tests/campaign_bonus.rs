//! Properties of campaign bonus credits: a message credits its points once whatever the
//! order and number of its replays, the balance is exactly the earns and the distinct
//! bonuses less the redemptions, and the fold of the entries is the ledger's state.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use regulars_domain::{CampaignId, EventKey, Points};
use regulars_loyalty::ledger::{AccountState, EntryKind, Ledger, LedgerError, Tally, check, fold};
use std::collections::BTreeMap;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const START: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);
const MESSAGES: usize = 6;

#[derive(Clone, Debug)]
enum Step {
    /// An attempt to credit message `message` (a delivery, a retry, a second worker).
    Credit {
        message: usize,
    },
    Earn {
        points: i64,
    },
    Redeem {
        points: i64,
    },
    Wait {
        hours: i64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        5 => (0..MESSAGES).prop_map(|message| Step::Credit { message }),
        2 => (1i64..=300).prop_map(|points| Step::Earn { points }),
        2 => (1i64..=300).prop_map(|points| Step::Redeem { points }),
        1 => (0i64..=48).prop_map(|hours| Step::Wait { hours }),
    ]
}

fn campaign() -> CampaignId {
    CampaignId::from_bytes([3; 16])
}

fn message_id(n: usize) -> String {
    format!("00000000-0000-0000-0000-00000000000{n}")
}

/// The bonus each message carries: fixed per message, as the outbox keeps it.
fn bonus_of(n: usize) -> Points {
    Points::new(10 * (n as i64 + 1))
}

/// Runs the steps on a ledger resumed before each step from its stored state and the
/// tallies the step looks up (as storage does), returning the ledger of every entry.
fn run(steps: &[Step]) -> (Ledger, BTreeMap<String, Tally>, AccountState) {
    let mut full = Ledger::new();
    let mut account = AccountState::default();
    let mut table: BTreeMap<String, Tally> = BTreeMap::new();
    let mut now = START;
    for (i, step) in steps.iter().enumerate() {
        let keys: Vec<String> = match step {
            Step::Credit { message } => vec![Tally::bonus_key(&message_id(*message))],
            _ => Vec::new(),
        };
        let json = serde_json::to_string(&account).unwrap();
        let mut resumed = Ledger::resume(
            serde_json::from_str(&json).unwrap(),
            keys.iter().filter_map(|k| table.get(k).cloned()),
        );
        let apply = |ledger: &mut Ledger| match step {
            Step::Credit { message } => ledger.credit_bonus(
                campaign(),
                &message_id(*message),
                bonus_of(*message),
                now,
                Some(now + Duration::days(30)),
            ),
            Step::Earn { points } => ledger.earn(
                EventKey::new("pos:test", format!("o-{i}")).unwrap(),
                Points::new(*points),
                now,
                None,
            ),
            Step::Redeem { points } => ledger.redeem(Points::new(*points), now, "reward:x"),
            Step::Wait { .. } => Ok(Vec::new()),
        };
        let expected = apply(&mut full);
        let got = apply(&mut resumed);
        assert_eq!(expected, got, "{step:?}");
        if got.is_ok() {
            account = resumed.state().account().clone();
            for tally in resumed.changed_tallies() {
                table.insert(tally.key(), tally);
            }
        }
        if let Step::Wait { hours } = step {
            now += Duration::hours(*hours);
        }
    }
    (full, table, account)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Every message credited at least once is credited exactly once, for its points; a
    /// replay is refused as a duplicate and changes nothing.
    #[test]
    fn each_message_credits_once(steps in proptest::collection::vec(step(), 1..80)) {
        let (ledger, table, account) = run(&steps);
        let mut credited: BTreeMap<String, (usize, Points)> = BTreeMap::new();
        for entry in ledger.entries() {
            if let EntryKind::CampaignBonus { message, campaign: c, .. } = &entry.kind {
                prop_assert_eq!(*c, campaign());
                let slot = credited.entry(message.clone()).or_insert((0, Points::ZERO));
                slot.0 += 1;
                slot.1 = entry.amount;
            }
        }
        for n in steps.iter().filter_map(|s| match s {
            Step::Credit { message } => Some(*message),
            _ => None,
        }) {
            let (count, points) = credited.get(&message_id(n)).copied().unwrap_or((0, Points::ZERO));
            prop_assert_eq!(count, 1, "message {} credited {} times", n, count);
            prop_assert_eq!(points, bonus_of(n));
        }
        // The fold is the state, and the stored copy agrees with both.
        let folded = fold(ledger.entries()).unwrap();
        prop_assert_eq!(&folded, ledger.state());
        prop_assert_eq!(&account, folded.account());
        let tallies: BTreeMap<String, Tally> =
            folded.tallies().into_iter().map(|t| (t.key(), t)).collect();
        prop_assert_eq!(&table, &tallies);
        check(ledger.entries(), ledger.balance()).unwrap();
    }

    /// Conservation: the balance is the earns plus the distinct bonuses less the
    /// redemptions, and the open lots less the debt.
    #[test]
    fn bonuses_conserve_points(steps in proptest::collection::vec(step(), 1..80)) {
        let (ledger, _, _) = run(&steps);
        let (mut earned, mut spent, mut bonus) = (0i64, 0i64, 0i64);
        for entry in ledger.entries() {
            match entry.kind {
                EntryKind::Earn { .. } => earned += entry.amount.value(),
                EntryKind::Redeem { .. } => spent -= entry.amount.value(),
                EntryKind::CampaignBonus { .. } => bonus += entry.amount.value(),
                _ => {}
            }
        }
        let distinct: i64 = steps
            .iter()
            .filter_map(|s| match s { Step::Credit { message } => Some(*message), _ => None })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|n| bonus_of(n).value())
            .sum();
        prop_assert_eq!(bonus, distinct);
        prop_assert_eq!(ledger.balance().value(), earned + bonus - spent);
        let lots: i64 = ledger.state().lots().map(|l| l.remaining.value()).sum();
        prop_assert_eq!(lots - ledger.state().debt().value(), ledger.balance().value());
    }

    /// The same credits replayed in any order credit the same set of messages.
    #[test]
    fn replay_order_does_not_matter(
        order in Just((0..MESSAGES).flat_map(|m| [m, m, m]).collect::<Vec<_>>()).prop_shuffle()
    ) {
        let steps: Vec<Step> = order.iter().map(|&message| Step::Credit { message }).collect();
        let (ledger, _, _) = run(&steps);
        prop_assert_eq!(ledger.entries().len(), MESSAGES);
        let total: i64 = (0..MESSAGES).map(|n| bonus_of(n).value()).sum();
        prop_assert_eq!(ledger.balance().value(), total);
    }
}

/// A replay is refused with the duplicate error, naming the message; a blank message
/// and a non-positive bonus are refused before anything is written.
#[test]
fn replays_and_bad_input_are_refused() {
    let mut ledger = Ledger::new();
    ledger
        .credit_bonus(campaign(), "m", Points::new(5), START, None)
        .unwrap();
    assert_eq!(
        ledger.credit_bonus(campaign(), "m", Points::new(5), START, None),
        Err(LedgerError::DuplicateBonus {
            message: "m".into()
        })
    );
    assert!(matches!(
        ledger.credit_bonus(campaign(), " ", Points::new(5), START, None),
        Err(LedgerError::EmptyField { field: "message" })
    ));
    assert!(
        ledger
            .credit_bonus(campaign(), "n", Points::ZERO, START, None)
            .is_err()
    );
    assert!(
        ledger
            .credit_bonus(campaign(), "n", Points::new(1), START, Some(START))
            .is_err()
    );
    assert_eq!(ledger.entries().len(), 1);
    assert_eq!(ledger.balance(), Points::new(5));
}
