//! The compact stored form of an [`AccountState`]: one short line of delta-coded integers
//! instead of a JSON object per open lot.
//!
//! The state is read and written whole with every order, and a regular's open lots run to
//! about a thousand (one per credit not yet spent or expired), so the stored form is what
//! an order pays per lot. As JSON a lot costs about 90 characters and an RFC 3339 parse;
//! here it costs about 15 characters of decimal integers, each lot written as the
//! difference from the one before it (lots are kept in expiry order, so the differences
//! are small).
//!
//! Layout (sections separated by `|`, items by `;`, fields by `,`):
//!
//! ```text
//! c1|<balance>|<debt>|<next_seq>|<last_at>|<lots>|<earned>
//! last_at: empty, or <unix seconds>.<nanoseconds>.<UTC offset seconds>
//! lot:     <seq - previous seq>,<expiry>,<remaining>
//! expiry:  n (never), or <unix seconds - previous dated lot's>.<nanoseconds>.<offset seconds>
//! earned:  <bucket - previous bucket>,<points>
//! ```
//!
//! Every instant keeps its nanoseconds and its UTC offset, so a state read back is equal
//! to the one written in every field (the property tests check the round trip). What is
//! read is checked like the JSON form: a state that breaks an invariant is refused.

use super::account::Expiry;
use regulars_domain::Points;
use std::fmt::Write as _;
use time::{OffsetDateTime, UtcOffset};

/// What every compact form starts with; a later layout takes a new tag.
pub(super) const TAG: &str = "c1";

/// A compact form as read back, before the state's invariants are checked.
pub(super) struct Parsed {
    pub(super) balance: Points,
    pub(super) debt: Points,
    pub(super) next_seq: u64,
    pub(super) last_at: Option<OffsetDateTime>,
    /// `(seq, expiry, remaining)` in the order written.
    pub(super) lots: Vec<(u64, Expiry, Points)>,
    pub(super) earned: Vec<(i64, Points)>,
}

/// Writes the compact form. `lots` in consumption order (as the state keeps them).
pub(super) fn encode<'a>(
    balance: Points,
    debt: Points,
    next_seq: u64,
    last_at: Option<OffsetDateTime>,
    lots: impl ExactSizeIterator<Item = (u64, Expiry, Points)>,
    earned: impl Iterator<Item = (&'a i64, &'a Points)>,
) -> String {
    let mut out = String::with_capacity(64 + 16 * lots.len());
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "{TAG}|{}|{}|{next_seq}|",
        balance.value(),
        debt.value()
    );
    if let Some(at) = last_at {
        write_instant(&mut out, at, 0);
    }
    out.push('|');
    let (mut prev_seq, mut prev_secs) = (0i128, 0i64);
    for (i, (seq, expiry, remaining)) in lots.enumerate() {
        if i > 0 {
            out.push(';');
        }
        let _ = write!(out, "{},", i128::from(seq) - prev_seq);
        prev_seq = i128::from(seq);
        match expiry {
            Expiry::Never => out.push('n'),
            Expiry::At(at) => {
                write_instant(&mut out, at, prev_secs);
                prev_secs = at.unix_timestamp();
            }
        }
        let _ = write!(out, ",{}", remaining.value());
    }
    out.push('|');
    let mut prev_bucket = 0i128;
    for (i, (bucket, points)) in earned.enumerate() {
        if i > 0 {
            out.push(';');
        }
        let _ = write!(
            out,
            "{},{}",
            i128::from(*bucket) - prev_bucket,
            points.value()
        );
        prev_bucket = i128::from(*bucket);
    }
    out
}

/// `<seconds - base>.<nanoseconds>.<offset seconds>`.
fn write_instant(out: &mut String, at: OffsetDateTime, base: i64) {
    let secs = i128::from(at.unix_timestamp()) - i128::from(base);
    let _ = write!(
        out,
        "{secs}.{}.{}",
        at.nanosecond(),
        at.offset().whole_seconds()
    );
}

/// Reads the compact form (without checking the state's invariants: the caller does).
pub(super) fn decode(text: &str) -> Result<Parsed, String> {
    let mut sections = text.split('|');
    let mut next = |name: &str| {
        sections
            .next()
            .ok_or_else(|| format!("the compact account state has no {name}"))
    };
    if next("tag")? != TAG {
        return Err(format!(
            "the compact account state does not start with {TAG}"
        ));
    }
    let balance = Points::new(int::<i64>(next("balance")?, "balance")?);
    let debt = Points::new(int::<i64>(next("debt")?, "debt")?);
    let next_seq = int::<u64>(next("next_seq")?, "next_seq")?;
    let last_at = match next("last_at")? {
        "" => None,
        text => Some(read_instant(text, 0)?),
    };
    let lots_text = next("lots")?;
    let earned_text = next("earned")?;
    if sections.next().is_some() {
        return Err("the compact account state has extra sections".into());
    }
    let lots = decode_lots(lots_text)?;
    let mut earned = Vec::new();
    let mut bucket = 0i128;
    for item in earned_text.split(';').filter(|item| !item.is_empty()) {
        let (delta, points) = item
            .split_once(',')
            .ok_or_else(|| format!("earned item {item:?} is not <bucket>,<points>"))?;
        bucket = bucket
            .checked_add(int::<i128>(delta, "earned bucket")?)
            .ok_or("earned bucket overflows")?;
        let at = i64::try_from(bucket).map_err(|_| format!("bucket {bucket} is out of range"))?;
        earned.push((at, Points::new(int::<i64>(points, "earned points")?)));
    }
    Ok(Parsed {
        balance,
        debt,
        next_seq,
        last_at,
        lots,
        earned,
    })
}

fn decode_lots(text: &str) -> Result<Vec<(u64, Expiry, Points)>, String> {
    let mut lots = Vec::with_capacity(text.len() / 12);
    let (mut seq, mut secs) = (0i128, 0i64);
    for item in text.split(';').filter(|item| !item.is_empty()) {
        let mut fields = item.split(',');
        let (Some(d_seq), Some(expiry), Some(remaining), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(format!("lot {item:?} is not <seq>,<expiry>,<remaining>"));
        };
        seq = seq
            .checked_add(int::<i128>(d_seq, "lot seq")?)
            .ok_or("lot seq overflows")?;
        let lot_seq = u64::try_from(seq).map_err(|_| format!("lot seq {seq} is out of range"))?;
        let expiry = if expiry == "n" {
            Expiry::Never
        } else {
            let at = read_instant(expiry, secs)?;
            secs = at.unix_timestamp();
            Expiry::At(at)
        };
        let remaining = Points::new(int::<i64>(remaining, "lot remaining")?);
        lots.push((lot_seq, expiry, remaining));
    }
    Ok(lots)
}

fn read_instant(text: &str, base: i64) -> Result<OffsetDateTime, String> {
    let mut parts = text.split('.');
    let (Some(secs), Some(nanos), Some(offset), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(format!(
            "instant {text:?} is not <seconds>.<nanoseconds>.<offset>"
        ));
    };
    let secs = i128::from(base)
        .checked_add(int::<i128>(secs, "seconds")?)
        .ok_or("seconds overflow")?;
    let nanos = int::<u32>(nanos, "nanoseconds")?;
    let offset = UtcOffset::from_whole_seconds(int::<i32>(offset, "offset")?)
        .map_err(|e| format!("offset: {e}"))?;
    let nanos_total = secs.checked_mul(1_000_000_000).ok_or("seconds overflow")?;
    let utc = OffsetDateTime::from_unix_timestamp_nanos(nanos_total)
        .map_err(|e| format!("instant {text:?}: {e}"))?
        .replace_nanosecond(nanos)
        .map_err(|e| format!("instant {text:?}: {e}"))?;
    utc.checked_to_offset(offset)
        .ok_or_else(|| format!("instant {text:?} is out of range"))
}

fn int<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{what} {text:?} is not an integer in range"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::AccountState;
    use proptest::prelude::*;
    use serde_json::json;
    use std::collections::BTreeSet;
    use time::{OffsetDateTime, UtcOffset};

    /// An instant anywhere in `time`'s range, with nanoseconds and a UTC offset; with
    /// `rfc3339`, only what the earlier JSON form could hold (years 1 to 9998, offsets in
    /// whole minutes).
    fn instant(rfc3339: bool) -> impl Strategy<Value = OffsetDateTime> {
        let offset = if rfc3339 {
            (-1_439i32..=1_439).prop_map(|m| m * 60).boxed()
        } else {
            prop_oneof![
                (-1_439i32..=1_439).prop_map(|m| m * 60),
                -86_399i32..=86_399
            ]
            .boxed()
        };
        let secs = if rfc3339 {
            -62_135_596_800i64 + 86_400..253_370_764_800i64
        } else {
            -377_705_116_800i64..253_402_300_799i64
        };
        (secs, 0u32..1_000_000_000, offset).prop_filter_map("in range", |(secs, nanos, offset)| {
            let at = OffsetDateTime::from_unix_timestamp(secs)
                .ok()?
                .replace_nanosecond(nanos)
                .ok()?;
            at.checked_to_offset(UtcOffset::from_whole_seconds(offset).ok()?)
        })
    }

    /// A state that keeps every invariant: lots with distinct seqs, expiries dated or
    /// not, and either open lots or a debt.
    fn state(rfc3339: bool) -> impl Strategy<Value = AccountState> {
        let lot = (
            0u64..u64::MAX,
            proptest::option::of(instant(rfc3339)),
            1i64..1_000_000,
        );
        (
            proptest::collection::vec(lot, 0..40),
            0i64..1_000_000,
            any::<u64>(),
            proptest::option::of(instant(rfc3339)),
            proptest::collection::btree_map(any::<i64>(), any::<i64>(), 0..10),
        )
            .prop_map(|(lots, debt, next_seq, last_at, earned)| {
                let mut seen = BTreeSet::new();
                let lots: Vec<_> = lots
                    .into_iter()
                    .filter(|(seq, _, _)| seen.insert(*seq))
                    .map(|(seq, at, rem)| {
                        (
                            seq,
                            super::Expiry::from_option(at),
                            regulars_domain::Points::new(rem),
                        )
                    })
                    .collect();
                let held: i64 = lots.iter().map(|(_, _, rem)| rem.value()).sum();
                let debt = if lots.is_empty() { debt } else { 0 };
                AccountState::checked(
                    super::super::stored::Head {
                        balance: regulars_domain::Points::new(held - debt),
                        debt: regulars_domain::Points::new(debt),
                        next_seq,
                        last_at,
                    },
                    lots,
                    earned
                        .into_iter()
                        .map(|(b, p)| (b, regulars_domain::Points::new(p))),
                    true,
                )
                .unwrap()
            })
    }

    /// Every instant of a state with its offset, which `==` on instants ignores.
    fn offsets(state: &AccountState) -> Vec<Option<UtcOffset>> {
        let lots = state
            .lots
            .keys()
            .map(|(expiry, _)| expiry.to_option().map(|at| at.offset()));
        std::iter::once(state.last_at.map(|at| at.offset()))
            .chain(lots)
            .collect()
    }

    /// The earlier JSON form of a state, as it was written before the compact one.
    fn legacy_json(state: &AccountState) -> String {
        let rfc = |at: OffsetDateTime| {
            at.format(&time::format_description::well_known::Rfc3339)
                .unwrap()
        };
        let lots: Vec<_> = state
            .lots
            .iter()
            .map(|(&(expiry, seq), remaining)| {
                json!({"seq": seq, "expires_at": expiry.to_option().map(rfc), "remaining": remaining})
            })
            .collect();
        json!({
            "balance": state.balance,
            "debt": state.debt,
            "next_seq": state.next_seq,
            "last_at": state.last_at.map(rfc),
            "lots": lots,
            "earned": state.earned.iter().collect::<Vec<_>>(),
        })
        .to_string()
    }

    proptest! {
        /// Written compact and read back, a state is the same in every field, offsets and
        /// nanoseconds included, and writes the same text again.
        #[test]
        fn compact_round_trip(state in state(false)) {
            let text = serde_json::to_string(&state).unwrap();
            let back: AccountState = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(&back, &state);
            prop_assert_eq!(offsets(&back), offsets(&state));
            prop_assert_eq!(serde_json::to_string(&back).unwrap(), text);
        }

        /// A state stored in the earlier JSON form reads as the same state (whole-second
        /// offsets within RFC 3339's range) and is written back compact.
        #[test]
        fn legacy_json_reads_the_same(state in state(true)) {
            let back: AccountState = serde_json::from_str(&legacy_json(&state)).unwrap();
            prop_assert_eq!(&back, &state);
            prop_assert_eq!(offsets(&back), offsets(&state));
            prop_assert!(serde_json::to_string(&back).unwrap().starts_with("\"c1|"));
        }

        /// Any text is read or refused, never a panic; what is read keeps the invariants.
        #[test]
        fn any_text_is_read_or_refused(text in "c1\\|[-0-9]{0,4}\\|[-0-9]{0,3}\\|[0-9]{0,3}\\|[-0-9.]{0,12}\\|[-0-9.n,;]{0,40}\\|[-0-9,;]{0,12}") {
            if let Ok(state) = serde_json::from_value::<AccountState>(json!(text)) {
                let held: i64 = state.lots.values().map(|p| p.value()).sum();
                if state.lots.is_empty() {
                    // The figures alone, the lots kept as rows: they hold balance + debt.
                    prop_assert!(state.balance.value() + state.debt.value() >= 0);
                    prop_assert!(state.debt.value() == 0 || state.balance.value() == -state.debt.value());
                } else {
                    prop_assert_eq!(held - state.debt.value(), state.balance.value());
                }
            }
        }
    }

    #[test]
    fn a_broken_compact_state_is_refused() {
        // A negative balance without debt; debt beside points held in lots (the lots
        // being rows); lots that do not hold the balance; a lot with no points; a lot
        // listed twice. (Balance 10 without a lot is the figures alone, the lots being
        // rows of their own.)
        for broken in [
            "c1|-5|0|1|||",
            "c1|5|3|1|||",
            "c1|10|0|1||5,n,1|",
            "c1|0|0|1||5,n,0|",
            "c1|2|0|2||5,n,1;0,n,1|",
        ] {
            assert!(
                serde_json::from_value::<AccountState>(json!(broken)).is_err(),
                "{broken}"
            );
        }
        let fine: AccountState = serde_json::from_value(json!("c1|2|0|2||5,n,1;1,n,1|")).unwrap();
        assert_eq!(fine.lots.len(), 2);
    }
}
