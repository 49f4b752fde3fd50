//! Confidence intervals whose level is real, for the verdicts and for `compare`: small pure
//! functions over per-pair ratios, no I/O, no randomness.
//!
//! - [`median_interval`]: the median of one run's per-pair ratios, from order statistics. The
//!   interval from the k-th smallest to the k-th largest of n ratios covers the true median with
//!   probability `1 - 2·P(Bin(n, ½) < k)` whatever the distribution, so the level it reports is
//!   the level it has. Below [`min_pairs`] there is no such interval, only [`TooFewPairs`].
//! - [`change_intervals`]: the change NEW/BASE of several ratios between two runs, from the
//!   Hodges–Lehmann shift of the log-ratios and exact Mann–Whitney critical values, with the
//!   family's level split evenly over its rows (Bonferroni), so that a whole comparison, not one
//!   row, keeps the stated level.
//!
//! Everything is computed on log-ratios, where "twice as fast" and "half as fast" are equally far
//! from 1. Deciding what an interval means for a claim is left to [`crate::verdict`]; rendering
//! the numbers is left to the report.

use std::collections::HashMap;
use std::fmt;

use claimbench_model::format;

/// An interval for the median of per-pair ratios, with the confidence it really has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MedianInterval {
    /// The median ratio (the geometric mean of the middle two for an even count).
    pub median: f64,
    /// The `rank`-th smallest ratio.
    pub low: f64,
    /// The `rank`-th largest ratio.
    pub high: f64,
    /// The achieved coverage, at least the level asked for: 0.96875 for 6 pairs at 95%.
    pub level: f64,
    /// The number of ratios the interval is taken over.
    pub pairs: usize,
    /// Which order statistics bound the interval (1 = the smallest and the largest).
    pub rank: usize,
}

/// Too few pairs for an interval at the requested level: the verdict can only be inconclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TooFewPairs {
    /// The usable pairs (for a comparison: in the smaller of the two runs).
    pub pairs: usize,
    /// The fewest pairs that reach `level` (for a comparison: in each run); `usize::MAX` for a
    /// level outside (0, 1), which no count reaches.
    pub needed: usize,
    /// The level that was asked for.
    pub level: f64,
}

impl fmt::Display for TooFewPairs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "too few pairs for a {} interval ({} pair{}, {} needed)",
            format::level(self.level),
            self.pairs,
            if self.pairs == 1 { "" } else { "s" },
            self.needed
        )
    }
}

impl std::error::Error for TooFewPairs {}

/// The fewest ratios whose order-statistics interval reaches `level`: 6 for 95%, 8 for 99%.
///
/// `None` when `level` is not strictly between 0 and 1, where no finite count would do.
pub fn min_pairs(level: f64) -> Option<usize> {
    if !(level > 0.0 && level < 1.0) {
        return None;
    }
    // The widest interval, [min, max], covers with 1 − 2·2⁻ⁿ, which reaches the largest f64
    // below 1 (1 − 2⁻⁵³) at n = 54.
    (1..=64).find(|&n| coverage(n, 1) >= level)
}

/// The order-statistics interval of the median of `ratios` at no less than `level`.
///
/// Ratios that are not positive and finite are left out (they have no logarithm). The bounds are
/// the k-th smallest and k-th largest ratio for the largest k whose exact coverage still reaches
/// `level`; the coverage is reported as [`MedianInterval::level`].
pub fn median_interval(ratios: &[f64], level: f64) -> Result<MedianInterval, TooFewPairs> {
    let sorted = sorted_usable(ratios);
    let n = sorted.len();
    let too_few = TooFewPairs { pairs: n, needed: min_pairs(level).unwrap_or(usize::MAX), level };
    if !(level > 0.0 && level < 1.0) {
        return Err(too_few);
    }
    // Coverage falls as the rank rises; rank 1 failing (or no pairs at all) leaves no interval.
    let rank = (1..=n.div_ceil(2)).take_while(|&k| coverage(n, k) >= level).last().ok_or(too_few)?;
    Ok(interval_at(&sorted, rank))
}

/// The interval between the `rank`-th smallest and `rank`-th largest of `ratios`, at whatever
/// level that gives (`None` when no ratio is usable or `rank` is out of range).
///
/// This is the honest way to show the spread of too few pairs: `rank` 1 over 3 pairs is
/// [min, max] at 75%.
pub fn order_interval(ratios: &[f64], rank: usize) -> Option<MedianInterval> {
    let sorted = sorted_usable(ratios);
    (rank >= 1 && rank <= sorted.len().div_ceil(2)).then(|| interval_at(&sorted, rank))
}

/// The interval at `rank` over `sorted` usable ratios; the bounds are ratios as measured.
fn interval_at(sorted: &[f64], rank: usize) -> MedianInterval {
    let n = sorted.len();
    let mid = n / 2;
    let median =
        if n.is_multiple_of(2) { ((sorted[mid - 1].ln() + sorted[mid].ln()) / 2.0).exp() } else { sorted[mid] };
    MedianInterval { median, low: sorted[rank - 1], high: sorted[n - rank], level: coverage(n, rank), pairs: n, rank }
}

/// The positive finite `ratios`, ascending (order statistics of ratios and of their logarithms
/// are the same values).
fn sorted_usable(ratios: &[f64]) -> Vec<f64> {
    let mut sorted: Vec<f64> = ratios.iter().copied().filter(|r| r.is_finite() && *r > 0.0).collect();
    sorted.sort_by(f64::total_cmp);
    sorted
}

/// Exact coverage of [x₍ₖ₎, x₍ₙ₊₁₋ₖ₎] for the median of n draws: 1 − 2·P(Bin(n, ½) < k).
fn coverage(n: usize, k: usize) -> f64 {
    1.0 - 2.0 * binomial_half_below(n, k)
}

/// P(Bin(n, ½) < k), summed in log space so that large n neither overflows nor underflows early.
fn binomial_half_below(n: usize, k: usize) -> f64 {
    let mut log_choose = 0.0; // ln C(n, 0)
    let mut total = 0.0;
    for i in 0..k.min(n + 1) {
        if i > 0 {
            log_choose += ((n - i + 1) as f64 / i as f64).ln();
        }
        total += (log_choose - n as f64 * std::f64::consts::LN_2).exp();
    }
    total
}

/// An interval for the change NEW/BASE of one ratio between two runs, with its real level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangeInterval {
    /// The Hodges–Lehmann estimate: the median of every NEW/BASE quotient of per-pair ratios.
    pub change: f64,
    /// The lower end of the change's interval.
    pub low: f64,
    /// The upper end of the change's interval.
    pub high: f64,
    /// The achieved coverage of this row's interval (at least the family's level split over its
    /// rows).
    pub level: f64,
    /// Usable per-pair ratios in the BASE run.
    pub base_pairs: usize,
    /// Usable per-pair ratios in the NEW run.
    pub new_pairs: usize,
}

/// The change NEW/BASE of every row of a comparison, each row given as (BASE ratios, NEW
/// ratios), such that all the rows' intervals hold together with probability at least
/// `family_level`.
///
/// Each row's interval is a Hodges–Lehmann / Mann–Whitney interval for the shift of the
/// log-ratios at level `1 − (1 − family_level) / rows` (Bonferroni). Its coverage is exact for
/// two runs whose log-ratios differ by a shift; in particular two runs of the same code, whose
/// ratios share one distribution, leave every row's interval around 1 with at least that
/// probability, so that a comparison as a whole raises a false alarm at most
/// `1 − family_level` of the time. A row with too few pairs for its level is [`TooFewPairs`].
pub fn change_intervals(rows: &[(&[f64], &[f64])], family_level: f64) -> Vec<Result<ChangeInterval, TooFewPairs>> {
    let row_level = 1.0 - (1.0 - family_level) / rows.len().max(1) as f64;
    let mut tails: HashMap<(usize, usize), Vec<f64>> = HashMap::new();
    rows.iter()
        .map(|(base, new)| {
            let logs = |ratios: &[f64]| sorted_usable(ratios).into_iter().map(f64::ln).collect::<Vec<_>>();
            let (base, new) = (logs(base), logs(new));
            let (m, n) = (base.len(), new.len());
            let too_few = TooFewPairs {
                pairs: m.min(n),
                needed: min_pairs_each(row_level).unwrap_or(usize::MAX),
                level: row_level,
            };
            if !(row_level > 0.0 && row_level < 1.0) || m == 0 || n == 0 {
                return Err(too_few);
            }
            let cdf = tails.entry((m.min(n), m.max(n))).or_insert_with(|| mann_whitney_cdf(m, n));
            let shift_coverage = |k: usize| 1.0 - 2.0 * cdf[k - 1];
            let rank =
                (1..=(m * n).div_ceil(2)).take_while(|&k| shift_coverage(k) >= row_level).last().ok_or(too_few)?;
            let mut shifts: Vec<f64> = new.iter().flat_map(|y| base.iter().map(move |x| y - x)).collect();
            shifts.sort_by(f64::total_cmp);
            let mid = shifts.len() / 2;
            let hl = if shifts.len().is_multiple_of(2) { (shifts[mid - 1] + shifts[mid]) / 2.0 } else { shifts[mid] };
            Ok(ChangeInterval {
                change: hl.exp(),
                low: shifts[rank - 1].exp(),
                high: shifts[shifts.len() - rank].exp(),
                level: shift_coverage(rank),
                base_pairs: m,
                new_pairs: n,
            })
        })
        .collect()
}

/// The fewest pairs in each run for a change interval at `level`: 4 for 95%, 7 for 95% split
/// over 30 rows. `None` when `level` is not strictly between 0 and 1.
pub fn min_pairs_each(level: f64) -> Option<usize> {
    if !(level > 0.0 && level < 1.0) {
        return None;
    }
    // [min, max] of the shifts misses only when one run lies wholly above the other: 2 / C(2n, n).
    (1..600).find(|&n| 1.0 - 2.0 / choose(2 * n, n) >= level)
}

fn choose(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |c, i| c * (n - i) as f64 / (i + 1) as f64)
}

/// P(U ≤ u) for u = 0..=m·n, where U is the Mann–Whitney count of (x, y) pairs with x > y for
/// two samples of sizes m and n from one continuous distribution: exact while the counts fit in
/// 128 bits (m + n up to about 130), the normal approximation with continuity correction beyond (its tails are a little
/// heavier, so its intervals are a little wider).
fn mann_whitney_cdf(m: usize, n: usize) -> Vec<f64> {
    let Some(counts) = mann_whitney_counts(m, n) else {
        let (mean, sd) = ((m * n) as f64 / 2.0, ((m * n * (m + n + 1)) as f64 / 12.0).sqrt());
        return (0..=m * n).map(|u| normal_cdf((u as f64 + 0.5 - mean) / sd)).collect();
    };
    let all = counts.iter().sum::<i128>() as f64;
    let mut below = 0;
    counts
        .iter()
        .map(|c| {
            below += c;
            below as f64 / all
        })
        .collect()
}

/// How many orders of m + n values give each U: the coefficients of the Gaussian binomial
/// [m + n choose m]_q, built as ∏ (1 − q^(large+i)) / (1 − q^i), one exact division at a time.
/// `None` when a count would not fit in an `i128`.
fn mann_whitney_counts(m: usize, n: usize) -> Option<Vec<i128>> {
    let (small, large) = (m.min(n), m.max(n));
    let mut c = vec![0i128; small * large + small + 1];
    c[0] = 1;
    for i in 1..=small {
        let shift = large + i;
        for s in (shift..=i * large + i).rev() {
            c[s] = c[s].checked_sub(c[s - shift])?;
        }
        for s in i..=i * large + i {
            c[s] = c[s].checked_add(c[s - i])?;
        }
    }
    c.truncate(small * large + 1);
    Some(c)
}

/// Φ(z) from Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7), enough for critical
/// values of large samples.
fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly =
        t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erfc = poly * (-x * x).exp();
    if z >= 0.0 {
        1.0 - erfc / 2.0
    } else {
        erfc / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_pairs_are_the_fewest_for_a_95_percent_interval() {
        assert_eq!(min_pairs(0.95), Some(6));
        assert_eq!(min_pairs(0.90), Some(5));
        assert_eq!(min_pairs(0.99), Some(8));
        assert_eq!(min_pairs(1.0), None);
        assert_eq!(min_pairs(f64::NAN), None);
    }

    #[test]
    fn three_pairs_give_no_95_percent_interval_and_say_so() {
        let err = median_interval(&[1.2, 1.3, 1.25], 0.95).unwrap_err();
        assert_eq!(err, TooFewPairs { pairs: 3, needed: 6, level: 0.95 });
        assert_eq!(err.to_string(), "too few pairs for a 95% interval (3 pairs, 6 needed)");
        assert_eq!(median_interval(&[], 0.95).unwrap_err().pairs, 0);
    }

    #[test]
    fn six_pairs_give_min_to_max_at_its_true_level() {
        let ratios = [1.31, 1.22, 1.45, 1.38, 1.29, 1.35];
        let i = median_interval(&ratios, 0.95).unwrap();
        assert_eq!((i.low, i.high, i.rank, i.pairs), (1.22, 1.45, 1, 6));
        assert!((i.level - (1.0 - 2.0 / 64.0)).abs() < 1e-12, "{}", i.level);
        assert!((i.median - (1.31f64 * 1.35).sqrt()).abs() < 1e-12, "geometric middle: {}", i.median);
    }

    #[test]
    fn more_pairs_move_the_bounds_inwards_while_the_level_holds() {
        let ratios: Vec<f64> = (1..=12).map(|i| 1.0 + i as f64 / 100.0).collect();
        let i = median_interval(&ratios, 0.95).unwrap();
        // P(Bin(12, ½) < 3) = 79/4096, so rank 3 covers 1 - 158/4096 = 96.14%; rank 4 is 85.4%.
        assert_eq!(i.rank, 3);
        assert_eq!((i.low, i.high), (ratios[2], ratios[9]));
        assert!((i.level - (1.0 - 158.0 / 4096.0)).abs() < 1e-12, "{}", i.level);
    }

    #[test]
    fn the_interval_is_the_same_whatever_order_or_unusable_values_come_in() {
        let a = median_interval(&[0.9, 1.1, 1.0, 1.2, 0.8, 1.05], 0.95).unwrap();
        let b = median_interval(&[1.2, f64::NAN, 0.8, 1.05, 0.0, 1.0, 1.1, -3.0, 0.9], 0.95).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn order_interval_shows_the_spread_of_too_few_pairs_at_its_level() {
        let i = order_interval(&[1.3, 1.1, 1.2], 1).unwrap();
        assert_eq!((i.low, i.high, i.level), (1.1, 1.3, 0.75));
        assert_eq!(order_interval(&[1.3, 1.1, 1.2], 3), None);
        assert_eq!(order_interval(&[], 1), None);
    }

    #[test]
    fn the_coverage_is_what_it_claims_over_many_draws() {
        // Draws from a skewed distribution with median 1: the interval must contain 1 at least
        // as often as its level says (within simulation error), and not far more often.
        let mut rng = crate::stats::SplitMix64::new(11);
        let (mut hits, runs) = (0, 20_000);
        let mut level = 0.0;
        for _ in 0..runs {
            let ratios: Vec<f64> = (0..12).map(|_| -(1.0 - rng.next_f64()).ln() / std::f64::consts::LN_2).collect();
            let i = median_interval(&ratios, 0.95).unwrap();
            level = i.level;
            hits += usize::from(i.low <= 1.0 && 1.0 <= i.high);
        }
        let seen = hits as f64 / runs as f64;
        assert!((seen - level).abs() < 0.006, "coverage {seen} against the stated {level}");
    }

    #[test]
    fn levels_print_without_overstating() {
        assert_eq!(format::level(0.95), "95%");
        assert_eq!(format::level(0.96875), "96.87%");
        assert_eq!(format::level(0.75), "75%");
        assert_eq!(format::level(0.9983), "99.83%");
    }

    #[test]
    fn the_mann_whitney_distribution_matches_small_exact_cases() {
        // m = n = 2: the 6 arrangements have U = 0, 1, 2, 2, 3, 4.
        let cdf = mann_whitney_cdf(2, 2);
        let expect = [1.0, 2.0, 4.0, 5.0, 6.0].map(|c| c / 6.0);
        for (got, want) in cdf.iter().zip(expect) {
            assert!((got - want).abs() < 1e-12, "{cdf:?}");
        }
        assert_eq!(mann_whitney_cdf(3, 5), mann_whitney_cdf(5, 3));
        assert!((mann_whitney_cdf(4, 4)[0] - 1.0 / 70.0).abs() < 1e-15);
    }

    #[test]
    fn large_samples_fall_back_to_a_normal_approximation_close_to_the_exact_one() {
        assert!(mann_whitney_counts(60, 60).is_some());
        assert!(mann_whitney_counts(100, 100).is_none());
        let exact = mann_whitney_cdf(60, 60);
        let (mean, sd) = (1800.0, (3600.0f64 * 121.0 / 12.0).sqrt());
        for u in [1200, 1300, 1400] {
            let approx = normal_cdf((u as f64 + 0.5 - mean) / sd);
            // In the tails that critical values come from, the normal tail is a little heavier:
            // the fallback errs towards wider intervals.
            assert!(approx >= exact[u] && approx < 1.15 * exact[u], "u = {u}: {approx} against {}", exact[u]);
        }
        let cdf = mann_whitney_cdf(100, 100);
        assert!(cdf.windows(2).all(|w| w[0] <= w[1]) && (cdf[10_000] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn a_comparison_of_one_row_needs_four_pairs_and_of_thirty_seven() {
        assert_eq!(min_pairs_each(0.95), Some(4));
        assert_eq!(min_pairs_each(1.0 - 0.05 / 30.0), Some(7));
        let three = [1.0, 1.1, 0.9];
        let row = change_intervals(&[(&three, &three)], 0.95);
        assert_eq!(row[0], Err(TooFewPairs { pairs: 3, needed: 4, level: 0.95 }));
        let six = [1.0, 1.1, 0.9, 1.05, 0.95, 1.02];
        let rows: Vec<(&[f64], &[f64])> = vec![(&six, &six); 30];
        let all = change_intervals(&rows, 0.95);
        let err = all[0].unwrap_err();
        assert_eq!((err.pairs, err.needed), (6, 7));
        assert_eq!(err.to_string(), "too few pairs for a 99.83% interval (6 pairs, 7 needed)");
    }

    #[test]
    fn a_clear_shift_between_runs_is_found_and_its_interval_is_exact() {
        let base = [1.00, 1.02, 0.98, 1.01, 0.99, 1.03, 0.97, 1.00];
        let new: Vec<f64> = base.iter().map(|r| r * 1.5).collect();
        let row = change_intervals(&[(&base, &new)], 0.95)[0].unwrap();
        assert!((row.change - 1.5).abs() < 1e-9, "{row:?}");
        assert!(row.low > 1.4 && row.high < 1.6, "{row:?}");
        assert!(row.level >= 0.95 && row.level < 0.97, "{row:?}");
        let same = change_intervals(&[(&base, &base)], 0.95)[0].unwrap();
        assert!(same.low < 1.0 && same.high > 1.0, "{same:?}");
    }
}
