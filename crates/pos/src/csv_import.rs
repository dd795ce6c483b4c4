//! Order history as CSV: one row per line item, the rows of an order adjacent, read as a
//! stream so a file of millions of rows needs memory for one order at a time.
//!
//! Columns, found by their header name in any order (`docs/pos.md` has the details):
//!
//! | column | required | content |
//! |---|---|---|
//! | `order_id` | yes | the order's id in the exporting system; rows with the same id form one order |
//! | `placed_at` | yes | RFC 3339 (`2026-05-01T17:00:00+07:00`), or local `2026-05-01 17:00[:00]` in the brand's offset |
//! | `location` | no | location code |
//! | `customer_phone` | no | any form [`Phone::parse`] reads, with the brand's calling code |
//! | `sku` | yes | product code |
//! | `name` | no | product name; the sku when empty |
//! | `category` | no | menu category |
//! | `quantity` | yes | whole units, at least 1 |
//! | `unit_price` | yes | price of one unit without modifiers, major units (`45000`, `4.50`) |
//! | `modifiers` | no | `SKU:price[:name]` entries separated by `;` (`TOP-PEARL:5000:Trân châu`) |
//! | `order_total` | yes | what the customer paid for the whole order, after discounts |
//! | `currency` | no | when present, must be the brand's currency |
//!
//! `placed_at`, `location`, `customer_phone`, `order_total` and `currency` describe the
//! order, so every row of an order must agree on them. Surrounding spaces are ignored.
//!
//! Errors are per row, with the line number and column, and reading goes on after
//! them; an order with any bad row is left out as a whole (a partial order would earn
//! the wrong points). Each order's [`EventKey`] is `(source, order_id)`, so importing
//! the same file twice changes nothing the second time.
//!
//! ```
//! use regulars_domain::BrandId;
//! use regulars_pos::BrandContext;
//! use regulars_pos::csv_import::CsvOrders;
//!
//! let csv = "order_id,placed_at,sku,name,quantity,unit_price,modifiers,order_total
//! A-1,2026-05-01 17:00,TS-OOLONG,Trà sữa ô long,2,45000,TOP-PEARL:5000:Trân châu,100000
//! A-1,2026-05-01 17:00,CAKE,Bánh,1,oops,,100000
//! A-2,2026-05-01 17:05,TS-BROWN,Trà sữa đường đen,1,50000,,50000
//! ";
//! let brand = BrandContext::vietnam(BrandId::from_bytes([7; 16]));
//! let mut orders = CsvOrders::new(csv.as_bytes(), brand)?;
//! let first = orders.next().ok_or("a row error")?;
//! let error = first.err().ok_or("an error")?;
//! assert_eq!((error.line, error.column), (3, Some("unit_price")));
//! let second = orders.next().ok_or("an order")??;
//! assert_eq!(second.key.external_id, "A-2");
//! assert!(orders.next().is_none());
//! assert_eq!(orders.bytes_read(), csv.len() as u64);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod group;
mod parse;

use crate::BrandContext;
use csv::{ByteRecord, ReaderBuilder, Trim};
use group::Group;
use parse::{field_of, fingerprint, parse_modifiers, parse_money};
use regulars_domain::{EventKey, LineItem, Order};
use std::collections::{HashSet, VecDeque};
use std::io::Read;
use thiserror::Error;

/// The default [`EventKey`] source of imported orders.
pub const DEFAULT_SOURCE: &str = "csv";

/// Every column the importer knows, in the order [`crate::csv_gen::write_csv`] writes them.
pub const COLUMNS: [&str; 12] = [
    "order_id",
    "placed_at",
    "location",
    "customer_phone",
    "sku",
    "name",
    "category",
    "quantity",
    "unit_price",
    "modifiers",
    "order_total",
    "currency",
];

/// The columns a file must have.
pub const REQUIRED_COLUMNS: [&str; 6] = [
    "order_id",
    "placed_at",
    "sku",
    "quantity",
    "unit_price",
    "order_total",
];

const ORDER_ID: usize = 0;
const PLACED_AT: usize = 1;
const LOCATION: usize = 2;
const PHONE: usize = 3;
const SKU: usize = 4;
const NAME: usize = 5;
const CATEGORY: usize = 6;
const QUANTITY: usize = 7;
const UNIT_PRICE: usize = 8;
const MODIFIERS: usize = 9;
const ORDER_TOTAL: usize = 10;
const CURRENCY: usize = 11;

/// A problem that stops the import before any row is read.
#[derive(Debug, Error)]
pub enum CsvError {
    /// The header row is missing, has unknown or repeated columns, or lacks required ones.
    #[error("CSV header: {0}")]
    Header(String),
    /// The source given for event keys is not a valid [`EventKey`] source.
    #[error("invalid source {source_name:?}: {problem}")]
    Source {
        /// The source given.
        source_name: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// A problem with one row (or, for an order-level check, the first row of the order).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}{}: {problem}", column.map(|c| format!(", column {c}")).unwrap_or_default())]
pub struct RowError {
    /// 1-based line of the file where the row starts.
    pub line: u64,
    /// The column at fault, when it is one column.
    pub column: Option<&'static str>,
    /// The row's order id, when it could be read.
    pub order_id: Option<String>,
    /// What is wrong.
    pub problem: String,
}

/// A streaming reader of orders from CSV history: an iterator of `Result<Order, RowError>`.
pub struct CsvOrders<R: Read> {
    reader: csv::Reader<R>,
    /// Index in the record of each of [`COLUMNS`], when present.
    index: [Option<usize>; COLUMNS.len()],
    width: usize,
    brand: BrandContext,
    source: String,
    record: ByteRecord,
    group: Option<Group>,
    pending: VecDeque<Result<Order, RowError>>,
    /// Fingerprints of the order ids already finished, to catch non-adjacent rows.
    finished: HashSet<u64>,
    done: bool,
}

impl<R: Read> CsvOrders<R> {
    /// Reads the header and prepares to stream orders keyed with source `"csv"`.
    pub fn new(input: R, brand: BrandContext) -> Result<Self, CsvError> {
        Self::with_source(input, brand, DEFAULT_SOURCE)
    }

    /// Like [`CsvOrders::new`], with the caller's [`EventKey`] source (for example
    /// `"csv:kiotviet-export"`), so ids from different exports cannot collide.
    pub fn with_source(
        input: R,
        brand: BrandContext,
        source: impl Into<String>,
    ) -> Result<Self, CsvError> {
        let source = source.into();
        if let Err(e) = EventKey::new(source.clone(), "x") {
            return Err(CsvError::Source {
                source_name: source,
                problem: e.to_string(),
            });
        }
        let mut reader = ReaderBuilder::new()
            .flexible(true)
            .trim(Trim::All)
            .from_reader(input);
        let headers = reader
            .byte_headers()
            .map_err(|e| CsvError::Header(e.to_string()))?
            .clone();
        if headers.is_empty() || headers.iter().all(<[u8]>::is_empty) {
            return Err(CsvError::Header("the file has no header row".into()));
        }
        let mut index = [None; COLUMNS.len()];
        for (i, raw) in headers.iter().enumerate() {
            let name = std::str::from_utf8(raw)
                .map_err(|_| CsvError::Header(format!("column {} is not UTF-8", i + 1)))?;
            let name = name.trim_start_matches('\u{feff}').trim();
            let Some(col) = COLUMNS.iter().position(|c| c.eq_ignore_ascii_case(name)) else {
                return Err(CsvError::Header(format!(
                    "unknown column {name:?}; the columns are {}",
                    COLUMNS.join(", ")
                )));
            };
            if index[col].replace(i).is_some() {
                return Err(CsvError::Header(format!("column {name:?} appears twice")));
            }
        }
        let missing: Vec<&str> = REQUIRED_COLUMNS
            .iter()
            .copied()
            .filter(|c| {
                COLUMNS
                    .iter()
                    .position(|k| k == c)
                    .and_then(|i| index[i])
                    .is_none()
            })
            .collect();
        if !missing.is_empty() {
            return Err(CsvError::Header(format!(
                "missing required column(s): {}",
                missing.join(", ")
            )));
        }
        Ok(CsvOrders {
            reader,
            index,
            width: headers.len(),
            brand,
            source,
            record: ByteRecord::new(),
            group: None,
            pending: VecDeque::new(),
            finished: HashSet::new(),
            done: false,
        })
    }

    /// Bytes of input consumed so far, for progress bars.
    pub fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }

    fn line(&self) -> u64 {
        self.record.position().map_or(0, |p| p.line())
    }

    /// The text of column `col` of the current record ("" when the column is absent).
    fn field(&self, col: usize) -> Result<&str, String> {
        field_of(&self.record, &self.index, col)
    }

    fn error(&mut self, column: Option<usize>, order_id: Option<&str>, problem: String) {
        let line = self.line();
        self.pending.push_back(Err(RowError {
            line,
            column: column.map(|c| COLUMNS[c]),
            order_id: order_id.map(str::to_owned),
            problem,
        }));
    }

    fn read_row(&mut self) {
        let line = self.line();
        let order_id = match self.field(ORDER_ID) {
            Ok("") => {
                self.error(Some(ORDER_ID), None, "a row needs an order id".into());
                return;
            }
            Ok(id) => id.to_owned(),
            Err(problem) => {
                self.error(Some(ORDER_ID), None, problem);
                return;
            }
        };
        if self.group.as_ref().is_none_or(|g| g.order_id != order_id) {
            self.finish_group();
            let mut group = Group::new(order_id.clone(), line);
            if self.finished.contains(&fingerprint(&order_id)) {
                group.failed = true;
                self.error(
                    Some(ORDER_ID),
                    Some(&order_id),
                    format!(
                        "order {order_id:?} appeared earlier in the file; the rows of one order \
                         must be adjacent, so these rows are left out"
                    ),
                );
            }
            self.group = Some(group);
            if self.record.len() == self.width {
                self.read_order_fields(&order_id, true);
            }
        } else if self.record.len() == self.width {
            self.read_order_fields(&order_id, false);
        }
        if self.record.len() != self.width {
            let problem = format!(
                "expected {} fields, found {}",
                self.width,
                self.record.len()
            );
            self.error(None, Some(&order_id), problem);
            self.fail_group();
            return;
        }
        match self.line_item() {
            Ok(item) => {
                if let Some(g) = self.group.as_mut() {
                    g.lines.push(item);
                }
            }
            Err(errors) => {
                for (col, problem) in errors {
                    self.error(Some(col), Some(&order_id), problem);
                }
                self.fail_group();
            }
        }
    }

    fn fail_group(&mut self) {
        if let Some(g) = self.group.as_mut() {
            g.failed = true;
        }
    }

    /// Reads the order-level columns: on the first row of an order they are stored, on
    /// later rows they must agree with the first.
    fn read_order_fields(&mut self, order_id: &str, first: bool) {
        let mut errors: Vec<(usize, String)> = Vec::new();
        // Borrow the record and the group apart, so later rows compare without copying.
        let CsvOrders {
            record,
            index,
            group,
            brand,
            ..
        } = self;
        let brand = *brand;
        let mut text = |col: usize| match field_of(record, index, col) {
            Ok(t) => Some(t),
            Err(p) => {
                errors.push((col, p));
                None
            }
        };
        let placed_at = text(PLACED_AT);
        let location = text(LOCATION);
        let phone = text(PHONE);
        let total = text(ORDER_TOTAL);
        let currency = text(CURRENCY);
        let Some(group) = group.as_mut() else {
            return;
        };
        if let Some(raw) = placed_at {
            group.read_placed_at(raw, first, &brand, &mut errors);
        }
        if let Some(raw) = location {
            group.read_location(raw, first, &mut errors);
        }
        if let Some(raw) = phone {
            group.read_phone(raw, first, &brand, &mut errors);
        }
        if let Some(raw) = total {
            group.read_total(raw, first, &brand, &mut errors);
        }
        if let Some(raw) = currency {
            group.read_currency(raw, first, &brand, &mut errors);
        }
        if !errors.is_empty() {
            group.failed = true;
            for (col, problem) in errors {
                self.error(Some(col), Some(order_id), problem);
            }
        }
    }

    /// The line item of the current row, or every problem with it.
    fn line_item(&self) -> Result<LineItem, Vec<(usize, String)>> {
        let mut errors = Vec::new();
        let mut text = |col: usize| match self.field(col) {
            Ok(t) => t,
            Err(p) => {
                errors.push((col, p));
                ""
            }
        };
        let sku = text(SKU);
        let name = text(NAME);
        let category = text(CATEGORY);
        let quantity = text(QUANTITY);
        let unit_price = text(UNIT_PRICE);
        let modifiers = text(MODIFIERS);
        if sku.is_empty() {
            errors.push((SKU, "a line needs a sku".into()));
        }
        let quantity = match quantity.parse::<u32>() {
            Ok(q) if q >= 1 => q,
            _ => {
                errors.push((
                    QUANTITY,
                    format!("{quantity:?} is not a whole number of units of at least 1"),
                ));
                0
            }
        };
        let unit_price = parse_money(unit_price, &self.brand)
            .map_err(|p| errors.push((UNIT_PRICE, p)))
            .ok();
        let modifiers = parse_modifiers(modifiers, &self.brand)
            .map_err(|p| errors.push((MODIFIERS, p)))
            .ok();
        match (unit_price, modifiers) {
            (Some(unit_price), Some(modifiers)) if errors.is_empty() => Ok(LineItem {
                sku: sku.to_owned(),
                name: if name.is_empty() { sku } else { name }.to_owned(),
                category: (!category.is_empty()).then(|| category.to_owned()),
                quantity,
                unit_price,
                modifiers,
            }),
            _ => Err(errors),
        }
    }

    /// Turns the finished group into an order (or an error) in the output queue.
    fn finish_group(&mut self) {
        let Some(group) = self.group.take() else {
            return;
        };
        self.finished.insert(fingerprint(&group.order_id));
        if group.failed {
            return;
        }
        let (Some(placed_at), Some(customer_phone), Some(total)) =
            (group.placed_at, group.phone, group.total)
        else {
            return;
        };
        let error = |column, problem: String| RowError {
            line: group.first_line,
            column,
            order_id: Some(group.order_id.clone()),
            problem,
        };
        let key = match EventKey::new(self.source.clone(), group.order_id.clone()) {
            Ok(key) => key,
            Err(e) => {
                self.pending
                    .push_back(Err(error(Some(COLUMNS[ORDER_ID]), e.to_string())));
                return;
            }
        };
        let order = Order {
            brand_id: self.brand.brand_id,
            key,
            location: (!group.location.is_empty()).then(|| group.location.clone()),
            customer_phone,
            placed_at,
            lines: group.lines,
            total,
        };
        match order.validate() {
            Ok(()) => self.pending.push_back(Ok(order)),
            Err(e) => {
                let column = match e.field() {
                    Some("total") => Some(COLUMNS[ORDER_TOTAL]),
                    _ => None,
                };
                self.pending.push_back(Err(error(column, e.to_string())));
            }
        }
    }
}

impl<R: Read> Iterator for CsvOrders<R> {
    type Item = Result<Order, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            match self.reader.read_byte_record(&mut self.record) {
                Ok(true) => self.read_row(),
                Ok(false) => {
                    self.done = true;
                    self.finish_group();
                }
                Err(e) => {
                    // Only I/O errors reach here (the reader is flexible and reads bytes):
                    // the rest of the input cannot be trusted, nor the order in progress.
                    let line = e.position().map_or_else(|| self.line(), |p| p.line());
                    self.done = true;
                    let unfinished = self.group.take().map(|g| g.order_id);
                    let problem = match &unfinished {
                        Some(id) => format!(
                            "reading stopped: {e}; order {id:?}, whose rows may go on, is left out"
                        ),
                        None => format!("reading stopped: {e}"),
                    };
                    self.pending.push_back(Err(RowError {
                        line,
                        column: None,
                        order_id: unfinished,
                        problem,
                    }));
                }
            }
        }
    }
}
