//! Properties: signatures cover every byte, CSV round-trips, nothing panics on garbage.

use crate::{brand, fixture};
use proptest::prelude::*;
use regulars_domain::{Currency, EventKey, LineItem, Modifier, Money, Order, Phone};
use regulars_pos::csv_gen::write_csv;
use regulars_pos::csv_import::CsvOrders;
use regulars_pos::{Secret, WebhookError, generic, kiotviet};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-05-01 10:00:07 UTC);

fn secret() -> Secret {
    Secret::new("whsec_prop")
}

/// A change to a body: flip bits of one byte, insert a byte, or drop one.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Remove(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(i, x)| Mutation::Flip(i, x)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Remove),
    ]
}

fn apply(body: &[u8], m: &Mutation) -> Vec<u8> {
    let mut out = body.to_vec();
    match *m {
        Mutation::Flip(i, x) => {
            let i = i % out.len();
            out[i] ^= x;
        }
        Mutation::Insert(i, b) => out.insert(i % (out.len() + 1), b),
        Mutation::Remove(i) => {
            let i = i % out.len();
            out.remove(i);
        }
    }
    out
}

fn text() -> impl Strategy<Value = String> {
    // Names as a till writes them: letters (Vietnamese too), digits, spaces inside.
    "[A-Za-z0-9àáảãạăắđêếôơưứ][A-Za-z0-9 àáảãạăắđêếôơưứ,\"-]{0,18}[A-Za-z0-9àáđ]"
}

fn money(max: i64) -> impl Strategy<Value = Money> {
    (0..=max).prop_map(|n| Money::from_minor_units(n, Currency::VND))
}

fn line() -> impl Strategy<Value = LineItem> {
    (
        "[A-Z][A-Z0-9-]{1,10}",
        text(),
        proptest::option::of("[a-z][a-z-]{1,10}"),
        1..20u32,
        money(500_000),
        proptest::collection::vec(("TOP-[A-Z]{1,6}", text(), money(50_000)), 0..3),
    )
        .prop_map(
            |(sku, name, category, quantity, unit_price, mods)| LineItem {
                sku,
                name,
                category,
                quantity,
                unit_price,
                modifiers: mods
                    .into_iter()
                    .map(|(sku, name, unit_price)| Modifier {
                        sku,
                        name,
                        unit_price,
                    })
                    .collect(),
            },
        )
}

fn orders() -> impl Strategy<Value = Vec<Order>> {
    proptest::collection::vec(
        (
            proptest::option::of("[a-z][a-z0-9-]{0,8}"),
            proptest::option::of("[35789][0-9]{8}"),
            0i64..2_000_000_000,
            proptest::collection::vec(line(), 1..5),
            money(5_000_000),
        ),
        0..12,
    )
    .prop_map(|specs| {
        specs
            .into_iter()
            .enumerate()
            .map(|(i, (location, phone, seconds, lines, total))| Order {
                brand_id: brand().brand_id,
                key: EventKey::new("csv", format!("O-{i}")).unwrap(),
                location,
                customer_phone: phone.map(|nsn| Phone::parse_e164(&format!("+84{nsn}")).unwrap()),
                placed_at: OffsetDateTime::from_unix_timestamp(seconds).unwrap(),
                lines,
                total,
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_body_mutation_breaks_the_generic_signature(m in mutation()) {
        let body = fixture("generic_order_paid.json");
        let header = generic::signature_header(NOW.unix_timestamp(), &body, &[secret()]);
        let mutated = apply(&body, &m);
        prop_assume!(mutated != body);
        let result = generic::verify(&[secret()], Some(&header), &mutated, NOW, Duration::minutes(5), &brand());
        prop_assert_eq!(result, Err(WebhookError::BadSignature { header: generic::SIGNATURE_HEADER }));
    }

    #[test]
    fn any_body_mutation_breaks_the_kiotviet_signature(m in mutation()) {
        let body = fixture("kiotviet_invoice_update.json");
        let header = kiotviet::signature_header(&body, &secret());
        let mutated = apply(&body, &m);
        prop_assume!(mutated != body);
        let result = kiotviet::verify(&[secret()], Some(&header), &mutated, NOW, Duration::minutes(5), &brand());
        prop_assert_eq!(result, Err(WebhookError::BadSignature { header: kiotviet::SIGNATURE_HEADER }));
    }

    #[test]
    fn csv_round_trip(orders in orders()) {
        let mut file = Vec::new();
        write_csv(&orders, &mut file).unwrap();
        let read: Vec<_> = CsvOrders::new(file.as_slice(), brand()).unwrap().collect();
        let read: Result<Vec<Order>, _> = read.into_iter().collect();
        prop_assert_eq!(read, Ok(orders));
    }

    #[test]
    fn arbitrary_signed_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512), header in ".{0,80}") {
        let signed = generic::signature_header(NOW.unix_timestamp(), &body, &[secret()]);
        let _ = generic::verify(&[secret()], Some(&signed), &body, NOW, Duration::minutes(5), &brand());
        let _ = generic::verify(&[secret()], Some(&header), &body, NOW, Duration::minutes(5), &brand());
        let signed = kiotviet::signature_header(&body, &secret());
        let _ = kiotviet::verify(&[secret()], Some(&signed), &body, NOW, Duration::minutes(5), &brand());
        let _ = kiotviet::verify(&[secret()], Some(&header), &body, NOW, Duration::minutes(5), &brand());
    }

    /// KiotViet switches a webhook off after one 4xx: a correctly signed body is never
    /// refused, whatever it holds.
    #[test]
    fn signed_kiotviet_bodies_are_always_acknowledged(
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..512),
            r#"\{("(Id|Attempt|Notifications|Action|Data|Status|Total|RemoveId)":(-?[0-9.e]{1,8}|"[^"]{0,12}"|\[\]|\{\}|null|true),?){0,8}\}"#.prop_map(String::into_bytes),
        ]
    ) {
        let signed = kiotviet::signature_header(&body, &secret());
        prop_assert!(kiotviet::verify(&[secret()], Some(&signed), &body, NOW, Duration::minutes(5), &brand()).is_ok());
    }

    #[test]
    fn json_shaped_garbage_never_panics(body in r#"\{("(id|type|created_at|data|order_id|lines|total|Id|Attempt|Notifications|Action|Data|Status|Total|InvoiceDetails|Quantity|Price|PurchaseDate)":(-?[0-9.e]{1,8}|"[^"]{0,12}"|\[\]|\{\}|null|true),?){0,8}\}"#) {
        let _ = generic::parse(body.as_bytes(), &brand());
        let _ = kiotviet::parse(body.as_bytes(), &brand());
    }

    #[test]
    fn arbitrary_csv_never_panics(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(orders) = CsvOrders::new(body.as_slice(), brand()) {
            for _ in orders {}
        }
    }

    #[test]
    fn csv_shaped_garbage_never_panics(rows in proptest::collection::vec("[A-C0-9,:;. +-]{0,60}", 0..20)) {
        let body = format!("order_id,placed_at,location,customer_phone,sku,name,category,quantity,unit_price,modifiers,order_total\n{}", rows.join("\n"));
        let orders = CsvOrders::new(body.as_bytes(), brand()).unwrap();
        let mut last = 0;
        for item in orders {
            if let Err(e) = item {
                prop_assert!(e.line >= 2 && e.line >= last, "lines go forward: {} after {}", e.line, last);
                last = e.line;
            }
        }
    }
}
