//! Interval log: HdrHistogram's text log of one compressed V2 histogram per interval.
//!
//! The standard header (`#[StartTime: ...]`, `#[BaseTime: ...]` and the column legend) comes
//! first; each line then holds an interval's start (seconds after StartTime), its length, its
//! maximum and its corrected-latency histogram, values in microseconds. Logs from several runs
//! or machines can be merged and re-aggregated by HdrHistogram's log tools.

use std::fmt::Write as _;

use claimbench_model::load::LoadResult;

use super::Exporter;
use crate::error::ExportError;

pub(super) struct Hlog;

impl Exporter for Hlog {
    fn name(&self) -> &'static str {
        "interval log"
    }

    fn render(&self, r: &LoadResult) -> Result<Vec<u8>, ExportError> {
        let mut out = String::new();
        let _ = writeln!(out, "#[Logged with {}]", r.engine_version);
        let _ = writeln!(out, "#[Histogram log format version 1.3]");
        let _ =
            writeln!(out, "#[Corrected latency of {} in microseconds; intervals by response completion]", r.plan.url);
        let _ = writeln!(out, "#[StartTime: {:.3} (seconds since epoch)]", r.started_at_unix_s);
        let _ = writeln!(out, "#[BaseTime: {:.3} (seconds since epoch)]", r.started_at_unix_s);
        let _ =
            writeln!(out, "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"");
        for i in &r.intervals {
            let _ =
                writeln!(out, "{:.3},{:.3},{:.3},{}", i.start_s, (i.t_s - i.start_s).max(0.0), i.max_us, i.histogram);
        }
        Ok(out.into_bytes())
    }
}
