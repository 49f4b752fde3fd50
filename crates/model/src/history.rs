//! One line of the run history (`reports/history.jsonl`): what the history index page and its
//! trend charts need of a run, so the page renders after old run folders are deleted.
//!
//! Plain data: reading and appending the file is `claimbench_history`'s job, drawing the page
//! the report's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::compare::ratio_name;
use crate::run::{Outcome, RunResults};

/// The `v` this version writes; lines with another version are skipped with a warning.
pub const HISTORY_VERSION: u32 = 1;

/// One run, summarised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// [`HISTORY_VERSION`] at the time of writing.
    pub v: u32,
    /// The run folder's name under `reports/`.
    pub run_id: String,
    /// When the run started, RFC 3339.
    pub started_at: String,
    pub profile: String,
    #[serde(default)]
    pub git_commit: Option<String>,
    /// False for an interrupted run.
    pub complete: bool,
    /// Each stack's runtime versions, e.g. `express` -> `node v20.19.2`.
    #[serde(default)]
    pub runtimes: BTreeMap<String, String>,
    /// Every claim of the run, in its order.
    pub claims: Vec<ClaimPoint>,
}

/// One claim of one run: what the trend chart plots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimPoint {
    pub id: String,
    pub outcome: Outcome,
    /// What the ratio is, e.g. "express/fastapi throughput"; `None` without an estimate.
    #[serde(default)]
    pub ratio: Option<String>,
    #[serde(default)]
    pub ratio_median: Option<f64>,
    #[serde(default)]
    pub ci_low: Option<f64>,
    #[serde(default)]
    pub ci_high: Option<f64>,
}

impl HistoryEntry {
    /// The summary line of a run.
    pub fn from_results(results: &RunResults) -> HistoryEntry {
        HistoryEntry {
            v: HISTORY_VERSION,
            run_id: results.run_id.clone(),
            started_at: results.started_at.clone(),
            profile: results.profile.clone(),
            git_commit: results.environment.git_commit.clone(),
            complete: results.complete,
            runtimes: results
                .environment
                .stacks
                .iter()
                .map(|(stack, info)| {
                    let versions: Vec<String> =
                        info.versions.runtime.iter().map(|(name, version)| format!("{name} {version}")).collect();
                    (stack.clone(), versions.join(", "))
                })
                .collect(),
            claims: results
                .claims
                .iter()
                .map(|c| {
                    let e = c.verdict.estimate.as_ref();
                    ClaimPoint {
                        id: c.id.clone(),
                        outcome: c.verdict.outcome,
                        ratio: e.map(ratio_name),
                        ratio_median: e.map(|e| e.ratio_median),
                        ci_low: e.map(|e| e.ci_low),
                        ci_high: e.map(|e| e.ci_high),
                    }
                })
                .collect(),
        }
    }
}
