//! Two runs compared: the plain data that `claimbench_suite::compare` produces and the report
//! crate renders as the compare page and its markdown twin.
//!
//! Numbers stay numbers here; the statistics that fill these types (the change of a ratio and
//! its interval, the judgement) live in the suite, and the wording in the report.

use serde::{Deserialize, Serialize};

use crate::run::{Estimate, Outcome};

/// The settings of a comparison.
///
/// Comparisons are not stored, only rendered; fields of older versions (the bootstrap's
/// `resamples` and `seed`) are ignored when an old one is read.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CompareOptions {
    /// A change counts only when its whole interval clears 1 by this fraction (0.05 = 5%).
    pub threshold: f64,
    /// The level of the comparison as a whole: every row's interval holds together with at
    /// least this probability, each row's at `1 - (1 - confidence) / rows`.
    pub confidence: f64,
}

impl Default for CompareOptions {
    fn default() -> CompareOptions {
        CompareOptions { threshold: 0.05, confidence: 0.95 }
    }
}

/// Two runs compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub base: RunInfo,
    pub new: RunInfo,
    pub options: CompareOptions,
    /// The level each row's interval is asked for: the comparison's level split evenly over the
    /// rows whose ratios both runs measured (Bonferroni); `None` when there are none.
    pub row_level: Option<f64>,
    /// Claims in BASE's order (each followed by its sub-verdicts), then claims only in NEW.
    pub rows: Vec<Row>,
    /// Differences between the runs that a reader should weigh, worded for the user.
    pub notes: Vec<String>,
}

/// What identifies a run in a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub run_id: String,
    pub profile: String,
    pub started_at: String,
    pub git_commit: Option<String>,
    pub complete: bool,
}

/// One claim or one sub-verdict, in both runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub claim: String,
    /// The sub-verdict's label; `None` for the claim's own verdict.
    pub label: Option<String>,
    /// What the ratio is, e.g. "express/fastapi throughput"; empty when neither run has one.
    pub ratio: String,
    pub base: Option<Side>,
    pub new: Option<Side>,
    /// NEW/BASE of the ratio, when both runs measured the same ratio.
    pub change: Option<Change>,
    pub movement: Movement,
    pub favoured: Favoured,
    pub judgement: Judgement,
    /// Set when the outcome changed.
    pub flip: Option<FlipKind>,
    /// The row is a regression: its change interval cleared the band against the claimed side.
    /// A verdict flip alone never is one.
    pub regression: bool,
    /// Why the ratios could not be compared or judged ("only in NEW", "too few pairs for a
    /// 99.44% interval (3 pairs, 6 needed)"), when they could not.
    pub note: Option<String>,
}

/// A row's verdict in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Side {
    pub outcome: Outcome,
    pub estimate: Option<Estimate>,
}

/// A change NEW/BASE of a ratio: 1 is no change, 0.8 is 20% lower.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub median: f64,
    pub low: f64,
    pub high: f64,
    /// The interval's achieved coverage (Hodges–Lehmann / exact Mann–Whitney on the per-pair
    /// log-ratios), at least the comparison's row level.
    pub level: f64,
}

/// Which way a change's interval lies against the noise band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Movement {
    /// The whole interval lies above `1 + threshold`.
    Up,
    /// The whole interval lies below `1 / (1 + threshold)`.
    Down,
    /// The interval reaches into the band: noise.
    None,
}

/// Which way a ratio must move to favour its claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Favoured {
    /// A larger ratio favours the claim (e.g. "express > fastapi" on express/fastapi).
    Up,
    /// A smaller ratio favours the claim (e.g. "express < fastapi" on CPU per request).
    Down,
    /// Neither the words nor a decisive verdict say.
    Unknown,
}

/// What a ratio's movement means for its claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Judgement {
    /// Moved beyond the threshold towards the claimed side.
    Improved,
    /// Moved beyond the threshold against the claimed side.
    Regressed,
    /// Moved beyond the threshold; the claimed side is unknown.
    Changed,
    /// Stayed within the noise band.
    NoChange,
    /// Both runs measured the ratio, but too few pairs for an interval at the row level:
    /// inconclusive, never a regression.
    TooFewPairs,
    /// No ratio in one of the runs, or the runs measured different ratios.
    NotComparable,
}

/// What a change of outcome means for the claim. Flips are information, never a regression on
/// their own: two runs of the same code flip between supported and inconclusive from noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlipKind {
    /// The evidence for the claim weakened (supported → inconclusive or refuted, inconclusive →
    /// refuted).
    Weakened,
    /// A valid verdict became invalid: a fault of the harness or the machine (saturation, a
    /// drifting canary), shown as a warning.
    BecameInvalid,
    /// The evidence strengthened, or an invalid verdict became valid.
    Strengthened,
    /// The claim became measured or stopped being measured (e.g. a filtered run).
    Coverage,
}

impl Comparison {
    /// Rows that regressed.
    pub fn regressions(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.regression)
    }

    /// Rows whose change interval cleared the band towards the claimed side.
    pub fn improvements(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.judgement == Judgement::Improved)
    }

    /// Rows whose verdict became invalid: warnings, not regressions.
    pub fn invalidated(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.flip == Some(FlipKind::BecameInvalid))
    }

    /// Rows whose ratio both runs measured with too few pairs to judge a change.
    pub fn too_few_pairs(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.judgement == Judgement::TooFewPairs)
    }

    /// Rows whose outcome changed.
    pub fn flips(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.flip.is_some())
    }

    /// True when any row regressed: `claimbench compare` then exits 1.
    pub fn has_regression(&self) -> bool {
        self.regressions().next().is_some()
    }
}

/// What a ratio is of: "express/fastapi throughput".
pub fn ratio_name(e: &Estimate) -> String {
    format!("{}/{} {}", e.numerator, e.denominator, e.quantity)
}
