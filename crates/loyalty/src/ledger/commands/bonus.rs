//! The command a sent campaign message runs: its bonus points, credited once.

use super::{Ledger, require_positive};
use crate::ledger::state::{check_expiry, non_empty};
use crate::ledger::{EntryKind, LedgerEntry, LedgerError};
use regulars_domain::{CampaignId, Points};
use time::OffsetDateTime;

impl Ledger {
    /// Credits the bonus points campaign `campaign`'s message `message` gave, opening a
    /// lot expiring at `expires_at` (after paying any debt). Each message credits once: a
    /// second credit for the same `message` is refused with
    /// [`LedgerError::DuplicateBonus`], and a [resumed](Ledger::resume) ledger must be
    /// given the message's stored tally ([`Tally::bonus_key`](crate::ledger::Tally::bonus_key)) for that check.
    ///
    /// ```
    /// use regulars_domain::{CampaignId, Points};
    /// use regulars_loyalty::ledger::{Ledger, LedgerError};
    /// use time::macros::datetime;
    ///
    /// let mut ledger = Ledger::new();
    /// let campaign = CampaignId::from_bytes([7; 16]);
    /// let at = datetime!(2026-03-02 09:00 UTC);
    /// ledger.credit_bonus(campaign, "m-1", Points::new(50), at, None)?;
    /// assert!(matches!(
    ///     ledger.credit_bonus(campaign, "m-1", Points::new(50), at, None),
    ///     Err(LedgerError::DuplicateBonus { .. })
    /// ));
    /// assert_eq!(ledger.balance(), Points::new(50));
    /// # Ok::<(), LedgerError>(())
    /// ```
    pub fn credit_bonus(
        &mut self,
        campaign: CampaignId,
        message: &str,
        points: Points,
        at: OffsetDateTime,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<Vec<LedgerEntry>, LedgerError> {
        non_empty("message", message)?;
        require_positive(points)?;
        check_expiry(at, expires_at)?;
        let mut batch = self.begin(at)?;
        batch.push(
            points,
            EntryKind::CampaignBonus {
                campaign,
                message: message.to_owned(),
                expires_at,
            },
        )?;
        let done = batch.finish();
        Ok(self.commit(done))
    }
}
