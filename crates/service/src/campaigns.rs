//! Campaigns run by the server: definitions checked against the brand and its reward
//! catalogue, a life cycle (draft → active ⇄ paused → ended), and campaign runs that plan
//! every active campaign over the brand's customers and write, in one transaction per
//! page of customers, the vouchers its offers give, the outbox messages and the treatment
//! and hold-out members that attribution later compares.
//!
//! Planning itself is `regulars_campaigns::plan` (pure); this module gathers its facts
//! (profiles, consent, stored scores and features, balances, tiers, expiring points) and
//! its history (the outbox), and writes its decisions.

use crate::Services;
use crate::account::load_brand;
use crate::brand_policy::{policy_of, under_brand};
use crate::error::{ErrorClass, UseCaseError, common_variants, store_class};
use regulars_campaigns::attribution::{Attribution, AttributionError, attribute};
use regulars_campaigns::plan::{
    CustomerFacts, OrderFact, Outcome, PlannedMessage, PointsExpiry, SentMessage, SkipReason,
    TierDowngrade, TierUpgrade, plan,
};
use regulars_campaigns::{Campaign, CampaignError as DefinitionError, Offer, PricedReward};
use regulars_domain::{
    BrandId, CampaignId, Channel, CustomerId, Money, Phone, Points, RewardId, VoucherId,
};
use regulars_loyalty::ledger::fold;
use regulars_loyalty::vouchers::{NewVoucher, Voucher, VoucherSource};
use regulars_ports::{
    Brand, CampaignMember, CampaignRecord, CampaignStatus, CustomerHistory, CustomerScores,
    MemberGroup, OutboxMessage, OutboxStatus, Route, SendWindow, StoreError, Transaction,
};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use thiserror::Error;
use time::{Duration, OffsetDateTime};

/// Customers planned per transaction.
pub const CAMPAIGN_PAGE: u64 = 500;
/// Days after a member's start in which their orders count, unless the campaign says.
pub const DEFAULT_ATTRIBUTION_DAYS: u32 = 14;

/// Why a campaign use case failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CampaignError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// No such campaign in the brand.
    #[error("campaign {0} does not exist")]
    UnknownCampaign(CampaignId),
    /// The document is not a valid campaign; `path` names the field.
    #[error("{path}: {message}")]
    Invalid {
        /// JSON path of the field at fault (empty for the whole document).
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The campaign's status does not allow this.
    #[error("campaign {campaign} is {status:?}: {action}")]
    WrongStatus {
        /// The campaign.
        campaign: CampaignId,
        /// Its status.
        status: CampaignStatus,
        /// What cannot be done.
        action: &'static str,
    },
    /// The stored definition no longer parses (a bug or a manual edit).
    #[error("stored campaign {campaign} is invalid: {message}")]
    CorruptDefinition {
        /// The campaign.
        campaign: CampaignId,
        /// Why.
        message: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(CampaignError, brand);

impl UseCaseError for CampaignError {
    fn class(&self) -> ErrorClass {
        match self {
            CampaignError::UnknownBrand(_) | CampaignError::UnknownCampaign(_) => {
                ErrorClass::NotFound
            }
            CampaignError::Invalid { .. } => ErrorClass::Invalid,
            CampaignError::WrongStatus { .. } => ErrorClass::Refused,
            CampaignError::CorruptDefinition { .. } => ErrorClass::Internal,
            CampaignError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            CampaignError::UnknownBrand(_) => Some("brand"),
            CampaignError::UnknownCampaign(_) => Some("campaign"),
            CampaignError::Invalid { .. } => Some("definition"),
            CampaignError::WrongStatus { .. } => Some("status"),
            CampaignError::CorruptDefinition { .. } | CampaignError::Store(_) => None,
        }
    }
}

fn invalid(path: impl Into<String>, message: impl Into<String>) -> CampaignError {
    CampaignError::Invalid {
        path: path.into(),
        message: message.into(),
    }
}

/// What can be done to a campaign's life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignAction {
    /// Draft or paused → active.
    Launch,
    /// Active → paused.
    Pause,
    /// Anything but ended → ended.
    End,
}

/// What one run of one campaign did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignRunReport {
    /// The campaign.
    pub campaign_id: CampaignId,
    /// Customers looked at.
    pub customers: u64,
    /// Messages written to the outbox.
    pub messages: u64,
    /// Vouchers issued with them.
    pub vouchers: u64,
    /// Customers newly put in the hold-out group.
    pub held_out: u64,
    /// Customers skipped, by reason (hold-out included).
    pub skipped: BTreeMap<SkipReason, u64>,
    /// Money the campaign's offers have cost so far, minor units.
    pub budget_used_minor: i64,
    /// For a campaign that sends SMS: its messages by the segments each would take as
    /// SMS (after the campaign's folding, with a voucher code as long as a real one).
    pub sms_segments: BTreeMap<u32, u64>,
    /// Of those, the messages over the campaign's `sms.max_segments`: SMS refuses them
    /// when they go out, and they fall back to the next channel.
    pub sms_over_cap: u64,
}

/// A campaign's results against its hold-out group.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignReport {
    /// The campaign.
    pub campaign: CampaignRecord,
    /// Customers treated (messaged).
    pub treated: u64,
    /// Customers held out.
    pub held_out: u64,
    /// Messages by status.
    pub messages: BTreeMap<OutboxStatus, u64>,
    /// Vouchers the campaign issued.
    pub vouchers_issued: u64,
    /// Of which redeemed.
    pub vouchers_redeemed: u64,
    /// Days after each member's start in which their orders count.
    pub window_days: u32,
    /// Net revenue of the treated members in their windows, minor units.
    pub treated_revenue_minor: i64,
    /// Net revenue of the held-out members in their windows, minor units.
    pub holdout_revenue_minor: i64,
    /// What the offers cost the shop, minor units: the redeemed vouchers, and the bonus
    /// points credited at the programme's point value.
    pub offer_cost_minor: i64,
    /// Messages that credited bonus points (a `bonus_points` offer, once each when sent).
    pub bonus_credits: u64,
    /// The bonus points they credited.
    pub bonus_points: Points,
    /// What those points cost the shop, minor units (part of `offer_cost_minor`).
    pub bonus_cost_minor: i64,
    /// The gross margin rate used.
    pub gross_margin: f64,
    /// Incremental revenue with its confidence interval and ROI; `None` with the reason
    /// while a group is too small to compare.
    pub attribution: Result<Attribution, AttributionError>,
    /// Each offer variant's results against the shared hold-out; empty without variants.
    pub variants: Vec<crate::campaign_variants::VariantReport>,
    /// Which variant did better and how sure; `None` without variants or while a
    /// variant has fewer than two customers.
    pub verdict: Option<regulars_campaigns::compare::Verdict>,
}

impl Services {
    /// Creates a draft campaign from a campaign document (see `docs/campaigns.md`). The
    /// server sets `id`; `shop`, `currency` and `utc_offset` default to the brand's (a
    /// different currency is refused); an offer's reward is named by `reward_id` and
    /// copied from the catalogue, so vouchers it issues are redeemable like any other.
    pub async fn create_campaign(
        &self,
        brand: BrandId,
        document: &Value,
    ) -> Result<CampaignRecord, CampaignError> {
        let id = CampaignId::from_uuid(self.ids.new_id());
        self.transact("create_campaign", |mut tx| async move {
            let result = async {
                let b = load_brand::<CampaignError>(tx.as_mut(), brand).await?;
                let mut campaign = resolve(tx.as_mut(), &b, id, document).await?;
                self.fit_sms_product(&mut campaign, document)?;
                let now = self.clock.now();
                let record = CampaignRecord {
                    id,
                    brand_id: brand,
                    name: campaign.name.clone(),
                    definition: definition_json(&campaign)?,
                    status: CampaignStatus::Draft,
                    budget_used_minor: 0,
                    created_at: now,
                    updated_at: now,
                    last_run_at: None,
                };
                tx.campaigns().insert_campaign(&record).await?;
                Ok(record)
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// Replaces the definition of a draft or paused campaign; a paused one was launched,
    /// so its variants and hold-out stay as they were.
    pub async fn update_campaign(
        &self,
        brand: BrandId,
        id: CampaignId,
        document: &Value,
    ) -> Result<CampaignRecord, CampaignError> {
        self.transact("update_campaign", |mut tx| async move {
            let result = async {
                let b = load_brand::<CampaignError>(tx.as_mut(), brand).await?;
                let mut record = find_locked(tx.as_mut(), brand, id).await?;
                if !matches!(
                    record.status,
                    CampaignStatus::Draft | CampaignStatus::Paused
                ) {
                    return Err(CampaignError::WrongStatus {
                        campaign: id,
                        status: record.status,
                        action: "only draft or paused campaigns can be edited",
                    });
                }
                let mut campaign = resolve(tx.as_mut(), &b, id, document).await?;
                self.fit_sms_product(&mut campaign, document)?;
                crate::campaign_variants::check_launched_edit(&record, &campaign)?;
                record.name = campaign.name.clone();
                record.definition = definition_json(&campaign)?;
                record.updated_at = self.clock.now();
                tx.campaigns().update_campaign(&record).await?;
                Ok(record)
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// Fits a promotional campaign to an SMS channel that is a customer-care product (see
    /// [`Services::with_customer_care_sms`]): a document that left the default channel
    /// list gets the list without SMS; one that names SMS is refused, naming its place in
    /// `channels`.
    fn fit_sms_product(
        &self,
        campaign: &mut Campaign,
        document: &Value,
    ) -> Result<(), CampaignError> {
        if !self.customer_care_sms || !campaign.is_promotional() {
            return Ok(());
        }
        let Some(i) = campaign.channels.iter().position(|c| *c == Channel::Sms) else {
            return Ok(());
        };
        if document.get("channels").is_none() && campaign.channels.len() > 1 {
            campaign.channels.retain(|c| *c != Channel::Sms);
            return Ok(());
        }
        let path = if document.get("channels").is_some() {
            format!("channels[{i}]")
        } else {
            "channels".to_owned()
        };
        Err(invalid(
            path,
            "SMS goes out as eSMS customer-care messages (SmsType 2), which may not carry \
             promotional content; list the campaign's channels without \"sms\" (Zalo, email)",
        ))
    }

    /// One campaign.
    pub async fn campaign(
        &self,
        brand: BrandId,
        id: CampaignId,
    ) -> Result<CampaignRecord, CampaignError> {
        self.transact("campaign", |mut tx| async move {
            let result = async {
                load_brand::<CampaignError>(tx.as_mut(), brand).await?;
                find(tx.as_mut(), brand, id).await
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// The brand's campaigns, newest first, a page after `after`.
    pub async fn campaigns(
        &self,
        brand: BrandId,
        after: Option<CampaignId>,
        limit: u64,
    ) -> Result<Vec<CampaignRecord>, CampaignError> {
        self.transact("campaigns", |mut tx| async move {
            let result = async {
                load_brand::<CampaignError>(tx.as_mut(), brand).await?;
                Ok(tx.campaigns().campaigns(brand, after, limit).await?)
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// Moves a campaign through its life cycle.
    pub async fn set_campaign_status(
        &self,
        brand: BrandId,
        id: CampaignId,
        action: CampaignAction,
    ) -> Result<CampaignRecord, CampaignError> {
        self.transact("set_campaign_status", |mut tx| async move {
            let result = async {
                load_brand::<CampaignError>(tx.as_mut(), brand).await?;
                let mut record = find_locked(tx.as_mut(), brand, id).await?;
                let (allowed, to, action_text) = match action {
                    CampaignAction::Launch => (
                        matches!(
                            record.status,
                            CampaignStatus::Draft | CampaignStatus::Paused
                        ),
                        CampaignStatus::Active,
                        "only draft or paused campaigns can be launched",
                    ),
                    CampaignAction::Pause => (
                        record.status == CampaignStatus::Active,
                        CampaignStatus::Paused,
                        "only active campaigns can be paused",
                    ),
                    CampaignAction::End => (
                        record.status != CampaignStatus::Ended,
                        CampaignStatus::Ended,
                        "the campaign has already ended",
                    ),
                };
                if !allowed {
                    return Err(CampaignError::WrongStatus {
                        campaign: id,
                        status: record.status,
                        action: action_text,
                    });
                }
                record.status = to;
                record.updated_at = self.clock.now();
                tx.campaigns().update_campaign(&record).await?;
                Ok(record)
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// Plans a campaign now without writing anything: what a run would do.
    pub async fn preview_campaign(
        &self,
        brand: BrandId,
        id: CampaignId,
    ) -> Result<CampaignRunReport, CampaignError> {
        Ok(self.plan_pages(brand, id, false, None).await?.0)
    }

    /// Runs every active campaign of the brand once.
    pub async fn run_campaigns(
        &self,
        brand: BrandId,
    ) -> Result<Vec<CampaignRunReport>, CampaignError> {
        let active = self
            .transact("active_campaigns", |mut tx| async move {
                let result: Result<_, CampaignError> = async {
                    load_brand::<CampaignError>(tx.as_mut(), brand).await?;
                    Ok(tx
                        .campaigns()
                        .campaigns_with_status(brand, CampaignStatus::Active)
                        .await?)
                }
                .await;
                (tx, result)
            })
            .await?;
        let mut reports = Vec::with_capacity(active.len());
        for record in active {
            reports.push(self.plan_pages(brand, record.id, true, None).await?.0);
        }
        Ok(reports)
    }

    /// Every brand's id, for a worker that runs each brand's campaigns on its own
    /// (so one brand's failure cannot stop another's run).
    pub async fn campaign_brands(&self) -> Result<Vec<BrandId>, CampaignError> {
        self.transact("brand_ids", |mut tx| async move {
            let result: Result<_, CampaignError> =
                tx.brands().brand_ids().await.map_err(Into::into);
            (tx, result)
        })
        .await
    }

    /// A campaign's messages, newest first, a page after `after`.
    pub async fn campaign_messages(
        &self,
        brand: BrandId,
        id: CampaignId,
        after: Option<uuid::Uuid>,
        limit: u64,
    ) -> Result<Vec<OutboxMessage>, CampaignError> {
        self.transact("campaign_messages", |mut tx| async move {
            let result = async {
                load_brand::<CampaignError>(tx.as_mut(), brand).await?;
                find(tx.as_mut(), brand, id).await?;
                Ok(tx.outbox().messages(brand, Some(id), after, limit).await?)
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// The campaign's results: messages, vouchers, revenue of treated against held-out
    /// members in their attribution windows, incremental revenue and ROI.
    pub async fn campaign_report(
        &self,
        brand: BrandId,
        id: CampaignId,
    ) -> Result<CampaignReport, CampaignError> {
        let (record, counts, messages, revenue, vouchers) = self
            .transact("campaign_report", |mut tx| async move {
                let result: Result<_, CampaignError> = async {
                    load_brand::<CampaignError>(tx.as_mut(), brand).await?;
                    let record = find(tx.as_mut(), brand, id).await?;
                    let campaign = parse_definition(&record)?;
                    let counts = tx.campaigns().member_counts(brand, id).await?;
                    let messages = tx.outbox().counts(brand, Some(id)).await?;
                    let revenue = tx
                        .campaigns()
                        .member_revenue(brand, id, campaign.attribution_days)
                        .await?;
                    let vouchers = tx.vouchers().campaign_vouchers(brand, id).await?;
                    let by_variant = if campaign.variants.is_empty() {
                        Vec::new()
                    } else {
                        tx.campaigns().variant_vouchers(brand, id).await?
                    };
                    let bonus = if campaign.gives_bonus_points() {
                        let (n, points) = tx.ledger().campaign_bonus(brand, id).await?;
                        let value =
                            crate::bonus::point_value(tx.as_mut(), brand, campaign.currency)
                                .await?;
                        (n, points, value)
                    } else {
                        (0, Points::ZERO, None)
                    };
                    let vouchers = (vouchers, by_variant, bonus);
                    Ok((record, counts, messages, revenue, vouchers))
                }
                .await;
                (tx, result)
            })
            .await?;
        let (vouchers, by_variant, (bonus_credits, bonus_points, point_value)) = vouchers;
        let campaign = parse_definition(&record)?;
        let costs = offer_costs(&campaign);
        let mut treated = Vec::new();
        let mut held = Vec::new();
        let (mut treated_minor, mut held_minor) = (0_i64, 0_i64);
        for r in &revenue {
            match r.group {
                MemberGroup::Treatment => {
                    treated.push(r.net_minor as f64);
                    treated_minor = treated_minor.saturating_add(r.net_minor);
                }
                MemberGroup::Holdout => {
                    held.push(r.net_minor as f64);
                    held_minor = held_minor.saturating_add(r.net_minor);
                }
            }
        }
        let offer_cost_minor: i64 = vouchers
            .iter()
            .map(|v| {
                let each = costs.get(&v.reward).copied().unwrap_or(0);
                each.saturating_mul(i64::try_from(v.redeemed).unwrap_or(i64::MAX))
            })
            .fold(0_i64, i64::saturating_add);
        let bonus_cost_minor = point_value
            .and_then(|v| v.to_minor_units().ok())
            .map_or(0, |each| each.saturating_mul(bonus_points.value()));
        let offer_cost_minor = offer_cost_minor.saturating_add(bonus_cost_minor);
        let attribution = attribute(
            &treated,
            &held,
            campaign.gross_margin,
            offer_cost_minor as f64,
        );
        let (variants, verdict) = crate::campaign_variants::variant_reports(
            &campaign,
            &revenue,
            &by_variant,
            point_value.as_ref(),
        );
        Ok(CampaignReport {
            variants,
            verdict,
            treated: counts.0,
            held_out: counts.1,
            messages,
            vouchers_issued: vouchers.iter().map(|v| v.issued).sum(),
            vouchers_redeemed: vouchers.iter().map(|v| v.redeemed).sum(),
            window_days: campaign.attribution_days,
            treated_revenue_minor: treated_minor,
            holdout_revenue_minor: held_minor,
            offer_cost_minor,
            bonus_credits,
            bonus_points,
            bonus_cost_minor,
            gross_margin: campaign.gross_margin,
            attribution,
            campaign: record,
        })
    }

    /// Plans a campaign page by page; with `write`, each page's decisions are written in
    /// the page's transaction, after the campaign row is locked and re-read, so two runs
    /// at once plan each customer once and share one budget. A `draft` (never written)
    /// is planned in place of the stored definition, as campaign `id` (which need not
    /// exist yet). Also returns the first message planned, as an SMS would carry it.
    pub(crate) async fn plan_pages(
        &self,
        brand: BrandId,
        id: CampaignId,
        write: bool,
        draft: Option<&Campaign>,
    ) -> Result<(CampaignRunReport, Option<String>), CampaignError> {
        let write = write && draft.is_none();
        let mut sample: Option<String> = None;
        let mut report = CampaignRunReport {
            campaign_id: id,
            customers: 0,
            messages: 0,
            vouchers: 0,
            held_out: 0,
            skipped: BTreeMap::new(),
            budget_used_minor: 0,
            sms_segments: BTreeMap::new(),
            sms_over_cap: 0,
        };
        let mut cursor: Option<CustomerId> = None;
        loop {
            let now = self.clock.now();
            let page = self
                .transact("run_campaign_page", |mut tx| async move {
                    let result = self
                        .plan_page(tx.as_mut(), brand, id, cursor, now, write, draft)
                        .await;
                    (tx, result)
                })
                .await?;
            let Some(page) = page else {
                return Ok((report, sample));
            };
            if sample.is_none() {
                sample = page.sample.clone();
            }
            report.customers += page.customers;
            report.messages += page.messages;
            report.vouchers += page.vouchers;
            report.held_out += page.held_out;
            for (reason, n) in page.skipped {
                *report.skipped.entry(reason).or_default() += n;
            }
            report.budget_used_minor = page.budget_used_minor;
            for (segments, n) in page.sms_segments {
                *report.sms_segments.entry(segments).or_default() += n;
            }
            report.sms_over_cap += page.sms_over_cap;
            if page.customers < CAMPAIGN_PAGE {
                return Ok((report, sample));
            }
            cursor = page.last;
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn plan_page(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        id: CampaignId,
        after: Option<CustomerId>,
        now: OffsetDateTime,
        write: bool,
        draft: Option<&Campaign>,
    ) -> Result<Option<PageResult>, CampaignError> {
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
        let histories = tx
            .intelligence()
            .histories(brand, after, CAMPAIGN_PAGE)
            .await?;
        if histories.is_empty() {
            return Ok(None);
        }
        let ids: Vec<CustomerId> = histories.iter().map(|h| h.customer.id).collect();
        let scores: HashMap<CustomerId, CustomerScores> = tx
            .intelligence()
            .scores_of(brand, &ids)
            .await?
            .into_iter()
            .map(|s| (s.customer_id, s))
            .collect();
        let mut facts = Vec::with_capacity(histories.len());
        for h in &histories {
            let mut f = facts_of(h, scores.get(&h.customer.id), now);
            if matches!(
                campaign.trigger,
                regulars_campaigns::Trigger::PointsExpiring { .. }
            ) {
                f.expiring_points = next_expiry(tx, brand, h.customer.id, now).await?;
            }
            if matches!(
                campaign.trigger,
                regulars_campaigns::Trigger::VoucherExpiring { .. }
            ) {
                f.expiring_voucher =
                    crate::realtime::next_voucher_expiry(tx, brand, h.customer.id, now).await?;
            }
            facts.push(f);
        }
        let sms_promotion = crate::do_not_call::sends_promotional_sms(&campaign);
        crate::do_not_call::mark_listed(tx, &mut facts, sms_promotion).await?;
        let lookback = history_window(&campaign);
        let history: Vec<SentMessage> = tx
            .outbox()
            .history(
                brand,
                &ids,
                Some(id),
                regulars_campaigns::plan::shift_back(now, lookback),
            )
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
            .collect();
        let budget_used = Money::from_minor_units(record.budget_used_minor, b.currency);
        // Planning a page is CPU work: off the async executor, onto a blocking thread.
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
        let mut result = PageResult {
            customers: histories.len() as u64,
            last: histories.last().map(|h| h.customer.id),
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
        let by_id: HashMap<CustomerId, &CustomerFacts> =
            facts.iter().map(|f| (f.customer_id, f)).collect();
        let mut members = Vec::new();
        let mut outbox = Vec::new();
        for outcome in &plan.outcomes {
            match outcome {
                Outcome::Skip {
                    customer_id,
                    reason,
                } => {
                    *result.skipped.entry(*reason).or_default() += 1;
                    if *reason == SkipReason::HoldOut {
                        members.push(CampaignMember {
                            campaign_id: id,
                            customer_id: *customer_id,
                            group: MemberGroup::Holdout,
                            at: now,
                            variant: None,
                        });
                    }
                }
                Outcome::Send(m) => {
                    result.messages += 1;
                    let sms = result.count_sms(&campaign, m);
                    if result.sample.is_none() {
                        result.sample = Some(sms);
                    }
                    let Some(f) = by_id.get(&m.customer_id) else {
                        continue;
                    };
                    members.push(CampaignMember {
                        campaign_id: id,
                        customer_id: m.customer_id,
                        group: MemberGroup::Treatment,
                        at: m.send_at,
                        variant: m.variant,
                    });
                    if m.offer.as_ref().is_some_and(|o| o.reward_id.is_some()) {
                        // A preview counts the vouchers a run would issue.
                        result.vouchers += 1;
                    }
                    if write {
                        let voucher = match m.offer.as_ref().and_then(|o| o.reward_id) {
                            Some(reward) => Some(self.campaign_voucher(&campaign, m, reward, now)?),
                            None => None,
                        };
                        outbox.push(self.outbox_message(
                            &b,
                            &campaign,
                            f,
                            m,
                            voucher.as_ref(),
                            now,
                        ));
                        if let Some(v) = voucher {
                            // A thank-you voucher is paid for by the order that triggered
                            // it: its full refund voids the voucher if still unused.
                            let issued_by = match campaign.trigger {
                                regulars_campaigns::Trigger::AfterPurchase { .. } => {
                                    f.last_order.map(|o| o.id)
                                }
                                _ => None,
                            };
                            tx.vouchers().insert_voucher(brand, &v, issued_by).await?;
                        }
                    }
                }
            }
        }
        if write {
            // Treatment and hold-out members are added apart: the report counts the
            // customers newly held out, not every new member.
            let (held, treated): (Vec<CampaignMember>, Vec<CampaignMember>) = members
                .into_iter()
                .partition(|m| m.group == MemberGroup::Holdout);
            tx.campaigns().add_members(brand, &treated).await?;
            result.held_out = tx.campaigns().add_members(brand, &held).await?;
            let written = tx.outbox().enqueue(&outbox).await?;
            if written != outbox.len() as u64 {
                // A message with the same key appeared since the history was read: the
                // transaction is redone from scratch rather than leaving a voucher whose
                // message was never written.
                return Err(CampaignError::Store(StoreError::Conflict(
                    "outbox (brand_id, dedupe_key): planned concurrently".into(),
                )));
            }
            record.budget_used_minor = result.budget_used_minor;
            record.updated_at = now;
            tx.campaigns().update_campaign(&record).await?;
        } else {
            result.held_out = members
                .iter()
                .filter(|m| m.group == MemberGroup::Holdout)
                .count() as u64;
        }
        Ok(Some(result))
    }

    pub(crate) fn campaign_voucher(
        &self,
        campaign: &Campaign,
        message: &PlannedMessage,
        reward: RewardId,
        now: OffsetDateTime,
    ) -> Result<Voucher, CampaignError> {
        let priced = priced_offers(campaign)
            .into_iter()
            .map(|p| &p.reward)
            .find(|r| r.id == reward)
            .ok_or_else(|| CampaignError::CorruptDefinition {
                campaign: campaign.id,
                message: format!("planned reward {reward} is not among the offers"),
            })?;
        let corrupt = |message: String| CampaignError::CorruptDefinition {
            campaign: campaign.id,
            message,
        };
        // Valid from now, for its validity counted from when the message goes out.
        let expires_at = priced
            .voucher_expires_at(message.send_at.max(now))
            .map_err(|e| corrupt(e.to_string()))?;
        Voucher::issue(NewVoucher {
            id: VoucherId::from_uuid(self.ids.new_id()),
            code: self.voucher_code(),
            customer: message.customer_id,
            reward,
            source: VoucherSource::Campaign {
                campaign: campaign.id,
            },
            issued_at: now,
            expires_at,
        })
        .map_err(|e| corrupt(e.to_string()))
    }

    pub(crate) fn outbox_message(
        &self,
        brand: &Brand,
        campaign: &Campaign,
        facts: &CustomerFacts,
        m: &PlannedMessage,
        voucher: Option<&Voucher>,
        now: OffsetDateTime,
    ) -> OutboxMessage {
        let code = voucher.map(|v| v.code().to_string());
        let body = match &code {
            Some(code) => m.with_code(code),
            None => m.text.clone(),
        };
        let body = self.with_rating_link(body, brand, facts, now);
        let route_of = |channel: Channel| -> Option<Route> {
            let recipient = match channel {
                Channel::Zalo | Channel::Sms => Some(facts.phone.as_str().to_owned()),
                Channel::Email => facts.email.clone(),
            }?;
            Some(Route { channel, recipient })
        };
        let fallbacks: Vec<Route> = campaign
            .channels
            .iter()
            .skip_while(|c| **c != m.channel)
            .skip(1)
            .filter(|c| !m.promotional || facts.consent.allows(**c))
            .filter(|c| {
                **c != Channel::Zalo
                    || facts.zalo_user_id.is_some()
                    || facts.phone.is_vietnamese_mobile()
            })
            .filter_map(|c| route_of(*c))
            .collect();
        let data = if campaign.zalo_params.is_empty() {
            crate::zns_data::fixed(brand, campaign, facts, m, code.as_deref(), voucher)
        } else {
            crate::zns_data::declared(brand, campaign, facts, m, code.as_deref(), voucher)
        };
        let send_window = match (m.promotional, campaign.policy_in_force().allowed_hours) {
            (true, Some(h)) => Some(SendWindow {
                utc_offset_seconds: campaign.utc_offset.whole_seconds(),
                start_hour: h.start_hour,
                end_hour: h.end_hour,
            }),
            _ => None,
        };
        OutboxMessage {
            id: self.ids.new_id(),
            brand_id: brand.id,
            campaign_id: Some(campaign.id),
            customer_id: Some(m.customer_id),
            phone: Some(facts.phone.as_str().to_owned()),
            dedupe_key: m.dedupe_key.clone(),
            route: route_of(m.channel).unwrap_or(Route {
                channel: m.channel,
                recipient: facts.phone.as_str().to_owned(),
            }),
            fallbacks,
            template: campaign.zalo_template.clone(),
            subject: Some(campaign.name.clone()),
            body,
            data,
            promotional: m.promotional,
            send_window,
            sms: campaign.sms,
            zns_params: campaign.zns_param_types(),
            bonus_points: m.offer.as_ref().and_then(|o| o.bonus_points),
            opt_out: m
                .promotional
                .then(|| campaign.policy_in_force().opt_out_instruction)
                .filter(|i| !i.trim().is_empty()),
            status: OutboxStatus::Pending,
            attempts: 0,
            due_at: m.send_at,
            last_error: None,
            sent_at: None,
            delivered_at: None,
            provider_message_id: None,
            created_at: now,
        }
    }
}

struct PageResult {
    customers: u64,
    last: Option<CustomerId>,
    messages: u64,
    vouchers: u64,
    held_out: u64,
    skipped: BTreeMap<SkipReason, u64>,
    budget_used_minor: i64,
    sms_segments: BTreeMap<u32, u64>,
    sms_over_cap: u64,
    /// The first message planned, as an SMS would carry it (before folding).
    sample: Option<String>,
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

/// `m` as an SMS carries it: a voucher code and links as long as real ones, and the
/// opt-out line of a promotional message; before the campaign's folding.
pub(crate) fn sms_text(campaign: &Campaign, m: &PlannedMessage) -> String {
    let text = match m.offer {
        Some(_) => m.with_code(regulars_campaigns::sms::SAMPLE_CODE),
        None => m.text.clone(),
    }
    .replace(
        regulars_campaigns::render::RATING_LINK_MARKER,
        regulars_campaigns::sms::SAMPLE_RATING_LINK,
    );
    // A promotional SMS ends with the opt-out instruction: it is paid for too.
    if m.promotional {
        regulars_domain::with_opt_out(
            &text,
            &campaign.policy_in_force().opt_out_instruction,
            Some(regulars_campaigns::sms::SAMPLE_OPT_OUT_LINK),
        )
    } else {
        text
    }
}

pub(crate) async fn find(
    tx: &mut dyn Transaction,
    brand: BrandId,
    id: CampaignId,
) -> Result<CampaignRecord, CampaignError> {
    tx.campaigns()
        .campaign(brand, id)
        .await?
        .ok_or(CampaignError::UnknownCampaign(id))
}

/// The campaign, read after its row is locked: what a write-back then saves cannot undo
/// a change (a budget spent by an order's real-time message, an end, an edit) that
/// committed between a plain read and the write.
async fn find_locked(
    tx: &mut dyn Transaction,
    brand: BrandId,
    id: CampaignId,
) -> Result<CampaignRecord, CampaignError> {
    tx.campaigns().lock_campaign(brand, id).await?;
    find(tx, brand, id).await
}

pub(crate) fn parse_definition(record: &CampaignRecord) -> Result<Campaign, CampaignError> {
    Campaign::from_json(&record.definition).map_err(|e| CampaignError::CorruptDefinition {
        campaign: record.id,
        message: e.to_string(),
    })
}

fn definition_json(campaign: &Campaign) -> Result<String, CampaignError> {
    serde_json::to_string(campaign).map_err(|e| invalid("", e.to_string()))
}

/// How far back messages count: the longer of the legal window and the frequency cap.
pub(crate) fn history_window(campaign: &Campaign) -> Duration {
    let legal = Duration::hours(i64::from(campaign.policy_in_force().cap_window_hours));
    let cap = campaign
        .frequency_cap
        .map(|c| Duration::days(i64::from(c.days)))
        .unwrap_or(Duration::ZERO);
    legal.max(cap)
}

/// Every reward the campaign may give, with what it costs the shop.
fn priced_offers(campaign: &Campaign) -> Vec<&PricedReward> {
    campaign
        .offers()
        .flat_map(|offer| match offer {
            Offer::Fixed { reward } => std::slice::from_ref(reward),
            Offer::Personalised { candidates, .. } => candidates.as_slice(),
            Offer::BonusPoints { .. } => &[],
        })
        .collect()
}

/// What each offered reward costs the shop, minor units.
fn offer_costs(campaign: &Campaign) -> HashMap<RewardId, i64> {
    priced_offers(campaign)
        .into_iter()
        .filter_map(|p| Some((p.reward.id, p.cost.to_minor_units().ok()?)))
        .collect()
}

/// The planner's facts of one customer from their history and stored scores.
pub(crate) fn facts_of(
    h: &CustomerHistory,
    scores: Option<&CustomerScores>,
    now: OffsetDateTime,
) -> CustomerFacts {
    let c = &h.customer;
    let mut f = CustomerFacts::new(c.id, c.phone.clone());
    f.name = c.name.clone();
    f.email = c.email.clone();
    f.zalo_user_id = c.zalo_user_id.clone();
    f.consent = c.consent;
    f.opted_out = c.consent.opted_out();
    // Silence is not consent: profiling needs it granted.
    f.profiling = c.consent.allows_profiling(false);
    f.birthday = c.birthday;
    f.joined_at = Some(c.created_at);
    f.points_balance = h.balance;
    f.last_visit_at = h.visits.last().map(|v| v.at);
    f.last_order = h.visits.last().map(|v| OrderFact {
        id: v.order_id,
        at: v.at,
    });
    let tier = h.stats.as_ref().and_then(|s| s.tier.as_ref());
    // The current tier came from a review's move down when the review set it (or left
    // no tier); otherwise it was entered by moving up.
    match &h.tier_down {
        Some(down) if tier.is_none_or(|t| t.since == down.reviewed_at) => {
            f.tier_down = Some(TierDowngrade {
                tier: down.to.clone(),
                at: down.reviewed_at,
            });
        }
        _ => {
            if let Some(tier) = tier {
                f.tier_upgrade = Some(TierUpgrade {
                    tier: tier.code.clone(),
                    at: tier.since,
                });
            }
        }
    }
    if let Some(s) = scores {
        f.segments = s.segments.clone();
        f.p_alive = s.p_alive;
        f.next_visit_at = s.next_visit_at;
        f.favourite_item = s.favourite_item.clone();
        f.next_best_item = s.next_best_item.clone();
        f.preferred_hour = s.preferred_hour;
        if let Some(features) = crate::segments::features_now(s, now) {
            f.features = features;
        }
        // A visit the scoring run did not see (placed after it, or placed before it but
        // arrived later): the customer is evidently not lapsed. Recency is taken from that
        // visit, and what the run predicted from the older history (P(alive), the next
        // expected visit) is unknown until the next run, so triggers and rules on them do
        // not fire for a customer who just came in.
        let seen_recency = s
            .features
            .clone()
            .and_then(|v| serde_json::from_value::<regulars_segments::CustomerFeatures>(v).ok())
            .map(|features| features.recency_days);
        if let Some(last) = f.last_visit_at
            && (last > s.scored_at
                || seen_recency
                    .is_some_and(|days| (s.scored_at - last).whole_days() < i64::from(days)))
        {
            let days = (now - last).whole_days().max(0);
            f.features.recency_days = u32::try_from(days).unwrap_or(u32::MAX);
            f.features.p_alive = None;
            f.p_alive = None;
            f.next_visit_at = None;
        }
    }
    f.features.points_balance = h.balance.value();
    f
}

/// The next batch of points to expire after `now`, from the customer's ledger.
async fn next_expiry(
    tx: &mut dyn Transaction,
    brand: BrandId,
    customer: CustomerId,
    now: OffsetDateTime,
) -> Result<Option<PointsExpiry>, CampaignError> {
    let entries = tx.ledger().entries(brand, customer).await?;
    let Ok(state) = fold(&entries) else {
        // A ledger that does not fold is reported by check-ledger; it expires nothing here.
        return Ok(None);
    };
    let mut next: Option<PointsExpiry> = None;
    for lot in state.lots() {
        let Some(at) = lot.expires_at else { continue };
        if at <= now || !lot.remaining.is_positive() {
            continue;
        }
        next = match next {
            Some(n) if n.at < at => Some(n),
            Some(n) if n.at == at => Some(PointsExpiry {
                points: n.points.checked_add(lot.remaining).unwrap_or(n.points),
                at,
            }),
            _ => Some(PointsExpiry {
                points: lot.remaining,
                at,
            }),
        };
    }
    Ok(next)
}

/// The record a draft of a campaign not saved yet is planned under: nothing spent.
fn draft_record(
    brand: BrandId,
    campaign: &Campaign,
    now: OffsetDateTime,
) -> Result<CampaignRecord, CampaignError> {
    Ok(CampaignRecord {
        id: campaign.id,
        brand_id: brand,
        name: campaign.name.clone(),
        definition: definition_json(campaign)?,
        status: CampaignStatus::Draft,
        budget_used_minor: 0,
        created_at: now,
        updated_at: now,
        last_run_at: None,
    })
}

/// Turns an API campaign document into a checked [`Campaign`] of this brand.
pub(crate) async fn resolve(
    tx: &mut dyn Transaction,
    brand: &Brand,
    id: CampaignId,
    document: &Value,
) -> Result<Campaign, CampaignError> {
    let Value::Object(fields) = document else {
        return Err(invalid("", "a campaign document must be a JSON object"));
    };
    let mut doc = fields.clone();
    match doc.get("id") {
        None => {}
        Some(Value::String(s)) if s == &id.to_string() => {}
        Some(_) => return Err(invalid("id", "is set by the server; leave it out")),
    }
    doc.insert("id".into(), Value::String(id.to_string()));
    doc.entry("shop")
        .or_insert_with(|| Value::String(brand.name.clone()));
    let currency = brand.currency.code().to_owned();
    match doc.get("currency") {
        None => {
            doc.insert("currency".into(), Value::String(currency));
        }
        Some(Value::String(c)) if *c == currency => {}
        Some(_) => {
            return Err(invalid(
                "currency",
                format!("must be the brand currency {currency}"),
            ));
        }
    }
    if !doc.contains_key("utc_offset") {
        doc.insert(
            "utc_offset".into(),
            Value::String(format_offset(brand.utc_offset)),
        );
    }
    if let Some(offer) = doc.get_mut("offer") {
        resolve_offer(tx, brand.id, offer, "offer").await?;
    }
    if let Some(Value::Array(variants)) = doc.get_mut("variants") {
        for (i, v) in variants.iter_mut().enumerate() {
            if let Some(offer) = v.get_mut("offer") {
                resolve_offer(tx, brand.id, offer, &format!("variants[{i}].offer")).await?;
            }
        }
    }
    let text =
        serde_json::to_string(&Value::Object(doc)).map_err(|e| invalid("", e.to_string()))?;
    let definition_error = |e: DefinitionError| match e {
        DefinitionError::Invalid { path, message } => invalid(path, message),
        other => invalid("", other.to_string()),
    };
    let mut campaign = Campaign::from_json(&text).map_err(definition_error)?;
    if campaign.utc_offset != brand.utc_offset {
        return Err(invalid(
            "utc_offset",
            format!(
                "is the brand's setting ({}); leave it out",
                format_offset(brand.utc_offset)
            ),
        ));
    }
    let policy = policy_of(tx, brand.id).await?;
    campaign.check_policy(&policy).map_err(definition_error)?;
    under_brand(&mut campaign, brand, policy);
    // Again under the brand's own promotional prefix.
    campaign.check_sms().map_err(definition_error)?;
    Ok(campaign)
}

/// An offer's rewards named by `reward_id`, each copied from the catalogue.
async fn resolve_offer(
    tx: &mut dyn Transaction,
    brand: BrandId,
    offer: &mut Value,
    path: &str,
) -> Result<(), CampaignError> {
    let Value::Object(offer) = offer else {
        return Ok(());
    };
    if let Some(reward) = offer.get_mut("reward") {
        resolve_reward(tx, brand, reward, &format!("{path}.reward")).await?;
    }
    if let Some(Value::Array(candidates)) = offer.get_mut("candidates") {
        for (i, c) in candidates.iter_mut().enumerate() {
            resolve_reward(tx, brand, c, &format!("{path}.candidates[{i}]")).await?;
        }
    }
    Ok(())
}

/// `{"reward_id": "…", "cost": …}` → `{"reward": <catalogue reward>, "cost": …}`.
async fn resolve_reward(
    tx: &mut dyn Transaction,
    brand: BrandId,
    priced: &mut Value,
    path: &str,
) -> Result<(), CampaignError> {
    let Value::Object(fields) = priced else {
        return Err(invalid(path, "must be an object with reward_id and cost"));
    };
    if fields.contains_key("reward") {
        return Err(invalid(
            format!("{path}.reward"),
            "name a reward of the catalogue with reward_id",
        ));
    }
    let Some(Value::String(raw)) = fields.remove("reward_id") else {
        return Err(invalid(
            format!("{path}.reward_id"),
            "is required: the id of a reward in the catalogue",
        ));
    };
    let reward_id: RewardId = raw
        .parse()
        .map_err(|_| invalid(format!("{path}.reward_id"), "is not a valid id"))?;
    let reward = tx.brands().reward(brand, reward_id).await?.ok_or_else(|| {
        invalid(
            format!("{path}.reward_id"),
            "no such reward in the catalogue",
        )
    })?;
    let json = serde_json::to_value(&reward).map_err(|e| invalid(path, e.to_string()))?;
    let mut out = Map::new();
    out.insert("reward".into(), json);
    for (k, v) in std::mem::take(fields) {
        out.insert(k, v);
    }
    *fields = out;
    Ok(())
}

fn format_offset(offset: time::UtcOffset) -> String {
    let (h, m, _) = offset.as_hms();
    let sign = if offset.is_negative() { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
}
