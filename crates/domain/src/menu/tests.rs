#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use proptest::prelude::*;

fn vnd(n: i64) -> Money {
    Money::from_minor_units(n, Currency::VND)
}

fn item(sku: &str, category: Option<&str>, price: i64, active: bool) -> MenuItem {
    MenuItem {
        sku: sku.into(),
        name: format!("Item {sku}"),
        category: category.map(Into::into),
        price: vnd(price),
        active,
        sort_order: None,
    }
}

fn pick(sku: &str, quantity: u32) -> MenuPick {
    MenuPick {
        sku: sku.into(),
        quantity,
    }
}

#[test]
fn a_menu_error_names_the_item_and_the_field() {
    let mut bad = item("B", None, 10_000, true);
    bad.price = vnd(-1);
    let menu = [item("A", None, 10_000, true), bad];
    let error = validate_menu(&menu, Currency::VND).unwrap_err();
    assert_eq!((error.index, error.field), (Some(1), "price"));
    assert_eq!(error.to_string(), "items[1].price: must not be negative");
}

#[test]
fn every_bad_field_is_named() {
    let cases: Vec<(MenuItem, &str)> = vec![
        (item("", None, 1, true), "sku"),
        (item(" A", None, 1, true), "sku"),
        (item(&"A".repeat(65), None, 1, true), "sku"),
        (item("A\u{7}", None, 1, true), "sku"),
        (item("A", Some(""), 1, true), "category"),
        (item("A", Some("x\n"), 1, true), "category"),
        (
            MenuItem {
                name: " ".into(),
                ..item("A", None, 1, true)
            },
            "name",
        ),
        (
            MenuItem {
                name: "N".repeat(201),
                ..item("A", None, 1, true)
            },
            "name",
        ),
        (
            MenuItem {
                price: Money::from_minor_units(100, Currency::USD),
                ..item("A", None, 1, true)
            },
            "price",
        ),
    ];
    for (bad, field) in cases {
        let error = bad.validate(Currency::VND).unwrap_err();
        assert_eq!(error.field, field, "{bad:?}");
    }
    assert_eq!(
        item("A", Some("tea"), 0, false).validate(Currency::VND),
        Ok(())
    );
}

#[test]
fn a_sku_twice_is_refused_at_its_second_place() {
    let menu = [
        item("A", None, 1, true),
        item("B", None, 1, true),
        item("A", None, 2, true),
    ];
    let error = validate_menu(&menu, Currency::VND).unwrap_err();
    assert_eq!((error.index, error.field), (Some(2), "sku"));
}

#[test]
fn inactive_and_unknown_items_cannot_be_sold() {
    let menu = [item("A", None, 1, true), item("B", None, 1, false)];
    assert_eq!(menu_lines(&menu, &[pick("B", 1)]).unwrap_err().field, "sku");
    assert_eq!(menu_lines(&menu, &[pick("C", 1)]).unwrap_err().field, "sku");
    assert_eq!(
        menu_lines(&menu, &[pick("A", 600), pick("A", 400)])
            .unwrap_err()
            .field,
        "quantity"
    );
    // A zero of an inactive item is no pick at all.
    assert_eq!(menu_lines(&menu, &[pick("B", 0)]), Ok(Vec::new()));
}

#[test]
fn the_menu_sorts_by_its_order_then_category_and_name() {
    let mut menu = vec![
        item("C", Some("b"), 1, true),
        item("A", Some("a"), 1, true),
        MenuItem {
            sort_order: Some(5),
            ..item("Z", Some("z"), 1, true)
        },
    ];
    sort_menu(&mut menu);
    let skus: Vec<&str> = menu.iter().map(|i| i.sku.as_str()).collect();
    assert_eq!(skus, ["Z", "A", "C"]);
}

fn menu_strategy() -> impl Strategy<Value = Vec<MenuItem>> {
    proptest::collection::btree_map("[A-F]", (0i64..1_000_000, any::<bool>(), 0usize..3), 0..6)
        .prop_map(|items| {
            items
                .into_iter()
                .map(|(sku, (price, active, category))| {
                    item(
                        &sku,
                        ["tea", "coffee", "cake"].get(category).copied(),
                        price,
                        active,
                    )
                })
                .collect()
        })
}

fn picks_strategy() -> impl Strategy<Value = Vec<MenuPick>> {
    proptest::collection::vec(("[A-G]", 0u32..20), 0..10)
        .prop_map(|picks| picks.into_iter().map(|(s, q)| pick(&s, q)).collect())
}

proptest! {
    /// The total is the menu's price times the units picked, whatever the picks' order;
    /// each line's name, category and price are the menu's.
    #[test]
    fn lines_are_priced_from_the_menu(menu in menu_strategy(), picks in picks_strategy()) {
        let result = menu_lines(&menu, &picks);
        let mut reversed = picks.clone();
        reversed.reverse();
        prop_assert_eq!(result.clone().ok(), menu_lines(&menu, &reversed).ok());
        let sellable = |p: &MenuPick| menu.iter().any(|i| i.sku == p.sku && i.active);
        let all_sellable = picks.iter().filter(|p| p.quantity > 0).all(sellable);
        prop_assert_eq!(result.is_ok(), all_sellable);
        if let Ok(lines) = result {
            let mut expected = 0i64;
            for p in &picks {
                if let Some(i) = menu.iter().find(|i| i.sku == p.sku) {
                    expected += i.price.to_minor_units().unwrap() * i64::from(p.quantity);
                }
            }
            prop_assert_eq!(lines_total(&lines, Currency::VND).unwrap(), vnd(expected));
            for line in &lines {
                let item = menu.iter().find(|i| i.sku == line.sku).unwrap();
                prop_assert!(item.active && line.quantity > 0);
                prop_assert_eq!(line.unit_price, item.price);
                prop_assert_eq!(&line.category, &item.category);
                prop_assert_eq!(&line.name, &item.name);
            }
        }
    }

    /// Validation refuses a menu exactly when a SKU repeats (the items are otherwise valid).
    #[test]
    fn duplicates_are_the_only_fault_of_generated_menus(
        skus in proptest::collection::vec("[A-D]", 0..8),
    ) {
        let menu: Vec<MenuItem> = skus.iter().map(|s| item(s, None, 1, true)).collect();
        let unique: std::collections::BTreeSet<&String> = skus.iter().collect();
        prop_assert_eq!(validate_menu(&menu, Currency::VND).is_ok(), unique.len() == skus.len());
    }
}
