//! Segment sizes and movement between two snapshots of membership: who entered and who
//! left each segment since the last recomputation.

use std::collections::{BTreeMap, BTreeSet};

/// Segment membership at one moment: each customer and the names of the segments they
/// are in. A customer absent from the map is in no segment.
pub type Snapshot<K> = BTreeMap<K, BTreeSet<String>>;

/// How one segment changed between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement<K> {
    /// Members in the earlier snapshot.
    pub size_before: usize,
    /// Members in the later snapshot.
    pub size_after: usize,
    /// Customers in the segment now who were not before, in key order.
    pub entered: Vec<K>,
    /// Customers in the segment before who are not now, in key order.
    pub left: Vec<K>,
}

impl<K> Movement<K> {
    fn empty() -> Self {
        Movement {
            size_before: 0,
            size_after: 0,
            entered: Vec::new(),
            left: Vec::new(),
        }
    }

    /// Change in size (`size_after − size_before`).
    pub fn net_change(&self) -> i64 {
        i64::try_from(self.size_after).unwrap_or(i64::MAX)
            - i64::try_from(self.size_before).unwrap_or(i64::MAX)
    }
}

/// Number of members of each segment in `snapshot`.
pub fn sizes<K>(snapshot: &Snapshot<K>) -> BTreeMap<String, usize> {
    let mut sizes = BTreeMap::new();
    for segments in snapshot.values() {
        for s in segments {
            *sizes.entry(s.clone()).or_insert(0) += 1;
        }
    }
    sizes
}

/// Movement of every segment present in either snapshot, by segment name.
///
/// ```
/// use regulars_segments::movement::{movement, Snapshot};
/// let mut before: Snapshot<u32> = Snapshot::new();
/// before.insert(1, ["Loyal".to_owned()].into());
/// before.insert(2, ["Loyal".to_owned()].into());
/// let mut after: Snapshot<u32> = Snapshot::new();
/// after.insert(1, ["At risk".to_owned()].into());
/// after.insert(2, ["Loyal".to_owned()].into());
/// let m = movement(&before, &after);
/// assert_eq!(m["At risk"].entered, vec![1]);
/// assert_eq!(m["Loyal"].left, vec![1]);
/// assert_eq!(m["Loyal"].net_change(), -1);
/// ```
pub fn movement<K: Ord + Clone>(
    before: &Snapshot<K>,
    after: &Snapshot<K>,
) -> BTreeMap<String, Movement<K>> {
    let mut out: BTreeMap<String, Movement<K>> = BTreeMap::new();
    let none = BTreeSet::new();
    for (customer, segments) in before {
        let now = after.get(customer).unwrap_or(&none);
        for s in segments {
            let m = out.entry(s.clone()).or_insert_with(Movement::empty);
            m.size_before += 1;
            if !now.contains(s) {
                m.left.push(customer.clone());
            }
        }
    }
    for (customer, segments) in after {
        let then = before.get(customer).unwrap_or(&none);
        for s in segments {
            let m = out.entry(s.clone()).or_insert_with(Movement::empty);
            m.size_after += 1;
            if !then.contains(s) {
                m.entered.push(customer.clone());
            }
        }
    }
    out
}
