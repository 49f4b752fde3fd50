//! `.hgrm`: HdrHistogram's percentile distribution text, as its plotter reads it.
//!
//! Values are printed in milliseconds (the histograms hold microseconds), the percentile column
//! as a fraction, as HdrHistogram's `outputPercentileDistribution` does; the footer gives mean,
//! standard deviation, maximum, count and the histogram's bucket layout.

use std::fmt::Write as _;

use claimbench_model::load::LoadResult;

use super::{Exporter, Latency};
use crate::error::ExportError;
use crate::histogram::{decode, SIGNIFICANT_DIGITS};

pub(super) struct Hgrm {
    pub latency: Latency,
}

/// Microseconds per printed unit (milliseconds).
const SCALE: f64 = 1000.0;

impl Exporter for Hgrm {
    fn name(&self) -> &'static str {
        ".hgrm"
    }

    fn render(&self, r: &LoadResult) -> Result<Vec<u8>, ExportError> {
        let (points, summary, encoded) = match self.latency {
            Latency::Corrected => (&r.distribution, &r.latency, &r.histograms.corrected),
            Latency::Uncorrected => (&r.distribution_uncorrected, &r.latency_uncorrected, &r.histograms.uncorrected),
        };
        let h = decode(encoded).map_err(|e| ExportError::Encode { format: self.name(), reason: e.to_string() })?;
        let mut out = String::new();
        let _ = writeln!(out, "{:>12} {:>14} {:>10} {:>14}\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
        for p in points {
            let fraction = p.percentile / 100.0;
            if fraction < 1.0 {
                let _ = writeln!(
                    out,
                    "{:>12.3} {:>2.12} {:>10} {:>14.2}",
                    p.value_us / SCALE,
                    fraction,
                    p.total_count,
                    1.0 / (1.0 - fraction)
                );
            } else {
                let _ = writeln!(out, "{:>12.3} {:>2.12} {:>10}", p.value_us / SCALE, fraction, p.total_count);
            }
        }
        let _ = writeln!(
            out,
            "#[Mean    = {:>12.3}, StdDeviation   = {:>12.3}]",
            summary.mean_us / SCALE,
            summary.stdev_us / SCALE
        );
        let _ = writeln!(out, "#[Max     = {:>12.3}, Total count    = {:>12}]", summary.max_us / SCALE, summary.count);
        // HdrHistogram's sub-bucket count: single-unit resolution up to 2 * 10^digits.
        let sub_buckets = (2 * 10u64.pow(u32::from(SIGNIFICANT_DIGITS))).next_power_of_two();
        let _ = writeln!(out, "#[Buckets = {:>12}, SubBuckets     = {:>12}]", h.buckets(), sub_buckets);
        Ok(out.into_bytes())
    }
}
