//! The fake's menus, one map of items per brand.

use super::Handle;
use regulars_ports::mocks::MockTransaction;

pub(super) fn menu(tx: &mut MockTransaction, h: &Handle) {
    let r = h.clone();
    tx.menu.expect_menu_items().returning(move |brand| {
        r.read("menu_items", |w| {
            w.menu
                .iter()
                .filter(|((b, _), _)| *b == brand)
                .map(|(_, item)| item.clone())
                .collect()
        })
    });
    let r = h.clone();
    tx.menu
        .expect_put_menu_item()
        .returning(move |brand, item, _| {
            let item = item.clone();
            r.write("put_menu_item", move |w| {
                Ok(w.menu.insert((brand, item.sku.clone()), item).is_none())
            })
        });
    let r = h.clone();
    tx.menu
        .expect_delete_menu_item()
        .returning(move |brand, sku| {
            let sku = sku.to_owned();
            r.write("delete_menu_item", move |w| {
                Ok(w.menu.remove(&(brand, sku)).is_some())
            })
        });
    let r = h.clone();
    tx.menu
        .expect_replace_menu()
        .returning(move |brand, items, _| {
            let items = items.to_vec();
            r.write("replace_menu", move |w| {
                w.menu.retain(|(b, _), _| *b != brand);
                for item in items {
                    w.menu.insert((brand, item.sku.clone()), item);
                }
                Ok(())
            })
        });
}
