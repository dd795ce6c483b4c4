//! What may have changed since the messages of a batch were planned, read in the
//! transaction that claims them: their customers' consent, the do-not-call list, what
//! their brands track.

use regulars_domain::{BrandId, Channel, ChannelConsent, CustomerId, Phone};
use regulars_ports::{OutboxMessage, StoreError, Transaction};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Why a promotional message must not go out on its channel any more, if it must not:
/// its customer's consent to promotions on that channel is no longer granted, or it is
/// an SMS to a number put on the do-not-call list since it was planned. It then
/// moves to its next channel (checked again there) or, on its last one, is `cancelled`
/// (as an erasure cancels), never sent.
pub(super) fn withdrawn(recheck: &Recheck, message: &OutboxMessage) -> Option<String> {
    if !message.promotional {
        return None;
    }
    let channel = message.route.channel;
    if channel == Channel::Sms && recheck.listed.contains(&message.route.recipient) {
        return Some("the number is on the do-not-call list".to_owned());
    }
    let customer = message.customer_id?;
    let consent = recheck.consents.get(&(message.brand_id, customer))?;
    (!consent.allows(channel)).then(|| {
        format!(
            "the customer's consent to promotional {} messages is {}",
            channel_name(channel),
            consent
                .state(regulars_domain::Purpose::Marketing(channel))
                .as_str()
                .replace('_', " ")
        )
    })
}

/// What may have changed since the messages claimed were planned: their customers'
/// consent, and which of their SMS numbers are on the do-not-call list now.
#[derive(Default)]
pub(super) struct Recheck {
    consents: HashMap<(BrandId, CustomerId), ChannelConsent>,
    listed: HashSet<String>,
    /// What each brand tracks of its messages (links, opens).
    pub(super) tracking: crate::engagement::send::Tracking,
}

impl Recheck {
    /// Whether the customer of `message` consents to marketing email now.
    pub(super) fn email_consent(&self, message: &OutboxMessage) -> bool {
        message.customer_id.is_some_and(|c| {
            self.consents
                .get(&(message.brand_id, c))
                .is_some_and(|consent| consent.allows(Channel::Email))
        })
    }
}

fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Zalo => "Zalo",
        Channel::Sms => "SMS",
        Channel::Email => "email",
    }
}

/// Reads, in the transaction that claimed them, the consent now of the customers of
/// the promotional messages claimed (consent may have been withdrawn since the messages
/// were planned), which of their SMS numbers are on the do-not-call list now, and what
/// their brands track: one read per brand of the batch, one of the list.
pub(super) async fn read(
    tx: &mut dyn Transaction,
    claimed: &[OutboxMessage],
) -> Result<Recheck, StoreError> {
    let mut wanted: BTreeMap<BrandId, Vec<CustomerId>> = BTreeMap::new();
    // Email to a customer is rechecked too: its open pixel needs their consent.
    for m in claimed
        .iter()
        .filter(|m| m.promotional || m.route.channel == Channel::Email)
    {
        if let Some(customer) = m.customer_id {
            wanted.entry(m.brand_id).or_default().push(customer);
        }
    }
    for customers in wanted.values_mut() {
        customers.sort_unstable();
        customers.dedup();
    }
    let sms: Vec<Phone> = claimed
        .iter()
        .filter(|m| m.promotional && m.route.channel == Channel::Sms)
        .filter_map(|m| Phone::parse_e164(&m.route.recipient).ok())
        .collect();
    let to_customers = claimed.iter().any(|m| m.customer_id.is_some());
    if wanted.is_empty() && sms.is_empty() && !to_customers {
        return Ok(Recheck::default());
    }
    let tracking = crate::engagement::send::tracking_of(tx, claimed).await?;
    let listed = tx
        .do_not_call()
        .do_not_call_listed(&sms)
        .await?
        .into_iter()
        .map(|p| p.as_str().to_owned())
        .collect();
    // A customer no longer stored is left out: erasure cancels their messages.
    let mut consents = HashMap::with_capacity(wanted.len());
    for (brand, customers) in wanted {
        let found = tx.customers().consents(brand, &customers).await?;
        consents.extend(
            found
                .into_iter()
                .map(|(customer, consent)| ((brand, customer), consent)),
        );
    }
    Ok(Recheck {
        consents,
        listed,
        tracking,
    })
}
