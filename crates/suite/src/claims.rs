//! The claims file (`fixtures/claims.toml`): each claim of the article, quoted, with the evidence
//! (ratios of measured metrics) that decides it. Reading it, and checking every experiment id
//! and unit it names against the catalogue, is here; deciding is in `evaluate`.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::experiments::{catalogue, Experiment};
use crate::profile::Profile;
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

/// One ratio that bears on a claim. A claim's first evidence is its primary evidence, registered
/// before any run: it alone decides the claim; the others are exploratory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evidence {
    pub label: String,
    /// An experiment id of the catalogue, e.g. `E-io`; spanned so a load error names its line.
    pub experiment: Spanned<String>,
    pub numerator: Operand,
    pub denominator: Operand,
    pub metric: Metric,
    pub claimed: Claimed,
    /// The error budget (0.01 = 1% of requests failed or timed out); a stack over it loses this
    /// evidence. Unset: the run's `Method::max_error_ratio`.
    #[serde(default)]
    pub max_error_ratio: Option<f64>,
}

/// Which measurements feed one side of a ratio.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Operand {
    /// `node` or `python`: the run's stack of that runtime.
    pub side: Side,
    /// Written `c=100` (one label) or `geomean:a,b,c` (several, pooled); spanned so a load error
    /// names its line.
    pub unit: Spanned<Units>,
}

/// The measurement labels one side of a ratio reads, parsed once from the claims file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Units {
    /// One label, e.g. `c=100`.
    Label(String),
    /// Several labels whose values are pooled per trial by a geometric mean: `geomean:a,b,c`.
    GeoMean(Vec<String>),
}

impl Units {
    /// The labels read, in file order.
    pub fn labels(&self) -> &[String] {
        match self {
            Units::Label(label) => std::slice::from_ref(label),
            Units::GeoMean(labels) => labels,
        }
    }
}

impl TryFrom<String> for Units {
    type Error = String;

    fn try_from(text: String) -> Result<Units, String> {
        let Some(list) = text.strip_prefix("geomean:") else {
            if text.trim().is_empty() {
                return Err("the unit is empty: give a measurement label such as \"c=100\"".into());
            }
            return Ok(Units::Label(text));
        };
        let labels: Vec<String> = list.split(',').map(|l| l.trim().to_string()).collect();
        if labels.len() < 2 || labels.iter().any(String::is_empty) {
            return Err(format!(
                "\"{text}\" is not a pooled unit: write geomean: and two or more comma-separated labels, \
                 e.g. \"geomean:c=10,c=100\""
            ));
        }
        Ok(Units::GeoMean(labels))
    }
}

impl From<Units> for String {
    fn from(units: Units) -> String {
        units.to_string()
    }
}

impl fmt::Display for Units {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Units::Label(label) => f.write_str(label),
            Units::GeoMean(labels) => write!(f, "geomean:{}", labels.join(",")),
        }
    }
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
    /// Scalar `slo_max_rate`: the highest rate the SLO search held within the p99 objective.
    SloMaxRate,
    /// Scalar `room_max_members`: the largest broadcast room whose fan-out p99 the room-size
    /// search found within the target.
    RoomMaxMembers,
    /// That rate per app core (the app's worker count on its own cores): what one core of the
    /// server carries within the objective, the inverse of a cost.
    SloRatePerCore,
    /// The database server's CPU-seconds per 1,000 successful responses (scalar
    /// `database_cpu_s`): how hard a stack's driver and queries make PostgreSQL work.
    #[serde(rename = "db_cpu_per_1k")]
    DbCpuPer1k,
    /// The app's and the database's CPU-seconds together per 1,000 successful responses: the
    /// server cost of a database-backed request.
    #[serde(rename = "app_db_cpu_per_1k")]
    AppDbCpuPer1k,
    /// p99 of the time to open a connection (TCP connect and the HTTP handshake) over every
    /// connection the load opened, in milliseconds: a full accept queue shows as retransmitted
    /// SYNs here.
    #[serde(rename = "connect_p99")]
    ConnectP99,
    /// Body bytes moved per second (both directions, so a download's and an upload's alike):
    /// the bytes of one exchange over its mean time, times the connections, so a stream still
    /// running when the window closes does not count as if it fitted in it.
    BodyThroughput,
    /// App CPU-seconds per GB (10^9 bytes) moved, both directions.
    #[serde(rename = "cpu_per_gb")]
    CpuPerGb,
    /// p99 time to first byte, from each request's actual send to its response's headers, in
    /// milliseconds: how long a client waits before a stream starts.
    #[serde(rename = "first_byte_p99")]
    FirstByteP99,
    /// p99 of the gaps between two consecutive body pieces of one streamed response, in
    /// milliseconds: how long a stream stalls mid-way.
    #[serde(rename = "chunk_gap_p99")]
    ChunkGapP99,
}

impl Metric {
    /// True when more is better (throughput, the highest rate within the SLO); false when less
    /// is (latency, CPU, memory, errors, start time). Decides which way a stack that failed its
    /// error budget loses.
    pub fn higher_is_better(self) -> bool {
        matches!(
            self,
            Metric::Throughput
                | Metric::SloMaxRate
                | Metric::SloRatePerCore
                | Metric::BodyThroughput
                | Metric::RoomMaxMembers
        )
    }

    /// True for the metrics that a late send moves (the latencies, and the SLO search built on
    /// them); a unit that any of them reads must keep the 1 ms send-lag rule.
    pub fn reads_latency(self) -> bool {
        matches!(self, Metric::P50 | Metric::P99 | Metric::P99Overhead | Metric::SloMaxRate | Metric::RoomMaxMembers)
    }

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
            Metric::RoomMaxMembers => "largest room within the fan-out target",
            Metric::SloRatePerCore => "req/s per app core within the SLO",
            Metric::DbCpuPer1k => "database CPU-seconds per 1,000 requests",
            Metric::AppDbCpuPer1k => "app and database CPU-seconds per 1,000 requests",
            Metric::ConnectP99 => "p99 connect time",
            Metric::BodyThroughput => "body throughput",
            Metric::CpuPerGb => "app CPU-seconds per GB moved",
            Metric::FirstByteP99 => "p99 time to first byte",
            Metric::ChunkGapP99 => "p99 gap between body pieces",
        }
    }
}

impl Operand {
    /// The labels this operand reads (one, or several for `geomean:`).
    pub fn units(&self) -> &[String] {
        self.unit.get_ref().labels()
    }
}

/// Reads the claims file and checks it against the experiment catalogue: every experiment id
/// and unit it names must exist, so a typo is a load error rather than a "not run" verdict.
pub fn load_claims(path: &Path) -> Result<ClaimsFile, SuiteError> {
    let bad = |message: String| SuiteError::Claims { path: path.to_path_buf(), message };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let file: ClaimsFile = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
    // Unit labels do not depend on the profile (only connection counts and durations scale), and
    // standard's catalogue holds every unit (nightly's leaves out the room-size search).
    let experiments = catalogue(&Profile::named("standard").expect("standard is a built-in profile"));
    for claim in &file.claims {
        if claim.evidence.is_empty() && claim.not_measured.is_none() {
            return Err(bad(format!(
                "claim '{}' has no evidence and no not_measured reason; give it one or the other",
                claim.id
            )));
        }
        for id in &claim.tested_by {
            if !experiments.iter().any(|e| &e.id == id) {
                return Err(bad(format!(
                    "claim '{}' is tested_by unknown experiment '{id}'; the experiments are {}",
                    claim.id,
                    experiment_ids(&experiments)
                )));
            }
        }
        for evidence in &claim.evidence {
            check_evidence(&text, &claim.id, evidence, &experiments).map_err(bad)?;
        }
    }
    Ok(file)
}

/// Checks that an evidence's experiment and units exist; the error names the file's line.
fn check_evidence(text: &str, claim: &str, evidence: &Evidence, experiments: &[Experiment]) -> Result<(), String> {
    let id = evidence.experiment.get_ref();
    let Some(experiment) = experiments.iter().find(|e| &e.id == id) else {
        return Err(format!(
            "line {}: claim '{claim}' names unknown experiment '{id}'; the experiments are {}",
            line_of(text, evidence.experiment.span().start),
            experiment_ids(experiments)
        ));
    };
    for operand in [&evidence.numerator, &evidence.denominator] {
        for label in operand.units() {
            if !experiment.units.iter().any(|u| &u.label == label) {
                let known: Vec<&str> = experiment.units.iter().map(|u| u.label.as_str()).collect();
                return Err(format!(
                    "line {}: claim '{claim}' names unit '{label}', which {id} does not measure; its units are {}",
                    line_of(text, operand.unit.span().start),
                    known.join(", ")
                ));
            }
        }
    }
    Ok(())
}

fn experiment_ids(experiments: &[Experiment]) -> String {
    experiments.iter().map(|e| e.id.as_str()).collect::<Vec<_>>().join(", ")
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<ClaimsFile, SuiteError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("claims.toml");
        std::fs::write(&path, text).unwrap();
        load_claims(&path)
    }

    fn claim(experiment: &str, unit: &str) -> String {
        format!(
            "[[claim]]\nid = \"c\"\nsection = \"s\"\nquote = \"q\"\nmetric = \"m\"\ndirection = \"d\"\n\
             [[claim.evidence]]\nlabel = \"l\"\nexperiment = \"{experiment}\"\n\
             numerator = {{ side = \"node\", unit = \"{unit}\" }}\n\
             denominator = {{ side = \"python\", unit = \"{unit}\" }}\n\
             metric = \"throughput\"\nclaimed = \"greater\"\n"
        )
    }

    #[test]
    fn a_pooled_unit_parses_into_its_labels_and_writes_back_the_same() {
        let units = Units::try_from("geomean:c=10, c=100".to_string()).unwrap();
        assert_eq!(units, Units::GeoMean(vec!["c=10".into(), "c=100".into()]));
        assert_eq!(units.to_string(), "geomean:c=10,c=100");
        assert_eq!(Units::try_from("c=100".to_string()).unwrap().labels(), ["c=100"]);
        for bad in ["geomean:", "geomean:c=10", "geomean:c=10,", ""] {
            assert!(Units::try_from(bad.to_string()).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn an_unknown_experiment_is_a_load_error_naming_the_line_and_the_valid_ids() {
        let err = load(&claim("E-nope", "c=100")).unwrap_err().to_string();
        assert!(err.contains("line 9"), "{err}");
        assert!(err.contains("unknown experiment 'E-nope'") && err.contains("E-io, "), "{err}");
    }

    #[test]
    fn an_unknown_unit_is_a_load_error_naming_the_line_and_the_valid_units() {
        let err = load(&claim("E-io", "geomean:c=100,c=7")).unwrap_err().to_string();
        assert!(err.contains("line 10") && err.contains("unit 'c=7'"), "{err}");
        assert!(err.contains("c=10, c=100"), "{err}");
        assert!(load(&claim("E-io", "c=100")).is_ok());
    }
}
