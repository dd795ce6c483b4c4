//! The first schema: brands and everything a brand owns.
//!
//! Every primary key starts with `brand_id` (see `docs/architecture.md`, "Data and
//! tenancy"); money is integer minor units next to its currency code, points are integers
//! and timestamps are microseconds since the Unix epoch, all `BIGINT`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, boolean, integer, integer_null, text, text_null, uuid, uuid_null,
};

/// Creates every table of the first release.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20260601_000001_initial"
    }
}

/// Tables in creation order; dropped in reverse.
const TABLES: &[&str] = &[
    "brands",
    "locations",
    "api_keys",
    "programs",
    "customers",
    "customer_stats",
    "balances",
    "ledger_entries",
    "rewards",
    "orders",
    "order_lines",
    "vouchers",
    "idempotency",
    "outbox",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables() {
            manager.create_table(table).await?;
        }
        for index in indexes() {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            manager
                .drop_table(Table::drop().table(*table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

/// `PRIMARY KEY (cols...)`.
fn primary_key(cols: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    for col in cols {
        index.col(*col);
    }
    index.primary().to_owned()
}

/// A foreign key from `cols` of `table` to the same number of columns of `to_table`.
fn foreign_key(
    table: &'static str,
    cols: &[&'static str],
    to_table: &'static str,
    to_cols: &[&'static str],
) -> ForeignKeyCreateStatement {
    let mut fk = ForeignKey::create();
    fk.name(format!("fk_{table}_{}", cols.join("_")))
        .from_tbl(table)
        .to_tbl(to_table);
    for col in cols {
        fk.from_col(*col);
    }
    for col in to_cols {
        fk.to_col(*col);
    }
    fk
}

/// Every row of `table` belongs to an existing brand.
fn owned_by_brand(table: &'static str) -> ForeignKeyCreateStatement {
    foreign_key(table, &["brand_id"], "brands", &["id"])
}

/// The row belongs to an existing customer of the same brand.
fn of_customer(table: &'static str) -> ForeignKeyCreateStatement {
    foreign_key(
        table,
        &["brand_id", "customer_id"],
        "customers",
        &["brand_id", "id"],
    )
}

fn tables() -> Vec<TableCreateStatement> {
    vec![
        Table::create()
            .table("brands")
            .col(uuid("id").primary_key())
            .col(text("name"))
            .col(text("currency"))
            .col(integer("calling_code"))
            .col(integer("utc_offset_seconds"))
            .col(text("refund_policy"))
            .col(big_integer_null("points_validity_days"))
            .col(big_integer("created_at"))
            .to_owned(),
        Table::create()
            .table("locations")
            .col(uuid("brand_id"))
            .col(uuid("id"))
            .col(text("code"))
            .col(text("name"))
            .col(integer_null("utc_offset_seconds"))
            .col(big_integer("created_at"))
            .primary_key(&mut primary_key(&["brand_id", "id"]))
            .foreign_key(&mut owned_by_brand("locations"))
            .to_owned(),
        Table::create()
            .table("api_keys")
            .col(uuid("brand_id"))
            .col(uuid("id"))
            .col(text("prefix"))
            .col(text("secret_hash"))
            .col(text("role"))
            .col(text_null("label"))
            .col(big_integer("created_at"))
            .col(big_integer_null("revoked_at"))
            .primary_key(&mut primary_key(&["brand_id", "id"]))
            .foreign_key(&mut owned_by_brand("api_keys"))
            .to_owned(),
        Table::create()
            .table("programs")
            .col(uuid("brand_id").primary_key())
            .col(text("earning_rules"))
            .col(text_null("tiers"))
            .foreign_key(&mut owned_by_brand("programs"))
            .to_owned(),
        Table::create()
            .table("customers")
            .col(uuid("brand_id"))
            .col(uuid("id"))
            .col(text("phone"))
            .col(text_null("name"))
            .col(text_null("birthday"))
            .col(text_null("email"))
            .col(text_null("zalo_user_id"))
            .col(boolean("consent_zalo"))
            .col(boolean("consent_sms"))
            .col(boolean("consent_email"))
            .col(big_integer("created_at"))
            .primary_key(&mut primary_key(&["brand_id", "id"]))
            .foreign_key(&mut owned_by_brand("customers"))
            .to_owned(),
        Table::create()
            .table("customer_stats")
            .col(uuid("brand_id"))
            .col(uuid("customer_id"))
            .col(big_integer("visits"))
            .col(big_integer("spend_minor"))
            .col(text("spend_currency"))
            .col(big_integer_null("first_visit_at"))
            .col(big_integer_null("last_visit_at"))
            .col(text_null("tier_code"))
            .col(big_integer_null("tier_since"))
            .primary_key(&mut primary_key(&["brand_id", "customer_id"]))
            .foreign_key(&mut of_customer("customer_stats"))
            .to_owned(),
        Table::create()
            .table("balances")
            .col(uuid("brand_id"))
            .col(uuid("customer_id"))
            .col(big_integer("balance"))
            .col(big_integer("next_seq"))
            .primary_key(&mut primary_key(&["brand_id", "customer_id"]))
            .foreign_key(&mut of_customer("balances"))
            .to_owned(),
        Table::create()
            .table("ledger_entries")
            .col(uuid("brand_id"))
            .col(uuid("customer_id"))
            .col(big_integer("seq"))
            .col(big_integer("at"))
            .col(big_integer("amount"))
            .col(text("kind"))
            .col(text_null("order_source"))
            .col(text_null("order_external_id"))
            .col(big_integer_null("expires_at"))
            .col(text("entry"))
            .primary_key(&mut primary_key(&["brand_id", "customer_id", "seq"]))
            .foreign_key(&mut of_customer("ledger_entries"))
            .to_owned(),
        Table::create()
            .table("rewards")
            .col(uuid("brand_id"))
            .col(uuid("id"))
            .col(text("name"))
            .col(big_integer("cost"))
            .col(boolean("active"))
            .col(text("reward"))
            .primary_key(&mut primary_key(&["brand_id", "id"]))
            .foreign_key(&mut owned_by_brand("rewards"))
            .to_owned(),
        Table::create()
            .table("orders")
            .col(uuid("brand_id"))
            .col(uuid("id"))
            .col(text("source"))
            .col(text("external_id"))
            .col(uuid_null("customer_id"))
            .col(text_null("customer_phone"))
            .col(text_null("location"))
            .col(big_integer("placed_at"))
            .col(text("currency"))
            .col(big_integer("total_minor"))
            .col(big_integer("points_earned"))
            .col(big_integer("refunded_minor"))
            .col(big_integer("created_at"))
            .primary_key(&mut primary_key(&["brand_id", "id"]))
            .foreign_key(&mut owned_by_brand("orders"))
            .foreign_key(&mut of_customer("orders"))
            .to_owned(),
        Table::create()
            .table("order_lines")
            .col(uuid("brand_id"))
            .col(uuid("order_id"))
            .col(integer("line_no"))
            .col(text("sku"))
            .col(text("name"))
            .col(text_null("category"))
            .col(big_integer("quantity"))
            .col(big_integer("unit_price_minor"))
            .col(text("currency"))
            .col(text("modifiers"))
            .primary_key(&mut primary_key(&["brand_id", "order_id", "line_no"]))
            .foreign_key(&mut foreign_key(
                "order_lines",
                &["brand_id", "order_id"],
                "orders",
                &["brand_id", "id"],
            ))
            .to_owned(),
        Table::create()
            .table("vouchers")
            .col(uuid("brand_id"))
            .col(uuid("id"))
            .col(text("code"))
            .col(uuid("customer_id"))
            .col(uuid("reward_id"))
            .col(text("status"))
            .col(big_integer("issued_at"))
            .col(big_integer("expires_at"))
            .col(text("source"))
            .col(uuid_null("campaign_id"))
            .col(uuid_null("issued_by_order_id"))
            .col(big_integer_null("redeemed_at"))
            .col(text_null("redeemed_order_source"))
            .col(text_null("redeemed_order_external_id"))
            .col(big_integer_null("voided_at"))
            .col(text_null("void_reason"))
            .primary_key(&mut primary_key(&["brand_id", "id"]))
            .foreign_key(&mut owned_by_brand("vouchers"))
            .foreign_key(&mut of_customer("vouchers"))
            .foreign_key(&mut foreign_key(
                "vouchers",
                &["brand_id", "reward_id"],
                "rewards",
                &["brand_id", "id"],
            ))
            .foreign_key(&mut foreign_key(
                "vouchers",
                &["brand_id", "issued_by_order_id"],
                "orders",
                &["brand_id", "id"],
            ))
            .to_owned(),
        Table::create()
            .table("idempotency")
            .col(uuid("brand_id"))
            .col(text("source"))
            .col(text("external_id"))
            .col(text("kind"))
            .col(text("result"))
            .col(big_integer("created_at"))
            .primary_key(&mut primary_key(&["brand_id", "source", "external_id"]))
            .foreign_key(&mut owned_by_brand("idempotency"))
            .to_owned(),
        Table::create()
            .table("outbox")
            .col(uuid("brand_id"))
            .col(uuid("id"))
            .col(text("dedupe_key"))
            .col(text("channel"))
            .col(text("recipient"))
            .col(text("payload"))
            .col(text("status"))
            .col(integer("attempts"))
            .col(big_integer("due_at"))
            .col(text_null("last_error"))
            .col(big_integer_null("sent_at"))
            .col(text_null("provider_message_id"))
            .col(big_integer("created_at"))
            .primary_key(&mut primary_key(&["brand_id", "id"]))
            .foreign_key(&mut owned_by_brand("outbox"))
            .to_owned(),
    ]
}

/// `CREATE [UNIQUE] INDEX name ON table (cols...)`.
fn index(
    name: &str,
    table: &'static str,
    cols: &[&'static str],
    unique: bool,
) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(*col);
    }
    if unique {
        index.unique();
    }
    index
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index(
            "ux_locations_code",
            "locations",
            &["brand_id", "code"],
            true,
        ),
        // The prefix identifies a key before its brand is known, so it is unique globally.
        index("ux_api_keys_prefix", "api_keys", &["prefix"], true),
        index(
            "ux_customers_phone",
            "customers",
            &["brand_id", "phone"],
            true,
        ),
        index(
            "ix_ledger_entries_order",
            "ledger_entries",
            &["brand_id", "order_source", "order_external_id"],
            false,
        ),
        index(
            "ux_orders_key",
            "orders",
            &["brand_id", "source", "external_id"],
            true,
        ),
        index(
            "ix_orders_customer",
            "orders",
            &["brand_id", "customer_id"],
            false,
        ),
        index("ux_vouchers_code", "vouchers", &["brand_id", "code"], true),
        index(
            "ix_vouchers_customer",
            "vouchers",
            &["brand_id", "customer_id"],
            false,
        ),
        index(
            "ix_vouchers_issued_by",
            "vouchers",
            &["brand_id", "issued_by_order_id"],
            false,
        ),
        index(
            "ux_outbox_dedupe",
            "outbox",
            &["brand_id", "dedupe_key"],
            true,
        ),
        // Delivery workers scan due rows of every brand.
        index("ix_outbox_due", "outbox", &["status", "due_at"], false),
    ]
}
