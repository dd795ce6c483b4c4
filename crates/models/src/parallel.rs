//! Likelihood sums over grouped rows, evaluated in parallel and still deterministic.
//!
//! The rows are cut into chunks of a fixed size ([`CHUNK`]), each chunk is summed on
//! whichever thread rayon gives it, and the chunks' partial sums are then added in chunk
//! order on the calling thread. The order of every floating-point addition is therefore
//! fixed by the data alone: the result is the same to the last bit on one thread or
//! sixty-four.

use crate::fit::ModelError;
use rayon::prelude::*;

/// Rows per chunk: large enough that a chunk's work dwarfs handing it to a thread, small
/// enough that a few hundred thousand distinct rows split over every core.
pub(crate) const CHUNK: usize = 4096;

/// The row range of chunk `c` of `n` rows.
fn chunk(c: usize, n: usize) -> std::ops::Range<usize> {
    let start = c * CHUNK;
    start..n.min(start + CHUNK)
}

/// Σ over the chunks of rows `0..n` of what `chunk(rows)` returns for each: the figures
/// of `N` sums over its rows.
pub(crate) fn sum<const N: usize>(
    n: usize,
    chunk_sum: impl Fn(std::ops::Range<usize>) -> [f64; N] + Sync,
) -> [f64; N] {
    let partials: Vec<[f64; N]> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| chunk_sum(chunk(c, n)))
        .collect();
    let mut total = [0.0; N];
    for part in &partials {
        for (t, p) in total.iter_mut().zip(part) {
            *t += p;
        }
    }
    total
}

/// Σ over rows `0..n` of `row(i)`, or the error of the first row (in row order) that
/// has one.
pub(crate) fn try_sum(
    n: usize,
    row: impl Fn(usize) -> Result<f64, ModelError> + Sync,
) -> Result<f64, ModelError> {
    let partials: Vec<Result<f64, ModelError>> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut acc = 0.0;
            for i in chunk(c, n) {
                acc += row(i)?;
            }
            Ok(acc)
        })
        .collect();
    let mut total = 0.0;
    for part in partials {
        total += part?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(f)
    }

    /// Values whose sum depends on the order of addition.
    fn awkward(i: usize) -> f64 {
        let x = i as f64;
        (x * 0.7).sin() * 10f64.powi((i % 17) as i32 - 8)
    }

    #[test]
    fn the_sum_is_the_same_to_the_bit_on_any_number_of_threads() {
        let n = 10 * CHUNK + 123;
        let rows = |range: std::ops::Range<usize>| {
            let mut acc = [0.0; 2];
            for i in range {
                acc[0] += awkward(i);
                acc[1] += 1.0;
            }
            acc
        };
        let one = on_threads(1, || sum::<2>(n, rows));
        for threads in [2, 3, 8] {
            let many = on_threads(threads, || sum::<2>(n, rows));
            assert_eq!(one[0].to_bits(), many[0].to_bits(), "{threads} threads");
            assert_eq!(many[1], n as f64);
        }
        let serial: f64 = (0..n).map(awkward).sum();
        assert!((one[0] - serial).abs() <= 1e-12 * serial.abs().max(1.0));
    }

    #[test]
    fn try_sum_reports_the_first_failing_row_in_row_order() {
        let n = 5 * CHUNK;
        for threads in [1, 4] {
            let err = on_threads(threads, || {
                try_sum(n, |i| {
                    if i == CHUNK + 5 || i == 4 * CHUNK {
                        Err(ModelError::Domain(format!("row {i}")))
                    } else {
                        Ok(1.0)
                    }
                })
            })
            .unwrap_err();
            assert_eq!(
                err.to_string(),
                ModelError::Domain(format!("row {}", CHUNK + 5)).to_string()
            );
        }
        assert_eq!(try_sum(0, |_| Ok(1.0)).unwrap(), 0.0);
        assert_eq!(try_sum(n, |_| Ok(0.5)).unwrap(), n as f64 * 0.5);
    }
}
