//! The referral recorded when someone signs up through an invite: pending, or refused
//! with its reason.

use super::{invite_owner, programme_of};
use crate::Services;
use crate::manage::ManageError;
use regulars_domain::Customer;
use regulars_loyalty::referrals::{ReferralState, SignupFacts, check_signup};
use regulars_ports::{Referral, Transaction};
use time::OffsetDateTime;

/// Who has just signed up through an invite.
pub(crate) struct Joined<'a> {
    /// The customer the proved phone is now (new, or the member it was).
    pub customer: &'a Customer,
    /// The phone was a member before this sign-up.
    pub existed: bool,
    /// The client address is within its budget of referral sign-ups.
    pub within_budget: bool,
    /// When.
    pub now: OffsetDateTime,
}

impl Services {
    /// Records the referral of a sign-up through `invite`, in the sign-up's
    /// transaction; `None` (nothing recorded) when the invite names no member of the
    /// customer's brand.
    pub(crate) async fn record_referral_in(
        &self,
        tx: &mut dyn Transaction,
        invite: &str,
        joined: &Joined<'_>,
    ) -> Result<Option<ReferralState>, ManageError> {
        let brand = joined.customer.brand_id;
        let Some((invite_brand, referrer)) = invite_owner(tx, invite).await? else {
            return Ok(None);
        };
        if invite_brand != brand || tx.customers().customer(brand, referrer).await?.is_none() {
            return Ok(None);
        }
        let programme = programme_of(tx, brand).await?;
        let already_referred = tx
            .referrals()
            .referral_of_friend(brand, joined.customer.id)
            .await?
            .is_some();
        let facts = SignupFacts {
            enabled: programme.enabled,
            same_customer: referrer == joined.customer.id,
            already_referred,
            existing_customer: joined.existed,
            address_within_budget: joined.within_budget,
        };
        let (state, decided_at) = match check_signup(facts) {
            Ok(()) => (ReferralState::Pending, None),
            Err(reason) => (ReferralState::Refused { reason }, Some(joined.now)),
        };
        let referral = Referral {
            id: self.ids.new_id(),
            referrer,
            friend: joined.customer.id,
            state: state.clone(),
            created_at: joined.now,
            decided_at,
        };
        tx.referrals().insert_referral(brand, &referral).await?;
        tracing::info!(%brand, referral = %referral.id, status = state.status(),
            "sign-up through an invite");
        Ok(Some(state))
    }
}
