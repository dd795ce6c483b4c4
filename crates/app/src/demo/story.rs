//! The story the demo prints at the end.

use super::*;

impl Demo {
    pub(super) async fn story(
        &self,
        messages: &std::path::Path,
        expired: &ExpiryReport,
        report: &regulars_service::LedgerReport,
    ) -> Result<()> {
        self.year_story(expired, report);
        self.segment_story();
        self.programme_story().await?;
        self.campaigns_story(messages).await
    }

    /// The year in figures: customers, visits, consent, points, refunds and the checks.
    fn year_story(&self, expired: &ExpiryReport, report: &regulars_service::LedgerReport) {
        let t = &self.tally;
        let customers = self.lives.iter().filter(|l| l.visits > 0).count();
        let repeat = self.lives.iter().filter(|l| l.visits > 1).count();
        println!();
        println!("The year of {BRAND_NAME}");
        println!(
            "  {customers} customers made {} visits at {} shops: {} of revenue; {} came back at least once ({:.0}%)",
            t.orders,
            LOCATIONS.len(),
            money(t.revenue_minor),
            repeat,
            100.0 * repeat as f64 / customers.max(1) as f64
        );
        let known: Vec<&CustomerInput> = self
            .personas
            .iter()
            .zip(&self.lives)
            .filter(|(_, l)| l.visits > 0)
            .map(|(p, _)| &p.profile)
            .collect();
        let share = |f: &dyn Fn(&CustomerInput) -> bool| {
            100.0 * known.iter().filter(|p| f(p)).count() as f64 / known.len().max(1) as f64
        };
        println!(
            "  marketing consent: Zalo {:.0}%, SMS {:.0}%, email {:.0}%; birthday on file {:.0}%",
            share(&|p| p.consent.zalo == Some(true)),
            share(&|p| p.consent.sms == Some(true)),
            share(&|p| p.consent.email == Some(true)),
            share(&|p| p.birthday.is_some())
        );
        self.consent.print();
        println!(
            "  {} points earned, {} rewards bought with points, {} redeemed at the till, {} expired unused",
            t.points_earned, t.rewards_bought, t.vouchers_redeemed, t.vouchers_lapsed
        );
        println!(
            "  {} refunds, {} duplicate POS deliveries (earned nothing twice), {} tier moves",
            t.refunds, t.duplicates_ignored, t.upgrades
        );
        println!(
            "  points expiry sweep: {} accounts checked, {} with points due, {} points expired, {} skipped as invalid",
            expired.accounts_checked,
            expired.accounts_expired,
            expired.points_expired,
            expired.corrupt.len()
        );
        println!(
            "  ledger check: {} accounts, {} mismatches, {} invalid",
            report.accounts_checked,
            report.mismatches.len(),
            report.invalid.len()
        );
    }

    /// How the segments moved between scorings.
    fn segment_story(&self) {
        let t = &self.tally;
        let mut names = BTreeSet::new();
        for (_, sizes) in &t.scorings {
            names.extend(sizes.keys().cloned());
        }
        println!();
        print!("  {:<24}", "segment / scored on");
        for (date, _) in &t.scorings {
            print!(" {:>10}", date.to_string());
        }
        println!();
        for name in &names {
            print!("  {name:<24}");
            for (_, sizes) in &t.scorings {
                print!(" {:>10}", sizes.get(name).copied().unwrap_or(0));
            }
            println!();
        }
    }

    /// The campaigns' reports, how customers answered the offers, and where the messages
    /// went.
    async fn campaigns_story(&self, messages: &std::path::Path) -> Result<()> {
        let t = &self.tally;
        let sent = self.campaign_story().await?;
        let returned = self
            .lives
            .iter()
            .filter(|l| l.came_back_for_campaign)
            .count();
        println!(
            "  {sent} campaign messages delivered by the worker, {returned} customers came back because of one ({} vouchers redeemed)",
            t.campaign_vouchers_redeemed
        );
        for (offer, (messaged, back, redeemed)) in &t.answers {
            println!(
                "    {offer}: {messaged} messaged, {back} came back ({:.0}%), {redeemed} redeemed",
                100.0 * *back as f64 / (*messaged).max(1) as f64
            );
        }
        println!("  {SIMULATED}");
        println!(
            "  messages written to {} (the file channel: nothing was sent to anyone)",
            messages.display()
        );
        Ok(())
    }

    /// Each campaign's report: messages, vouchers, revenue against the hold-out; answers
    /// the messages sent.
    async fn campaign_story(&self) -> Result<u64> {
        println!();
        let mut all_sent = 0;
        for (id, label) in &self.campaigns.list {
            let r = self.services.campaign_report(self.brand, *id).await?;
            let sent = r
                .messages
                .iter()
                .filter(|(s, _)| matches!(s, OutboxStatus::Sent | OutboxStatus::Delivered))
                .map(|(_, n)| n)
                .sum::<u64>();
            all_sent += sent;
            println!(
                "  campaign \"{}\" ({label}): {} messaged ({sent} sent), {} held out; {} vouchers issued, {} redeemed",
                r.campaign.name, r.treated, r.held_out, r.vouchers_issued, r.vouchers_redeemed
            );
            println!(
                "    revenue in {} days: treated {}, held out {}; offers cost {}",
                r.window_days,
                money(r.treated_revenue_minor),
                money(r.holdout_revenue_minor),
                money(r.offer_cost_minor)
            );
            match &r.attribution {
                Ok(a) => println!(
                    "    incremental revenue {} ({} per customer, 95% CI {} to {}), ROI {}",
                    money(a.incremental_revenue.round() as i64),
                    money((a.treated_mean - a.holdout_mean).round() as i64),
                    money(a.ci_low.round() as i64),
                    money(a.ci_high.round() as i64),
                    a.roi
                        .map_or_else(|| "n/a".to_owned(), |roi| format!("{:.0}%", roi * 100.0))
                ),
                Err(e) => println!("    no attribution yet: {e}"),
            }
            variant_story(&r);
        }
        Ok(all_sent)
    }
}

/// Each offer variant against the shared hold-out, and which did better and how sure.
fn variant_story(r: &regulars_service::CampaignReport) {
    for v in &r.variants {
        let extra = v.attribution.as_ref().map_or_else(
            |e| format!("no attribution yet: {e}"),
            |a| {
                format!(
                    "{} per customer against the hold-out (95% CI {} to {})",
                    money((a.treated_mean - a.holdout_mean).round() as i64),
                    money(a.ci_low.round() as i64),
                    money(a.ci_high.round() as i64)
                )
            },
        );
        println!(
            "    variant \"{}\": {} messaged, {} vouchers redeemed, revenue {}; {extra}",
            v.name,
            v.treated,
            v.vouchers_redeemed,
            money(v.revenue_minor)
        );
    }
    let name = |i: usize| r.variants.get(i).map_or("?", |v| v.name.as_str());
    match r.verdict {
        Some(v) if v.sure => println!(
            "    winner: \"{}\" does better than \"{}\" ({:.1}% sure, 95% needed)",
            name(v.best),
            name(v.runner_up),
            v.probability * 100.0
        ),
        Some(v) => println!(
            "    not yet sure which offer is better: \"{}\" leads \"{}\" ({:.1}% sure, 95% needed)",
            name(v.best),
            name(v.runner_up),
            v.probability * 100.0
        ),
        None if !r.variants.is_empty() => {
            println!("    too few customers in a variant to compare the offers yet");
        }
        None => {}
    }
}

/// What the command says of the campaigns' results (the dashboard's banner says it too).
pub(super) const SIMULATED: &str = "The campaign results are simulated: customers answer offers by the demo's stated response model (docs/demo.md), not by real behaviour.";

/// `1.234.000 ₫`.
pub(super) fn money(minor: i64) -> String {
    let digits = minor.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    format!("{}{out} ₫", if minor < 0 { "-" } else { "" })
}
