//! The till's sign-in rules: PINs counted per device and per member, locked out after
//! the limit, and bound to the member's one location. Run over a small in-memory store
//! made of the ports' mocks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use proptest::prelude::*;
use regulars_ports::mocks::MockTransaction;
use regulars_ports::{Clock, IdGen, MockClock, MockIdGen, MockUnitOfWork};
use std::sync::{Arc, Mutex};
use time::macros::datetime;

const BRAND: BrandId = BrandId::from_bytes([0xB1; 16]);
const Q1: LocationId = LocationId::from_bytes([0x01; 16]);
const Q3: LocationId = LocationId::from_bytes([0x03; 16]);

#[derive(Default)]
struct TillWorld {
    devices: Vec<TillDevice>,
    staff: Vec<StaffMember>,
}

fn location(id: LocationId) -> Location {
    Location {
        id,
        brand_id: BRAND,
        code: if id == Q1 { "q1" } else { "q3" }.to_owned(),
        name: "Shop".to_owned(),
        utc_offset: None,
        created_at: datetime!(2026-01-01 0:00 UTC),
    }
}

fn transaction(world: &Arc<Mutex<TillWorld>>) -> MockTransaction {
    let mut tx = MockTransaction::default();
    tx.locations
        .expect_location()
        .returning(|_, id| Ok([Q1, Q3].contains(&id).then(|| location(id))));
    tx.locations.expect_locations().returning(|_| Ok(vec![]));
    let w = world.clone();
    tx.till.expect_insert_device().returning(move |d| {
        w.lock().unwrap().devices.push(d.clone());
        Ok(())
    });
    let w = world.clone();
    tx.till.expect_insert_staff().returning(move |s| {
        w.lock().unwrap().staff.push(s.clone());
        Ok(())
    });
    let w = world.clone();
    tx.till.expect_device().returning(move |_, id| {
        Ok(w.lock()
            .unwrap()
            .devices
            .iter()
            .find(|d| d.id == id)
            .cloned())
    });
    let w = world.clone();
    tx.till
        .expect_staff_member()
        .returning(move |_, id| Ok(w.lock().unwrap().staff.iter().find(|s| s.id == id).cloned()));
    let w = world.clone();
    tx.till
        .expect_staff()
        .returning(move |_| Ok(w.lock().unwrap().staff.clone()));
    let w = world.clone();
    tx.till.expect_count_pin_attempt().returning(
        move |_, device, staff, device_limit, staff_limit| {
            let mut w = w.lock().unwrap();
            let on_device = w
                .devices
                .iter_mut()
                .find(|d| d.id == device)
                .is_some_and(|d| {
                    let below = d.failed_pins < device_limit;
                    d.failed_pins += u32::from(below);
                    below
                });
            let on_staff = w.staff.iter_mut().find(|s| s.id == staff).is_some_and(|s| {
                let below = s.failed_pins < staff_limit;
                s.failed_pins += u32::from(below);
                below
            });
            Ok((on_device, on_staff))
        },
    );
    let w = world.clone();
    tx.till
        .expect_clear_pin_failures()
        .returning(move |_, device, staff| {
            let mut w = w.lock().unwrap();
            w.devices
                .iter_mut()
                .filter(|d| d.id == device)
                .for_each(|d| d.failed_pins = 0);
            w.staff
                .iter_mut()
                .filter(|s| s.id == staff)
                .for_each(|s| s.failed_pins = 0);
            Ok(())
        });
    let w = world.clone();
    tx.till.expect_set_pin().returning(move |_, id, hash| {
        let mut w = w.lock().unwrap();
        let found = w.staff.iter_mut().find(|s| s.id == id);
        Ok(found.is_some_and(|s| {
            s.pin_hash = hash.to_owned();
            s.failed_pins = 0;
            true
        }))
    });
    tx.brands.expect_brand().returning(|_| {
        Ok(Some(regulars_ports::Brand {
            id: BRAND,
            name: "Trà".into(),
            currency: regulars_domain::Currency::VND,
            calling_code: regulars_domain::CallingCode(84),
            utc_offset: time::macros::offset!(+7),
            refund_policy: regulars_loyalty::ledger::RefundPolicy::Clamp,
            points_validity_days: None,
            created_at: datetime!(2026-01-01 0:00 UTC),
        }))
    });
    tx
}

struct Till {
    services: Services,
    world: Arc<Mutex<TillWorld>>,
}

impl Till {
    fn new() -> Till {
        let world = Arc::new(Mutex::new(TillWorld::default()));
        let mut uow = MockUnitOfWork::new();
        let w = world.clone();
        uow.expect_begin().returning(move || {
            let tx: Box<dyn Transaction> = Box::new(transaction(&w));
            Ok(tx)
        });
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .returning(|| datetime!(2026-05-06 03:00 UTC));
        let counter = Arc::new(Mutex::new(0u128));
        let mut ids = MockIdGen::new();
        let c = counter.clone();
        ids.expect_new_id().returning(move || {
            let mut n = c.lock().unwrap();
            *n += 1;
            Uuid::from_u128(*n)
        });
        let c = counter;
        ids.expect_fill_bytes().returning(move |dest| {
            let mut n = c.lock().unwrap();
            *n += 1;
            for (i, b) in dest.iter_mut().enumerate() {
                *b = (*n as u8).wrapping_add(i as u8).wrapping_mul(31);
            }
        });
        let clock: Arc<dyn Clock> = Arc::new(clock);
        let ids: Arc<dyn IdGen> = Arc::new(ids);
        Till {
            services: Services::new(Arc::new(uow), clock, ids),
            world,
        }
    }

    fn failures(&self, staff: StaffId, device: DeviceId) -> (u32, u32) {
        let w = self.world.lock().unwrap();
        let s = w.staff.iter().find(|s| s.id == staff).unwrap().failed_pins;
        let d = w
            .devices
            .iter()
            .find(|d| d.id == device)
            .unwrap()
            .failed_pins;
        (s, d)
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn a_member_signs_in_with_their_pin_on_their_locations_device_only() {
    block_on(async {
        let till = Till::new();
        let s = &till.services;
        let q1 = s.enrol_till_device(BRAND, Q1, None).await.unwrap();
        let q3 = s.enrol_till_device(BRAND, Q3, None).await.unwrap();
        let lan = s.add_staff(BRAND, Q1, "Lan", "2468").await.unwrap();
        let at = s.till_sign_in(&q1.token, lan.id, "2468").await.unwrap();
        assert_eq!(at.location.id, Q1);
        assert_eq!(at.staff_name, "Lan");
        // Q1's PIN on Q3's device is a wrong PIN, and counted against both.
        assert_eq!(
            s.till_sign_in(&q3.token, lan.id, "2468").await,
            Err(TillError::WrongPin)
        );
        assert_eq!(till.failures(lan.id, q3.info.id), (1, 1));
        // A forged or altered device token is no till.
        let last = if q1.token.ends_with('a') { "b" } else { "a" };
        let forged = format!("{}{last}", &q1.token[..q1.token.len() - 1]);
        assert_eq!(
            s.till_sign_in(&forged, lan.id, "2468").await,
            Err(TillError::NotEnrolled)
        );
        assert_eq!(
            s.till_sign_in("2468", lan.id, "2468").await,
            Err(TillError::NotEnrolled)
        );
        // A right PIN clears the count.
        s.till_sign_in(&q1.token, lan.id, "2468").await.unwrap();
        assert_eq!(till.failures(lan.id, q1.info.id).0, 0);
    });
}

#[test]
fn a_member_locks_after_the_limit_and_a_new_pin_unlocks() {
    block_on(async {
        let till = Till::new();
        let s = &till.services;
        let q1 = s.enrol_till_device(BRAND, Q1, None).await.unwrap();
        let lan = s.add_staff(BRAND, Q1, "Lan", "2468").await.unwrap();
        for _ in 0..PIN_ATTEMPTS {
            assert_eq!(
                s.till_sign_in(&q1.token, lan.id, "1111").await,
                Err(TillError::WrongPin)
            );
        }
        // Locked: even the right PIN is refused now.
        assert_eq!(
            s.till_sign_in(&q1.token, lan.id, "2468").await,
            Err(TillError::StaffLocked)
        );
        assert_eq!(till.failures(lan.id, q1.info.id).0, PIN_ATTEMPTS);
        s.set_staff_pin(BRAND, lan.id, "1357").await.unwrap();
        s.till_sign_in(&q1.token, lan.id, "1357").await.unwrap();
    });
}

#[test]
fn a_device_locks_after_its_limit_whoever_is_guessed() {
    block_on(async {
        let till = Till::new();
        let s = &till.services;
        let q1 = s.enrol_till_device(BRAND, Q1, None).await.unwrap();
        let mut members = Vec::new();
        for name in ["A", "B", "C"] {
            members.push(s.add_staff(BRAND, Q1, name, "2468").await.unwrap().id);
        }
        // Spread over three members, the guesses stay under each member's limit.
        for i in 0..DEVICE_PIN_ATTEMPTS {
            let who = members[i as usize % members.len()];
            assert_eq!(
                s.till_sign_in(&q1.token, who, "0000").await,
                Err(TillError::WrongPin)
            );
        }
        assert_eq!(
            s.till_sign_in(&q1.token, members[0], "2468").await,
            Err(TillError::DeviceLocked)
        );
    });
}

#[test]
fn pins_must_be_four_to_six_digits() {
    block_on(async {
        let till = Till::new();
        let s = &till.services;
        for bad in ["123", "1234567", "12a4", ""] {
            assert_eq!(
                s.add_staff(BRAND, Q1, "Lan", bad).await,
                Err(TillError::InvalidPin)
            );
        }
        assert_eq!(
            s.add_staff(BRAND, LocationId::from_bytes([9; 16]), "Lan", "1234")
                .await,
            Err(TillError::UnknownLocation(LocationId::from_bytes([9; 16])))
        );
    });
}

fn device(location: LocationId) -> TillDevice {
    TillDevice {
        id: DeviceId::from_bytes([0xD1; 16]),
        brand_id: BRAND,
        location_id: location,
        label: None,
        secret_hash: String::new(),
        failed_pins: 0,
        created_at: datetime!(2026-01-01 0:00 UTC),
        revoked_at: None,
    }
}

fn member(location: LocationId, revoked: bool) -> StaffMember {
    StaffMember {
        id: StaffId::from_bytes([0x51; 16]),
        brand_id: BRAND,
        location_id: location,
        name: "Lan".into(),
        pin_hash: String::new(),
        failed_pins: 0,
        created_at: datetime!(2026-01-01 0:00 UTC),
        revoked_at: revoked.then_some(datetime!(2026-02-01 0:00 UTC)),
    }
}

proptest! {
    /// Only a right PIN of an active member of the device's own location, with both
    /// counts below their limits, signs in; everything else is refused.
    #[test]
    fn only_the_right_pin_at_the_right_location_signs_in(
        device_counted: bool,
        staff_counted: bool,
        pin_right: bool,
        same_location: bool,
        revoked: bool,
        known: bool,
    ) {
        let d = device(Q1);
        let m = member(if same_location { Q1 } else { Q3 }, revoked);
        let verdict = pin_verdict(&d, device_counted, known.then_some(&m), staff_counted, pin_right);
        let allowed = device_counted && staff_counted && pin_right && same_location && !revoked && known;
        prop_assert_eq!(verdict.is_ok(), allowed);
        if !device_counted {
            prop_assert_eq!(verdict, Err(TillError::DeviceLocked));
        }
    }

    /// Whatever the order of right and wrong PINs, a member is locked exactly when the
    /// last PIN_ATTEMPTS attempts since their last success were all wrong.
    #[test]
    fn a_member_locks_exactly_after_the_limit_of_wrong_pins_in_a_row(
        attempts in proptest::collection::vec(any::<bool>(), 0..20)
    ) {
        let mut failed = 0u32;
        let mut locked_model = false;
        for right in attempts {
            let counted = failed < PIN_ATTEMPTS;
            failed += u32::from(counted);
            let verdict = pin_verdict(&device(Q1), true, Some(&member(Q1, false)), counted, right);
            if verdict.is_ok() {
                failed = 0;
            }
            prop_assert_eq!(verdict == Err(TillError::StaffLocked), locked_model);
            let wrong_in_a_row_reached = !right && failed >= PIN_ATTEMPTS;
            locked_model = locked_model || wrong_in_a_row_reached;
        }
    }
}
