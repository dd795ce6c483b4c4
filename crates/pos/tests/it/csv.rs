use crate::brand;
use regulars_domain::{Currency, Money};
use regulars_pos::csv_import::{CsvError, CsvOrders, RowError};
use time::macros::datetime;

const HEADER: &str = "order_id,placed_at,location,customer_phone,sku,name,category,quantity,unit_price,modifiers,order_total\n";

fn read(body: &str) -> Vec<Result<regulars_domain::Order, RowError>> {
    CsvOrders::new(body.as_bytes(), brand()).unwrap().collect()
}

fn errors(items: &[Result<regulars_domain::Order, RowError>]) -> Vec<(u64, Option<&'static str>)> {
    items
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(|e| (e.line, e.column))
        .collect()
}

fn ids(items: &[Result<regulars_domain::Order, RowError>]) -> Vec<&str> {
    items
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|o| o.key.external_id.as_str())
        .collect()
}

#[test]
fn good_rows_become_orders() {
    let body = format!(
        "{HEADER}\
A-1,2026-05-01T17:00:00+07:00,q1,090 123 4567,TS-OOLONG,Trà sữa ô long,milk-tea,2,45000,TOP-PEARL:5000:Trân châu đen;TOP-CHEESE:10000,129000
A-1,2026-05-01T17:00:00+07:00,q1,090 123 4567,CK-TIRAMISU,Bánh tiramisu,cake,1,39000,,129000
A-2,2026-05-01 17:05,q3,,CF-SUA,,coffee,1,29000,,29000
"
    );
    let items = read(&body);
    assert_eq!(errors(&items), []);
    assert_eq!(ids(&items), ["A-1", "A-2"]);
    let a1 = items[0].as_ref().unwrap();
    assert_eq!(a1.key.source, "csv");
    assert_eq!(a1.lines.len(), 2);
    assert_eq!(a1.customer_phone.as_ref().unwrap().as_str(), "+84901234567");
    assert_eq!(a1.lines[0].modifiers.len(), 2);
    assert_eq!(a1.lines[0].modifiers[0].name, "Trân châu đen");
    assert_eq!(a1.lines[0].modifiers[1].name, "TOP-CHEESE");
    assert_eq!(a1.total, Money::from_minor_units(129_000, Currency::VND));
    let a2 = items[1].as_ref().unwrap();
    assert_eq!(a2.placed_at, datetime!(2026-05-01 10:05 UTC));
    assert_eq!(a2.customer_phone, None);
    assert_eq!(a2.lines[0].name, "CF-SUA");
}

#[test]
fn bad_rows_name_line_and_column_and_reading_goes_on() {
    let body = format!(
        "{HEADER}\
A-1,2026-05-01T17:00:00+07:00,q1,0901234567,TS-OOLONG,Trà sữa,milk-tea,2,45000,,90000
A-2,2026-05-01T17:01:00+07:00,q1,0123,TS-OOLONG,Trà sữa,milk-tea,two,-5,TOP-PEARL,90000
A-3,2026-05-01T17:02:00+07:00,q1,,TS-OOLONG,Trà sữa,milk-tea,1,45000,,45000
A-3,2026-05-01T17:03:00+07:00,q1,,CK,Bánh,cake,1,39000,,84000
A-4,not a time,q1,,,Trà sữa,milk-tea,1,45000,,45000
A-5,2026-05-01T17:05:00+07:00,q1,,TS-OOLONG,Trà sữa,milk-tea,1,45000.5,,45000
A-6,2026-05-01T17:06:00+07:00,q1,,TS-OOLONG,Trà sữa,milk-tea,1,45000,,45000,extra
A-7,2026-05-01T17:07:00+07:00,q1,,TS-OOLONG,Trà sữa,milk-tea,1,45000,,45000
"
    );
    let items = read(&body);
    assert_eq!(
        errors(&items),
        [
            (3, Some("customer_phone")),
            (3, Some("quantity")),
            (3, Some("unit_price")),
            (3, Some("modifiers")),
            (5, Some("placed_at")),
            (5, Some("order_total")),
            (6, Some("placed_at")),
            (6, Some("sku")),
            (7, Some("unit_price")),
            (8, None),
        ]
    );
    assert_eq!(ids(&items), ["A-1", "A-7"]);
    let disagreement = items
        .iter()
        .filter_map(|r| r.as_ref().err())
        .find(|e| e.line == 5)
        .unwrap();
    assert_eq!(disagreement.order_id.as_deref(), Some("A-3"));
    assert!(
        disagreement.problem.contains("line 4"),
        "{}",
        disagreement.problem
    );
    assert!(
        disagreement
            .to_string()
            .starts_with("line 5, column placed_at: ")
    );
}

#[test]
fn equal_values_written_differently_agree() {
    let body = format!(
        "{HEADER}\
A-1,2026-05-01T17:00:00+07:00,q1,0901234567,TS,Trà,,1,45000,,84000
A-1,2026-05-01T10:00:00Z,q1,+84 90 123 4567,CK,Bánh,,1,39000,,84000.00
"
    );
    let items = read(&body);
    assert_eq!(errors(&items), []);
    assert_eq!(ids(&items), ["A-1"]);
}

#[test]
fn rows_of_an_order_must_be_adjacent() {
    let body = format!(
        "{HEADER}\
A-1,2026-05-01T17:00:00+07:00,q1,,TS,Trà,,1,45000,,45000
A-2,2026-05-01T17:01:00+07:00,q1,,TS,Trà,,1,45000,,45000
A-1,2026-05-01T17:00:00+07:00,q1,,CK,Bánh,,1,39000,,45000
A-1,2026-05-01T17:00:00+07:00,q1,,CK,Bánh,,1,39000,,45000
"
    );
    let items = read(&body);
    assert_eq!(errors(&items), [(4, Some("order_id"))]);
    assert_eq!(ids(&items), ["A-1", "A-2"]);
}

#[test]
fn header_problems_stop_before_any_row() {
    for (header, needle) in [
        ("", "no header"),
        (
            "order_id,placed_at,sku,quantity,unit_price\n",
            "order_total",
        ),
        (
            "order_id,placed_at,sku,quantity,unit_price,order_total,colour\n",
            "unknown column \"colour\"",
        ),
        (
            "order_id,order_id,placed_at,sku,quantity,unit_price,order_total\n",
            "twice",
        ),
    ] {
        match CsvOrders::new(header.as_bytes(), brand()) {
            Err(CsvError::Header(problem)) => assert!(problem.contains(needle), "{problem}"),
            Err(other) => panic!("{header:?}: {other}"),
            Ok(_) => panic!("{header:?} accepted"),
        }
    }
    assert!(matches!(
        CsvOrders::with_source(HEADER.as_bytes(), brand(), " "),
        Err(CsvError::Source { .. })
    ));
}

#[test]
fn columns_in_any_order_with_a_bom_and_a_currency() {
    let body = "\u{feff}sku,quantity,unit_price,order_total,placed_at,order_id,currency\n\
TS,2,45000,90000,2026-05-01 17:00:00,X-9,VND\n\
TS,1,45000,90000,2026-05-01 17:00:00,X-10,USD\n";
    let items = read(body);
    assert_eq!(ids(&items), ["X-9"]);
    assert_eq!(errors(&items), [(3, Some("currency"))]);
}

#[test]
fn caller_given_source_and_progress() {
    let body = format!("{HEADER}A-1,2026-05-01T17:00:00+07:00,q1,,TS,Trà,,1,45000,,45000\n");
    let mut orders = CsvOrders::with_source(body.as_bytes(), brand(), "csv:2025-export").unwrap();
    let before = orders.bytes_read();
    assert_eq!(before, HEADER.len() as u64);
    let order = orders.next().unwrap().unwrap();
    assert_eq!(order.key.source, "csv:2025-export");
    assert!(orders.next().is_none());
    assert_eq!(orders.bytes_read(), body.len() as u64);
}

#[test]
fn io_errors_stop_the_stream_with_a_row_error() {
    struct Failing<'a>(&'a [u8]);
    impl std::io::Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("disk gone"));
            }
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let body =
        format!("{HEADER}A-1,2026-05-01T17:00:00+07:00,q1,,TS,Trà,,1,45000,,45000\nA-2,2026");
    let items: Vec<_> = CsvOrders::new(Failing(body.as_bytes()), brand())
        .unwrap()
        .collect();
    assert_eq!(items.len(), 1, "{items:?}");
    let err = items[0].as_ref().unwrap_err();
    assert!(err.problem.contains("disk gone"), "{err}");
    assert_eq!(err.order_id.as_deref(), Some("A-1"));
}
