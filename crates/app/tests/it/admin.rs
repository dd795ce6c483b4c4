//! `brand create`, `key create|revoke` and `import orders`.

use crate::{Scratch, databases, printed, run};
use regulars::system::{OsIdGen, SystemClock};
use regulars_domain::{BrandId, CallingCode, Currency};
use regulars_loyalty::ledger::RefundPolicy;
use regulars_pos::BrandContext;
use regulars_pos::csv_gen::{sample_orders, write_csv};
use regulars_service::Services;
use regulars_store::{Store, StoreOptions};
use std::path::Path;
use std::sync::Arc;
use time::UtcOffset;

async fn services(url: &str) -> Services {
    let store = Store::connect(url, StoreOptions::default())
        .await
        .expect("open the database the binary wrote");
    Services::new(Arc::new(store), Arc::new(SystemClock), Arc::new(OsIdGen))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_creates_a_brand_manages_keys_and_imports_history() {
    for db in databases("cli") {
        let rules = db.dir().join("rules.json");
        std::fs::write(
            &rules,
            include_str!("../../../../docs/examples/bubble-tea.rules.json"),
        )
        .unwrap();
        let (services, brand, admin) = brands_are_created(&db, &rules).await;
        keys_are_made_and_revoked(&db, &services, &brand, &admin).await;
        let (brand_id, context) = history_is_imported_once(&db, &services, &brand).await;
        a_bad_row_is_named(&db, &services, &brand, brand_id, &context).await;
    }
}

/// A brand and its first admin key, printed once; the refund policy as chosen. Answers
/// the services on the database, the brand's id and its admin key.
async fn brands_are_created(db: &Scratch, rules: &Path) -> (Services, String, String) {
    let name = db.name;
    let created = run(
        db,
        &[
            "brand",
            "create",
            "--name",
            "Trà Sữa CLI",
            "--rules",
            rules.to_str().unwrap(),
        ],
    );
    assert!(created.success, "{name}: {created:?}");
    let brand = printed(&created.stdout, "brand:");
    let admin = printed(&created.stdout, "admin key:");
    assert!(admin.starts_with("rgk_"), "{name}: {admin}");
    let services = services(&db.url).await;
    let principal = services
        .authenticate(&admin, "test")
        .await
        .expect("the key works");
    assert_eq!(principal.brand.to_string(), brand);
    // Spent points a refund cannot take back become debt unless the operator chooses.
    let settings = services.brand(principal.brand).await.unwrap();
    assert_eq!(settings.refund_policy, RefundPolicy::Debt, "{name}");
    let chosen = run(
        db,
        &[
            "brand",
            "create",
            "--name",
            "Clamp",
            "--refund-overdraw",
            "clamp",
        ],
    );
    assert!(chosen.success, "{name}: {chosen:?}");
    let clamp: BrandId = printed(&chosen.stdout, "brand:").parse().unwrap();
    let settings = services.brand(clamp).await.unwrap();
    assert_eq!(settings.refund_policy, RefundPolicy::Clamp, "{name}");
    let bad = run(
        db,
        &[
            "brand",
            "create",
            "--name",
            "X",
            "--refund-overdraw",
            "never",
        ],
    );
    assert!(!bad.success, "{name}: {bad:?}");
    assert!(bad.stderr.contains("--refund-overdraw"), "{name}: {bad:?}");

    (services, brand, admin)
}

/// A till key, then revoked: it stops working, the admin key does not; the last admin
/// key stays.
async fn keys_are_made_and_revoked(db: &Scratch, services: &Services, brand: &str, admin: &str) {
    let name = db.name;
    let key = run(db, &["key", "create", "--brand", brand, "--role", "pos"]);
    assert!(key.success, "{name}: {key:?}");
    let key_id = printed(&key.stdout, "key id:");
    let token = printed(&key.stdout, "key:");
    assert!(services.authenticate(&token, "test").await.is_ok());
    let revoked = run(db, &["key", "revoke", "--brand", brand, "--key", &key_id]);
    assert!(revoked.success, "{name}: {revoked:?}");
    assert!(
        services.authenticate(&token, "test").await.is_err(),
        "{name}: revoked"
    );
    assert!(services.authenticate(admin, "test").await.is_ok());
    let again = run(db, &["key", "revoke", "--brand", brand, "--key", &key_id]);
    assert!(!again.success, "{name}: a key is revoked once");
    let bad_role = run(db, &["key", "create", "--brand", brand, "--role", "root"]);
    assert!(!bad_role.success);
    assert!(bad_role.stderr.contains("--role"), "{name}: {bad_role:?}");
    // The last admin key stays: without it nobody could make keys again.
    let admin_id = services
        .api_keys(brand.parse::<BrandId>().unwrap())
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.revoked_at.is_none() && k.role == regulars_ports::Role::Admin)
        .expect("the admin key")
        .id
        .to_string();
    let last = run(db, &["key", "revoke", "--brand", brand, "--key", &admin_id]);
    assert!(!last.success, "{name}: {last:?}");
    assert!(services.authenticate(admin, "test").await.is_ok());
}

/// History from CSV, twice: the second run counts nothing new. Answers the brand's id
/// and its context for more orders.
async fn history_is_imported_once(
    db: &Scratch,
    services: &Services,
    brand: &str,
) -> (BrandId, BrandContext) {
    let name = db.name;
    let brand_id: BrandId = brand.parse().unwrap();
    let context = BrandContext {
        brand_id,
        currency: Currency::VND,
        calling_code: CallingCode(84),
        utc_offset: UtcOffset::from_hms(7, 0, 0).unwrap(),
    };
    let orders = sample_orders(&context, 11, 40);
    let csv = db.dir().join("orders.csv");
    write_csv(&orders, std::fs::File::create(&csv).unwrap()).unwrap();
    let csv_arg = csv.to_str().unwrap();
    let first = run(
        db,
        &["import", "orders", csv_arg, "--brand", brand, "--quiet"],
    );
    assert!(first.success, "{name}: {first:?}");
    assert!(
        first
            .stdout
            .contains("40 orders imported, 0 already known, 0 refused"),
        "{name}: {first:?}"
    );
    let second = run(
        db,
        &["import", "orders", csv_arg, "--brand", brand, "--quiet"],
    );
    assert!(second.success, "{name}: {second:?}");
    assert!(
        second
            .stdout
            .contains("0 orders imported, 40 already known, 0 refused"),
        "{name}: {second:?}"
    );
    let listed = services
        .orders(brand_id, None, None, 500)
        .await
        .expect("orders");
    assert_eq!(listed.len(), 40, "{name}: each order stored once");

    (brand_id, context)
}

/// A bad row: the good orders are counted, the bad one named by line and column.
async fn a_bad_row_is_named(
    db: &Scratch,
    services: &Services,
    brand: &str,
    brand_id: BrandId,
    context: &BrandContext,
) {
    let name = db.name;
    let more = sample_orders(context, 12, 3)
        .into_iter()
        .map(|mut o| {
            o.key.external_id = format!("B-{}", o.key.external_id);
            o
        })
        .collect::<Vec<_>>();
    let bad = db.dir().join("bad.csv");
    let mut text = Vec::new();
    write_csv(&more, &mut text).unwrap();
    let mut text = String::from_utf8(text).unwrap();
    let bad_line = text.lines().count() + 1;
    text.push_str("BAD-1,yesterday,q1,,TS-OOLONG,Oolong,milk-tea,2,45000,,90000\n");
    std::fs::write(&bad, text).unwrap();
    let failed = run(
        db,
        &[
            "import",
            "orders",
            bad.to_str().unwrap(),
            "--brand",
            brand,
            "--quiet",
        ],
    );
    assert!(!failed.success, "{name}: {failed:?}");
    assert!(
        failed
            .stderr
            .contains(&format!("line {bad_line}, column placed_at")),
        "{name}: {failed:?}"
    );
    assert!(
        failed
            .stdout
            .contains("3 orders imported, 0 already known, 1 refused"),
        "{name}: {failed:?}"
    );
    let report = services.check_ledger(Some(brand_id)).await.unwrap();
    assert!(report.mismatches.is_empty() && report.invalid.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_rotate_reseals_webhook_secrets_under_the_new_key() {
    use regulars_ports::IntegrationKind;
    use regulars_service::{SecretKey, SecretKeys};
    let (old, new) = ("11".repeat(32), "22".repeat(32));
    for db in databases("rotate") {
        let name = db.name;
        let rules = db.dir().join("rules.json");
        std::fs::write(
            &rules,
            include_str!("../../../../docs/examples/bubble-tea.rules.json"),
        )
        .unwrap();
        let created = run(
            &db,
            &[
                "brand",
                "create",
                "--name",
                "Rotate",
                "--rules",
                rules.to_str().unwrap(),
            ],
        );
        assert!(created.success, "{name}: {created:?}");
        let brand: BrandId = printed(&created.stdout, "brand:").parse().unwrap();
        let integration = services(&db.url)
            .await
            .with_secret_key(SecretKey::from_hex(&old).unwrap())
            .create_integration(brand, IntegrationKind::Generic, None, None, None)
            .await
            .unwrap();
        let rotate = |previous: Option<&str>| {
            let mut command = crate::regulars(db.dir());
            command
                .args(["secrets", "rotate"])
                .env("DATABASE_URL", &db.url)
                .env("REGULARS_SECRET_KEY", &new);
            if let Some(previous) = previous {
                command.env("REGULARS_PREVIOUS_SECRET_KEYS", previous);
            }
            command.output().expect("run regulars secrets rotate")
        };
        // Without the old key the secret cannot be opened: said, and nothing changes.
        let refused = rotate(None);
        assert!(!refused.status.success(), "{name}: {refused:?}");
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("REGULARS_PREVIOUS_SECRET_KEYS"),
            "{name}: {refused:?}"
        );
        let done = rotate(Some(&format!("{}, {old}", "33".repeat(32))));
        let stdout = String::from_utf8_lossy(&done.stdout);
        assert!(done.status.success(), "{name}: {done:?}");
        assert!(
            stdout.contains("1 secrets re-sealed, 0 already"),
            "{name}: {stdout}"
        );
        let opened = services(&db.url)
            .await
            .with_secret_keys(SecretKeys::new(SecretKey::from_hex(&new).unwrap()))
            .webhook_endpoint(integration.info.id)
            .await
            .unwrap();
        assert_eq!(opened.secret, integration.secret.as_bytes());
    }
}
