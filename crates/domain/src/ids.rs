//! Typed identifiers, so a customer id can never be passed where a brand id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps an existing UUID. New ids come from the `IdGen` port, never from here.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// Builds an id from 16 bytes (for example from a CSPRNG or a database row).
            pub const fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(Uuid::from_bytes(bytes))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

define_id!(
    /// A brand (tenant). Every stored row belongs to exactly one brand.
    BrandId
);
define_id!(
    /// A physical shop of a brand.
    LocationId
);
define_id!(
    /// A customer of one brand.
    CustomerId
);
define_id!(
    /// An order as stored by Regulars (the POS's own id is in [`crate::EventKey`]).
    OrderId
);
define_id!(
    /// An item of the rewards catalogue.
    RewardId
);
define_id!(
    /// A tier of a brand's tier programme.
    TierId
);
define_id!(
    /// A voucher issued to a customer.
    VoucherId
);
define_id!(
    /// A marketing campaign.
    CampaignId
);

define_id!(
    /// An API key of a brand (its public id; the secret is never stored).
    ApiKeyId
);
define_id!(
    /// A POS integration of a brand: where its webhooks come in and with which secret.
    IntegrationId
);
define_id!(
    /// A custom segment definition of a brand.
    SegmentId
);
define_id!(
    /// A staff member of a brand, who signs in at a till with a PIN.
    StaffId
);
define_id!(
    /// A device (a tablet, a phone) a brand enrolled as the till of one location.
    DeviceId
);
define_id!(
    /// An owner's goal: a target for one of the programme's figures.
    GoalId
);
