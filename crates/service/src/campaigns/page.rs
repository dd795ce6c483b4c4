//! One page of a campaign run or preview, in stages: the campaign as the page plans it
//! (re-read, under its lock when writing), the page's customers and their facts, what
//! was already sent to them, the plan (off the async executor), the plan's decisions as
//! rows, and the page's writes. Every read and every write is one statement per kind for
//! the whole page, however many customers it holds.

use super::facts::{facts_of, next_expiries, next_voucher_expiries};
use super::run::{draft_record, sms_text};
use super::{CAMPAIGN_PAGE, CampaignError, find, find_locked, history_window, parse_definition};
use crate::Services;
use crate::account::load_brand;
use crate::brand_policy::{policy_of, under_brand};
use regulars_campaigns::plan::{
    CustomerFacts, Outcome, Plan, PlannedMessage, SentMessage, SkipReason, plan, shift_back,
};
use regulars_campaigns::{Campaign, SendTime, Trigger};
use regulars_domain::{BrandId, CampaignId, Channel, CustomerId, Money, OrderId, Phone};
use regulars_loyalty::vouchers::Voucher;
use regulars_ports::{
    Brand, CampaignMember, CampaignRecord, CampaignStatus, CustomerHistory, CustomerScores,
    MemberGroup, OutboxMessage, StoreError, Transaction,
};
use std::collections::{BTreeMap, HashMap};
use time::OffsetDateTime;

/// What one page did.
pub(super) struct PageResult {
    pub(super) customers: u64,
    pub(super) last: Option<CustomerId>,
    pub(super) messages: u64,
    pub(super) vouchers: u64,
    pub(super) held_out: u64,
    pub(super) skipped: BTreeMap<SkipReason, u64>,
    pub(super) budget_used_minor: i64,
    pub(super) sms_segments: BTreeMap<u32, u64>,
    pub(super) sms_over_cap: u64,
    /// The first message planned, as an SMS would carry it (before folding).
    pub(super) sample: Option<String>,
}

impl PageResult {
    /// Counts what `m` would take as SMS, when the campaign sends SMS at all; returns
    /// its text as an SMS carries it (sample code and links, opt-out line), before any
    /// folding.
    fn count_sms(&mut self, campaign: &Campaign, m: &PlannedMessage) -> String {
        let text = sms_text(campaign, m);
        if !campaign.channels.contains(&Channel::Sms) {
            return text;
        }
        let length = match campaign.sms.prepare(&text) {
            Ok((_, length)) => length,
            Err(over) => {
                self.sms_over_cap += 1;
                over.length
            }
        };
        *self.sms_segments.entry(length.segments).or_default() += 1;
        text
    }
}

/// The campaign as a page plans it.
struct PageCampaign {
    brand: Brand,
    record: CampaignRecord,
    campaign: Campaign,
}

/// A page's plan with what it was made from.
struct Planned<'a> {
    brand: &'a Brand,
    campaign: &'a Campaign,
    facts: &'a [CustomerFacts],
    plan: &'a Plan,
    now: OffsetDateTime,
}

/// The rows a page writes.
#[derive(Default)]
struct PageWrites {
    members: Vec<CampaignMember>,
    /// Each with the order whose full refund voids it, if any.
    vouchers: Vec<(Voucher, Option<OrderId>)>,
    outbox: Vec<OutboxMessage>,
}

impl Services {
    /// Plans one page of customers after `after`; `None` when there are none left (or,
    /// writing, when the campaign is no longer active).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn plan_page(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        id: CampaignId,
        after: Option<CustomerId>,
        now: OffsetDateTime,
        write: bool,
        draft: Option<&Campaign>,
    ) -> Result<Option<PageResult>, CampaignError> {
        let Some(page) = page_campaign(tx, brand, id, now, write, draft).await? else {
            return Ok(None);
        };
        let PageCampaign {
            brand: b,
            mut record,
            campaign,
        } = page;
        let histories = tx
            .intelligence()
            .latest_histories(brand, after, CAMPAIGN_PAGE)
            .await?;
        let Some(last) = histories.last().map(|h| h.customer.id) else {
            return Ok(None);
        };
        let customers = histories.len() as u64;
        let facts = page_facts(tx, brand, &campaign, &histories, now).await?;
        drop(histories);
        let history = sent_before(tx, &b, id, &campaign, &facts, now).await?;
        let budget_used = Money::from_minor_units(record.budget_used_minor, b.currency);
        let (campaign, facts, plan) =
            plan_off_executor(campaign, facts, now, history, budget_used).await?;
        let mut result = PageResult {
            customers,
            last: Some(last),
            messages: 0,
            vouchers: 0,
            held_out: 0,
            skipped: BTreeMap::new(),
            budget_used_minor: plan
                .budget_used
                .to_minor_units()
                .unwrap_or(record.budget_used_minor),
            sms_segments: BTreeMap::new(),
            sms_over_cap: 0,
            sample: None,
        };
        let planned = Planned {
            brand: &b,
            campaign: &campaign,
            facts: &facts,
            plan: &plan,
            now,
        };
        let writes = self.decide(&planned, write, &mut result)?;
        if write {
            write_page(tx, brand, &mut record, writes, &mut result, now).await?;
        } else {
            result.held_out = writes
                .members
                .iter()
                .filter(|m| m.group == MemberGroup::Holdout)
                .count() as u64;
        }
        Ok(Some(result))
    }

    /// The plan's decisions as the rows a page writes (vouchers and messages only when
    /// writing: a preview counts them), with the page's counts.
    fn decide(
        &self,
        p: &Planned<'_>,
        write: bool,
        result: &mut PageResult,
    ) -> Result<PageWrites, CampaignError> {
        let id = p.campaign.id;
        let by_id: HashMap<CustomerId, &CustomerFacts> =
            p.facts.iter().map(|f| (f.customer_id, f)).collect();
        let mut writes = PageWrites::default();
        for outcome in &p.plan.outcomes {
            let m = match outcome {
                Outcome::Skip {
                    customer_id,
                    reason,
                } => {
                    *result.skipped.entry(*reason).or_default() += 1;
                    if *reason == SkipReason::HoldOut {
                        writes.members.push(CampaignMember {
                            campaign_id: id,
                            customer_id: *customer_id,
                            group: MemberGroup::Holdout,
                            at: p.now,
                            variant: None,
                        });
                    }
                    continue;
                }
                Outcome::Send(m) => m,
            };
            result.messages += 1;
            let sms = result.count_sms(p.campaign, m);
            if result.sample.is_none() {
                result.sample = Some(sms);
            }
            let Some(f) = by_id.get(&m.customer_id) else {
                continue;
            };
            writes.members.push(CampaignMember {
                campaign_id: id,
                customer_id: m.customer_id,
                group: MemberGroup::Treatment,
                at: m.send_at,
                variant: m.variant,
            });
            let reward = m.offer.as_ref().and_then(|o| o.reward_id);
            if reward.is_some() {
                // A preview counts the vouchers a run would issue.
                result.vouchers += 1;
            }
            if !write {
                continue;
            }
            let voucher = match reward {
                Some(reward) => Some(self.campaign_voucher(p.campaign, m, reward, p.now)?),
                None => None,
            };
            writes.outbox.push(self.outbox_message(
                p.brand,
                p.campaign,
                f,
                m,
                voucher.as_ref(),
                p.now,
            ));
            if let Some(v) = voucher {
                // A thank-you voucher is paid for by the order that triggered it: its
                // full refund voids the voucher if still unused.
                let issued_by = match p.campaign.trigger {
                    Trigger::AfterPurchase { .. } => f.last_order.map(|o| o.id),
                    _ => None,
                };
                writes.vouchers.push((v, issued_by));
            }
        }
        Ok(writes)
    }
}

/// The campaign as this page plans it: re-read (after its row is locked, when writing,
/// and stamped with the run's time), under the brand's policy and with its catalogue.
/// `None` when a run finds it no longer active.
async fn page_campaign(
    tx: &mut dyn Transaction,
    brand: BrandId,
    id: CampaignId,
    now: OffsetDateTime,
    write: bool,
    draft: Option<&Campaign>,
) -> Result<Option<PageCampaign>, CampaignError> {
    let b = load_brand::<CampaignError>(tx, brand).await?;
    let mut record = match draft {
        // A draft of a campaign not saved yet has spent nothing.
        Some(c) => match tx.campaigns().campaign(brand, id).await? {
            Some(record) => record,
            None => draft_record(brand, c, now)?,
        },
        None if write => find_locked(tx, brand, id).await?,
        None => find(tx, brand, id).await?,
    };
    if write {
        if record.status != CampaignStatus::Active {
            return Ok(None);
        }
        record.last_run_at = Some(now);
        tx.campaigns().update_campaign(&record).await?;
    }
    let mut campaign = match draft {
        Some(c) => c.clone(),
        None => parse_definition(&record)?,
    };
    let policy = policy_of(tx, brand).await?;
    under_brand(&mut campaign, &b, policy);
    crate::realtime::with_catalogue(tx, brand, &mut campaign).await?;
    Ok(Some(PageCampaign {
        brand: b,
        record,
        campaign,
    }))
}

/// The planner's facts of the page's customers: their histories with the stored scores
/// (one read for the page), what a trigger on expiring points or vouchers needs (one read
/// for the page), and the
/// do-not-call register when the campaign could send promotional SMS.
async fn page_facts(
    tx: &mut dyn Transaction,
    brand: BrandId,
    campaign: &Campaign,
    histories: &[CustomerHistory],
    now: OffsetDateTime,
) -> Result<Vec<CustomerFacts>, CampaignError> {
    let ids: Vec<CustomerId> = histories.iter().map(|h| h.customer.id).collect();
    let scores: HashMap<CustomerId, CustomerScores> = tx
        .intelligence()
        .scores_of(brand, &ids)
        .await?
        .into_iter()
        .map(|s| (s.customer_id, s))
        .collect();
    let mut vouchers = match campaign.trigger {
        Trigger::VoucherExpiring { .. } => next_voucher_expiries(tx, brand, &ids, now).await?,
        _ => HashMap::new(),
    };
    let mut points = match campaign.trigger {
        // From the stored lots, for this trigger alone.
        Trigger::PointsExpiring { .. } => next_expiries(tx, brand, &ids, now).await?,
        _ => HashMap::new(),
    };
    let mut facts = Vec::with_capacity(histories.len());
    for h in histories {
        let mut f = facts_of(h, scores.get(&h.customer.id), now);
        f.expiring_points = points.remove(&h.customer.id);
        f.expiring_voucher = vouchers.remove(&h.customer.id);
        facts.push(f);
    }
    if matches!(campaign.send_time, SendTime::PreferredHour { .. }) {
        crate::segment_send_times::lend_segment_hours(tx, brand, &mut facts).await?;
    }
    let sms_promotion = crate::do_not_call::sends_promotional_sms(campaign);
    crate::do_not_call::mark_listed(tx, &mut facts, sms_promotion).await?;
    Ok(facts)
}

/// What was sent to the page's customers within the campaign's history window (and this
/// campaign's messages at any time), in one read.
async fn sent_before(
    tx: &mut dyn Transaction,
    b: &Brand,
    id: CampaignId,
    campaign: &Campaign,
    facts: &[CustomerFacts],
    now: OffsetDateTime,
) -> Result<Vec<SentMessage>, CampaignError> {
    let ids: Vec<CustomerId> = facts.iter().map(|f| f.customer_id).collect();
    let since = shift_back(now, history_window(campaign));
    Ok(tx
        .outbox()
        .history(b.id, &ids, Some(id), since)
        .await?
        .into_iter()
        .filter_map(|r| {
            let phone = r
                .phone
                .as_deref()
                .and_then(|p| Phone::parse(p, b.calling_code).ok())?;
            Some(SentMessage {
                campaign_id: r.campaign_id.unwrap_or(id),
                customer_id: r.customer_id,
                phone,
                send_at: r.at,
                promotional: r.promotional,
                dedupe_key: r.dedupe_key,
            })
        })
        .collect())
}

/// Plans the page on a blocking thread: planning is CPU work, kept off the async
/// executor.
async fn plan_off_executor(
    campaign: Campaign,
    facts: Vec<CustomerFacts>,
    now: OffsetDateTime,
    history: Vec<SentMessage>,
    budget_used: Money,
) -> Result<(Campaign, Vec<CustomerFacts>, Plan), CampaignError> {
    let id = campaign.id;
    let planned = tokio::task::spawn_blocking(move || {
        let planned = plan(&campaign, &facts, now, &history, budget_used);
        (campaign, facts, planned)
    })
    .await;
    let (campaign, facts, planned) = planned.map_err(|e| CampaignError::CorruptDefinition {
        campaign: id,
        message: format!("planning stopped: {e}"),
    })?;
    let plan = planned.map_err(|e| CampaignError::CorruptDefinition {
        campaign: id,
        message: e.to_string(),
    })?;
    Ok((campaign, facts, plan))
}

/// Writes a page's rows, one multi-row statement per table, and the campaign's budget.
async fn write_page(
    tx: &mut dyn Transaction,
    brand: BrandId,
    record: &mut CampaignRecord,
    writes: PageWrites,
    result: &mut PageResult,
    now: OffsetDateTime,
) -> Result<(), CampaignError> {
    let PageWrites {
        members,
        vouchers,
        outbox,
    } = writes;
    if !vouchers.is_empty() {
        tx.vouchers().insert_vouchers(brand, &vouchers).await?;
    }
    // Treatment and hold-out members are added apart: the report counts the customers
    // newly held out, not every new member.
    let (held, treated): (Vec<CampaignMember>, Vec<CampaignMember>) = members
        .into_iter()
        .partition(|m| m.group == MemberGroup::Holdout);
    tx.campaigns().add_members(brand, &treated).await?;
    result.held_out = tx.campaigns().add_members(brand, &held).await?;
    let written = tx.outbox().enqueue(&outbox).await?;
    if written != outbox.len() as u64 {
        // A message with the same key appeared since the history was read: the
        // transaction is redone from scratch rather than leaving a voucher whose message
        // was never written.
        return Err(CampaignError::Store(StoreError::Conflict(
            "outbox (brand_id, dedupe_key): planned concurrently".into(),
        )));
    }
    record.budget_used_minor = result.budget_used_minor;
    record.updated_at = now;
    tx.campaigns().update_campaign(record).await?;
    Ok(())
}
