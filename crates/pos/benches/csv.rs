//! Throughput of the CSV history import against the `csv` crate reading the same file.
//!
//! `csv/import_100000_rows` turns a realistic 100,000-row history (made once, outside
//! the timed loop, by `csv_gen`) into validated domain orders: UTF-8 and number parsing,
//! phone normalisation, grouping rows into orders, the agreement checks and
//! `Order::validate`. Its peer `baseline/csv_read_100000_records` only splits the same
//! bytes into records with the `csv` crate, the floor any CSV importer stands on.

#![allow(clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use regulars_domain::BrandId;
use regulars_pos::BrandContext;
use regulars_pos::csv_gen::{sample_orders, write_csv};
use regulars_pos::csv_import::CsvOrders;
use std::hint::black_box;

const ROWS: usize = 100_000;

fn history() -> (Vec<u8>, usize) {
    let brand = BrandContext::vietnam(BrandId::from_bytes([9; 16]));
    // About 2.5 lines per order: take enough orders, then cut the last one so the file
    // has exactly ROWS rows.
    let mut kept = Vec::new();
    let mut rows = 0;
    for mut order in sample_orders(&brand, 7, ROWS / 2) {
        order.lines.truncate(ROWS - rows);
        rows += order.lines.len();
        kept.push(order);
        if rows == ROWS {
            break;
        }
    }
    assert_eq!(rows, ROWS, "the generator made too few rows");
    let mut file = Vec::new();
    write_csv(&kept, &mut file).expect("writing to memory");
    (file, rows)
}

fn bench(c: &mut Criterion) {
    let brand = BrandContext::vietnam(BrandId::from_bytes([9; 16]));
    let (file, rows) = history();

    let mut group = c.benchmark_group("csv");
    group.throughput(Throughput::Elements(rows as u64));
    group.sample_size(10);
    group.bench_function("import_100000_rows", |b| {
        b.iter(|| {
            let orders = CsvOrders::new(black_box(file.as_slice()), brand).expect("header");
            let mut count = 0usize;
            for order in orders {
                order.expect("generated rows are valid");
                count += 1;
            }
            black_box(count)
        })
    });
    group.finish();

    let mut group = c.benchmark_group("baseline");
    group.throughput(Throughput::Elements(rows as u64));
    group.sample_size(10);
    group.bench_function("csv_read_100000_records", |b| {
        b.iter(|| {
            let mut reader = csv::Reader::from_reader(black_box(file.as_slice()));
            let mut record = csv::ByteRecord::new();
            let mut count = 0usize;
            while reader.read_byte_record(&mut record).expect("in memory") {
                count += record.len();
            }
            black_box(count)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
