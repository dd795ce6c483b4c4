//! The brand's menu, and the till's orders by menu items.

use super::*;
use crate::till::{TillOrder, TillOrderError, TillStaff, new_form_key};
use crate::{ErrorClass, MenuUseCaseError, UseCaseError};
use regulars_domain::{DeviceId, LocationId, MenuItem, MenuPick, StaffId};
use regulars_ports::{Location, StoreError};

fn item(sku: &str, category: &str, price: i64) -> MenuItem {
    MenuItem {
        sku: sku.into(),
        name: format!("Item {sku}"),
        category: Some(category.into()),
        price: vnd(price),
        active: true,
        sort_order: None,
    }
}

fn stored_menu(h: &Harness, brand: BrandId) -> Vec<MenuItem> {
    h.fake
        .world()
        .menu
        .into_iter()
        .filter(|((b, _), _)| *b == brand)
        .map(|(_, i)| i)
        .collect()
}

#[tokio::test]
async fn a_bad_item_in_a_whole_menu_writes_nothing_and_names_its_index() {
    let h = Harness::standard();
    h.services
        .replace_menu(BRAND, vec![item("A", "tea", 30_000)])
        .await
        .unwrap();
    h.fake.take_writes();

    let mut bad = item("C", "tea", 10_000);
    bad.price = Money::from_minor_units(500, Currency::USD);
    let error = h
        .services
        .replace_menu(BRAND, vec![item("B", "tea", 20_000), bad])
        .await
        .unwrap_err();

    let MenuUseCaseError::Invalid(e) = &error else {
        panic!("{error:?}")
    };
    assert_eq!((e.index, e.field), (Some(1), "price"));
    assert_eq!(error.class(), ErrorClass::Invalid);
    assert!(h.fake.take_writes().is_empty(), "nothing attempted");
    assert_eq!(stored_menu(&h, BRAND), vec![item("A", "tea", 30_000)]);
}

#[tokio::test]
async fn a_failed_replacement_leaves_the_old_menu_and_other_brands_alone() {
    let h = Harness::standard();
    h.services
        .replace_menu(BRAND, vec![item("A", "tea", 30_000)])
        .await
        .unwrap();
    h.services
        .replace_menu(OTHER_BRAND, vec![item("Z", "cake", 5_000)])
        .await
        .unwrap();

    h.fake
        .fail("commit", StoreError::Unavailable("disk full".into()));
    let failed = h
        .services
        .replace_menu(BRAND, vec![item("B", "tea", 1)])
        .await;
    assert!(failed.is_err());
    assert_eq!(stored_menu(&h, BRAND), vec![item("A", "tea", 30_000)]);

    let replaced = h
        .services
        .replace_menu(
            BRAND,
            vec![item("C", "coffee", 25_000), item("B", "tea", 1)],
        )
        .await
        .unwrap();
    let skus: Vec<&str> = replaced.iter().map(|i| i.sku.as_str()).collect();
    assert_eq!(skus, ["C", "B"], "sorted by category");
    assert_eq!(stored_menu(&h, BRAND).len(), 2);
    assert_eq!(stored_menu(&h, OTHER_BRAND), vec![item("Z", "cake", 5_000)]);
}

#[tokio::test]
async fn items_are_added_changed_and_removed_one_by_one() {
    let h = Harness::standard();
    assert!(
        h.services
            .put_menu_item(BRAND, &item("A", "tea", 1))
            .await
            .unwrap()
    );
    assert!(
        !h.services
            .put_menu_item(BRAND, &item("A", "tea", 2))
            .await
            .unwrap()
    );
    assert_eq!(
        h.services.menu(BRAND).await.unwrap(),
        vec![item("A", "tea", 2)]
    );

    let mut blank = item("B", "tea", 1);
    blank.name = "  ".into();
    let error = h.services.put_menu_item(BRAND, &blank).await.unwrap_err();
    assert_eq!(error.field(), Some("name"));

    h.services.delete_menu_item(BRAND, "A").await.unwrap();
    let error = h.services.delete_menu_item(BRAND, "A").await.unwrap_err();
    assert_eq!(error, MenuUseCaseError::UnknownItem("A".into()));
    assert_eq!(error.class(), ErrorClass::NotFound);
    assert!(h.services.menu(BRAND).await.unwrap().is_empty());
}

fn till() -> TillStaff {
    TillStaff {
        brand: BRAND,
        device: DeviceId::from_bytes([0xD1; 16]),
        staff: StaffId::from_bytes([0x51; 16]),
        staff_name: "Lan".into(),
        location: Location {
            id: LocationId::from_bytes([0x11; 16]),
            brand_id: BRAND,
            code: "q1".into(),
            name: "Quận 1".into(),
            utc_offset: None,
            created_at: t0(),
        },
    }
}

fn pick(sku: &str, quantity: u32) -> MenuPick {
    MenuPick {
        sku: sku.into(),
        quantity,
    }
}

/// 1 point per 1,000 VND and 2 points per milk tea.
fn bonus_rules() -> EarningRules {
    EarningRules::from_json(
        r#"{"currency": "VND",
            "base": {"per_amount": "1000", "points": 1, "rounding": "floor"},
            "product_bonuses": [{"category": "milk-tea", "points_per_unit": 2}]}"#,
    )
    .unwrap()
}

#[tokio::test]
async fn a_till_order_by_items_is_priced_from_the_menu_and_earns_its_bonuses() {
    let h = Harness::standard();
    h.given_order(order("A-1", 1_000)).await;
    h.fake.edit(|w| {
        w.programs.insert(
            BRAND,
            LoyaltyProgram {
                earning_rules: bonus_rules(),
                tiers: None,
            },
        );
    });
    let mut retired = item("OLD", "milk-tea", 1_000);
    retired.active = false;
    h.services
        .replace_menu(
            BRAND,
            vec![
                item("TS", "milk-tea", 45_000),
                item("CF", "coffee", 30_000),
                retired,
            ],
        )
        .await
        .unwrap();
    let balance = h.balance();
    let form = |items, amount: &str| TillOrder {
        customer: h.customer_id(),
        amount: amount.into(),
        items,
        key: new_form_key(t0(), [7; 8]),
    };

    // An inactive item is refused before anything is written.
    h.fake.take_writes();
    let refused = h
        .services
        .till_order(&till(), &form(vec![pick("OLD", 1)], ""))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, TillOrderError::Menu(ref e) if e.field == "sku"),
        "{refused:?}"
    );
    assert!(h.fake.take_writes().is_empty());

    // The typed amount is ignored when items are picked: 2 × 45,000 + 30,000.
    let recorded = h
        .services
        .till_order(
            &till(),
            &form(vec![pick("TS", 2), pick("CF", 1), pick("OLD", 0)], "1"),
        )
        .await
        .unwrap();
    assert_eq!(recorded.total, vnd(120_000));
    assert_eq!(recorded.lines.len(), 2);
    // 120 base points + 2 × 2 for the milk teas.
    assert_eq!(recorded.receipt.points_earned, Points::new(124));
    assert_eq!(recorded.receipt.explanation.len(), 2);
    assert_eq!(h.balance(), Points::new(balance.value() + 124));
    let stored = h.fake.world().orders.pop().unwrap();
    assert_eq!(stored.order.lines, recorded.lines);
    assert_eq!(stored.order.location.as_deref(), Some("q1"));

    // The same form again credits nothing more.
    let again = h
        .services
        .till_order(&till(), &form(vec![pick("TS", 2), pick("CF", 1)], ""))
        .await
        .unwrap();
    assert!(again.receipt.duplicate);
    assert_eq!(h.balance(), Points::new(balance.value() + 124));
}
