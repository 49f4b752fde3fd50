//! The change of one ratio between two runs, and the judgement of it: small pure functions.
//!
//! A claim's ratio (say express/fastapi throughput) is measured as a list of per-pair ratios in
//! each run. The change is NEW over BASE: the ratio of the two medians, with a seeded percentile
//! bootstrap interval. Whether it moved is decided the way criterion decides "improved /
//! regressed / no change": only when the whole interval clears a noise threshold. Which way
//! counts as better is the claim's business (`claimed`); this file only does numbers.

use claimbench_model::compare::{Change, Method, Movement};

use crate::stats::{median, percentile_bootstrap};
use crate::verdict::{band, Band};

/// Fewer per-pair ratios than this in either run and the bootstrap is not attempted; the change
/// interval is then taken from the two runs' own intervals.
pub const MIN_PAIRS: usize = 3;

/// Decides whether a change interval `[low, high]` moved beyond the noise `threshold` (0.05 =
/// 5%), like criterion's `compare_to_threshold`: up when `low > 1 + t`, down when
/// `high < 1 / (1 + t)`, otherwise no movement. It is the verdicts' [`band`]; nonsense intervals
/// (including a ratio that is not positive) move nothing.
pub fn movement(low: f64, high: f64, threshold: f64) -> Movement {
    if low <= 0.0 {
        return Movement::None;
    }
    match band(low, high, threshold) {
        Some(Band::Above) => Movement::Up,
        Some(Band::Below) => Movement::Down,
        _ => Movement::None,
    }
}

/// The change NEW/BASE of a ratio from each run's per-pair ratios (`spread`), or, when either
/// run has fewer than [`MIN_PAIRS`], from each run's median and interval.
///
/// `base` and `new` are `(median, low, high, spread)`. Returns `None` when neither way has
/// positive finite numbers to work with.
pub fn change(
    base: (f64, f64, f64, &[f64]),
    new: (f64, f64, f64, &[f64]),
    confidence: f64,
    resamples: usize,
    seed: u64,
) -> Option<Change> {
    let (base_spread, new_spread) = (positive(base.3), positive(new.3));
    if base_spread.len() >= MIN_PAIRS && new_spread.len() >= MIN_PAIRS {
        let (median, low, high) = bootstrap_ratio_of_medians(&base_spread, &new_spread, confidence, resamples, seed)?;
        return Some(Change { median, low, high, method: Method::Bootstrap });
    }
    let all = [base.0, base.1, base.2, new.0, new.1, new.2];
    if all.iter().any(|v| !v.is_finite() || *v <= 0.0) {
        return None;
    }
    Some(Change { median: new.0 / base.0, low: new.1 / base.2, high: new.2 / base.1, method: Method::Intervals })
}

/// The ratio of medians `median(new) / median(base)` and its percentile-bootstrap interval:
/// each resample draws both lists with replacement, from a fixed seed, so the same runs always
/// give the same interval. Both lists must be non-empty and positive.
pub fn bootstrap_ratio_of_medians(
    base: &[f64],
    new: &[f64],
    confidence: f64,
    resamples: usize,
    seed: u64,
) -> Option<(f64, f64, f64)> {
    let point = median(new)? / median(base)?;
    let (mut b, mut n) = (vec![0.0; base.len()], vec![0.0; new.len()]);
    let (low, high) = percentile_bootstrap(confidence, resamples, seed, |rng| {
        for slot in b.iter_mut() {
            *slot = base[rng.below(base.len())];
        }
        for slot in n.iter_mut() {
            *slot = new[rng.below(new.len())];
        }
        Some(median(&n)? / median(&b)?)
    })?;
    Some((point, low, high))
}

fn positive(values: &[f64]) -> Vec<f64> {
    values.iter().copied().filter(|v| v.is_finite() && *v > 0.0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: f64 = 0.05;

    #[test]
    fn an_interval_wholly_beyond_the_threshold_is_a_movement() {
        assert_eq!(movement(1.08, 1.20, T), Movement::Up);
        assert_eq!(movement(0.75, 0.86, T), Movement::Down);
    }

    #[test]
    fn an_interval_reaching_into_the_noise_band_is_no_movement() {
        assert_eq!(movement(0.93, 1.03, T), Movement::None);
        assert_eq!(movement(1.02, 1.30, T), Movement::None);
        assert_eq!(movement(0.70, 0.96, T), Movement::None);
        assert_eq!(movement(0.5, 2.0, T), Movement::None);
    }

    #[test]
    fn the_threshold_is_the_edge_of_the_band() {
        assert_eq!(movement(1.049, 1.2, T), Movement::None);
        assert_eq!(movement(1.051, 1.2, T), Movement::Up);
        assert_eq!(movement(1.051, 1.2, 0.10), Movement::None);
        assert_eq!(movement(0.8, 0.953, T), Movement::None);
        assert_eq!(movement(0.8, 0.952, T), Movement::Down);
    }

    #[test]
    fn nonsense_intervals_move_nothing() {
        assert_eq!(movement(f64::NAN, 2.0, T), Movement::None);
        assert_eq!(movement(2.0, 1.5, T), Movement::None);
        assert_eq!(movement(-1.0, -0.5, T), Movement::None);
    }

    #[test]
    fn the_ratio_of_medians_of_identical_lists_is_one_with_a_narrow_interval() {
        let xs = [1.5, 1.6, 1.55, 1.52, 1.58, 1.49];
        let (point, low, high) = bootstrap_ratio_of_medians(&xs, &xs, 0.95, 2_000, 7).unwrap();
        assert_eq!(point, 1.0);
        assert!(low < 1.0 && high > 1.0 && low > 0.94 && high < 1.06, "{low}..{high}");
    }

    #[test]
    fn a_twenty_percent_drop_is_found_with_an_interval_around_it() {
        let base = [1.5, 1.6, 1.55, 1.52, 1.58, 1.49];
        let new: Vec<f64> = base.iter().map(|v| v * 0.8).collect();
        let (point, low, high) = bootstrap_ratio_of_medians(&base, &new, 0.95, 2_000, 7).unwrap();
        assert!((point - 0.8).abs() < 1e-9);
        assert!(low < 0.8 && high > 0.8 && high < 1.0 / 1.05, "{low}..{high}");
    }

    #[test]
    fn the_same_input_and_seed_give_the_same_interval() {
        let base = [1.0, 1.2, 0.9, 1.1];
        let new = [1.3, 1.0, 1.2, 1.4];
        let a = bootstrap_ratio_of_medians(&base, &new, 0.95, 500, 42);
        let b = bootstrap_ratio_of_medians(&base, &new, 0.95, 500, 42);
        assert_eq!(a, b);
    }

    #[test]
    fn too_few_pairs_fall_back_to_the_widest_ratio_of_the_intervals() {
        let c = change((2.0, 1.8, 2.2, &[2.0]), (1.0, 0.9, 1.1, &[]), 0.95, 100, 1).unwrap();
        assert_eq!(c.method, Method::Intervals);
        assert_eq!(c.median, 0.5);
        assert!((c.low - 0.9 / 2.2).abs() < 1e-12 && (c.high - 1.1 / 1.8).abs() < 1e-12);
    }

    #[test]
    fn no_positive_numbers_give_no_change() {
        assert_eq!(change((0.0, 0.0, 0.0, &[]), (1.0, 0.9, 1.1, &[]), 0.95, 100, 1), None);
    }
}
