//! Which channel carries a customer's message, or why none may.

use super::{CustomerFacts, SkipReason};
use crate::campaign::Campaign;
use regulars_domain::Channel;

/// The first of the campaign's channels that can reach `c` and, for a promotional
/// message, that `c` allows promotion on; otherwise why no channel may be used.
pub(super) fn channel_for(
    campaign: &Campaign,
    c: &CustomerFacts,
    promotional: bool,
) -> Result<Channel, SkipReason> {
    campaign
        .channels
        .iter()
        .copied()
        .find(|ch| c.reachable(*ch) && (!promotional || c.may_promote_on(*ch)))
        .ok_or_else(|| no_channel_reason(campaign, c, promotional))
}

/// Why no channel of `campaign` may carry a message to `c`: a channel the customer
/// withdrew from is an opt-out, a consented SMS to a listed number is `do_not_call`,
/// anything else a missing consent or way to reach them.
fn no_channel_reason(campaign: &Campaign, c: &CustomerFacts, promotional: bool) -> SkipReason {
    let reachable = || campaign.channels.iter().filter(|ch| c.reachable(**ch));
    if !promotional {
        SkipReason::NoChannel
    } else if reachable().any(|ch| c.consent.opted_out_of(*ch)) {
        SkipReason::OptedOut
    } else if c.do_not_call && reachable().any(|ch| *ch == Channel::Sms && c.consent.allows(*ch)) {
        SkipReason::DoNotCall
    } else {
        SkipReason::NoChannel
    }
}
