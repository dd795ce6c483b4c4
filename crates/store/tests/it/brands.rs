//! Brands, loyalty programmes, reward catalogues.

use crate::support::{brand, reward, seed, vnd};
use crate::{Store, TestResult};
use regulars_domain::{BrandId, Currency};
use regulars_loyalty::rewards::RewardKind;
use regulars_loyalty::rules::EarningRules;
use regulars_loyalty::tiers::TierProgram;
use regulars_ports::{LoyaltyProgram, StoreError, UnitOfWork};
use rust_decimal_macros::dec;
use time::macros::offset;

pub(crate) async fn brand_round_trip(store: Store) -> TestResult {
    let mut usd = brand(2);
    usd.currency = Currency::USD;
    usd.utc_offset = offset!(-05:30);
    usd.points_validity_days = None;
    usd.refund_policy = regulars_loyalty::ledger::RefundPolicy::Debt;
    let vnd_brand = brand(1);

    let mut tx = store.begin().await?;
    tx.brands().insert_brand(&usd).await?;
    tx.brands().insert_brand(&vnd_brand).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.brands().brand(usd.id).await?, Some(usd.clone()));
    assert_eq!(
        tx.brands().brand(vnd_brand.id).await?,
        Some(vnd_brand.clone())
    );
    assert_eq!(tx.brands().brand(BrandId::from_bytes([9; 16])).await?, None);
    assert_eq!(tx.brands().brand_ids().await?, vec![vnd_brand.id, usd.id]);
    let again = tx.brands().insert_brand(&usd).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    drop(tx);

    // Settings change in place; the other brand is untouched.
    let mut changed = usd.clone();
    changed.refund_policy = regulars_loyalty::ledger::RefundPolicy::VoidUnredeemed;
    changed.points_validity_days = Some(90);
    let mut tx = store.begin().await?;
    tx.brands().update_brand(&changed).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    assert_eq!(tx.brands().brand(usd.id).await?, Some(changed));
    assert_eq!(tx.brands().brand(vnd_brand.id).await?, Some(vnd_brand));
    let mut stranger = brand(9);
    stranger.id = BrandId::from_bytes([9; 16]);
    let missing = tx.brands().update_brand(&stranger).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
    Ok(())
}

fn program() -> Result<LoyaltyProgram, Box<dyn std::error::Error + Send + Sync>> {
    let earning_rules = EarningRules::from_json(
        r#"{
            "currency": "VND",
            "base": {"per_amount": "10000", "points": 1, "rounding": "floor"},
            "visit_bonuses": [{"kind": "first_visit", "label": "Welcome", "points": 20}]
        }"#,
    )?;
    let tiers: TierProgram = serde_json::from_str(
        r#"{
            "metric": {"kind": "points"},
            "window_days": 365,
            "review_period": "quarter",
            "tiers": [
                {"code": "member", "name": "Member", "threshold": 0,
                 "benefits": {"earn_multiplier": "1"}},
                {"code": "gold", "name": "Gold", "threshold": 3000,
                 "benefits": {"earn_multiplier": "1.5", "perks": ["Birthday drink"]}}
            ]
        }"#,
    )?;
    Ok(LoyaltyProgram {
        earning_rules,
        tiers: Some(tiers),
    })
}

pub(crate) async fn program_round_trip_and_replace(store: Store) -> TestResult {
    let (brand, _, _) = seed(&store, 1).await?;
    let first = program()?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.brands().program(brand.id).await?, None);
    tx.brands().save_program(brand.id, &first).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.brands().program(brand.id).await?, Some(first.clone()));
    let replaced = LoyaltyProgram {
        earning_rules: EarningRules::empty(Currency::VND),
        tiers: None,
    };
    tx.brands().save_program(brand.id, &replaced).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.brands().program(brand.id).await?, Some(replaced));
    Ok(())
}

pub(crate) async fn rewards_round_trip_upsert_and_catalogue_order(store: Store) -> TestResult {
    let (brand, _, topping) = seed(&store, 1).await?;
    let mut drink = reward(2, "Free drink", 1_200);
    drink.kind = RewardKind::FreeItem {
        sku: "TS-OOLONG".into(),
    };
    let mut percent = reward(3, "Birthday 15%", 800);
    percent.kind = RewardKind::PercentDiscount {
        percent: dec!(15.5),
        cap: Some(vnd(50_000)),
    };
    percent.min_order_total = None;

    let mut tx = store.begin().await?;
    tx.brands().save_reward(brand.id, &drink).await?;
    tx.brands().save_reward(brand.id, &percent).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(
        tx.brands().reward(brand.id, drink.id).await?,
        Some(drink.clone())
    );
    assert_eq!(
        tx.brands().reward(brand.id, percent.id).await?,
        Some(percent.clone())
    );
    assert_eq!(
        tx.brands().rewards(brand.id).await?,
        vec![percent.clone(), drink.clone(), topping.clone()],
        "ordered by name"
    );
    // Saving again replaces.
    let mut retired = drink.clone();
    retired.active = false;
    retired.cost = regulars_domain::Points::new(1_500);
    tx.brands().save_reward(brand.id, &retired).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.brands().reward(brand.id, drink.id).await?, Some(retired));
    assert_eq!(tx.brands().rewards(brand.id).await?.len(), 3);
    Ok(())
}

/// The brand's config version moves with every change to the brand or its programme,
/// and the statement that locks an account reads the committed one.
pub(crate) async fn config_version_moves_with_every_change(store: Store) -> TestResult {
    let (brand, customer, _) = seed(&store, 1).await?;
    let version = |config: Option<regulars_ports::BrandConfig>| {
        config.and_then(|c| c.version).ok_or("no versioned config")
    };
    let mut tx = store.begin().await?;
    let first = tx.brands().brand_config(brand.id).await?;
    assert_eq!(first.as_ref().map(|c| &c.brand), Some(&brand));
    assert_eq!(first.as_ref().and_then(|c| c.program.clone()), None);
    let v0 = version(first)?;
    let locked = tx
        .ledger()
        .lock_account_state(brand.id, customer.id)
        .await?;
    assert_eq!(locked.config_version, Some(v0));
    tx.commit().await?;

    let mut tx = store.begin().await?;
    tx.brands().save_program(brand.id, &program()?).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let saved = tx.brands().brand_config(brand.id).await?;
    assert_eq!(
        saved.as_ref().and_then(|c| c.program.clone()),
        Some(program()?)
    );
    let v1 = version(saved)?;
    assert!(v1 > v0, "{v1} after {v0}");
    let locked = tx
        .ledger()
        .lock_account_state(brand.id, customer.id)
        .await?;
    assert_eq!(locked.config_version, Some(v1));
    drop(tx);

    let mut changed = brand.clone();
    changed.points_validity_days = Some(30);
    let mut tx = store.begin().await?;
    tx.brands().update_brand(&changed).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let updated = tx.brands().brand_config(brand.id).await?;
    assert_eq!(updated.as_ref().map(|c| &c.brand), Some(&changed));
    let v2 = version(updated)?;
    assert!(v2 > v1, "{v2} after {v1}");
    let locked = tx
        .ledger()
        .lock_account_state(brand.id, customer.id)
        .await?;
    assert_eq!(locked.config_version, Some(v2));
    assert_eq!(
        tx.brands()
            .brand_config(BrandId::from_bytes([9; 16]))
            .await?,
        None
    );
    Ok(())
}
