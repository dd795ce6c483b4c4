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
    /// dashboard and the API call.
    pub(super) async fn launch(&mut self) -> Result<()> {
        let brand = self.brand;
        let reward = |kind: &str| {
            self.rewards
                .iter()
                .find(|r| {
                    matches!(
                        (&r.kind, kind),
                        (RewardKind::FreeItem { .. }, "drink")
                            | (RewardKind::FreeModifier { .. }, "topping")
                    )
                })
                .map(|r| r.id.to_string())
                .context("the demo catalogue has the reward")
        };
        let win_back = json!({
            "name": "Win back: we miss you",
            "trigger": {"type": "p_alive_below", "threshold": 0.6},
            "audience": {"rule": "frequency >= 2 and recency_days >= 30"},
            "offer": {"type": "fixed", "reward": {
                "reward_id": reward("drink")?,
                "cost": {"amount": "15000", "currency": "VND"}
            }},
            "budget": {"amount": "3000000", "currency": "VND"},
            "channels": ["zalo", "sms", "email"],
            "send_time": {"type": "now"},
            "holdout": 0.3,
            "attribution_days": 30,
        });
        let birthday = json!({
            "name": "Happy birthday",
            "trigger": {"type": "birthday", "days_before": 7},
            "offer": {"type": "fixed", "reward": {
                "reward_id": reward("topping")?,
                "cost": {"amount": "4000", "currency": "VND"}
            }},
            "channels": ["zalo", "email", "sms"],
            "send_time": {"type": "now"},
            "holdout": 0.2,
            "attribution_days": 14,
        });
        for (document, label, response) in
            [(win_back, "win-back", 0.25), (birthday, "birthday", 0.3)]
        {
            let record = self
                .services
                .create_campaign(brand, &document)
                .await
                .with_context(|| format!("creating the {label} campaign"))?;
            self.services
                .set_campaign_status(brand, record.id, CampaignAction::Launch)
                .await
                .with_context(|| format!("launching the {label} campaign"))?;
            println!(
                "  {} launched campaign \"{}\"",
                self.clock.now().to_offset(self.offset).date(),
                record.name
            );
            self.campaigns.list.push((record.id, label, response));
        }
        Ok(())
    }

    /// The weekly pass: score (as a scheduled `regulars score` would, so the campaigns
    /// plan on fresh recency and P(alive)), plan the active campaigns, deliver what is due
    /// through the senders, then let some of the customers who got a message come back.
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
        self.tally.messages_sent += self.deliver().await?;
        let now = self.clock.now();
        for (campaign, _, response) in self.campaigns.list.clone() {
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
                    let Some(&customer) = m.customer_id.and_then(|id| self.by_customer.get(&id))
                    else {
                        continue;
                    };
                    if let Some(id) = m.customer_id {
                        self.maybe_opt_out(id, m.route.channel).await?;
                    }
                    let Some(code) = m.data.get("code").cloned() else {
                        continue;
                    };
                    if self.rng.chance(response) {
                        // They come back for it within ten days; the visit replaces
                        // whatever they had planned (and revives those who had left).
                        let life = &mut self.lives[customer];
                        life.generation += 1;
                        life.came_back_for_campaign = true;
                        let generation = life.generation;
                        let days = 1.0 + 9.0 * self.rng.uniform();
                        let at = self
                            .visit_time(customer, now + Duration::seconds_f64(days * 86_400.0))?;
                        if at > now {
                            self.agenda.push(
                                at,
                                Event::Visit {
                                    customer,
                                    generation,
                                    voucher: Some(code),
                                },
                            );
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
