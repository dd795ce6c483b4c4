//! Which of a brand's locations a caller sees: the whole brand (admin, viewer, till
//! keys), or the locations a `manager` key lists. This is the one place that says it;
//! the HTTP API and the dashboard ask it for every location-scoped read, and refuse a
//! manager every read that is not scoped.

use regulars_domain::LocationId;
use regulars_ports::Role;
use std::collections::BTreeSet;
use thiserror::Error;

/// Most locations one manager key may list.
pub const MAX_MANAGER_LOCATIONS: usize = 100;

/// The locations a caller's reads cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every location, and orders without one: an admin, viewer or till key.
    Brand,
    /// These locations only (a manager key); orders without a location are outside.
    Locations(BTreeSet<LocationId>),
}

/// A location asked for outside the caller's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("this key does not cover location {0}")]
pub struct OutOfScope(pub LocationId);

impl Scope {
    /// The scope of a key of `role` listing `locations`: a manager sees exactly its
    /// locations (none if it lists none), every other role the whole brand.
    pub fn of(role: Role, locations: &[LocationId]) -> Scope {
        match role {
            Role::Manager => Scope::Locations(locations.iter().copied().collect()),
            Role::Admin | Role::Pos | Role::Viewer => Scope::Brand,
        }
    }

    /// Whether the scope is the whole brand.
    pub fn is_brand(&self) -> bool {
        matches!(self, Scope::Brand)
    }

    /// Whether `location` is inside the scope.
    pub fn covers(&self, location: LocationId) -> bool {
        match self {
            Scope::Brand => true,
            Scope::Locations(set) => set.contains(&location),
        }
    }

    /// The scope of a read that asks for `requested` (a `?location=` filter): that one
    /// location when the scope covers it, the whole scope when nothing is asked. A
    /// request can narrow a scope, never widen it.
    pub fn narrow(&self, requested: Option<LocationId>) -> Result<Scope, OutOfScope> {
        match requested {
            None => Ok(self.clone()),
            Some(location) if self.covers(location) => {
                Ok(Scope::Locations(BTreeSet::from([location])))
            }
            Some(location) => Err(OutOfScope(location)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn loc(n: u8) -> LocationId {
        LocationId::from_bytes([n; 16])
    }

    fn role() -> impl Strategy<Value = Role> {
        prop_oneof![
            Just(Role::Admin),
            Just(Role::Pos),
            Just(Role::Viewer),
            Just(Role::Manager)
        ]
    }

    #[test]
    fn a_manager_sees_its_locations_and_others_the_brand() {
        assert_eq!(
            Scope::of(Role::Manager, &[loc(1)]),
            Scope::Locations(BTreeSet::from([loc(1)]))
        );
        assert_eq!(Scope::of(Role::Viewer, &[loc(1)]), Scope::Brand);
        assert_eq!(
            Scope::of(Role::Manager, &[]).narrow(Some(loc(1))),
            Err(OutOfScope(loc(1)))
        );
    }

    proptest! {
        /// Narrowing never widens: whatever is asked, the result covers no location the
        /// key's scope does not, and a location outside it is refused, not ignored.
        #[test]
        fn narrowing_never_widens(
            role in role(),
            granted in proptest::collection::vec(0u8..8, 0..5),
            asked in proptest::option::of(0u8..8),
            probe in 0u8..8,
        ) {
            let granted: Vec<LocationId> = granted.into_iter().map(loc).collect();
            let scope = Scope::of(role, &granted);
            match scope.narrow(asked.map(loc)) {
                Ok(narrowed) => {
                    if narrowed.covers(loc(probe)) {
                        prop_assert!(scope.covers(loc(probe)));
                    }
                    if let Some(asked) = asked {
                        prop_assert_eq!(narrowed, Scope::Locations(BTreeSet::from([loc(asked)])));
                    } else {
                        prop_assert_eq!(narrowed, scope.clone());
                    }
                }
                Err(OutOfScope(l)) => {
                    prop_assert_eq!(Some(l), asked.map(loc));
                    prop_assert!(!scope.covers(l));
                    prop_assert_eq!(role, Role::Manager);
                }
            }
            // Only a manager is ever limited.
            prop_assert_eq!(scope.is_brand(), role != Role::Manager);
        }
    }
}
