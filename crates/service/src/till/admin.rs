//! An admin's side of the till: enrolling devices and managing staff members.

use super::{
    DEVICE_TAG, DeviceInfo, EnrolledDevice, StaffInfo, TillError, clean_name, pin, pin_shaped,
    sha256_hex,
};
use crate::Services;
use crate::account::load_brand;
use crate::secrets::to_hex;
use regulars_domain::{BrandId, DeviceId, LocationId, StaffId};
use regulars_ports::{StaffMember, TillDevice, Transaction};

async fn known_location(
    tx: &mut dyn Transaction,
    brand: BrandId,
    location: LocationId,
) -> Result<(), TillError> {
    load_brand::<TillError>(tx, brand).await?;
    if tx.locations().location(brand, location).await?.is_none() {
        return Err(TillError::UnknownLocation(location));
    }
    Ok(())
}

impl Services {
    /// Enrols a device as a till of `location`. The returned token is the only copy of
    /// the device's secret: the device keeps it in a cookie.
    pub async fn enrol_till_device(
        &self,
        brand: BrandId,
        location: LocationId,
        label: Option<String>,
    ) -> Result<EnrolledDevice, TillError> {
        let label = match label.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
            Some(l) => Some(clean_name("label", l)?),
            None => None,
        };
        let label = &label;
        self.till_tx("enrol_till_device", async |tx| {
            known_location(tx, brand, location).await?;
            let mut secret = [0u8; 32];
            self.ids.fill_bytes(&mut secret);
            let secret = to_hex(&secret);
            let device = TillDevice {
                id: DeviceId::from_uuid(self.ids.new_id()),
                brand_id: brand,
                location_id: location,
                label: label.clone(),
                secret_hash: sha256_hex(secret.as_bytes()),
                failed_pins: 0,
                created_at: self.clock.now(),
                revoked_at: None,
            };
            tx.till().insert_device(&device).await?;
            Ok(EnrolledDevice {
                info: DeviceInfo::from(&device),
                token: format!(
                    "{DEVICE_TAG}_{}_{}_{secret}",
                    brand.as_uuid().simple(),
                    device.id.as_uuid().simple()
                ),
            })
        })
        .await
    }

    /// The brand's till devices, revoked ones included.
    pub async fn till_devices(&self, brand: BrandId) -> Result<Vec<DeviceInfo>, TillError> {
        self.till_tx("till_devices", async |tx| {
            load_brand::<TillError>(tx, brand).await?;
            let devices = tx.till().devices(brand).await?;
            Ok(devices.iter().map(DeviceInfo::from).collect())
        })
        .await
    }

    /// Revokes a device: it is no till from its next request on.
    pub async fn revoke_till_device(&self, brand: BrandId, id: DeviceId) -> Result<(), TillError> {
        self.till_tx("revoke_till_device", async |tx| {
            if tx.till().revoke_device(brand, id, self.clock.now()).await? {
                Ok(())
            } else {
                Err(TillError::UnknownDevice(id))
            }
        })
        .await
    }

    /// Adds a staff member to `location` with a 4–6 digit PIN.
    pub async fn add_staff(
        &self,
        brand: BrandId,
        location: LocationId,
        name: &str,
        pin: &str,
    ) -> Result<StaffInfo, TillError> {
        let name = clean_name("name", name)?;
        let pin_hash = self.hash_new_pin(pin)?;
        let (name, pin_hash) = (&name, &pin_hash);
        self.till_tx("add_staff", async |tx| {
            known_location(tx, brand, location).await?;
            let member = StaffMember {
                id: StaffId::from_uuid(self.ids.new_id()),
                brand_id: brand,
                location_id: location,
                name: name.clone(),
                pin_hash: pin_hash.clone(),
                failed_pins: 0,
                created_at: self.clock.now(),
                revoked_at: None,
            };
            tx.till().insert_staff(&member).await?;
            Ok(StaffInfo::from(&member))
        })
        .await
    }

    /// The brand's staff members, removed ones included.
    pub async fn staff(&self, brand: BrandId) -> Result<Vec<StaffInfo>, TillError> {
        self.till_tx("staff", async |tx| {
            load_brand::<TillError>(tx, brand).await?;
            let staff = tx.till().staff(brand).await?;
            Ok(staff.iter().map(StaffInfo::from).collect())
        })
        .await
    }

    /// Gives an active member a new PIN, which also lifts a lock-out.
    pub async fn set_staff_pin(
        &self,
        brand: BrandId,
        id: StaffId,
        pin: &str,
    ) -> Result<(), TillError> {
        let pin_hash = self.hash_new_pin(pin)?;
        let pin_hash = &pin_hash;
        self.till_tx("set_staff_pin", async |tx| {
            if tx.till().set_pin(brand, id, pin_hash).await? {
                Ok(())
            } else {
                Err(TillError::UnknownStaff(id))
            }
        })
        .await
    }

    /// Removes a staff member: their PIN opens nothing from now on.
    pub async fn remove_staff(&self, brand: BrandId, id: StaffId) -> Result<(), TillError> {
        self.till_tx("remove_staff", async |tx| {
            if tx.till().revoke_staff(brand, id, self.clock.now()).await? {
                Ok(())
            } else {
                Err(TillError::UnknownStaff(id))
            }
        })
        .await
    }

    fn hash_new_pin(&self, pin: &str) -> Result<String, TillError> {
        if !pin_shaped(pin) {
            return Err(TillError::InvalidPin);
        }
        let mut salt = [0u8; 16];
        self.ids.fill_bytes(&mut salt);
        Ok(pin::hash_pin(pin, &salt))
    }
}
