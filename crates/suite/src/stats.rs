//! Small pure statistics over per-pair ratios: median (the model's, shared with the report),
//! geometric mean, and the one seeded percentile bootstrap (of the median here, of a ratio of
//! medians in `compare`). No I/O, no clocks; tested with plain numbers.

pub use claimbench_model::stats::median;

/// The geometric mean of positive `values`; `None` when empty or any value is not positive.
pub fn geometric_mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() || values.iter().any(|v| !v.is_finite() || *v <= 0.0) {
        return None;
    }
    Some((values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp())
}

/// Coefficient of variation (stdev / mean) of `values`; `None` with fewer than two.
pub fn coefficient_of_variation(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean != 0.0).then(|| var.sqrt() / mean.abs())
}

/// A percentile-bootstrap confidence interval of the median: `resamples` resamples with
/// replacement from a fixed seed, so the same data always gives the same interval.
/// With a single value the interval is that value.
pub fn bootstrap_median_ci(values: &[f64], confidence: f64, resamples: usize, seed: u64) -> Option<(f64, f64)> {
    let values: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if values.is_empty() {
        return None;
    }
    if values.len() == 1 {
        return Some((values[0], values[0]));
    }
    let mut sample = vec![0.0; values.len()];
    percentile_bootstrap(confidence, resamples, seed, |rng| {
        for slot in sample.iter_mut() {
            *slot = values[rng.below(values.len())];
        }
        median(&sample)
    })
}

/// The percentile-bootstrap interval of a statistic: `draw` computes it on one resample (drawing
/// indices from the seeded generator it is given), `resamples` times. `None` when a draw fails.
pub(crate) fn percentile_bootstrap(
    confidence: f64,
    resamples: usize,
    seed: u64,
    mut draw: impl FnMut(&mut SplitMix64) -> Option<f64>,
) -> Option<(f64, f64)> {
    let mut rng = SplitMix64(seed);
    let mut draws = Vec::with_capacity(resamples.max(1));
    for _ in 0..resamples.max(1) {
        draws.push(draw(&mut rng)?);
    }
    draws.sort_by(f64::total_cmp);
    let alpha = (1.0 - confidence.clamp(0.0, 1.0)) / 2.0;
    let at = |q: f64| draws[((q * (draws.len() - 1) as f64).round() as usize).min(draws.len() - 1)];
    Some((at(alpha), at(1.0 - alpha)))
}

/// SplitMix64: tiny, seedable, good enough to draw bootstrap indices.
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    /// An index in `0..n`; `n` must not be 0.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometric_mean_rejects_non_positive_values() {
        assert!((geometric_mean(&[2.0, 8.0]).unwrap() - 4.0).abs() < 1e-12);
        assert_eq!(geometric_mean(&[2.0, 0.0]), None);
        assert_eq!(geometric_mean(&[]), None);
    }

    #[test]
    fn cv_of_constant_values_is_zero_and_of_spread_values_is_positive() {
        assert_eq!(coefficient_of_variation(&[5.0, 5.0, 5.0]), Some(0.0));
        let cv = coefficient_of_variation(&[9.0, 10.0, 11.0]).unwrap();
        assert!((cv - 0.1).abs() < 1e-12, "{cv}");
    }

    #[test]
    fn bootstrap_interval_contains_the_median_and_is_reproducible() {
        let ratios = [1.30, 1.42, 1.38, 1.51, 1.25, 1.47, 1.40, 1.36];
        let (lo, hi) = bootstrap_median_ci(&ratios, 0.95, 2000, 7).unwrap();
        let m = median(&ratios).unwrap();
        assert!(lo <= m && m <= hi, "{lo} <= {m} <= {hi}");
        assert!(lo >= 1.25 && hi <= 1.51, "inside the data range: {lo}..{hi}");
        assert!(hi - lo < 0.2, "eight tight ratios give a tight interval: {lo}..{hi}");
        assert_eq!(bootstrap_median_ci(&ratios, 0.95, 2000, 7), Some((lo, hi)));
    }

    #[test]
    fn noisier_data_gives_a_wider_interval() {
        let tight = [1.0, 1.01, 0.99, 1.0, 1.02, 0.98];
        let noisy = [0.65, 1.61, 0.9, 1.3, 0.8, 1.2];
        let (a, b) = bootstrap_median_ci(&tight, 0.95, 2000, 1).unwrap();
        let (c, d) = bootstrap_median_ci(&noisy, 0.95, 2000, 1).unwrap();
        assert!(d - c > 5.0 * (b - a), "noisy {c}..{d} vs tight {a}..{b}");
    }

    #[test]
    fn one_value_gives_a_degenerate_interval() {
        assert_eq!(bootstrap_median_ci(&[1.2], 0.95, 100, 1), Some((1.2, 1.2)));
        assert_eq!(bootstrap_median_ci(&[], 0.95, 100, 1), None);
    }
}
