//! The till's people and devices: staff members who sign in with a PIN, and the devices
//! a brand enrolled as the till of one location.

use async_trait::async_trait;
use regulars_domain::{BrandId, DeviceId, LocationId, OrderId, StaffId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::StoreError;

/// A staff member: signs in on the till of their one location with a PIN, and nowhere
/// else (not the dashboard, not the API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    /// Their id.
    pub id: StaffId,
    /// The brand they work for.
    pub brand_id: BrandId,
    /// The one location whose tills they may use.
    pub location_id: LocationId,
    /// The name shown on the till's sign-in list and in the audit trail.
    pub name: String,
    /// The PIN's slow hash (salt, iterations and digest; never the PIN).
    pub pin_hash: String,
    /// Wrong PINs since the last right one; at the limit the member is locked out.
    pub failed_pins: u32,
    /// When they were added.
    pub created_at: OffsetDateTime,
    /// When they were removed; a removed member signs in nowhere.
    pub revoked_at: Option<OffsetDateTime>,
}

/// A device enrolled as the till of one location. The device holds a long random secret
/// in a cookie; only the secret's SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TillDevice {
    /// Its id.
    pub id: DeviceId,
    /// The brand.
    pub brand_id: BrandId,
    /// The location it is the till of.
    pub location_id: LocationId,
    /// A note for people ("counter tablet").
    pub label: Option<String>,
    /// Hex SHA-256 of the device secret.
    pub secret_hash: String,
    /// Wrong PINs typed on it since the last right one; at the limit it is locked out.
    pub failed_pins: u32,
    /// When it was enrolled.
    pub created_at: OffsetDateTime,
    /// When it was revoked; a revoked device is no till.
    pub revoked_at: Option<OffsetDateTime>,
}

/// What a staff member did at the till, for the report by staff member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TillActionKind {
    /// Rang up an order.
    Order,
    /// Signed a customer up.
    SignUp,
    /// Redeemed a voucher.
    Voucher,
}

impl TillActionKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TillActionKind::Order => "order",
            TillActionKind::SignUp => "sign_up",
            TillActionKind::Voucher => "voucher",
        }
    }

    /// The kind of a stored name.
    pub fn parse(name: &str) -> Option<TillActionKind> {
        [
            TillActionKind::Order,
            TillActionKind::SignUp,
            TillActionKind::Voucher,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }
}

/// One action of a staff member at the till.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TillAction {
    /// Its id.
    pub id: uuid::Uuid,
    /// The brand.
    pub brand_id: BrandId,
    /// When.
    pub at: OffsetDateTime,
    /// Who.
    pub staff_id: StaffId,
    /// At which location's till.
    pub location_id: LocationId,
    /// What.
    pub kind: TillActionKind,
    /// The order rung up, for an order.
    pub order_id: Option<OrderId>,
}

/// Staff members and till devices.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TillRepo: Send {
    /// Stores a new device.
    async fn insert_device(&mut self, device: &TillDevice) -> Result<(), StoreError>;
    /// A device of the brand.
    async fn device(
        &mut self,
        brand: BrandId,
        id: DeviceId,
    ) -> Result<Option<TillDevice>, StoreError>;
    /// The brand's devices, revoked ones included, oldest first.
    async fn devices(&mut self, brand: BrandId) -> Result<Vec<TillDevice>, StoreError>;
    /// Revokes an active device; `false` when there was none.
    async fn revoke_device(
        &mut self,
        brand: BrandId,
        id: DeviceId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Stores a new staff member.
    async fn insert_staff(&mut self, staff: &StaffMember) -> Result<(), StoreError>;
    /// A staff member of the brand.
    async fn staff_member(
        &mut self,
        brand: BrandId,
        id: StaffId,
    ) -> Result<Option<StaffMember>, StoreError>;
    /// The brand's staff, removed ones included, oldest first.
    async fn staff(&mut self, brand: BrandId) -> Result<Vec<StaffMember>, StoreError>;
    /// Sets an active member's PIN hash and clears their failures (an admin resetting a
    /// locked-out PIN); `false` when there is no such active member.
    async fn set_pin(
        &mut self,
        brand: BrandId,
        id: StaffId,
        pin_hash: &str,
    ) -> Result<bool, StoreError>;
    /// Removes an active member; `false` when there was none.
    async fn revoke_staff(
        &mut self,
        brand: BrandId,
        id: StaffId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Counts one PIN attempt against the device and the member, in one conditional
    /// update each (`failed_pins + 1` where it is below its limit), so concurrent guesses
    /// are all counted. Returns whether each was still below its limit (and so counted).
    async fn count_pin_attempt(
        &mut self,
        brand: BrandId,
        device: DeviceId,
        staff: StaffId,
        device_limit: u32,
        staff_limit: u32,
    ) -> Result<(bool, bool), StoreError>;
    /// Clears the failures of the device and the member after a right PIN.
    async fn clear_pin_failures(
        &mut self,
        brand: BrandId,
        device: DeviceId,
        staff: StaffId,
    ) -> Result<(), StoreError>;
    /// Records a staff member's action at the till.
    async fn record_till_action(&mut self, action: &TillAction) -> Result<(), StoreError>;
    /// A page of the brand's till actions at `[from, to)`, ordered by `(at, id)`, after
    /// the key `after`.
    async fn till_actions(
        &mut self,
        brand: BrandId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        after: Option<(OffsetDateTime, uuid::Uuid)>,
        limit: u64,
    ) -> Result<Vec<TillAction>, StoreError>;
}
