//! The one histogram configuration of the engine, and its conversions to and from results.
//!
//! Every latency histogram records whole microseconds from 1 µs to 1 hour at 3 significant
//! digits, so histograms from any run can be added together. This module turns them into the
//! model's summaries and percentile points, and into base64 of the compressed V2 encoding (the
//! text interval logs hold); `decode` and `merge` let later tools combine runs.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use claimbench_model::load::{LatencySummary, PercentilePoint};
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

use crate::error::HistogramError;

/// The highest value the histograms track, in microseconds (one hour); longer values are
/// recorded as one hour.
pub const HIGHEST_US: u64 = 3_600_000_000;
/// Significant decimal digits kept.
pub const SIGNIFICANT_DIGITS: u8 = 3;
/// How many points per halving of the remaining percentile range `.hgrm` output lists.
pub const TICKS_PER_HALF_DISTANCE: u32 = 5;

/// An empty histogram with the engine's configuration.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_US, SIGNIFICANT_DIGITS).expect("the engine's histogram bounds are valid")
}

/// The summary numbers of a histogram; all zero when it is empty.
pub fn summarize(h: &Histogram<u64>) -> LatencySummary {
    if h.is_empty() {
        return LatencySummary::default();
    }
    let q = |q: f64| h.value_at_quantile(q) as f64;
    LatencySummary {
        count: h.len(),
        min_us: h.min() as f64,
        mean_us: h.mean(),
        stdev_us: h.stdev(),
        max_us: h.max() as f64,
        p50_us: q(0.50),
        p75_us: q(0.75),
        p90_us: q(0.90),
        p99_us: q(0.99),
        p999_us: q(0.999),
        p9999_us: q(0.9999),
    }
}

/// The percentile distribution as HdrHistogram prints it in `.hgrm` files.
pub fn distribution(h: &Histogram<u64>) -> Vec<PercentilePoint> {
    if h.is_empty() {
        return Vec::new();
    }
    let mut total = 0;
    h.iter_quantiles(TICKS_PER_HALF_DISTANCE)
        .map(|v| {
            total += v.count_since_last_iteration();
            PercentilePoint {
                value_us: h.highest_equivalent(v.value_iterated_to()) as f64,
                percentile: v.quantile_iterated_to() * 100.0,
                total_count: total,
            }
        })
        .collect()
}

/// Base64 of the compressed V2 encoding.
pub fn encode(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    V2DeflateSerializer::new().serialize(h, &mut buf).expect("serializing into memory cannot fail");
    STANDARD.encode(buf)
}

/// Reads back a histogram written by [`encode`] (or any compressed or plain V2 histogram, such
/// as one line of an interval log).
pub fn decode(text: &str) -> Result<Histogram<u64>, HistogramError> {
    let prefix: String = text.chars().take(12).collect();
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|e| HistogramError::Base64 { prefix: prefix.clone(), reason: e.to_string() })?;
    let h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| HistogramError::Decode { prefix, reason: format!("{e:?}") })?;
    Ok(h)
}

/// Adds histograms together (e.g. the same endpoint measured by two runs).
pub fn merge<'a>(histograms: impl IntoIterator<Item = &'a Histogram<u64>>) -> Result<Histogram<u64>, HistogramError> {
    let mut total = new_histogram();
    for h in histograms {
        total.add(h).map_err(|e| HistogramError::Merge { reason: format!("{e:?}") })?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_every_count() {
        let mut h = new_histogram();
        for v in [1, 7, 7, 1_000, 20_345, 1_500_000, HIGHEST_US] {
            h.record(v).unwrap();
        }
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back, h);
        assert!(encode(&h).starts_with("HISTFAAA"), "{}", encode(&h));
    }

    #[test]
    fn merging_two_halves_equals_recording_everything_once() {
        let (mut a, mut b, mut both) = (new_histogram(), new_histogram(), new_histogram());
        for v in 1..5_000u64 {
            let value = v * 37 % 90_001 + 1;
            if v % 3 == 0 { &mut a } else { &mut b }.record(value).unwrap();
            both.record(value).unwrap();
        }
        let merged = merge([&a, &b]).unwrap();
        assert_eq!(merged, both);
        assert_eq!(summarize(&merged), summarize(&both));
    }

    #[test]
    fn the_distribution_ends_at_the_maximum_with_every_count() {
        let mut h = new_histogram();
        for v in 1..=10_000u64 {
            h.record(v).unwrap();
        }
        let d = distribution(&h);
        let last = d.last().unwrap();
        assert_eq!(last.total_count, 10_000);
        assert_eq!(last.percentile, 100.0);
        assert_eq!(last.value_us, h.highest_equivalent(10_000) as f64);
        assert!(d.windows(2).all(|w| w[0].percentile <= w[1].percentile));
    }

    #[test]
    fn a_bad_histogram_string_says_what_it_got() {
        let err = decode("not base64!").unwrap_err();
        assert!(err.to_string().contains("not base64"), "{err}");
        let err = decode("aGVsbG8=").unwrap_err();
        assert!(err.to_string().contains("does not decode"), "{err}");
    }
}
