//! The fake's stamp cards, states and event logs.

use super::Handle;
use regulars_ports::mocks::MockTransaction;

pub(super) fn stamps(tx: &mut MockTransaction, h: &Handle) {
    let r = h.clone();
    tx.stamps.expect_stamp_cards().returning(move |brand| {
        r.read("stamp_cards", |w| {
            w.stamp_cards.get(&brand).cloned().unwrap_or_default()
        })
    });
    let r = h.clone();
    tx.stamps
        .expect_replace_stamp_cards()
        .returning(move |brand, cards, _| {
            let cards = cards.to_vec();
            r.write("replace_stamp_cards", move |w| {
                w.stamp_cards.insert(brand, cards);
                Ok(())
            })
        });
    let r = h.clone();
    tx.stamps
        .expect_stamp_states()
        .returning(move |brand, customer| {
            r.read("stamp_states", |w| {
                w.stamp_states
                    .iter()
                    .filter(|((b, c, _), _)| *b == brand && *c == customer)
                    .map(|((_, _, code), state)| (code.clone(), state.clone()))
                    .collect()
            })
        });
    let r = h.clone();
    tx.stamps
        .expect_order_stamp_events()
        .returning(move |brand, customer, card, order| {
            let key = (brand, customer, card.to_owned());
            r.read("order_stamp_events", |w| {
                use regulars_loyalty::stamps::StampEventKind as K;
                w.stamp_events
                    .get(&key)
                    .into_iter()
                    .flatten()
                    .filter(|e| match &e.kind {
                        K::Earned { order: o, .. } | K::Removed { order: o, .. } => o == order,
                        _ => false,
                    })
                    .cloned()
                    .collect()
            })
        });
    let r = h.clone();
    tx.stamps
        .expect_append_stamps()
        .returning(move |brand, customer, card, state, events| {
            let (state, events, card) = (state.clone(), events.to_vec(), card.to_owned());
            r.write("append_stamps", move |w| {
                w.stamp_events
                    .entry((brand, customer, card.clone()))
                    .or_default()
                    .extend(events);
                w.stamp_states.insert((brand, customer, card), state);
                Ok(())
            })
        });
}
