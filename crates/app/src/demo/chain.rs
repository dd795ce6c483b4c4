//! The demo chain: its menu, shops, rules and tiers, and the people who come.

use super::*;

/// The bubble-tea rules of docs/rules.md.
pub(super) const RULES: &str = include_str!("../../../../docs/examples/bubble-tea.rules.json");

pub(super) const TIERS: &str = r#"{
    "metric": {"kind": "points"},
    "window_days": 365,
    "review_period": "quarter",
    "tiers": [
        {"code": "member", "name": "Member", "threshold": 0, "benefits": {"earn_multiplier": "1"}},
        {"code": "silver", "name": "Silver", "threshold": 300, "benefits": {"earn_multiplier": "1", "perks": ["Free upsize"]}},
        {"code": "gold", "name": "Gold", "threshold": 900, "benefits": {"earn_multiplier": "1.5", "perks": ["Free upsize", "Birthday drink"]}}
    ]
}"#;

pub(super) const BRAND_NAME: &str = "Mây Tea & Coffee (demo)";
/// The chain's shops: code (what the POS sends), name, and how many customers call it home.
pub(super) const LOCATIONS: &[(&str, &str, u32)] = &[
    ("q1", "Mây Tea – Lê Lợi, Quận 1", 35),
    ("q3", "Mây Tea – Võ Văn Tần, Quận 3", 25),
    ("bt", "Mây Tea – Bình Thạnh", 22),
    ("td", "Mây Tea – Thảo Điền", 18),
];

pub(super) struct MenuItem {
    pub(super) sku: &'static str,
    pub(super) name: &'static str,
    pub(super) category: &'static str,
    pub(super) price: i64,
    /// What people who order this tend to add, and how often.
    pub(super) goes_with: &'static [(&'static str, f64)],
}

pub(super) const MENU: &[MenuItem] = &[
    MenuItem {
        sku: "CF-SUA",
        name: "Cà phê sữa đá",
        category: "coffee",
        price: 29_000,
        goes_with: &[("BK-BANHMI", 0.35), ("BK-CROISSANT", 0.15)],
    },
    MenuItem {
        sku: "CF-BACXIU",
        name: "Bạc xỉu",
        category: "coffee",
        price: 35_000,
        goes_with: &[("BK-CROISSANT", 0.4)],
    },
    MenuItem {
        sku: "TS-OOLONG",
        name: "Trà sữa ô long",
        category: "milk-tea",
        price: 45_000,
        goes_with: &[("BK-MOUSSE", 0.15)],
    },
    MenuItem {
        sku: "TS-BROWN",
        name: "Sữa tươi trân châu đường đen",
        category: "milk-tea",
        price: 49_000,
        goes_with: &[("BK-MOUSSE", 0.1)],
    },
    MenuItem {
        sku: "TS-JASMINE",
        name: "Trà sữa nhài",
        category: "milk-tea",
        price: 39_000,
        goes_with: &[("BK-MOUSSE", 0.15)],
    },
    MenuItem {
        sku: "TS-PEACH",
        name: "Trà đào cam sả",
        category: "fruit-tea",
        price: 45_000,
        goes_with: &[("BK-MOUSSE", 0.25)],
    },
    MenuItem {
        sku: "TS-PASSION",
        name: "Trà chanh dây",
        category: "fruit-tea",
        price: 40_000,
        goes_with: &[("BK-MOUSSE", 0.2)],
    },
    MenuItem {
        sku: "BK-CROISSANT",
        name: "Bánh sừng bò",
        category: "bakery",
        price: 25_000,
        goes_with: &[],
    },
    MenuItem {
        sku: "BK-BANHMI",
        name: "Bánh mì trứng",
        category: "bakery",
        price: 30_000,
        goes_with: &[],
    },
    MenuItem {
        sku: "BK-MOUSSE",
        name: "Bánh mousse chanh dây",
        category: "bakery",
        price: 35_000,
        goes_with: &[],
    },
];

/// Drinks people pick as their favourite (the bakery is an add-on).
pub(super) const DRINKS: usize = 7;

pub(super) const TOPPINGS: &[(&str, &str, i64)] = &[
    ("TOP-PEARL", "Trân châu đen", 8_000),
    ("TOP-CHEESE", "Kem phô mai", 10_000),
    ("TOP-JELLY", "Thạch dừa", 6_000),
];

/// Parts of the day, with their local hours.
pub(super) const DAYPARTS: &[&[u8]] = &[
    &[7, 7, 8, 8, 9],  // morning coffee
    &[11, 12, 12, 13], // lunch peak
    &[14, 15, 16, 17], // afternoon tea
    &[18, 19, 20, 21], // evening
];

pub(super) const FAMILY: &[&str] = &["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"];
pub(super) const GIVEN: &[&str] = &[
    "An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hương", "Khoa", "Linh", "Mai", "Minh",
    "Nam", "Ngọc", "Phương", "Quân", "Thảo", "Trang", "Tuấn", "Vy",
];

pub(super) fn vnd(n: i64) -> Money {
    Money::from_minor_units(n, Currency::VND)
}

pub(super) fn line(item: &MenuItem, modifiers: Vec<Modifier>) -> LineItem {
    LineItem {
        sku: item.sku.into(),
        name: item.name.into(),
        category: Some(item.category.into()),
        quantity: 1,
        unit_price: vnd(item.price),
        modifiers,
    }
}

pub(super) async fn create_brand(
    services: &Services,
    ids: &dyn IdGen,
    brand: BrandId,
    offset: UtcOffset,
    created_at: OffsetDateTime,
) -> Result<Vec<Reward>> {
    let earning_rules = EarningRules::from_json(RULES).context("demo rules")?;
    let tiers: TierProgram = serde_json::from_str(TIERS).context("demo tiers")?;
    let rewards = rewards(ids);
    services
        .create_brand(BrandSetup {
            brand: Brand {
                id: brand,
                name: BRAND_NAME.into(),
                currency: Currency::VND,
                calling_code: CallingCode(84),
                utc_offset: offset,
                refund_policy: RefundPolicy::Debt,
                points_validity_days: Some(180),
                created_at,
            },
            program: Some(LoyaltyProgram {
                earning_rules,
                tiers: None,
            }),
            rewards: rewards.clone(),
        })
        .await?;
    services
        .set_tiers(brand, Some(tiers))
        .await
        .context("setting the demo tiers")?;
    open_shops(services, brand).await?;
    Ok(rewards)
}

/// The rewards the demo's points buy.
fn rewards(ids: &dyn IdGen) -> Vec<Reward> {
    let reward = |name: &str, cost: i64, kind: RewardKind| Reward {
        id: RewardId::from_uuid(ids.new_id()),
        name: name.to_owned(),
        cost: Points::new(cost),
        kind,
        active: true,
        validity_days: 30,
        min_order_total: None,
    };
    vec![
        reward(
            "Free cheese foam",
            40,
            RewardKind::FreeModifier {
                sku: "TOP-CHEESE".into(),
            },
        ),
        reward(
            "Free oolong milk tea",
            120,
            RewardKind::FreeItem {
                sku: "TS-OOLONG".into(),
            },
        ),
        reward(
            "20 % off",
            150,
            RewardKind::PercentDiscount {
                percent: rust_decimal::Decimal::from(20),
                cap: Some(vnd(30_000)),
            },
        ),
        reward(
            "30.000 ₫ off",
            200,
            RewardKind::FixedDiscount {
                amount: vnd(30_000),
            },
        ),
    ]
}

/// The brand's shops, and the menu the till sells from and the dashboard names items by.
async fn open_shops(services: &Services, brand: BrandId) -> Result<()> {
    for (code, name, _) in LOCATIONS {
        services
            .create_location(
                brand,
                LocationInput {
                    code: (*code).to_owned(),
                    name: (*name).to_owned(),
                    utc_offset: None,
                },
            )
            .await
            .with_context(|| format!("creating location {code}"))?;
    }
    // The menu the till sells from and the dashboard names items by.
    for (n, item) in MENU.iter().enumerate() {
        let entry = regulars_domain::MenuItem {
            sku: item.sku.to_owned(),
            name: item.name.to_owned(),
            category: Some(item.category.to_owned()),
            price: Money::from_minor_units(item.price, Currency::VND),
            active: true,
            sort_order: i32::try_from(n).ok(),
        };
        services
            .put_menu_item(brand, &entry)
            .await
            .with_context(|| format!("adding {} to the menu", item.sku))?;
    }
    Ok(())
}

pub(super) fn personas(
    rng: &mut Rng,
    count: u32,
    start: OffsetDateTime,
    end: OffsetDateTime,
) -> Vec<Persona> {
    let span = (end - start).as_seconds_f64();
    let homes: u32 = LOCATIONS.iter().map(|l| l.2).sum();
    (0..count)
        .map(|i| {
            // BG/NBD-like habits: a gamma spread of visit rates (mean one visit in ~11
            // days, a few near-daily regulars) and a beta spread of dropout chances.
            let rate = rng.gamma(1.1, 12.0).clamp(1.0 / 120.0, 0.8);
            let dropout = rng.beta(0.7, 7.0).clamp(0.005, 0.6);
            // The chain grows: more people join early, some keep joining all year.
            let joins = start + Duration::seconds_f64(span * 0.9 * rng.uniform().powf(1.6));
            let prefix = ["90", "91", "93", "97", "98", "70", "86"][rng.below(7)];
            let phone = format!("0{prefix}{:07}", 1_000_000 + u64::from(i) * 37 % 8_999_999);
            let mut pick = rng.below(homes as usize) as u32;
            let home = LOCATIONS
                .iter()
                .position(|l| {
                    let hit = pick < l.2;
                    pick = pick.saturating_sub(l.2);
                    hit
                })
                .unwrap_or(0);
            let favourite = rng.below(DRINKS);
            let coffee = MENU[favourite].category == "coffee";
            let daypart = if coffee && rng.chance(0.7) {
                0
            } else {
                1 + rng.below(DAYPARTS.len() - 1)
            };
            let name = format!(
                "{} {}",
                FAMILY[rng.below(FAMILY.len())],
                GIVEN[rng.below(GIVEN.len())]
            );
            let birthday = rng.chance(0.75).then(|| {
                let month = Month::try_from(1 + rng.below(12) as u8).unwrap_or(Month::January);
                let year = 1975 + rng.below(32) as i32;
                let day = 1 + rng.below(28) as u8;
                Date::from_calendar_date(year, month, day).ok()
            });
            let email = rng.chance(0.3).then(|| format!("khach{i}@example.vn"));
            let zalo = rng.chance(0.45);
            // Every box is the customer's own answer: unticked is "not asked" here.
            let yes = |given: bool| given.then_some(true);
            let consent = ConsentPatch {
                zalo: yes(zalo),
                sms: yes(rng.chance(0.55)),
                email: yes(email.is_some() && rng.chance(0.8)),
                profiling: yes(rng.chance(0.8)),
                programme: Some(true),
            };
            Persona {
                phone,
                profile: CustomerInput {
                    name: Some(name),
                    birthday: birthday.flatten(),
                    email,
                    zalo_user_id: zalo.then(|| format!("zalo-demo-{i:05}")),
                    consent,
                    notice_version: None,
                    consent_source: None,
                },
                home,
                rate,
                dropout,
                joins,
                favourite,
                likes_topping: rng.chance(0.6).then(|| rng.below(TOPPINGS.len())),
                daypart,
                commuter: rng.chance(0.6),
            }
        })
        .collect()
}
