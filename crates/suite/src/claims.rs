//! The claims file (`fixtures/claims.toml`): each claim of the article, quoted, with the evidence
//! (ratios of measured metrics) that decides it. Reading it is here; deciding is in `evaluate`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::verdict::Claimed;
use crate::SuiteError;

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimsFile {
    #[serde(rename = "claim")]
    pub claims: Vec<ClaimSpec>,
}

/// One claim of the article.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimSpec {
    pub id: String,
    pub section: String,
    pub quote: String,
    pub metric: String,
    pub direction: String,
    #[serde(default)]
    pub tested_by: Vec<String>,
    /// Why this claim is not measured, when it is not.
    #[serde(default)]
    pub not_measured: Option<String>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

/// One ratio that bears on a claim; the first evidence of a claim decides it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evidence {
    pub label: String,
    pub experiment: String,
    pub numerator: Operand,
    pub denominator: Operand,
    pub metric: Metric,
    pub claimed: Claimed,
}

/// Which measurements feed one side of a ratio.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Operand {
    /// `node` or `python`: the run's stack of that runtime.
    pub side: Side,
    /// A measurement label, or `geomean:a,b,c` to pool several labels per trial.
    pub unit: String,
}

/// A runtime role in the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Node,
    Python,
}

/// A number taken from one measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Successful (2xx) responses per second.
    Throughput,
    /// Corrected median latency.
    P50,
    /// Corrected 99th percentile latency.
    P99,
    /// p99 minus the endpoint's built-in delay (scalar `p99_overhead_ms`).
    P99Overhead,
    /// App CPU-seconds per 1,000 successful responses.
    #[serde(rename = "cpu_per_1k")]
    CpuPer1k,
    /// Peak RSS of the app's process tree.
    PeakRss,
    /// Failed requests over all requests.
    ErrorRatio,
    /// Scalar `cold_start_ms`.
    ColdStartMs,
    /// Scalar `idle_rss_bytes`.
    IdleRss,
    /// Scalar `rss_per_connection_bytes`.
    RssPerConnection,
    /// Scalar `slo_max_rate`: the highest rate step that held the p99 objective.
    SloMaxRate,
}

impl Metric {
    /// What the ratio is of, in words, for the report.
    pub fn quantity(self) -> &'static str {
        match self {
            Metric::Throughput => "throughput",
            Metric::P50 => "p50 latency",
            Metric::P99 => "p99 latency",
            Metric::P99Overhead => "p99 latency overhead",
            Metric::CpuPer1k => "CPU-seconds per 1,000 requests",
            Metric::PeakRss => "peak RSS",
            Metric::ErrorRatio => "error ratio",
            Metric::ColdStartMs => "cold start",
            Metric::IdleRss => "idle RSS",
            Metric::RssPerConnection => "RSS per connection",
            Metric::SloMaxRate => "highest rate within the SLO",
        }
    }
}

impl Operand {
    /// The labels this operand pools (one, or several for `geomean:`).
    pub fn units(&self) -> Vec<&str> {
        match self.unit.strip_prefix("geomean:") {
            Some(list) => list.split(',').map(str::trim).collect(),
            None => vec![self.unit.as_str()],
        }
    }
}

/// Reads and checks the claims file.
pub fn load_claims(path: &Path) -> Result<ClaimsFile, SuiteError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SuiteError::Claims { path: path.to_path_buf(), message: e.to_string() })?;
    let file: ClaimsFile =
        toml::from_str(&text).map_err(|e| SuiteError::Claims { path: path.to_path_buf(), message: e.to_string() })?;
    for claim in &file.claims {
        if claim.evidence.is_empty() && claim.not_measured.is_none() {
            return Err(SuiteError::Claims {
                path: path.to_path_buf(),
                message: format!(
                    "claim '{}' has no evidence and no not_measured reason; give it one or the other",
                    claim.id
                ),
            });
        }
    }
    Ok(file)
}
