//! The programmes beside points: the stamp card, referrals, ratings after a visit and the
//! owner's goal, each driven through the use cases the dashboard, the till and the
//! customer's pages call.

use super::*;
use regulars_loyalty::referrals::ReferralProgramme;
use regulars_loyalty::stamps::{StampCard, StampEarning};
use regulars_loyalty::vouchers::{VoucherSource, VoucherStatus};
use regulars_service::{GoalInput, Scope};

/// The card: "buy 9 drinks, the 10th is free", a stamp per drink.
pub(super) const STAMP_CARD: &str = "drinks";
pub(super) const STAMPS_NEEDED: u32 = 10;
/// The drinks' menu categories (the bakery earns no stamp).
const DRINK_CATEGORIES: [&str; 3] = ["coffee", "milk-tea", "fruit-tea"];
/// Chance that a customer with a full card hands its voucher over on a visit.
const STAMP_REDEEM: f64 = 0.6;
/// Share of the customers joining by a poster who came through a member's invite.
const REFERRED: f64 = 0.5;
/// Share of the visits rated afterwards.
const RATED: f64 = 0.1;
/// Shops whose manager's email takes low ratings (the last shop has none yet).
const MANAGED: usize = 3;

/// The stars a shop earns: its mean at the start of the year and at the end (a shop
/// that improves, one that slips), around which each rating is drawn.
const SHOP_STARS: [(f64, f64); 4] = [(4.5, 4.6), (4.3, 4.0), (3.6, 4.5), (4.4, 3.5)];

const COMMENTS: [&[&str]; 3] = [
    &[
        "Trà quá ngọt, đợi 20 phút mới có nước.",
        "Nhân viên quên món, bàn bẩn.",
    ],
    &[
        "Ổn, nhưng hơi đông vào giờ trưa.",
        "Đồ uống được, chỗ ngồi ít.",
    ],
    &[
        "Trà sữa ngon, nhân viên dễ thương!",
        "Cà phê đậm, sẽ quay lại.",
        "Great oolong, friendly staff.",
    ],
];

/// Figures of the programmes for the story.
#[derive(Default)]
pub(super) struct ProgrammeTally {
    pub(super) stamp_vouchers_redeemed: u64,
    pub(super) referred_signups: u64,
    /// The customers who joined through a member's invite.
    pub(super) referred: std::collections::BTreeSet<usize>,
    pub(super) ratings: u64,
    pub(super) managers_notified: u64,
}

/// Sets up the stamp card, the referral programme and who hears of low ratings.
pub(super) async fn set_up(services: &Services, brand: BrandId, rewards: &[Reward]) -> Result<()> {
    let drink = rewards
        .iter()
        .find(|r| matches!(r.kind, RewardKind::FreeItem { .. }))
        .context("the demo catalogue has a free drink")?;
    services
        .put_stamp_cards(
            brand,
            vec![StampCard {
                code: STAMP_CARD.to_owned(),
                name: "Mua 9 ly, ly thứ 10 miễn phí".to_owned(),
                stamps_needed: STAMPS_NEEDED,
                earn: StampEarning::Item {
                    skus: Vec::new(),
                    categories: DRINK_CATEGORIES.map(str::to_owned).to_vec(),
                },
                max_per_order: Some(3),
                reward: drink.id,
                expiry_days: Some(180),
                active: true,
            }],
        )
        .await
        .context("setting the demo stamp card")?;
    services
        .set_referral_programme(
            brand,
            ReferralProgramme {
                enabled: true,
                referrer_points: Points::new(50),
                friend_points: Points::new(30),
                min_purchase_minor: 30_000,
                monthly_cap: 5,
            },
        )
        .await
        .context("turning referrals on")?;
    let locations = services.locations(brand).await?;
    for (code, _, _) in LOCATIONS.iter().take(MANAGED) {
        let location = locations
            .iter()
            .find(|l| l.code == *code)
            .with_context(|| format!("location {code}"))?;
        services
            .set_location_manager(
                brand,
                location.id,
                Some(&format!("quanly.{code}@may-tea.example")),
            )
            .await
            .with_context(|| format!("the manager of {code}"))?;
    }
    Ok(())
}

impl Demo {
    /// A customer joining by the poster came through a member's invite link (half of
    /// them, once there are members): the member's token, `None` otherwise.
    pub(super) async fn invite_for(&mut self, customer: usize) -> Result<Option<String>> {
        if self.customer_ids.is_empty() || !self.rng.chance(REFERRED) {
            return Ok(None);
        }
        let members: Vec<CustomerId> = self
            .customer_ids
            .iter()
            .filter(|(idx, _)| **idx != customer)
            .map(|(_, id)| *id)
            .collect();
        let Some(&referrer) = members.get(self.rng.below(members.len())) else {
            return Ok(None);
        };
        let token = self.services.invite_token(self.brand, referrer).await?;
        if token.is_some() {
            self.programmes.referred_signups += 1;
            self.programmes.referred.insert(customer);
        }
        Ok(token)
    }

    /// Two members try their own invite link, two sign up through a friend's although
    /// they are members already: the referral report shows the refusals. The two who
    /// use a friend's link joined without an invite, so they are refused as members
    /// already, not as referred before (that reason is checked first).
    pub(super) async fn refused_referrals(&mut self) -> Result<()> {
        let members: Vec<(usize, CustomerId)> =
            self.customer_ids.iter().map(|(i, id)| (*i, *id)).collect();
        let unreferred: Vec<(usize, CustomerId)> = members
            .iter()
            .filter(|(i, _)| !self.programmes.referred.contains(i))
            .copied()
            .collect();
        if members.len() < 4 || unreferred.is_empty() {
            return Ok(());
        }
        for k in 0..4 {
            let (who, owner) = if k < 2 {
                let (who, id) = members[(k * 7 + 3) % members.len()];
                (who, id)
            } else {
                let (who, id) = unreferred[(k * 7 + 3) % unreferred.len()];
                let mut at = k * 11 + 1;
                while members[at % members.len()].1 == id {
                    at += 1;
                }
                (who, members[at % members.len()].1)
            };
            if let Some(invite) = self.services.invite_token(self.brand, owner).await? {
                let location = self.personas[who].home;
                self.sign_up(who, location, Some(&invite)).await?;
            }
        }
        Ok(())
    }

    /// Counts the drinks towards the customer's stamp card, and on a visit after a card
    /// filled, often hands its voucher over at the till.
    pub(super) async fn maybe_redeem_stamps(
        &mut self,
        customer: usize,
        order: &Order,
    ) -> Result<()> {
        let drinks: u32 = order
            .lines
            .iter()
            .filter(|l| {
                l.category
                    .as_deref()
                    .is_some_and(|c| DRINK_CATEGORIES.contains(&c))
            })
            .map(|l| l.quantity)
            .sum();
        let life = &mut self.lives[customer];
        let due = life.stamp_cards_due;
        let before = life.drinks / STAMPS_NEEDED;
        life.drinks += drinks.min(3);
        life.stamp_cards_due += life.drinks / STAMPS_NEEDED - before;
        if due == 0 || !self.rng.chance(STAMP_REDEEM) {
            return Ok(());
        }
        self.lives[customer].stamp_cards_due -= 1;
        let Some(&id) = self.customer_ids.get(&customer) else {
            return Ok(());
        };
        let now = self.clock.now();
        let view = self.services.customer_view(self.brand, id).await?;
        let code = view.vouchers.iter().find(|v| {
            matches!(v.source(), VoucherSource::StampCard { .. })
                && matches!(v.status(), VoucherStatus::Issued)
                && v.validate(now).is_ok()
        });
        if let Some(voucher) = code {
            let code = voucher.code().as_str().to_owned();
            match self
                .services
                .redeem_voucher(self.brand, &code, Some(order.key.clone()))
                .await
            {
                Ok(_) => self.programmes.stamp_vouchers_redeemed += 1,
                Err(RedeemVoucherError::Refused { .. }) => {}
                Err(e) => return Err(e).context("redeeming a stamp card voucher"),
            }
        }
        Ok(())
    }

    /// One visit in ten is rated through the link of the thank-you message: stars
    /// around the shop's mean of the time, a comment now and then.
    pub(super) async fn maybe_rate(
        &mut self,
        order: &Order,
        receipt: &regulars_service::OrderReceipt,
        progress: f64,
    ) -> Result<()> {
        let Some(customer) = receipt.customer_id else {
            return Ok(());
        };
        if receipt.duplicate || !self.rng.chance(RATED) {
            return Ok(());
        }
        let shop = LOCATIONS
            .iter()
            .position(|l| order.location.as_deref() == Some(l.0))
            .unwrap_or(0);
        let (from, to) = SHOP_STARS[shop % SHOP_STARS.len()];
        let mean = from + (to - from) * progress.clamp(0.0, 1.0);
        let stars = (mean + 0.8 * self.rng.normal()).round().clamp(1.0, 5.0) as u8;
        let bucket = match stars {
            1 | 2 => 0,
            3 => 1,
            _ => 2,
        };
        let comment = (stars <= 2 || self.rng.chance(0.3)).then(|| {
            let texts = COMMENTS[bucket];
            texts[self.rng.below(texts.len())]
        });
        let now = self.clock.now();
        let token = self
            .services
            .rating_token(self.brand, receipt.order_id, customer, now)
            .context("the demo signs rating links")?;
        let rated = self
            .services
            .submit_rating(&token, stars, comment)
            .await
            .context("rating a visit")?;
        self.programmes.ratings += 1;
        self.programmes.managers_notified += u64::from(rated.manager_notified);
        Ok(())
    }

    /// The owner's goal, set four weeks before the end: the repeat rate from where it
    /// stands (rounded down to 5 %) up twenty points, two months after the end of the
    /// story ("from 40 % to 60 % by …"): a stretch the overview shows on track or behind.
    pub(super) async fn set_goal(&mut self, end: OffsetDateTime) -> Result<()> {
        let deadline = end.to_offset(self.offset).date() + Duration::days(61);
        let goal = |start_value, target_value| GoalInput {
            metric: "repeat_rate".to_owned(),
            start_value,
            target_value,
            deadline,
            location: None,
        };
        // As the goal form does: without a start, the goal starts from the figure now.
        let probe = self
            .services
            .create_goal(self.brand, &goal(None, 0.5))
            .await
            .context("the repeat rate now")?;
        self.services.delete_goal(self.brand, probe.id).await?;
        let now = probe.path.start_value;
        let start = ((now * 20.0).floor() / 20.0).clamp(0.0, 0.75);
        self.services
            .create_goal(self.brand, &goal(Some(start), start + 0.20))
            .await
            .context("setting the owner's goal")?;
        Ok(())
    }

    /// The story's lines about the programmes beside points.
    pub(super) async fn programme_story(&self) -> Result<()> {
        let p = &self.programmes;
        let brand = self.brand;
        let cards = self
            .lives
            .iter()
            .map(|l| l.drinks / STAMPS_NEEDED)
            .sum::<u32>();
        let part_way = self
            .lives
            .iter()
            .filter(|l| l.drinks % STAMPS_NEEDED > 0)
            .count();
        println!();
        println!(
            "  stamp card \"buy 9 drinks, the 10th free\": about {cards} cards filled, {part_way} customers part-way, {} card vouchers redeemed",
            p.stamp_vouchers_redeemed
        );
        let r = self.services.referral_counts(brand).await?;
        let refused: Vec<String> = r
            .refused
            .iter()
            .map(|(reason, n)| {
                let reason = serde_json::to_value(reason).unwrap_or_default();
                format!("{} {n}", reason.as_str().unwrap_or("other"))
            })
            .collect();
        println!(
            "  referrals: {} members shared an invite, {} friends signed up, {} rewarded, {} pending; refused: {}",
            r.invited,
            r.signed_up,
            r.rewarded,
            r.pending,
            refused.join(", ")
        );
        let view = self
            .services
            .ratings_report(brand, &Scope::Brand, None, None)
            .await?;
        let shops: Vec<String> = view
            .report
            .by_location
            .iter()
            .map(|row| {
                format!(
                    "{} {:.1}★ ({})",
                    row.location.as_deref().unwrap_or("-"),
                    row.summary.average.unwrap_or(0.0),
                    row.summary.count
                )
            })
            .collect();
        println!(
            "  ratings by shop ({} to {}): {}; {} rated in the year, {} low ratings emailed to the shop's manager",
            view.days.from,
            view.days.to,
            shops.join(", "),
            p.ratings,
            p.managers_notified
        );
        for goal in self.services.goal_views(brand, &Scope::Brand).await? {
            println!(
                "  goal: {} from {:.0}% to {:.0}% by {}: now {}, {}",
                goal.goal.metric.as_str(),
                goal.goal.path.start_value * 100.0,
                goal.goal.path.target_value * 100.0,
                goal.goal.path.deadline.to_offset(self.offset).date() - Duration::days(1),
                goal.current
                    .map_or_else(|| "-".to_owned(), |v| format!("{:.0}%", v * 100.0)),
                goal.status.as_str()
            );
        }
        Ok(())
    }
}
