//! Scoring, the owner's campaigns and the weekly campaign pass.

use super::*;

impl Demo {
    /// Scores every customer now; `shown` scorings make the story's segment table.
    pub(super) async fn score(&mut self, shown: bool) -> Result<()> {
        let run = self
            .services
            .score_brand(self.brand, &ScoringOptions::default())
            .await
            .context("scoring the demo brand")?;
        if shown {
            let date = self.clock.now().to_offset(self.offset).date();
            println!("  {date} scored {} customers", run.customers);
            self.tally.scorings.push((date, run.segment_sizes));
        }
        Ok(())
    }

    /// The owner creates and launches the campaigns through the same use cases the
    /// dashboard and the API call: a win-back testing two offers against each other,
    /// and a birthday treat.
    pub(super) async fn launch(&mut self) -> Result<()> {
        let brand = self.brand;
        let win_back = self.create_win_back().await?;
        let birthday = json!({
            "name": "Happy birthday",
            "trigger": {"type": "birthday", "days_before": 7},
            "offer": {"type": "fixed", "reward": {
                "reward_id": self.reward_id(|k| matches!(k, RewardKind::FreeModifier { .. }))?,
                "cost": {"amount": "4000", "currency": "VND"}
            }},
            "channels": ["zalo", "email", "sms"],
            "send_time": {"type": "now"},
            "holdout": 0.2,
            "attribution_days": 14,
        });
        let birthday = self
            .services
            .create_campaign(brand, &birthday)
            .await
            .context("creating the birthday campaign")?;
        for (record, label) in [(win_back, "win-back"), (birthday, "birthday")] {
            self.services
                .set_campaign_status(brand, record.id, CampaignAction::Launch)
                .await
                .with_context(|| format!("launching the {label} campaign"))?;
            println!(
                "  {} launched campaign \"{}\"",
                self.clock.now().to_offset(self.offset).date(),
                record.name
            );
            self.campaigns.list.push((record.id, label));
        }
        Ok(())
    }

    /// The catalogue reward of the kind `pick` accepts.
    fn reward(&self, pick: impl Fn(&RewardKind) -> bool) -> Result<&Reward> {
        self.rewards
            .iter()
            .find(|r| pick(&r.kind))
            .context("the demo catalogue has the reward")
    }

    fn reward_id(&self, pick: impl Fn(&RewardKind) -> bool) -> Result<String> {
        Ok(self.reward(pick)?.id.to_string())
    }

    /// The win-back campaign with its two variants, "free drink" and "20 % off", their
    /// rewards named by catalogue id; each messaged customer gets one of them and the
    /// campaign report compares them against the shared hold-out. Its budget grows with
    /// the chain ([`WIN_BACK_BUDGET_PER_CUSTOMER`]), so it never stops the test short, and
    /// a fifth is held out, so most of the audience tells the offers apart.
    async fn create_win_back(&self) -> Result<regulars_ports::CampaignRecord> {
        let drink = self.reward(|k| matches!(k, RewardKind::FreeItem { .. }))?;
        let percent = self.reward(|k| matches!(k, RewardKind::PercentDiscount { .. }))?;
        let by_id = |r: &Reward, cost: &str| {
            json!({"type": "fixed", "reward": {
                "reward_id": r.id.to_string(),
                "cost": {"amount": cost, "currency": "VND"}
            }})
        };
        let customers = u64::try_from(self.personas.len()).unwrap_or(u64::MAX);
        let budget = WIN_BACK_BUDGET_PER_CUSTOMER.saturating_mul(customers.max(1));
        let document = json!({
            "name": "Win back: we miss you",
            "trigger": {"type": "p_alive_below", "threshold": 0.6},
            "audience": {"rule": "frequency >= 2 and recency_days >= 30"},
            "variants": [
                {"name": "Free drink", "offer": by_id(drink, "15000")},
                {"name": "20 % off", "offer": by_id(percent, "12000")},
            ],
            "budget": {"amount": budget.to_string(), "currency": "VND"},
            "channels": ["zalo", "sms", "email"],
            "send_time": {"type": "now"},
            "holdout": 0.2,
            "attribution_days": 30,
        });
        self.services
            .create_campaign(self.brand, &document)
            .await
            .context("creating the win-back campaign")
    }

    /// The weekly pass: score (as a scheduled `regulars score` would, so the campaigns
    /// plan on fresh recency and P(alive)), plan the active campaigns, deliver what is due
    /// through the senders, then let the customers who got a message answer it as the
    /// response model says (`response.rs`).
    pub(super) async fn campaign_tick(&mut self) -> Result<()> {
        let brand = self.brand;
        self.score(false).await?;
        let runs = self
            .services
            .run_campaigns(brand)
            .await
            .context("running the campaigns")?;
        for run in runs {
            for (reason, n) in run.skipped {
                let reason = serde_json::to_value(reason)?;
                let reason = reason.as_str().unwrap_or("other").to_owned();
                *self.consent.skipped.entry(reason).or_default() += n;
            }
        }
        self.deliver().await?;
        for (campaign, _) in self.campaigns.list.clone() {
            let mut after = None;
            loop {
                let page = self
                    .services
                    .campaign_messages(brand, campaign, after, 200)
                    .await?;
                let Some(last) = page.last() else { break };
                after = Some(last.id);
                for m in &page {
                    if m.status != OutboxStatus::Sent || !self.campaigns.seen.insert(m.id) {
                        continue;
                    }
                    let Some(id) = m.customer_id else { continue };
                    let Some(&customer) = self.by_customer.get(&id) else {
                        continue;
                    };
                    self.maybe_opt_out(id, m.route.channel).await?;
                    self.answer(customer, m.data.get("code").cloned()).await?;
                }
            }
        }
        Ok(())
    }

    /// The customer's answer to a message that carried the voucher `code` (or none):
    /// drawn from what the voucher gives and where the customer stood.
    async fn answer(&mut self, customer: usize, code: Option<String>) -> Result<()> {
        let offer = match &code {
            Some(code) => {
                let check = self
                    .services
                    .validate_voucher(self.brand, code)
                    .await
                    .with_context(|| format!("looking up voucher {code}"))?;
                check
                    .reward
                    .map_or(OfferKind::Nothing, |r| OfferKind::of(&r.kind))
            }
            None => OfferKind::Nothing,
        };
        let standing = if self.lives[customer].planned {
            Standing::Drifting
        } else {
            Standing::Lapsed
        };
        let answer = respond(&mut self.responses, standing, offer);
        let seen = self.tally.answers.entry(offer_label(offer)).or_default();
        seen.0 += 1;
        let Some(days) = answer.after_days else {
            return Ok(());
        };
        seen.1 += 1;
        seen.2 += u64::from(answer.redeems);
        self.lives[customer].came_back_for_campaign = true;
        let now = self.clock.now();
        let at = self.visit_time(customer, now + Duration::seconds_f64(days * 86_400.0))?;
        if at > now {
            let generation = self.lives[customer].generation;
            self.agenda.push(
                at,
                Event::Visit {
                    customer,
                    generation,
                    voucher: code.filter(|_| answer.redeems),
                    extra: true,
                },
            );
        }
        Ok(())
    }
}

/// The win-back's budget per simulated customer, đồng: about a quarter of the chain's
/// customers end up in its audience, so this pays every offer it plans with room to
/// spare.
const WIN_BACK_BUDGET_PER_CUSTOMER: u64 = 10_000;

/// How the story names an offer kind.
pub(super) fn offer_label(offer: OfferKind) -> &'static str {
    match offer {
        OfferKind::FreeItem => "free drink",
        OfferKind::FreeModifier => "free topping",
        OfferKind::PercentOff => "20 % off",
        OfferKind::FixedOff => "amount off",
        OfferKind::Nothing => "no offer",
    }
}
