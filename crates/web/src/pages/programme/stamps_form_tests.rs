//! The stamp cards form and the card list agree; problems are named by their field.

use super::rules_form::Fields;
use super::stamps_form::{field_name, from_fields, to_fields};
use proptest::prelude::*;
use regulars_domain::{Currency, Money, RewardId};
use regulars_loyalty::stamps::{StampCard, StampEarning};

fn earning() -> impl Strategy<Value = StampEarning> {
    prop_oneof![
        (
            proptest::collection::vec("[A-Z]{2}-[A-Z0-9]{1,8}", 0..4),
            proptest::collection::vec("[a-z][a-z-]{0,10}[a-z]", 0..3),
        )
            .prop_map(|(skus, categories)| StampEarning::Item { skus, categories }),
        proptest::option::of(0_i64..10_000_000).prop_map(|min| StampEarning::Visit {
            min_total: min.map(|m| Money::from_minor_units(m, Currency::VND)),
        }),
    ]
}

fn card() -> impl Strategy<Value = StampCard> {
    (
        "[a-z0-9_-]{1,12}",
        r"[A-Za-z[à-ỹ&&\p{L}]][A-Za-z[à-ỹ&&\p{L}] ☕]{0,20}[a-z[à-ỹ&&\p{L}]]",
        0_u32..200,
        earning(),
        proptest::option::of(0_u32..200),
        any::<[u8; 16]>(),
        proptest::option::of(0_u32..5000),
        any::<bool>(),
    )
        .prop_map(
            |(code, name, stamps_needed, earn, max_per_order, reward, expiry_days, active)| {
                StampCard {
                    code,
                    name,
                    stamps_needed,
                    earn,
                    max_per_order,
                    reward: RewardId::from_bytes(reward),
                    expiry_days,
                    active,
                }
            },
        )
}

proptest! {
    /// Any list of cards shown in the form and posted back unchanged is the same list:
    /// the form edits the document the API and the JSON view edit.
    #[test]
    fn cards_to_form_and_back_are_the_same_cards(cards in proptest::collection::vec(card(), 0..5)) {
        let fields = to_fields(&cards);
        let read = from_fields(&fields, Currency::VND);
        prop_assert_eq!(read.map(|(c, _)| c), Ok(cards));
    }

    /// The form and the JSON view agree: a list read from JSON shows in the form as the
    /// same cards.
    #[test]
    fn json_to_form_to_json_is_the_same_document(cards in proptest::collection::vec(card(), 0..5)) {
        let json = serde_json::to_string(&cards).unwrap_or_default();
        let parsed: Vec<StampCard> = serde_json::from_str(&json).unwrap_or_default();
        let (back, _) = from_fields(&to_fields(&parsed), Currency::VND).unwrap_or_default();
        prop_assert_eq!(serde_json::to_string(&back).unwrap_or_default(), json);
    }
}

fn form(pairs: &[(&str, &str)]) -> Fields {
    Fields(
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

fn reward() -> String {
    RewardId::from_bytes([7; 16]).to_string()
}

#[test]
fn a_blank_row_is_no_card_and_a_removed_row_ends_its_card() {
    let reward = reward();
    let posted = form(&[
        ("cards[0].code", "coffee"),
        ("cards[0].name", "Coffee card"),
        ("cards[0].stamps_needed", "10"),
        ("cards[0].earn.per", "item"),
        ("cards[0].earn.categories", "coffee"),
        ("cards[0].reward", &reward),
        ("cards[0].active", "on"),
        ("cards[0].remove", "on"),
        ("cards[1].code", "tea"),
        ("cards[1].name", "Tea card"),
        ("cards[1].stamps_needed", "5"),
        ("cards[1].earn.per", "visit"),
        ("cards[1].earn.min_total", "30000"),
        ("cards[1].reward", &reward),
        ("cards[2].code", ""),
        ("cards[2].name", " "),
        ("cards[2].earn.per", "item"),
        ("cards[2].reward", &reward),
        ("cards[2].active", "on"),
    ]);
    let (cards, rows) = from_fields(&posted, Currency::VND).unwrap_or_default();
    assert_eq!(rows, vec![1], "only the tea card's row is a card");
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0].code, "tea");
    assert!(!cards[0].active, "an unticked box is an inactive card");
    assert_eq!(
        cards[0].earn,
        StampEarning::Visit {
            min_total: Some(Money::from_minor_units(30_000, Currency::VND))
        }
    );
}

#[test]
fn problems_name_their_field_and_row() {
    let errors = from_fields(
        &form(&[
            ("cards[3].code", "coffee"),
            ("cards[3].name", "Coffee card"),
            ("cards[3].stamps_needed", "ten"),
            ("cards[3].earn.per", "visit"),
            ("cards[3].earn.min_total", "a lot"),
            ("cards[3].reward", "not a reward"),
            ("cards[3].expiry_days", "-1"),
        ]),
        Currency::VND,
    )
    .err()
    .unwrap_or_default();
    for field in [
        "cards[3].stamps_needed",
        "cards[3].earn.min_total",
        "cards[3].reward",
        "cards[3].expiry_days",
    ] {
        assert!(errors.contains_key(field), "{field}: {errors:?}");
    }
    assert_eq!(field_name(2, "skus"), "cards[2].earn.skus");
    assert_eq!(field_name(0, "min_total"), "cards[0].earn.min_total");
    assert_eq!(field_name(1, "stamps_needed"), "cards[1].stamps_needed");
}
