//! The till: staff members who sign in with a PIN on a device enrolled for one location.
//!
//! * An admin **enrols a device** for a location; the device gets a token
//!   `rtd_<brand>_<device>_<secret>` (256 random bits, kept only as its SHA-256) that it
//!   holds in a cookie. Without an enrolled device there is no till.
//! * An admin **adds staff members**, each bound to ONE location, with a 4–6 digit PIN
//!   kept as a slow salted hash ([`pin`]). A PIN is nothing on its own: it opens only a
//!   till of the member's location, never the dashboard or the API (it is not a key).
//! * **Guesses are counted, not timed**: every PIN attempt counts against the device and
//!   the member before the PIN is checked, in one conditional update each, so
//!   concurrent guesses are all counted; a right PIN clears both counts. A member locks
//!   after [`PIN_ATTEMPTS`] wrong PINs in a row (an admin sets a new PIN to unlock), a
//!   device after [`DEVICE_PIN_ATTEMPTS`] (an admin enrols it again). A PIN of another
//!   location's member is a wrong PIN here, and counted as one.

mod actions;
pub(crate) mod pin;
mod staff_actions;

pub use actions::{
    TILL_FORM_TTL, TILL_SOURCE, TillOrder, TillOrderError, TillReceipt, TillRegistration,
    new_form_key, parse_amount, till_author,
};
pub use pin::pin_shaped;

use crate::error::{common_variants, store_class};
use crate::secrets::to_hex;
use crate::{ErrorClass, Services, UseCaseError};
use regulars_domain::{BrandId, DeviceId, LocationId, StaffId};
use regulars_ports::{Location, StaffMember, StoreError, TillDevice, Transaction};
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;
use time::OffsetDateTime;
use uuid::Uuid;

/// Wrong PINs in a row that lock a staff member out.
pub const PIN_ATTEMPTS: u32 = 5;
/// Wrong PINs in a row on one device that lock the device out.
pub const DEVICE_PIN_ATTEMPTS: u32 = 10;
/// Longest staff name or device label.
pub const MAX_TILL_NAME: usize = 100;
const DEVICE_TAG: &str = "rtd";

/// Why a till use case failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TillError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// The brand has no such location.
    #[error("no location {0}")]
    UnknownLocation(LocationId),
    /// The brand has no such active staff member.
    #[error("no active staff member {0}")]
    UnknownStaff(StaffId),
    /// The brand has no such active device.
    #[error("no active till device {0}")]
    UnknownDevice(DeviceId),
    /// A name or label is empty, too long or has control characters.
    #[error("{0} must be 1 to {MAX_TILL_NAME} bytes without control characters")]
    InvalidName(&'static str),
    /// A PIN is not 4 to 6 digits.
    #[error("pin must be 4 to 6 digits")]
    InvalidPin,
    /// The device token is unknown, revoked or malformed: this is not an enrolled till.
    #[error("this device is not enrolled as a till")]
    NotEnrolled,
    /// The PIN is wrong, or it is the PIN of a member of another location.
    #[error("wrong PIN")]
    WrongPin,
    /// The member typed too many wrong PINs; an admin must set a new one.
    #[error("too many wrong PINs: ask an admin for a new PIN")]
    StaffLocked,
    /// Too many wrong PINs were typed on this device; an admin must enrol it again.
    #[error("too many wrong PINs on this device: ask an admin to enrol it again")]
    DeviceLocked,
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(TillError, brand);

impl UseCaseError for TillError {
    fn class(&self) -> ErrorClass {
        match self {
            TillError::UnknownBrand(_)
            | TillError::UnknownLocation(_)
            | TillError::UnknownStaff(_)
            | TillError::UnknownDevice(_) => ErrorClass::NotFound,
            TillError::InvalidName(_) | TillError::InvalidPin => ErrorClass::Invalid,
            TillError::NotEnrolled
            | TillError::WrongPin
            | TillError::StaffLocked
            | TillError::DeviceLocked => ErrorClass::Refused,
            TillError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            TillError::UnknownBrand(_) => Some("brand"),
            TillError::UnknownLocation(_) => Some("location_id"),
            TillError::UnknownStaff(_) | TillError::StaffLocked => Some("staff_id"),
            TillError::UnknownDevice(_) | TillError::NotEnrolled | TillError::DeviceLocked => {
                Some("device")
            }
            TillError::InvalidName(field) => Some(field),
            TillError::InvalidPin | TillError::WrongPin => Some("pin"),
            TillError::Store(_) => None,
        }
    }
}

/// A staff member as shown to admins: never the PIN's hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffInfo {
    /// Their id.
    pub id: StaffId,
    /// Their location.
    pub location_id: LocationId,
    /// Their name.
    pub name: String,
    /// Whether wrong PINs locked them out.
    pub locked: bool,
    /// When they were added.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When they were removed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<&StaffMember> for StaffInfo {
    fn from(s: &StaffMember) -> Self {
        StaffInfo {
            id: s.id,
            location_id: s.location_id,
            name: s.name.clone(),
            locked: s.failed_pins >= PIN_ATTEMPTS,
            created_at: s.created_at,
            revoked_at: s.revoked_at,
        }
    }
}

/// A device as shown to admins: never its secret's hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    /// Its id.
    pub id: DeviceId,
    /// Its location.
    pub location_id: LocationId,
    /// A note for people.
    pub label: Option<String>,
    /// Whether wrong PINs locked it out.
    pub locked: bool,
    /// When it was enrolled.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it was revoked.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<&TillDevice> for DeviceInfo {
    fn from(d: &TillDevice) -> Self {
        DeviceInfo {
            id: d.id,
            location_id: d.location_id,
            label: d.label.clone(),
            locked: d.failed_pins >= DEVICE_PIN_ATTEMPTS,
            created_at: d.created_at,
            revoked_at: d.revoked_at,
        }
    }
}

/// A device just enrolled, with the token it keeps (shown once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolledDevice {
    /// The device.
    pub info: DeviceInfo,
    /// `rtd_<brand>_<device>_<secret>`: what the device's cookie holds.
    pub token: String,
}

/// Who works a till now: checked on every till request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TillStaff {
    /// The brand.
    pub brand: BrandId,
    /// The device.
    pub device: DeviceId,
    /// The staff member.
    pub staff: StaffId,
    /// Their name.
    pub staff_name: String,
    /// The location of both.
    pub location: Location,
}

/// A device known by its token: the brand and location it is the till of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TillDeviceView {
    /// The brand.
    pub brand: BrandId,
    /// The device.
    pub device: DeviceId,
    /// Its location.
    pub location: Location,
    /// The active staff members of the location, by name, for the sign-in list.
    pub staff: Vec<(StaffId, String)>,
}

fn clean_name(field: &'static str, name: &str) -> Result<String, TillError> {
    let name = name.trim();
    if name.is_empty() || name.len() > MAX_TILL_NAME || name.chars().any(char::is_control) {
        return Err(TillError::InvalidName(field));
    }
    Ok(name.to_owned())
}

/// `rtd_<brand>_<device>_<secret>` → its parts, when well shaped.
fn split_device_token(token: &str) -> Option<(BrandId, DeviceId, &str)> {
    let mut parts = token.trim().split('_');
    let (Some(DEVICE_TAG), Some(brand), Some(device), Some(secret), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let brand = Uuid::try_parse(brand).ok()?;
    let device = Uuid::try_parse(device).ok()?;
    (secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit())).then_some((
        BrandId::from_uuid(brand),
        DeviceId::from_uuid(device),
        secret,
    ))
}

fn sha256_hex(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

/// The verdict on one sign-in attempt, once it was counted. Pure, so the rule is
/// tested on its own: the device's lock comes first (it says nothing about the member),
/// then the member's; a member of another location, removed, or unknown is a wrong PIN.
pub(crate) fn pin_verdict(
    device: &TillDevice,
    device_counted: bool,
    staff: Option<&StaffMember>,
    staff_counted: bool,
    pin_right: bool,
) -> Result<(), TillError> {
    if !device_counted {
        return Err(TillError::DeviceLocked);
    }
    let Some(staff) = staff.filter(|s| s.revoked_at.is_none()) else {
        return Err(TillError::WrongPin);
    };
    if !staff_counted {
        return Err(TillError::StaffLocked);
    }
    if staff.location_id != device.location_id || !pin_right {
        return Err(TillError::WrongPin);
    }
    Ok(())
}

mod admin;

impl Services {
    async fn till_tx<T>(
        &self,
        use_case: &'static str,
        work: impl AsyncFn(&mut dyn Transaction) -> Result<T, TillError>,
    ) -> Result<T, TillError> {
        let work = &work;
        self.transact(use_case, |mut tx| async move {
            let result = work(tx.as_mut()).await;
            (tx, result)
        })
        .await
    }

    /// The enrolled, active device a token names, with its location and the location's
    /// staff for the sign-in list.
    pub async fn till_device(&self, token: &str) -> Result<TillDeviceView, TillError> {
        let (brand, id, secret) = split_device_token(token).ok_or(TillError::NotEnrolled)?;
        self.till_tx("till_device", async |tx| {
            let device = active_device(tx, brand, id, secret).await?;
            let location = tx
                .locations()
                .location(brand, device.location_id)
                .await?
                .ok_or(TillError::NotEnrolled)?;
            let staff = tx
                .till()
                .staff(brand)
                .await?
                .into_iter()
                .filter(|s| s.revoked_at.is_none() && s.location_id == device.location_id)
                .map(|s| (s.id, s.name))
                .collect();
            Ok(TillDeviceView {
                brand,
                device: id,
                location,
                staff,
            })
        })
        .await
    }

    /// Signs `staff` in on the device `token` names with `pin`. The attempt is counted
    /// (and committed) before the PIN is checked; a right PIN clears the counts.
    pub async fn till_sign_in(
        &self,
        token: &str,
        staff: StaffId,
        pin: &str,
    ) -> Result<TillStaff, TillError> {
        let (brand, id, secret) = split_device_token(token).ok_or(TillError::NotEnrolled)?;
        let (device, member, counted) = self
            .till_tx("till_count_pin", async |tx| {
                let device = active_device(tx, brand, id, secret).await?;
                let member = tx.till().staff_member(brand, staff).await?;
                let counted = tx
                    .till()
                    .count_pin_attempt(brand, id, staff, DEVICE_PIN_ATTEMPTS, PIN_ATTEMPTS)
                    .await?;
                Ok((device, member, counted))
            })
            .await?;
        // The slow hash runs outside any transaction: it holds no lock while it works.
        let pin_right = pin_shaped(pin)
            && member
                .as_ref()
                .is_some_and(|m| pin::pin_matches(pin, &m.pin_hash));
        pin_verdict(&device, counted.0, member.as_ref(), counted.1, pin_right)?;
        self.till_tx("till_sign_in", async |tx| {
            tx.till().clear_pin_failures(brand, id, staff).await?;
            self.till_staff_in(tx, brand, id, staff).await
        })
        .await
    }

    /// Who works the till now: the device and the member are still active and not
    /// locked, and of the same location. Every till request checks it again, so removing
    /// a member or revoking a device ends their sessions at once.
    pub async fn till_staff(
        &self,
        brand: BrandId,
        device: DeviceId,
        staff: StaffId,
    ) -> Result<TillStaff, TillError> {
        self.till_tx("till_staff", async |tx| {
            self.till_staff_in(tx, brand, device, staff).await
        })
        .await
    }

    async fn till_staff_in(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        device: DeviceId,
        staff: StaffId,
    ) -> Result<TillStaff, TillError> {
        let found = tx.till().device(brand, device).await?;
        let Some(found) = found.filter(|d| d.revoked_at.is_none()) else {
            return Err(TillError::NotEnrolled);
        };
        if found.failed_pins >= DEVICE_PIN_ATTEMPTS {
            return Err(TillError::DeviceLocked);
        }
        let member = tx.till().staff_member(brand, staff).await?;
        let Some(member) = member.filter(|m| m.revoked_at.is_none()) else {
            return Err(TillError::UnknownStaff(staff));
        };
        if member.failed_pins >= PIN_ATTEMPTS {
            return Err(TillError::StaffLocked);
        }
        if member.location_id != found.location_id {
            return Err(TillError::WrongPin);
        }
        let location = tx
            .locations()
            .location(brand, found.location_id)
            .await?
            .ok_or(TillError::UnknownLocation(found.location_id))?;
        Ok(TillStaff {
            brand,
            device,
            staff,
            staff_name: member.name,
            location,
        })
    }
}

async fn active_device(
    tx: &mut dyn Transaction,
    brand: BrandId,
    id: DeviceId,
    secret: &str,
) -> Result<TillDevice, TillError> {
    let device = tx.till().device(brand, id).await?;
    let Some(device) = device.filter(|d| d.revoked_at.is_none()) else {
        return Err(TillError::NotEnrolled);
    };
    let presented = sha256_hex(secret.to_ascii_lowercase().as_bytes());
    if !bool::from(presented.as_bytes().ct_eq(device.secret_hash.as_bytes())) {
        return Err(TillError::NotEnrolled);
    }
    Ok(device)
}

#[cfg(test)]
mod tests;
