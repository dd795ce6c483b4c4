//! One visit: the order, the vouchers handed over, what the customer does next.

use super::*;

impl Demo {
    pub(super) async fn visit(
        &mut self,
        customer: usize,
        campaign_voucher: Option<String>,
        at: OffsetDateTime,
        extra: bool,
    ) -> Result<()> {
        let brand = self.brand;
        let order = self.order(customer, at)?;
        // A visit of their own habits is the one that was planned; one a message
        // brought leaves the planned one in place.
        let planned = self.lives[customer].planned && extra;
        self.lives[customer].planned = planned;
        if self.lives[customer].visits == 0 && !self.customer_ids.contains_key(&customer) {
            let home = self.personas[customer].home;
            self.join(customer, home).await?;
        }
        let total = order.total.to_minor_units()?;
        // A campaign voucher from a message, or a reward bought earlier, is handed over
        // at the till.
        let code = match campaign_voucher {
            Some(code) => Some((code, true)),
            None => self.held.remove(&customer).map(|c| (c, false)),
        };
        if let Some((code, from_campaign)) = code {
            match self
                .services
                .redeem_voucher(brand, &code, Some(order.key.clone()))
                .await
            {
                Ok(_) if from_campaign => self.tally.campaign_vouchers_redeemed += 1,
                Ok(_) => self.tally.vouchers_redeemed += 1,
                // Kept too long: it expired unused, as real vouchers do.
                Err(RedeemVoucherError::Refused { .. }) => self.tally.vouchers_lapsed += 1,
                Err(e) => return Err(e).with_context(|| format!("redeeming voucher {code}")),
            }
        }
        self.maybe_redeem_stamps(customer, &order).await?;
        let receipt = self.services.ingest_order(brand, order.clone()).await?;
        self.tally.orders += 1;
        self.tally.revenue_minor += total;
        self.tally.points_earned += receipt.points_earned.value();
        self.tally.upgrades += u64::from(receipt.upgraded);
        self.lives[customer].visits += 1;
        if let Some(id) = receipt.customer_id
            && !self.customer_ids.contains_key(&customer)
        {
            // The first visit: the cashier takes their name, birthday and consents.
            self.services
                .update_customer(
                    brand,
                    id,
                    self.personas[customer].profile.clone(),
                    &ChangeAuthor {
                        actor: "demo".to_owned(),
                        source: ChangeSource::Till,
                    },
                )
                .await
                .context("recording a new customer's profile")?;
            self.customer_ids.insert(customer, id);
            self.by_customer.insert(id, customer);
        }
        // POS retries happen: about one order in 40 arrives twice.
        if self.rng.chance(1.0 / 40.0) {
            let again = self.services.ingest_order(brand, order.clone()).await?;
            if again.duplicate {
                self.tally.duplicates_ignored += 1;
            }
        }
        if let (Some(balance), Some(id)) = (receipt.balance, receipt.customer_id) {
            self.maybe_buy_reward(customer, id, balance).await?;
        }
        let progress = (at - self.start) / (self.end - self.start);
        self.maybe_rate(&order, &receipt, progress).await?;
        self.maybe_refund(&order, total, at)?;
        if planned {
            return Ok(());
        }
        // Geometric dropout: after each visit, some never come back.
        let p = &self.personas[customer];
        if !self.rng.chance(p.dropout) {
            let gap_days = self.rng.exponential(p.rate).max(0.3);
            let next =
                self.visit_time(customer, at + Duration::seconds_f64(gap_days * 86_400.0))?;
            let generation = self.lives[customer].generation;
            self.agenda.push(
                next,
                Event::Visit {
                    customer,
                    generation,
                    voucher: None,
                    extra: false,
                },
            );
            self.lives[customer].planned = true;
        }
        Ok(())
    }

    /// About one order in 60 is refunded within the hour, a third of them in part.
    fn maybe_refund(&mut self, order: &Order, total: i64, at: OffsetDateTime) -> Result<()> {
        if self.rng.chance(1.0 / 60.0) {
            let scope = if self.rng.chance(1.0 / 3.0) {
                RefundScope::Amount {
                    amount: vnd(total / 2),
                }
            } else {
                RefundScope::Full
            };
            let refunded_at = at + Duration::minutes(5 + self.rng.below(50) as i64);
            self.agenda.push(
                refunded_at,
                Event::Refund(Refund {
                    brand_id: self.brand,
                    key: EventKey::new("pos:generic", format!("RF-{:07}", self.orders_seq))?,
                    order: order.key.clone(),
                    refunded_at,
                    scope,
                }),
            );
        }
        Ok(())
    }

    /// A customer who can afford a reward often buys one, and keeps its voucher for a
    /// later visit.
    async fn maybe_buy_reward(
        &mut self,
        customer: usize,
        id: CustomerId,
        balance: Points,
    ) -> Result<()> {
        let affordable: Vec<RewardId> = self
            .rewards
            .iter()
            .filter(|r| r.cost <= balance)
            .map(|r| r.id)
            .collect();
        if !affordable.is_empty() && self.rng.chance(0.3) && !self.held.contains_key(&customer) {
            let pick = affordable[self.rng.below(affordable.len())];
            let voucher = self.services.redeem_reward(self.brand, id, pick).await?;
            self.tally.rewards_bought += 1;
            self.held
                .insert(customer, voucher.code().as_str().to_owned());
        }
        Ok(())
    }

    /// When a visit planned around `around` happens: the customer's usual part of the
    /// day (most of the time), shifted to their kind of day of the week.
    pub(super) fn visit_time(
        &mut self,
        customer: usize,
        around: OffsetDateTime,
    ) -> Result<OffsetDateTime> {
        let p = &self.personas[customer];
        let (commuter, daypart) = (p.commuter, p.daypart);
        let mut day = around.to_offset(self.offset).date();
        let weekend = matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday);
        if commuter && weekend && self.rng.chance(0.6) {
            while day.weekday() != Weekday::Monday {
                day = day.next_day().context("date")?;
            }
        } else if !commuter && !weekend && self.rng.chance(0.25) {
            while day.weekday() != Weekday::Saturday {
                day = day.next_day().context("date")?;
            }
        }
        let part = if self.rng.chance(0.7) {
            daypart
        } else {
            self.rng.below(DAYPARTS.len())
        };
        let hours = DAYPARTS[part];
        let hour = hours[self.rng.below(hours.len())];
        let minute = self.rng.below(60) as u8;
        Ok(day
            .with_hms(hour, minute, self.rng.below(60) as u8)
            .context("time")?
            .assume_offset(self.offset)
            .to_offset(UtcOffset::UTC))
    }

    /// The order of one visit: the favourite drink, what tends to go with it, sometimes
    /// a drink for a friend.
    pub(super) fn order(&mut self, customer: usize, at: OffsetDateTime) -> Result<Order> {
        self.orders_seq += 1;
        let n = self.orders_seq;
        let p = &self.personas[customer];
        let (favourite, likes_topping, home) = (p.favourite, p.likes_topping, p.home);
        let phone = Phone::parse(&p.phone, Phone::VIETNAM)?;
        let mut drinks = vec![if self.rng.chance(0.8) {
            favourite
        } else {
            self.rng.below(DRINKS)
        }];
        if self.rng.chance(0.25) {
            drinks.push(self.rng.below(DRINKS));
        }
        let mut lines = Vec::new();
        let mut total = 0i64;
        for &d in &drinks {
            let item = &MENU[d];
            let mut modifiers = Vec::new();
            let mut unit = item.price;
            if let Some(t) = likes_topping.filter(|_| item.category == "milk-tea") {
                let (sku, name, price) = TOPPINGS[t];
                modifiers.push(Modifier {
                    sku: sku.into(),
                    name: name.into(),
                    unit_price: vnd(price),
                });
                unit += price;
            }
            lines.push(line(item, modifiers));
            total += unit;
            for &(sku, p) in item.goes_with {
                if self.rng.chance(p)
                    && let Some(side) = MENU.iter().find(|m| m.sku == sku)
                {
                    lines.push(line(side, Vec::new()));
                    total += side.price;
                }
            }
        }
        let location = if self.rng.chance(0.85) {
            home
        } else {
            self.rng.below(LOCATIONS.len())
        };
        let code = LOCATIONS[location].0;
        Ok(Order {
            brand_id: self.brand,
            key: EventKey::new("pos:generic", format!("{}-{n:07}", code.to_uppercase()))?,
            location: Some(code.into()),
            customer_phone: Some(phone),
            placed_at: at,
            lines,
            total: vnd(total),
        })
    }
}
