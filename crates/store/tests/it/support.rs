//! Connecting each case to a fresh database, and fixtures.

use crate::{Store, TestResult};
use regulars_domain::{
    BrandId, CallingCode, ChannelConsent, Currency, Customer, CustomerId, EventKey, LineItem,
    Modifier, Money, Order, OrderId, Phone, Points, RewardId, VoucherId,
};
use regulars_loyalty::ledger::RefundPolicy;
use regulars_loyalty::rewards::{Reward, RewardKind};
use regulars_loyalty::vouchers::{NewVoucher, Voucher, VoucherCode, VoucherSource};
use regulars_ports::{
    Brand, CountedTimes, CustomerStats, StoreError, StoredOrder, Transaction, UnitOfWork,
};
use regulars_store::StoreOptions;
use regulars_testkit::{SqliteFile, require_pg};
use std::future::Future;
use time::macros::{datetime, offset};
use time::{Date, OffsetDateTime};

/// Runs `case` on a store over a new SQLite file.
pub(crate) async fn on_sqlite<F, Fut>(case: F) -> TestResult
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = TestResult>,
{
    let file = SqliteFile::new()?;
    let store = Store::connect(&file.url(), StoreOptions::default()).await?;
    let outcome = case(store.clone()).await;
    store.close().await?;
    outcome
}

/// Runs `case` on a store over a new database in the shared PostgreSQL cluster, or skips
/// (prints why and passes) when PostgreSQL is not installed and not required.
pub(crate) async fn on_postgres<F, Fut>(name: &str, case: F) -> TestResult
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = TestResult>,
{
    let Some(url) = postgres_database(name).await? else {
        return Ok(());
    };
    let store = Store::connect(&url, StoreOptions::default()).await?;
    let outcome = case(store.clone()).await;
    store.close().await?;
    outcome
}

/// Like [`on_sqlite`], for cases that also open their own connection to the URL.
pub(crate) async fn on_sqlite_url<F, Fut>(case: F) -> TestResult
where
    F: FnOnce(Store, String) -> Fut,
    Fut: Future<Output = TestResult>,
{
    let file = SqliteFile::new()?;
    let store = Store::connect(&file.url(), StoreOptions::default()).await?;
    case(store, file.url()).await
}

/// Like [`on_postgres`], for cases that also open their own connection to the URL.
pub(crate) async fn on_postgres_url<F, Fut>(name: &str, case: F) -> TestResult
where
    F: FnOnce(Store, String) -> Fut,
    Fut: Future<Output = TestResult>,
{
    let Some(url) = postgres_database(name).await? else {
        return Ok(());
    };
    let store = Store::connect(&url, StoreOptions::default()).await?;
    case(store, url).await
}

/// A fresh PostgreSQL database's URL, or `None` when PostgreSQL tests are skipped.
pub(crate) async fn postgres_database(
    name: &str,
) -> Result<Option<String>, Box<dyn std::error::Error + Send + Sync>> {
    let name = name.to_owned();
    // Starting the cluster and `createdb` are blocking process calls.
    Ok(tokio::task::spawn_blocking(move || {
        require_pg()
            .map(|pg| pg.create_database(&format!("store_{name}")))
            .transpose()
    })
    .await??)
}

pub(crate) fn brand_id(n: u8) -> BrandId {
    BrandId::from_bytes([n; 16])
}

pub(crate) fn brand(n: u8) -> Brand {
    Brand {
        id: brand_id(n),
        name: format!("Brand {n}"),
        currency: Currency::VND,
        calling_code: CallingCode(84),
        utc_offset: offset!(+7),
        refund_policy: RefundPolicy::Clamp,
        points_validity_days: Some(365),
        created_at: datetime!(2026-01-01 00:00 UTC),
    }
}

pub(crate) fn phone(national: &str) -> Phone {
    Phone::parse(national, Phone::VIETNAM).expect("a valid phone")
}

pub(crate) fn customer(brand: BrandId, n: u8, national_phone: &str) -> Customer {
    Customer {
        id: CustomerId::from_bytes([n; 16]),
        brand_id: brand,
        phone: phone(national_phone),
        name: Some(format!("Khách {n}")),
        birthday: Some(Date::from_calendar_date(1995, time::Month::February, 28).expect("a date")),
        email: None,
        zalo_user_id: Some(format!("zalo-{n}")),
        consent: ChannelConsent::marketing(true, false, false),
        created_at: datetime!(2026-02-01 08:00:00.123456 UTC),
    }
}

pub(crate) fn vnd(amount: i64) -> Money {
    Money::from_minor_units(amount, Currency::VND)
}

pub(crate) fn key(source: &str, external_id: &str) -> EventKey {
    EventKey::new(source, external_id).expect("a valid key")
}

pub(crate) fn order(
    brand: BrandId,
    n: u8,
    external_id: &str,
    customer: Option<&Customer>,
) -> StoredOrder {
    StoredOrder {
        id: OrderId::from_bytes([n; 16]),
        order: Order {
            brand_id: brand,
            key: key("pos:generic", external_id),
            location: Some("q1".into()),
            customer_phone: customer.map(|c| c.phone.clone()),
            placed_at: datetime!(2026-05-06 08:30:15.250001 UTC),
            lines: vec![
                LineItem {
                    sku: "TS-OOLONG".into(),
                    name: "Trà sữa ô long".into(),
                    category: Some("milk-tea".into()),
                    quantity: 2,
                    unit_price: vnd(45_000),
                    modifiers: vec![Modifier {
                        sku: "TOP-PEARL".into(),
                        name: "Trân châu đen".into(),
                        unit_price: vnd(5_000),
                    }],
                },
                LineItem {
                    sku: "CF-SUA".into(),
                    name: "Cà phê sữa".into(),
                    category: None,
                    quantity: 1,
                    unit_price: vnd(29_000),
                    modifiers: vec![],
                },
            ],
            total: vnd(129_000),
        },
        customer_id: customer.map(|c| c.id),
        points_earned: Points::new(12),
        refunded: vnd(0),
    }
}

pub(crate) fn reward(n: u8, name: &str, cost: i64) -> Reward {
    Reward {
        id: RewardId::from_bytes([n; 16]),
        name: name.into(),
        cost: Points::new(cost),
        kind: RewardKind::FixedDiscount {
            amount: vnd(20_000),
        },
        active: true,
        validity_days: 30,
        min_order_total: Some(vnd(50_000)),
    }
}

pub(crate) fn code(n: u8) -> VoucherCode {
    VoucherCode::from_random_bytes([n, 0x5a, n, 0xa5, n, 0x3c, n, 0xc3])
}

pub(crate) fn voucher(
    n: u8,
    customer: CustomerId,
    reward: RewardId,
    issued_at: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Voucher {
    Voucher::issue(NewVoucher {
        id: VoucherId::from_bytes([n; 16]),
        code: code(n),
        customer,
        reward,
        source: VoucherSource::Redemption {
            points: Points::new(500),
            ledger_seq: Some(u64::from(n)),
        },
        issued_at,
        expires_at,
    })
    .expect("a valid voucher")
}

/// A brand with one customer (phone 0901234567) and one reward, committed.
pub(crate) async fn seed(
    store: &Store,
    n: u8,
) -> Result<(Brand, Customer, Reward), Box<dyn std::error::Error + Send + Sync>> {
    let brand = brand(n);
    let customer = customer(brand.id, n, "0901234567");
    let reward = reward(n, "Free topping", 300);
    let mut tx = store.begin().await?;
    tx.brands().insert_brand(&brand).await?;
    tx.customers().insert_customer(&customer).await?;
    tx.brands().save_reward(brand.id, &reward).await?;
    tx.commit().await?;
    Ok((brand, customer, reward))
}

/// Saves for each of `customers` the stats the use cases keep about their counted orders
/// (as the store's own probes find them; nothing is left out), for tests that store
/// orders directly.
pub(crate) async fn keep_counted_times(
    tx: &mut dyn Transaction,
    brand: BrandId,
    customers: &[&Customer],
) -> Result<(), StoreError> {
    for c in customers {
        let counted = tx
            .orders()
            .counted_times(brand, c.id, OrderId::from_bytes([0; 16]))
            .await?;
        tx.customers()
            .save_stats(brand, &stats_counting(c.id, counted))
            .await?;
    }
    Ok(())
}

/// Stats with nothing but the customer's counted times.
pub(crate) fn stats_counting(customer_id: CustomerId, counted: CountedTimes) -> CustomerStats {
    CustomerStats {
        customer_id,
        visits: 0,
        spend: Money::zero(Currency::VND),
        first_visit_at: None,
        counted,
        last_visit_at: None,
        tier: None,
    }
}
