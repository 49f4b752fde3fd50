//! The results of one whole `claimbench run`, as written to `reports/<run-id>/results.json`.
//!
//! The suite fills these types: it runs the experiments, computes the estimates and decides the
//! verdicts. The report crate only reads them, formats and draws; nothing here is computed by the
//! report, so an old run can be re-rendered without running anything. Per-measurement load
//! numbers are the engine's [`LoadResult`], carried as is.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::load::LoadResult;
use crate::stack::{Pinning, Runtime, Versions};

/// The `schema_version` this crate writes; a reader refuses other versions by name.
pub const SCHEMA_VERSION: u32 = 1;

/// Why a `results.json` text is not results this claimbench reads; the reader adds the path.
#[derive(Debug, thiserror::Error)]
pub enum ParseResultsError {
    /// Another claimbench wrote it, with another schema.
    #[error("written by results schema version {found}, this claimbench reads version {SCHEMA_VERSION}: re-run it, or render it with the claimbench that made it")]
    Schema { found: u64 },
    /// It is not results JSON at all.
    #[error("not claimbench results: {0}")]
    Json(#[from] serde_json::Error),
}

/// Everything one run measured and concluded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunResults {
    /// [`SCHEMA_VERSION`] at the time of writing.
    pub schema_version: u32,
    /// The folder name under `reports/`, e.g. `2026-03-14T10-22-05Z-quick`.
    pub run_id: String,
    /// The profile that was run: `smoke`, `quick`, `standard` or `nightly`.
    pub profile: String,
    /// When the run started, RFC 3339.
    pub started_at: String,
    /// When the run finished, RFC 3339; `None` if it was interrupted before writing it.
    #[serde(default)]
    pub finished_at: Option<String>,
    /// Wall-clock seconds from start to the last finished measurement.
    #[serde(default)]
    pub duration_s: Option<f64>,
    /// False when the run was interrupted (Ctrl-C, a crash): the report says "partial run".
    pub complete: bool,
    /// The command-line filters in force (`--claims`, `--stacks`), as the user typed them.
    #[serde(default)]
    pub filters: Vec<String>,
    /// The thresholds and durations the verdicts were decided with.
    pub method: Method,
    /// The machine and software the run measured.
    pub environment: Environment,
    /// One entry per claim in `fixtures/claims.toml`, in file order; never dropped.
    pub claims: Vec<ClaimResult>,
    /// One entry per experiment, in the order they ran.
    pub experiments: Vec<ExperimentResult>,
    /// Experiments this machine could not give the CPUs they need, by id, with why: they were
    /// not run, and the claims they back say "not measurable on this machine".
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub not_measurable: BTreeMap<String, String>,
    /// Run-wide warnings, already worded for the user.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Every pair of stacks the run compares, the first the main one: its verdicts are
    /// [`RunResults::claims`], every later pair's are in its own entry. Empty in a run of one
    /// pair written before pairs existed (its sides are then the first stack of each runtime).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pairs: Vec<PairResults>,
    /// With several pairs: how far each stack is from its runtime's stack in the first pair on
    /// every claim's primary evidence (fastify/express, starlette/fastapi, ...), from this run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub framework_spreads: Vec<FrameworkSpread>,
    /// With several pairs: per claim, whether it holds for the runtimes (see [`RuntimeVerdict`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runtime_verdicts: Vec<RuntimeVerdict>,
}

/// Two stacks of one runtime on a claim's primary evidence: `stack` over `baseline` on the
/// evidence's metric, paired trial by trial as a pair of runtimes is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FrameworkSpread {
    /// The claim whose primary evidence this reads.
    pub claim: String,
    pub runtime: Runtime,
    /// E.g. `fastify`.
    pub stack: String,
    /// The runtime's stack in the run's first pair, e.g. `express`.
    pub baseline: String,
    /// `None` when one of the two has no valid measurement of the evidence's units.
    #[serde(default)]
    pub estimate: Option<Estimate>,
    /// E.g. "fastify/express 1.52× (95% CI 1.40–1.61)", or why there is no number.
    pub key_number: String,
}

/// The rule for a claim about Node against Python: it is supported **for the runtimes** only
/// when it is supported for the runtime-floor pair (`node-http:starlette`, no framework on
/// either side) and for the popular pair (`express:fastapi`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RuntimeVerdict {
    pub claim: String,
    /// True when the claim is supported on both pairs.
    pub holds: bool,
    /// The outcome on each of the two pairs, or which pair the run lacks, in words.
    pub reason: String,
}

/// One Node stack compared with one Python stack, and its verdicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PairResults {
    /// The Node stack, by registry name, e.g. `node-http`.
    pub node: String,
    /// The Python stack, by registry name, e.g. `starlette`.
    pub python: String,
    /// True for a pair measured only on the units of the claims' primary evidences (every pair
    /// but the first in `standard` and `nightly`); its other evidences read "not measured".
    #[serde(default)]
    pub primary_only: bool,
    /// Experiments one stack of this pair cannot answer (it lacks an endpoint group), by id, with
    /// why: the pair's claims they back say "not implemented by this stack".
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub not_implemented: BTreeMap<String, String>,
    /// One entry per claim, in file order, each with `pair` set; empty for the run's first pair,
    /// whose verdicts are [`RunResults::claims`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<ClaimResult>,
}

impl PairResults {
    /// `node:python`, as `--pairs` takes it and every verdict row names it.
    pub fn label(&self) -> String {
        pair_label(&self.node, &self.python)
    }
}

/// `node:python`, the name of a pair.
pub fn pair_label(node: &str, python: &str) -> String {
    format!("{node}:{python}")
}

/// How the verdicts were decided: the settings the report quotes next to them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Method {
    /// A ratio must clear 1 by this fraction (0.05 = 5%) at both ends of its interval to count.
    pub noise_threshold: f64,
    /// Confidence level of the intervals, e.g. 0.95.
    pub confidence: f64,
    /// The latency objective for the saturation search, p99 in milliseconds.
    pub slo_p99_ms: f64,
    /// The fan-out target of the room-size search, p99 in milliseconds: the largest room whose
    /// p99 from send to every member's receipt stays within it is a stack's score
    /// (websocket-shootout's, 250 ms by default).
    #[serde(default = "default_room_p99_ms")]
    pub room_p99_ms: f64,
    /// The default error budget of an evidence (0.01 = 1%): a stack whose requests failed more
    /// often than this loses the evidence. Failed trials stay valid; they count against the stack.
    pub max_error_ratio: f64,
    /// A trial whose speed canary moved by more than this fraction is repeated; a repeat that
    /// moves again is invalid.
    pub canary_max_drift: f64,
    /// Warm-up seconds per stack before measuring.
    pub warmup_s: f64,
    /// Seconds per measured trial.
    pub trial_s: f64,
    /// Seconds of unmeasured load of a unit's own shape on each app instance before that unit's
    /// first trial there (0: none).
    #[serde(default)]
    pub priming_s: f64,
    /// The seed the order of units within each experiment was shuffled from; the same seed gives
    /// the same order.
    #[serde(default)]
    pub seed: u64,
    /// True when the profile ran only the units of the claims' primary evidences (`quick`); the
    /// other evidences then read "not measured in this profile".
    #[serde(default)]
    pub primary_only: bool,
}

/// websocket-shootout's broadcast target: a room is held while its p99 round trip stays under
/// 250 ms.
pub const DEFAULT_ROOM_P99_MS: f64 = 250.0;

fn default_room_p99_ms() -> f64 {
    DEFAULT_ROOM_P99_MS
}

/// The machine, the pinning and the software versions of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Environment {
    /// `model name` from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// Logical CPUs online.
    pub cores: u32,
    /// `uname -sr`, e.g. `Linux 6.1.0-18-amd64`.
    pub kernel: String,
    /// The OS name from `/etc/os-release`, if readable.
    #[serde(default)]
    pub os: Option<String>,
    /// Version of the claimbench binary that ran.
    pub claimbench_version: String,
    /// The repository commit, when run from a git checkout.
    #[serde(default)]
    pub git_commit: Option<String>,
    /// CPU list the apps were pinned to, e.g. `1`.
    pub app_cores: String,
    /// CPU list the load generator and the upstream were pinned to, e.g. `0`.
    pub generator_cores: String,
    /// Set when the pinning could not be clean, e.g. "only 2 cores: the generator and upstream
    /// share core 0".
    #[serde(default)]
    pub pinning_note: Option<String>,
    /// How the upstream service's thread was scheduled on the CPU it shares with the load
    /// generator: first (the real-time FIFO class) or, where that was refused, the ordinary class
    /// with the reason. Absent in runs made before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_scheduling: Option<String>,
    /// Every stack the run started, by registry name.
    pub stacks: BTreeMap<String, StackInfo>,
    /// The side a stack stands for when it is not its own runtime's: an A/A calibration runs
    /// `express@a` as node and `express@b` as python. Empty in a normal run.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub roles: BTreeMap<String, Runtime>,
    /// The database the apps' database endpoints used, when the run started or was given one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<crate::database::DatabaseInfo>,
}

/// One stack as it actually ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StackInfo {
    pub runtime: Runtime,
    pub framework: String,
    /// The default `WORKERS`; experiments that vary it say so on the measurement.
    pub workers: u32,
    pub versions: Versions,
    pub pinning: Pinning,
}

/// One claim of the article and what the run concluded about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClaimResult {
    /// Stable id from `fixtures/claims.toml`, e.g. `io-throughput`; also the report's anchor.
    pub id: String,
    /// The article's own words.
    pub quote: String,
    /// The article section the quote comes from.
    pub section: String,
    /// Ids of the experiments that test the claim.
    pub tested_by: Vec<String>,
    /// What is compared, e.g. "throughput at the same connections (req/s)".
    pub metric: String,
    /// The claimed direction in words, e.g. "express > fastapi".
    pub direction: String,
    /// The overall verdict.
    pub verdict: Verdict,
    /// Verdicts per variant (e.g. E-cpu pure and lib), when the claim is decided per variant.
    #[serde(default)]
    pub sub_verdicts: Vec<LabeledVerdict>,
    /// The pair the verdict is about, `node:python` (e.g. `express:fastapi`); absent in runs
    /// written before pairs existed, and where the run had no stack for one side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<String>,
}

/// A verdict for one variant of a claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LabeledVerdict {
    /// What the variant is, e.g. "/cpu/matmul, native library".
    pub label: String,
    /// The experiment the variant was measured in, if a single one.
    #[serde(default)]
    pub experiment: Option<String>,
    /// True for the claim's first evidence, registered in `claims.toml` before any run: it alone
    /// decides the claim. The others are exploratory.
    #[serde(default)]
    pub primary: bool,
    pub verdict: Verdict,
}

/// A decided verdict with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Verdict {
    pub outcome: Outcome,
    /// The ratio estimate behind the outcome; `None` when nothing valid was measured.
    #[serde(default)]
    pub estimate: Option<Estimate>,
    /// The one number to read, preformatted, e.g. "express/fastapi 1.42× (95% CI 1.31–1.55)".
    pub key_number: String,
    /// Why this outcome, in one or two sentences; for `NotMeasured` and `Invalid` the reason.
    pub reason: String,
}

/// What the run concluded about a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The interval lies on the claimed side beyond the noise threshold.
    Supported,
    /// The interval lies on the other side beyond the noise threshold.
    Refuted,
    /// The interval reaches into the noise band or straddles it.
    Inconclusive,
    /// The measurements behind it were invalid (generator-bound, too many errors).
    Invalid,
    /// Not measured by this run, with the reason in [`Verdict::reason`].
    NotMeasured,
}

impl Outcome {
    /// How the outcome reads to a user, e.g. "not yet measured".
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Supported => "supported",
            Outcome::Refuted => "refuted",
            Outcome::Inconclusive => "inconclusive",
            Outcome::Invalid => "invalid",
            Outcome::NotMeasured => "not yet measured",
        }
    }

    /// A short identifier for styling and anchors, e.g. "not-measured".
    pub fn slug(self) -> &'static str {
        match self {
            Outcome::NotMeasured => "not-measured",
            other => other.label(),
        }
    }
}

/// A paired-ratio estimate: median of per-pair ratios and its confidence interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Estimate {
    /// The stack in the numerator, e.g. `express`.
    pub numerator: String,
    /// The stack in the denominator, e.g. `fastapi`.
    pub denominator: String,
    /// What the ratio is of, e.g. "throughput" or "p99 latency".
    pub quantity: String,
    /// Median of the per-pair ratios.
    pub ratio_median: f64,
    /// Lower end of the confidence interval.
    pub ci_low: f64,
    /// Upper end of the confidence interval.
    pub ci_high: f64,
    /// The interval's true confidence level (e.g. 0.96875 for [min, max] of 6 pairs); `None` in
    /// results written before it was recorded, whose bootstrap interval claimed the run's level.
    #[serde(default)]
    pub confidence: Option<f64>,
    /// Number of adjacent pairs the estimate is taken over.
    pub pairs: u32,
    /// Every per-pair ratio, in trial order: the spread the report shows.
    pub spread: Vec<f64>,
    /// What the claim says about this ratio; `None` in results written before it was recorded.
    #[serde(default)]
    pub claimed: Option<Claimed>,
}

/// What a claim says about a ratio `r` (numerator over denominator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Claimed {
    /// The claim says `r > 1`: the numerator is ahead.
    Greater,
    /// The claim says `r < 1`: the numerator is behind (e.g. less CPU, lower latency).
    Less,
    /// The claim says `r` is not above 1: e.g. "nothing blocks", p99 mixed / p99 alone stays ~1.
    NotGreater,
    /// A negative control: the set-up itself makes `r` equal to 1 (both stacks held to the same
    /// cap), so its interval must lie within the noise band. One that does not points at the
    /// harness, not at the apps.
    Equal,
}

/// One experiment and all its measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExperimentResult {
    /// e.g. `E-io`; also the report's anchor.
    pub id: String,
    /// A short title, e.g. "Upstream I/O".
    pub title: String,
    /// What is exercised, e.g. "`/io/upstream?ms=20`".
    pub what: String,
    /// How it is measured, e.g. "closed loop at 10, 100, 500 and 1000 connections".
    pub measured_as: String,
    /// One sentence of what it measures and why that bears on the article's claim; empty in
    /// results written before it was recorded.
    #[serde(default)]
    pub purpose: String,
    /// Another machine's published figures for the same kind of test, labelled as such (e.g.
    /// HttpArena's), shown beside ours; never compared with them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Why the experiment has no measurements, when it was skipped or filtered out.
    #[serde(default)]
    pub skipped_reason: Option<String>,
    /// Units of it this machine could not measure, by label, with the reason (e.g. more
    /// connections than the file-descriptor limit allows).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub not_measurable_units: BTreeMap<String, String>,
    /// Every measurement in the order taken, valid or not.
    pub measurements: Vec<Measurement>,
}

/// One trial of one stack under one setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Measurement {
    /// Unique within the run, e.g. `E-io/express/c=100/3`; names the `.hgrm` file too.
    pub id: String,
    /// The experiment id.
    pub experiment: String,
    /// The stack's registry name.
    pub stack: String,
    /// The setting, as the report groups by it, e.g. `c=64` or `/cpu/fib pure c=1`.
    pub label: String,
    /// Trial number within (experiment, stack, label), from 1.
    pub trial: u32,
    /// `WORKERS` for this trial when it differs from the stack's default.
    #[serde(default)]
    pub workers: Option<u32>,
    /// Closed-loop connections, when the trial was closed loop.
    #[serde(default)]
    pub connections: Option<u32>,
    /// Open-loop target rate in requests per second, when the trial was open loop at one rate.
    #[serde(default)]
    pub offered_rate: Option<f64>,
    /// The request path and query, e.g. `/io/upstream?ms=20`.
    pub endpoint: String,
    /// The load run's results; `None` for measurements that are not load runs (cold start) or
    /// that failed before any load ran.
    #[serde(default)]
    pub load: Option<LoadResult>,
    /// CPU seconds the app's process tree used during the trial's measured window (warm-up left
    /// out), from schedstat; see [`Measurement::app_cpu_resolution_s`].
    pub app_cpu_s: f64,
    /// Resolution of [`Measurement::app_cpu_s`] in seconds: 1e-9 from schedstat, 0.01 from
    /// `/proc/PID/stat` ticks; `None` in results written before it was recorded (ticks, and the
    /// window then included the warm-up).
    #[serde(default)]
    pub app_cpu_resolution_s: Option<f64>,
    /// Busy fraction (steal included) of the generator-side CPUs (load generator, upstream and
    /// anything else there) over the measured window, from `/proc/stat`.
    #[serde(default)]
    pub generator_side_busy: Option<f64>,
    /// Fraction of the app's CPUs used by other processes over the measured window (their busy
    /// time in `/proc/stat` minus the app's own CPU time).
    #[serde(default)]
    pub app_core_contention: Option<f64>,
    /// Fraction of the app's CPUs a hypervisor stole over the measured window.
    #[serde(default)]
    pub steal: Option<f64>,
    /// Upstream answers during the measured window that left later than their delay plus the
    /// upstream's margin, and the upstream answers in that window.
    #[serde(default)]
    pub upstream_late: Option<UpstreamLate>,
    /// Peak resident set size of the app's process tree during the trial.
    pub app_peak_rss_bytes: u64,
    /// Speed canary before the trial, milliseconds.
    #[serde(default)]
    pub canary_before_ms: Option<f64>,
    /// Speed canary after the trial, milliseconds.
    #[serde(default)]
    pub canary_after_ms: Option<f64>,
    /// False when the measurement must not count; the reasons say why.
    pub valid: bool,
    /// Why it is invalid, worded for the user, e.g. "the load generator used 97% of its core".
    #[serde(default)]
    pub invalid_reasons: Vec<String>,
    /// Wrong answers caught under load, worded for the user: a sampled response whose body
    /// differed from the contract's, or upstream hits that do not match the successful calls.
    /// Each makes the trial a loss for its stack (the evidence goes against it), never invalid.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wrong_answers: Vec<String>,
    /// The last lines of the app's stderr, kept when the app failed.
    #[serde(default)]
    pub app_stderr_tail: Option<String>,
    /// Experiment-specific numbers that are not load results, e.g. `cold_start_ms`,
    /// `idle_rss_bytes`, `rss_per_connection_bytes`.
    #[serde(default)]
    pub scalars: BTreeMap<Scalar, f64>,
}

/// Upstream answers of one trial's measured window that came late.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UpstreamLate {
    /// Answers that left more than the margin after their delay.
    pub late: u64,
    /// Every `/delay` answer in the window.
    pub answered: u64,
    /// The margin, milliseconds.
    pub margin_ms: u64,
}

/// A number a measurement records besides its load result; serialised as its snake_case name.
///
/// The variants are declared in the alphabetical order of their names, so a
/// `BTreeMap<Scalar, _>` writes its keys in the same order a map of strings did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scalar {
    /// p99 latency of the background load beside the measured one, milliseconds.
    BackgroundP99Ms,
    /// Responses per second of the background load beside the measured one.
    BackgroundRate,
    /// How far the speed canary moved over the trial, as a fraction.
    CanaryDrift,
    /// From spawn to the first successful response, milliseconds.
    ColdStartMs,
    /// CPU seconds the database server used during the trial (warm-up included).
    DatabaseCpuS,
    /// 1 when the spawn was the stack's first of the run (its files possibly not yet in the page
    /// cache), 0 for a later one.
    FirstSpawn,
    /// Resident set size of the app's process tree at rest.
    IdleRssBytes,
    /// p99 latency minus the endpoint's built-in delay, milliseconds.
    P99OverheadMs,
    /// The largest broadcast room whose step held the fan-out p99 target, in members.
    RoomMaxMembers,
    /// Growth of the resident set size per open connection.
    RssPerConnectionBytes,
    /// 1 when an SLO or room search held its ceiling (the load generator's own limit), so its
    /// answer is only a lower bound of what the stack holds; 0 when a step above it failed.
    SearchCeilingHeld,
    /// The highest offered rate whose step held the p99 objective, requests per second.
    SloMaxRate,
    /// Wall-clock seconds the trial took.
    WallS,
}

/// What a [`Scalar`] is measured in; decides how it is formatted and charted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarUnit {
    Milliseconds,
    Seconds,
    Bytes,
    /// Requests per second.
    Rate,
    /// A plain fraction or count.
    Ratio,
    /// Yes (1) or no (0): shown in words, never charted.
    Flag,
}

impl Scalar {
    /// Every scalar, in name order.
    pub const ALL: [Scalar; 13] = [
        Scalar::BackgroundP99Ms,
        Scalar::BackgroundRate,
        Scalar::CanaryDrift,
        Scalar::ColdStartMs,
        Scalar::DatabaseCpuS,
        Scalar::FirstSpawn,
        Scalar::IdleRssBytes,
        Scalar::P99OverheadMs,
        Scalar::RoomMaxMembers,
        Scalar::RssPerConnectionBytes,
        Scalar::SearchCeilingHeld,
        Scalar::SloMaxRate,
        Scalar::WallS,
    ];

    /// The serialised name, e.g. `cold_start_ms`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scalar::BackgroundP99Ms => "background_p99_ms",
            Scalar::BackgroundRate => "background_rate",
            Scalar::CanaryDrift => "canary_drift",
            Scalar::ColdStartMs => "cold_start_ms",
            Scalar::DatabaseCpuS => "database_cpu_s",
            Scalar::FirstSpawn => "first_spawn",
            Scalar::IdleRssBytes => "idle_rss_bytes",
            Scalar::P99OverheadMs => "p99_overhead_ms",
            Scalar::RoomMaxMembers => "room_max_members",
            Scalar::RssPerConnectionBytes => "rss_per_connection_bytes",
            Scalar::SearchCeilingHeld => "search_ceiling_held",
            Scalar::SloMaxRate => "slo_max_rate",
            Scalar::WallS => "wall_s",
        }
    }

    /// What the number is measured in.
    pub fn unit(self) -> ScalarUnit {
        match self {
            Scalar::BackgroundP99Ms | Scalar::ColdStartMs | Scalar::P99OverheadMs => ScalarUnit::Milliseconds,
            Scalar::WallS | Scalar::DatabaseCpuS => ScalarUnit::Seconds,
            Scalar::IdleRssBytes | Scalar::RssPerConnectionBytes => ScalarUnit::Bytes,
            Scalar::BackgroundRate | Scalar::SloMaxRate => ScalarUnit::Rate,
            Scalar::CanaryDrift | Scalar::FirstSpawn | Scalar::RoomMaxMembers => ScalarUnit::Ratio,
            Scalar::SearchCeilingHeld => ScalarUnit::Flag,
        }
    }

    /// The name in words without its unit, e.g. "cold start".
    pub fn title(self) -> &'static str {
        match self {
            Scalar::BackgroundP99Ms => "background p99",
            Scalar::BackgroundRate => "background rate",
            Scalar::CanaryDrift => "canary drift",
            Scalar::ColdStartMs => "cold start",
            Scalar::DatabaseCpuS => "database cpu",
            Scalar::FirstSpawn => "first spawn",
            Scalar::IdleRssBytes => "idle rss",
            Scalar::P99OverheadMs => "p99 overhead",
            Scalar::RoomMaxMembers => "room max members",
            Scalar::RssPerConnectionBytes => "rss per connection",
            Scalar::SearchCeilingHeld => "search ceiling held",
            Scalar::SloMaxRate => "slo max rate",
            Scalar::WallS => "wall",
        }
    }
}

impl RunResults {
    /// Parses a `results.json` text, refusing a schema version other than [`SCHEMA_VERSION`].
    pub fn from_json(text: &str) -> Result<RunResults, ParseResultsError> {
        // The version first, so an old file says "old version" rather than "missing field".
        let version =
            serde_json::from_str::<serde_json::Value>(text).ok().and_then(|v| v.get("schema_version")?.as_u64());
        if let Some(found) = version.filter(|v| *v != u64::from(SCHEMA_VERSION)) {
            return Err(ParseResultsError::Schema { found });
        }
        Ok(serde_json::from_str(text)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_serialise_as_their_names_in_name_order() {
        for scalar in Scalar::ALL {
            assert_eq!(serde_json::to_value(scalar).unwrap(), scalar.as_str());
        }
        let names: Vec<&str> = Scalar::ALL.iter().map(|s| s.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "declare Scalar variants in name order so maps keep their key order");
        assert!(Scalar::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_scalar_title_is_its_name_without_the_unit_suffix() {
        for scalar in Scalar::ALL {
            let spaced = scalar.as_str().replace('_', " ");
            assert!(spaced.starts_with(scalar.title()), "{spaced} vs {}", scalar.title());
        }
    }

    #[test]
    fn results_json_of_another_schema_version_is_refused_by_its_number() {
        let text = include_str!("../../../fixtures/results/scripted-run.json");
        assert_eq!(RunResults::from_json(text).unwrap().schema_version, SCHEMA_VERSION);

        let mut json: serde_json::Value = serde_json::from_str(text).unwrap();
        json["schema_version"] = 99.into();
        let err = RunResults::from_json(&json.to_string()).unwrap_err();
        assert!(matches!(err, ParseResultsError::Schema { found: 99 }), "{err}");
        assert!(err.to_string().contains("schema version 99"), "{err}");
        assert!(matches!(RunResults::from_json("{ not json"), Err(ParseResultsError::Json(_))));
    }
}
