//! Segment sizes and who moved between snapshots.

use proptest::prelude::*;
use regulars_segments::movement::{Snapshot, movement, sizes};
use std::collections::BTreeSet;

fn snap(rows: &[(u32, &[&str])]) -> Snapshot<u32> {
    rows.iter()
        .map(|(k, segs)| (*k, segs.iter().map(|s| (*s).to_owned()).collect()))
        .collect()
}

#[test]
fn who_just_became_at_risk() {
    let before = snap(&[
        (1, &["Loyal"]),
        (2, &["Loyal", "Birthday"]),
        (3, &["At risk"]),
    ]);
    let after = snap(&[
        (1, &["At risk"]),
        (2, &["Loyal"]),
        (3, &["At risk"]),
        (4, &["New customers"]),
    ]);
    let m = movement(&before, &after);
    assert_eq!(m["At risk"].entered, vec![1]);
    assert_eq!(m["At risk"].left, Vec::<u32>::new());
    assert_eq!((m["At risk"].size_before, m["At risk"].size_after), (1, 2));
    assert_eq!(m["Loyal"].left, vec![1]);
    assert_eq!(m["Loyal"].net_change(), -1);
    assert_eq!(m["Birthday"].left, vec![2]);
    assert_eq!(m["Birthday"].size_after, 0);
    assert_eq!(m["New customers"].entered, vec![4]);
    assert_eq!(m.len(), 4);
    assert_eq!(sizes(&after)["At risk"], 2);
}

fn snapshot() -> impl Strategy<Value = Snapshot<u8>> {
    prop::collection::btree_map(
        0u8..20,
        prop::collection::btree_set(
            prop::sample::select(vec!["a", "b", "c", "d"]).prop_map(str::to_owned),
            0..3,
        ),
        0..20,
    )
}

proptest! {
    #[test]
    fn movement_accounts_for_every_change(before in snapshot(), after in snapshot()) {
        let m = movement(&before, &after);
        let (sb, sa) = (sizes(&before), sizes(&after));
        for (name, mv) in &m {
            prop_assert_eq!(mv.size_before, sb.get(name).copied().unwrap_or(0));
            prop_assert_eq!(mv.size_after, sa.get(name).copied().unwrap_or(0));
            prop_assert_eq!(mv.net_change(), mv.entered.len() as i64 - mv.left.len() as i64);
            let was: BTreeSet<u8> = before.iter().filter(|(_, s)| s.contains(name)).map(|(k, _)| *k).collect();
            let is: BTreeSet<u8> = after.iter().filter(|(_, s)| s.contains(name)).map(|(k, _)| *k).collect();
            prop_assert_eq!(mv.entered.clone(), is.difference(&was).copied().collect::<Vec<_>>());
            prop_assert_eq!(mv.left.clone(), was.difference(&is).copied().collect::<Vec<_>>());
        }
        // Nothing moves between a snapshot and itself.
        for mv in movement(&after, &after).values() {
            prop_assert!(mv.entered.is_empty() && mv.left.is_empty());
        }
    }
}
