//! Opting out by keyword: a customer who sends the brand's Zalo Official Account one of
//! the opt-out keywords ("HUỶ", "TỪ CHỐI", "STOP", …, see
//! [`regulars_domain::DEFAULT_OPT_OUT_KEYWORDS`]) is taken off the brand's promotional
//! Zalo messages, recorded as consent data with source `provider_keyword`.
//!
//! * A brand may add its own words in its messaging policy (`opt_out_keywords`); the
//!   defaults cannot be configured away.
//! * The text must be a keyword as a whole (marks, case and spacing aside): a longer
//!   message that contains one is a conversation, not a refusal.
//! * The sender is named by their Zalo user id at the OA; every brand's customers with
//!   that id are taken off (an OA's user ids are its own, so only the brands sending
//!   through that OA have them). An unknown id, or any other text, changes nothing.
//! * Once per event: the event's id is remembered per brand, so the same event delivered
//!   again (Zalo retries, a replay within the signature window) does nothing, even after
//!   the customer opted in again meanwhile.

use crate::Services;
use crate::optout::{OptOutError, Withdrawal};
use regulars_campaigns::Policy;
use regulars_domain::{
    BrandId, ChangeSource, Channel, DEFAULT_OPT_OUT_KEYWORDS, EventKey, is_opt_out_keyword,
};
use regulars_ports::{IdempotentRecord, InboundText, StoreError, Transaction};
use serde_json::json;

/// Who a change made by keyword is recorded as.
pub const KEYWORD_ACTOR: &str = "zalo-oa-keyword";
/// The idempotency records of keyword events.
const KIND: &str = "opt_out_keyword";

/// What a text sent to a brand's channel did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeywordOutcome {
    /// Customers were taken off promotional messages on the channel (how many changed).
    OptedOut(u32),
    /// A keyword from a sender who is no customer, or whose consent was withdrawn already.
    NothingToChange,
    /// The same event was handled before.
    Repeated,
    /// Not an opt-out keyword: a conversation, left to the brand's OA inbox.
    NotAKeyword,
}

impl KeywordOutcome {
    /// Why nothing was recorded, in words; `None` when someone was opted out.
    pub fn ignored(self) -> Option<&'static str> {
        match self {
            KeywordOutcome::OptedOut(_) => None,
            KeywordOutcome::NothingToChange => Some("no customer to opt out"),
            KeywordOutcome::Repeated => Some("event handled before"),
            KeywordOutcome::NotAKeyword => Some("not an opt-out keyword"),
        }
    }
}

impl Services {
    /// Acts on a text sent to a brand's channel (see the [module](self)).
    pub async fn opt_out_by_keyword(
        &self,
        text: &InboundText,
    ) -> Result<KeywordOutcome, OptOutError> {
        if text.channel != Channel::Zalo {
            return Ok(KeywordOutcome::NotAKeyword);
        }
        // A key that cannot be stored (over-long id) leaves the consent state itself as
        // the only guard: withdrawing twice changes nothing.
        let key = EventKey::new("zalo", &text.event_id).ok();
        let key = key.as_ref();
        self.transact("opt_out_by_keyword", |mut tx| async move {
            let result = self.keyword_in(tx.as_mut(), text, key).await;
            (tx, result)
        })
        .await
    }

    async fn keyword_in(
        &self,
        tx: &mut dyn Transaction,
        text: &InboundText,
        key: Option<&EventKey>,
    ) -> Result<KeywordOutcome, OptOutError> {
        let by = Withdrawal {
            source: ChangeSource::ProviderKeyword,
            actor: KEYWORD_ACTOR,
            at: self.clock.now(),
        };
        let default_keyword = is_opt_out_keyword(&text.text, &DEFAULT_OPT_OUT_KEYWORDS);
        let mut keyword = default_keyword;
        let mut found = false;
        let mut repeated = false;
        let mut changed = 0u32;
        for brand in tx.brands().brand_ids().await? {
            let customers = tx
                .customers()
                .customers_by_zalo_user(brand, &text.sender)
                .await?;
            if customers.is_empty() {
                continue;
            }
            if !default_keyword && !brand_keyword(tx, brand, &text.text).await? {
                continue;
            }
            keyword = true;
            found = true;
            if !first_time(tx, brand, key).await? {
                repeated = true;
                continue;
            }
            for mut customer in customers {
                if self
                    .withdraw_marketing(tx, &mut customer, &[Channel::Zalo], &by)
                    .await?
                {
                    changed += 1;
                }
            }
        }
        Ok(match (keyword, found, repeated, changed) {
            (_, _, _, n) if n > 0 => KeywordOutcome::OptedOut(n),
            (false, _, _, _) => KeywordOutcome::NotAKeyword,
            (_, true, true, _) => KeywordOutcome::Repeated,
            _ => KeywordOutcome::NothingToChange,
        })
    }
}

/// Whether `text` is one of the keywords the brand added in its messaging policy.
async fn brand_keyword(
    tx: &mut dyn Transaction,
    brand: BrandId,
    text: &str,
) -> Result<bool, StoreError> {
    let Some(stored) = tx.campaigns().messaging_policy(brand).await? else {
        return Ok(false);
    };
    let policy: Policy = serde_json::from_str(&stored)
        .map_err(|e| StoreError::Corrupt(format!("brand_policies.policy of {brand}: {e}")))?;
    Ok(is_opt_out_keyword(text, &policy.opt_out_keywords))
}

/// Remembers the event for the brand; `false` when it was remembered before.
async fn first_time(
    tx: &mut dyn Transaction,
    brand: BrandId,
    key: Option<&EventKey>,
) -> Result<bool, StoreError> {
    let Some(key) = key else { return Ok(true) };
    if tx.idempotency().seen(brand, key).await?.is_some() {
        return Ok(false);
    }
    let record = IdempotentRecord {
        kind: KIND.to_owned(),
        result: json!({ "opted_out": true }),
        fingerprint: None,
    };
    tx.idempotency().remember(brand, key, &record).await?;
    Ok(true)
}
