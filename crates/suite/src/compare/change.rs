//! The change of one ratio between two runs, and the judgement of it: small pure functions.
//!
//! A claim's ratio (say express/fastapi throughput) is measured as a list of per-pair ratios in
//! each run. The change is NEW over BASE: the Hodges–Lehmann shift of the log-ratios, with an
//! exact Mann–Whitney interval ([`crate::interval::change_intervals`]) whose level is split over
//! every row of the comparison. Whether it moved is decided the way criterion decides "improved /
//! regressed / no change": only when the whole interval clears a noise threshold. Which way
//! counts as better is the claim's business (`claimed`); this file only does numbers.

use claimbench_model::compare::{Change, Movement};

use crate::interval::{change_intervals, TooFewPairs};
use crate::verdict::{band, Band};

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

/// The change NEW/BASE of every row of one comparison, each row given as its two runs'
/// per-pair ratios (BASE, NEW), in ONE family: [`change_intervals`] splits `family_level` over
/// all the rows, so that the comparison as a whole, not each row, raises a false alarm at most
/// `1 - family_level` of the time. Returns the level each row was asked for, and per row its
/// change or why there is none.
pub fn changes(rows: &[(&[f64], &[f64])], family_level: f64) -> (f64, Vec<Result<Change, TooFewPairs>>) {
    let row_level = 1.0 - (1.0 - family_level) / rows.len().max(1) as f64;
    let changes = change_intervals(rows, family_level)
        .into_iter()
        .map(|row| row.map(|i| Change { median: i.change, low: i.low, high: i.high, level: i.level }))
        .collect();
    (row_level, changes)
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
    fn every_row_of_a_comparison_shares_one_family_level() {
        let six = [1.5, 1.6, 1.55, 1.52, 1.58, 1.49];
        let rows: Vec<(&[f64], &[f64])> = vec![(&six, &six); 10];
        let (row_level, changes) = changes(&rows, 0.95);
        assert!((row_level - 0.995).abs() < 1e-12, "{row_level}");
        for c in &changes {
            let c = c.unwrap();
            assert!(c.level >= row_level && c.low < 1.0 && c.high > 1.0, "{c:?}");
        }
    }

    #[test]
    fn a_twenty_percent_drop_is_found_with_an_interval_around_it() {
        let base = [1.5, 1.6, 1.55, 1.52, 1.58, 1.49];
        let new: Vec<f64> = base.iter().map(|v| v * 0.8).collect();
        let (_, changes) = changes(&[(&base, &new)], 0.95);
        let c = changes[0].unwrap();
        assert!((c.median - 0.8).abs() < 1e-9, "{c:?}");
        assert!(c.low < 0.8 && c.high > 0.8 && c.high < 1.0 / 1.05, "{c:?}");
        assert_eq!(movement(c.low, c.high, T), Movement::Down);
    }

    #[test]
    fn too_few_pairs_give_no_change_and_say_how_many_are_needed() {
        let three = [1.0, 1.1, 0.9];
        let (row_level, changes) = changes(&[(&three, &three), (&three, &[])], 0.95);
        assert_eq!(row_level, 0.975);
        let err = changes[0].unwrap_err();
        assert_eq!((err.pairs, err.needed), (3, 5));
        assert_eq!(changes[1].unwrap_err().pairs, 0);
    }
}
