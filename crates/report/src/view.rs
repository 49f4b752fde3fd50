//! The report as already-formatted text: the view structs both templates are fed.
//!
//! Everything a reader sees is decided and formatted here, so the templates hold only loops
//! and ifs. Charts are attached by `charts.rs` when the HTML is rendered; the markdown summary
//! uses the same view without them. Numbers come from the results as the suite wrote them.

use std::collections::{BTreeMap, BTreeSet};

use claimbench_model::calibration::{Calibration, Counts};
use claimbench_model::format;
use claimbench_model::run::{
    ClaimResult, Environment, ExperimentResult, Measurement, Method, Outcome, RunResults, Scalar, ScalarUnit, Verdict,
};
use claimbench_model::stack::Runtime;
use plotters::style::RGBColor;
use serde::Serialize;

use crate::measure;
use crate::plot::style::{self, Family};

/// The whole report.
#[derive(Debug, Serialize)]
pub struct Report {
    pub title: String,
    pub run_id: String,
    /// The "partial run" banner text, when the run was interrupted.
    pub partial: Option<String>,
    /// One line under the title: profile, duration, stacks, measurements.
    pub headline: String,
    pub stacks: Vec<Swatch>,
    pub claims: Vec<ClaimRow>,
    /// "Runtime or framework?": present when the run compared several pairs.
    pub runtime_or_framework: Option<RuntimeSection>,
    /// Counts of claims per outcome, e.g. "3 supported, 2 refuted".
    pub tally: String,
    pub ratio_chart: Option<Chart>,
    pub method: Vec<String>,
    pub experiments: Vec<ExperimentView>,
    pub environment: EnvironmentView,
    /// The machine's newest A/A calibration, in words.
    pub calibration: CalibrationView,
    pub warnings: Vec<String>,
    /// Invalid measurements across the run, one line each, for the summary.
    pub invalid: Vec<String>,
    pub measurement_count: usize,
}

/// The newest A/A calibration of the machine: when, and how many false verdicts it gave.
#[derive(Debug, Serialize)]
pub struct CalibrationView {
    /// False when the machine has no calibration yet.
    pub found: bool,
    pub summary: String,
    /// One line per false verdict (supported or refuted in the A/A run).
    pub false_verdicts: Vec<String>,
}

/// The "Runtime or framework?" section: every claim's primary evidence on every pair, the spread
/// between the frameworks of each runtime, and the rule for a claim about the runtimes.
#[derive(Debug, Serialize)]
pub struct RuntimeSection {
    /// The rule, in one sentence.
    pub rule: String,
    /// How to read the matrix and the spreads.
    pub note: String,
    /// The matrix's columns, in the run's pair order.
    pub pairs: Vec<PairHead>,
    pub rows: Vec<RuntimeRow>,
    /// The spread table's columns, e.g. "fastify/express".
    pub spread_heads: Vec<String>,
    pub spreads: Vec<SpreadRow>,
}

/// A pair's column head.
#[derive(Debug, Serialize)]
pub struct PairHead {
    pub label: String,
    /// "popular pair", "runtime floor", or empty.
    pub role: &'static str,
}

/// One claim across the pairs.
#[derive(Debug, Serialize)]
pub struct RuntimeRow {
    pub claim: String,
    /// The claim's detail in the claims section.
    pub href: String,
    pub cells: Vec<PairCell>,
    /// Whether it holds for the runtimes, by the rule.
    pub runtimes: Badge,
    pub runtimes_reason: String,
}

/// One claim on one pair: the verdict of its primary evidence and the ratio.
#[derive(Debug, Serialize)]
pub struct PairCell {
    pub badge: Badge,
    /// E.g. "1.42× (1.31–1.55)", or "—".
    pub ratio: String,
    /// The full key number, for the cell's title.
    pub key_number: String,
}

/// One claim's spreads within each runtime.
#[derive(Debug, Serialize)]
pub struct SpreadRow {
    pub claim: String,
    /// One per spread head: the ratio, or "—" with `titles` saying why.
    pub cells: Vec<String>,
    pub titles: Vec<String>,
}

/// A stack's name with its colour.
#[derive(Debug, Serialize)]
pub struct Swatch {
    pub name: String,
    pub color: String,
    pub note: String,
}

/// A verdict's badge.
#[derive(Debug, Clone, Serialize)]
pub struct Badge {
    /// CSS class: `supported`, `refuted`, `inconclusive`, `invalid`, `not-measured`.
    pub class: &'static str,
    pub text: &'static str,
}

/// A link inside the report; `href` is `None` when the target is not in this run.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub text: String,
    pub href: Option<String>,
}

/// One claim row of the claims table, and its detail block.
#[derive(Debug, Serialize)]
pub struct ClaimRow {
    pub id: String,
    pub anchor: String,
    pub quote: String,
    pub section: String,
    pub metric: String,
    pub direction: String,
    pub badge: Badge,
    pub key_number: String,
    pub reason: String,
    /// Where to read the evidence: the first experiment present, else the claim's detail.
    pub evidence: String,
    pub tested_by: Vec<Link>,
    pub spread: Option<String>,
    pub subs: Vec<SubRow>,
}

/// A per-variant verdict under a claim.
#[derive(Debug, Serialize)]
pub struct SubRow {
    pub label: String,
    /// "primary" for the claim's first evidence (it decides the claim), else "exploratory".
    pub role: &'static str,
    pub badge: Badge,
    pub key_number: String,
    pub reason: String,
    pub spread: Option<String>,
    pub experiment: Option<Link>,
}

/// A drawn chart.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub kind: &'static str,
    /// The `<svg>` element, inlined as is.
    pub svg: String,
    /// A sentence under the chart saying how to read it.
    pub note: String,
}

/// One experiment's section.
#[derive(Debug, Serialize)]
pub struct ExperimentView {
    pub id: String,
    pub anchor: String,
    pub title: String,
    pub what: String,
    pub measured_as: String,
    /// What it measures and why, in one sentence; empty for old results.
    pub purpose: String,
    /// Another machine's published figures for the same kind of test, labelled as such.
    pub reference: Option<String>,
    pub skipped_reason: Option<String>,
    /// e.g. "12 measurements on 2 stacks, 1 invalid".
    pub summary: String,
    pub claims: Vec<Link>,
    /// Experiment-wide charts: scaling, saturation, resources, errors.
    pub charts: Vec<Chart>,
    /// Said instead of an empty errors chart.
    pub no_errors: Option<String>,
    /// Per-setting charts: percentiles and time series.
    pub groups: Vec<GroupView>,
    pub has_load: bool,
    pub scalar_names: Vec<String>,
    pub rows: Vec<MeasurementRow>,
}

/// The charts of one setting (label) of an experiment.
#[derive(Debug, Serialize)]
pub struct GroupView {
    pub label: String,
    pub charts: Vec<Chart>,
}

/// One measurement in an experiment's table.
#[derive(Debug, Serialize)]
pub struct MeasurementRow {
    pub id: String,
    pub anchor: String,
    pub stack: String,
    pub color: String,
    pub label: String,
    pub trial: u32,
    pub throughput: String,
    pub p50: String,
    pub p99: String,
    pub p999: String,
    pub max: String,
    pub errors: String,
    pub cpu: String,
    pub rss: String,
    pub canary: String,
    pub scalars: Vec<String>,
    pub valid: bool,
    pub invalid_reasons: Vec<String>,
    pub stderr_tail: Option<String>,
}

/// The environment section.
#[derive(Debug, Serialize)]
pub struct EnvironmentView {
    pub machine: Vec<Fact>,
    pub software: Vec<Fact>,
    pub stacks: Vec<StackRow>,
    pub run: Vec<Fact>,
    pub self_check: SelfCheck,
}

/// A name and its value.
#[derive(Debug, Serialize)]
pub struct Fact {
    pub name: String,
    pub value: String,
}

/// One stack in the environment section.
#[derive(Debug, Serialize)]
pub struct StackRow {
    pub name: String,
    pub color: String,
    pub runtime: String,
    pub framework: String,
    pub workers: String,
    pub versions: String,
    pub pinning: String,
    pub packages: Vec<Fact>,
}

/// The load generator's own health over the run.
#[derive(Debug, Serialize)]
pub struct SelfCheck {
    pub ok: bool,
    pub summary: String,
    pub bound: Vec<String>,
}

/// Assigns each stack its colour: by runtime family, then by name.
#[derive(Debug, Clone)]
pub struct Palette {
    colors: BTreeMap<String, RGBColor>,
}

impl Palette {
    /// Colours for every stack the environment names or a measurement uses.
    pub fn new(results: &RunResults) -> Self {
        let mut by_family: BTreeMap<String, Family> = BTreeMap::new();
        for (name, info) in &results.environment.stacks {
            let family = match info.runtime {
                Runtime::Node => Family::Node,
                Runtime::Python => Family::Python,
            };
            by_family.insert(name.clone(), family);
        }
        for m in results.experiments.iter().flat_map(|e| &e.measurements) {
            by_family.entry(m.stack.clone()).or_insert(Family::Other);
        }
        let mut seen: BTreeMap<&'static str, usize> = BTreeMap::new();
        let colors = by_family
            .into_iter()
            .map(|(name, family)| {
                let key = match family {
                    Family::Node => "node",
                    Family::Python => "python",
                    Family::Other => "other",
                };
                let index = seen.entry(key).or_insert(0);
                let color = style::stack_color(family, *index);
                *index += 1;
                (name, color)
            })
            .collect();
        Palette { colors }
    }

    /// The stack's colour; grey for a stack nobody described.
    pub fn color(&self, stack: &str) -> RGBColor {
        self.colors.get(stack).copied().unwrap_or(style::UNKNOWN_STACK)
    }

    /// Stack names in colour order.
    pub fn stacks(&self) -> impl Iterator<Item = &str> {
        self.colors.keys().map(String::as_str)
    }
}

impl Report {
    /// Formats the results; the charts are left empty for `charts::attach` to draw.
    pub fn build(results: &RunResults) -> Self {
        Report::build_with(results, None)
    }

    /// [`Report::build`] with the machine's newest calibration, `None` when it has none.
    pub fn build_with(results: &RunResults, calibration: Option<&Calibration>) -> Self {
        let palette = Palette::new(results);
        let experiment_ids: BTreeSet<&str> = results.experiments.iter().map(|e| e.id.as_str()).collect();
        let claims: Vec<ClaimRow> = results.claims.iter().map(|c| claim_row(c, &experiment_ids)).collect();
        let experiments = results.experiments.iter().map(|e| experiment_view(e, results, &palette)).collect();
        let measurements: Vec<&Measurement> = results.experiments.iter().flat_map(|e| &e.measurements).collect();
        let invalid: Vec<String> =
            measurements.iter().filter(|m| !m.valid).map(|m| format!("{}: {}", m.id, reasons_text(m))).collect();
        Report {
            title: format!("claimbench: {}", results.run_id),
            run_id: results.run_id.clone(),
            partial: partial_banner(results),
            headline: headline(results, &palette, measurements.len(), invalid.len()),
            stacks: palette
                .stacks()
                .map(|name| Swatch {
                    name: name.to_string(),
                    color: style::css(palette.color(name)),
                    note: stack_note(&results.environment, name),
                })
                .collect(),
            tally: tally(&results.claims),
            runtime_or_framework: runtime_section(results),
            claims,
            ratio_chart: None,
            method: method_lines(&results.method),
            experiments,
            environment: environment_view(results, &palette, &measurements),
            calibration: calibration_view(calibration),
            warnings: results.warnings.clone(),
            invalid,
            measurement_count: measurements.len(),
        }
    }
}

fn calibration_view(calibration: Option<&Calibration>) -> CalibrationView {
    let Some(c) = calibration else {
        return CalibrationView {
            found: false,
            summary: "no calibration on this machine yet: run claimbench calibrate".into(),
            false_verdicts: Vec::new(),
        };
    };
    let counts = |n: &Counts| {
        let rate = n.false_verdict_rate().map_or_else(|| "none judged".into(), format::percent);
        format!("{} of {} judged ({rate})", n.false_verdicts(), n.judged())
    };
    let partial = if c.complete { "" } else { " It was interrupted: the counts cover what was measured." };
    CalibrationView {
        found: true,
        summary: format!(
            "Calibrated on {} ({}, {} profile): {} against itself gave false verdicts on {} primary evidences and {} cross-stack evidences; every one of them should be inconclusive.{partial}",
            c.date,
            c.run_id,
            c.profile,
            c.stack,
            counts(&c.primary),
            counts(&c.cross_stack),
        ),
        false_verdicts: c
            .evidences
            .iter()
            .filter(|e| matches!(e.outcome, Outcome::Supported | Outcome::Refuted))
            .map(|e| format!("{}: {} {}, {}", e.claim, e.label, e.outcome.label(), e.key_number))
            .collect(),
    }
}

/// The badge of an outcome.
pub fn badge(outcome: Outcome) -> Badge {
    Badge { class: outcome.slug(), text: outcome.label() }
}

/// An HTML id made of lowercase letters, digits and dashes.
pub fn anchor(prefix: &str, id: &str) -> String {
    let slug: String =
        id.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    format!("{prefix}-{slug}")
}

fn partial_banner(results: &RunResults) -> Option<String> {
    (!results.complete).then(|| {
        let measured: usize = results.experiments.iter().map(|e| e.measurements.len()).sum();
        format!(
            "It was interrupted before it finished. The report shows the {measured} \
             measurements taken; claims whose experiments did not run say so."
        )
    })
}

fn headline(results: &RunResults, palette: &Palette, measurements: usize, invalid: usize) -> String {
    let stacks: Vec<&str> = palette.stacks().collect();
    let mut parts = vec![format!("profile {}", results.profile)];
    if let Some(d) = results.duration_s {
        parts.push(format!("took {}", format::seconds(d)));
    }
    parts.push(if stacks.is_empty() { "no stacks".to_string() } else { format!("stacks {}", stacks.join(", ")) });
    parts.push(match invalid {
        0 => format!("{measurements} measurements"),
        n => format!("{measurements} measurements, {n} invalid"),
    });
    parts.push(format!("started {}", results.started_at));
    parts.join(" · ")
}

fn stack_note(env: &Environment, name: &str) -> String {
    match env.stacks.get(name) {
        Some(info) => {
            let runtime = info.versions.runtime.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ");
            // The framework is worth naming only when the stack's name does not already say it.
            let framework = (info.framework != name).then_some(info.framework.as_str());
            match (framework, runtime.is_empty()) {
                (Some(f), false) => format!("{f} on {runtime}"),
                (Some(f), true) => f.to_string(),
                (None, false) => runtime,
                (None, true) => String::new(),
            }
        }
        None => "not described in the environment".to_string(),
    }
}

fn tally(claims: &[ClaimResult]) -> String {
    let order = [Outcome::Supported, Outcome::Refuted, Outcome::Inconclusive, Outcome::Invalid, Outcome::NotMeasured];
    let parts: Vec<String> = order
        .iter()
        .filter_map(|o| {
            let n = claims.iter().filter(|c| c.verdict.outcome == *o).count();
            (n > 0).then(|| format!("{n} {}", badge(*o).text))
        })
        .collect();
    if parts.is_empty() {
        "no claims".to_string()
    } else {
        parts.join(", ")
    }
}

fn spread_text(verdict: &Verdict) -> Option<String> {
    let e = verdict.estimate.as_ref()?;
    if e.spread.is_empty() {
        return None;
    }
    let values: Vec<String> = e.spread.iter().map(|r| format!("{r:.2}")).collect();
    // The interval's true level, where the results record it (older results do not).
    let interval = e.confidence.map_or(String::new(), |level| {
        format!(
            "; interval {} at {}",
            format::ratio_interval(e.ratio_median, e.ci_low, e.ci_high),
            format::level(level)
        )
    });
    Some(format!(
        "{} per pair ({}/{}, {} pairs): {}{interval}",
        e.quantity,
        e.numerator,
        e.denominator,
        e.pairs,
        values.join(" ")
    ))
}

fn claim_row(c: &ClaimResult, experiments: &BTreeSet<&str>) -> ClaimRow {
    let anchor_id = anchor("claim", &c.id);
    let tested_by: Vec<Link> = c.tested_by.iter().map(|e| experiment_link(e, experiments)).collect();
    ClaimRow {
        id: c.id.clone(),
        evidence: format!("#{anchor_id}"),
        anchor: anchor_id,
        quote: c.quote.clone(),
        section: c.section.clone(),
        metric: c.metric.clone(),
        direction: c.direction.clone(),
        badge: badge(c.verdict.outcome),
        key_number: or_dash(&c.verdict.key_number),
        reason: c.verdict.reason.clone(),
        tested_by,
        spread: spread_text(&c.verdict),
        subs: c
            .sub_verdicts
            .iter()
            .enumerate()
            // The first evidence is the primary one (results written before `primary` existed
            // list it first too).
            .map(|(i, s)| SubRow {
                label: s.label.clone(),
                role: if s.primary || i == 0 { "primary" } else { "exploratory" },
                badge: badge(s.verdict.outcome),
                key_number: or_dash(&s.verdict.key_number),
                reason: s.verdict.reason.clone(),
                spread: spread_text(&s.verdict),
                experiment: s.experiment.as_deref().map(|e| experiment_link(e, experiments)),
            })
            .collect(),
    }
}

fn experiment_link(id: &str, experiments: &BTreeSet<&str>) -> Link {
    Link { text: id.to_string(), href: experiments.contains(id).then(|| format!("#{}", anchor("exp", id))) }
}

fn method_lines(m: &Method) -> Vec<String> {
    let conf = format::percent(m.confidence);
    let noise = format::percent(m.noise_threshold);
    let priming = if m.priming_s > 0.0 {
        format!(
            " Before a unit's first trial on each app, {} of that unit's own load primes it, unmeasured, \
             so that no trial meets its code path cold.",
            format::seconds(m.priming_s)
        )
    } else {
        String::new()
    };
    vec![
        format!(
            "Stacks run in short interleaved trials (A B B A …) of {} each after {} of warm-up; \
             each claim's ratio is taken per adjacent pair.{priming}",
            format::seconds(m.trial_s),
            format::seconds(m.warmup_s)
        ),
        format!(
            "The key number is the median of the pair ratios with a distribution-free interval \
             from order statistics (the binomial law of the median), asked for at {conf}; each \
             interval is printed with the level it really has. With too few pairs for {conf} there \
             is no interval and the verdict is inconclusive."
        ),
        format!(
            "Supported: the interval lies beyond {noise} on the claimed side of 1. Refuted: beyond \
             {noise} on the other side. Inconclusive: otherwise."
        ),
        format!(
            "Invalid: a fault of the harness or the machine (the generator side could not keep up, \
             another process took the app's cores, the speed canary moved by more than {1}, the \
             trial was interrupted). Such a trial is measured once more in its place; a repeat \
             that is invalid again is left out, and a unit short of complete pairs runs up to two \
             make-up pairs at its end. A stack with more than {0} of \
             its requests failed loses the evidence.",
            format::percent(m.max_error_ratio),
            format::percent(m.canary_max_drift)
        ),
        format!(
            "Latency is corrected for coordinated omission; the saturation SLO is p99 ≤ {}.",
            format::millis(m.slo_p99_ms)
        ),
    ]
}

fn reasons_text(m: &Measurement) -> String {
    if m.invalid_reasons.is_empty() {
        "invalid (no reason recorded)".to_string()
    } else {
        m.invalid_reasons.join("; ")
    }
}

fn experiment_view(e: &ExperimentResult, results: &RunResults, palette: &Palette) -> ExperimentView {
    let stacks: BTreeSet<&str> = e.measurements.iter().map(|m| m.stack.as_str()).collect();
    let invalid = e.measurements.iter().filter(|m| !m.valid).count();
    let summary = match (e.measurements.len(), invalid) {
        (0, _) => "No measurements.".to_string(),
        (n, 0) => format!("{n} measurements on {} stacks, all valid.", stacks.len()),
        (n, i) => format!("{n} measurements on {} stacks, {i} invalid.", stacks.len()),
    };
    let claims = results
        .claims
        .iter()
        .filter(|c| c.tested_by.iter().any(|t| t == &e.id))
        .map(|c| Link { text: c.id.clone(), href: Some(format!("#{}", anchor("claim", &c.id))) })
        .collect();
    let scalar_names: Vec<Scalar> =
        e.measurements.iter().flat_map(|m| m.scalars.keys().copied()).collect::<BTreeSet<_>>().into_iter().collect();
    let rows = e.measurements.iter().map(|m| measurement_row(m, palette, &scalar_names)).collect();
    ExperimentView {
        id: e.id.clone(),
        anchor: anchor("exp", &e.id),
        title: e.title.clone(),
        what: e.what.clone(),
        measured_as: e.measured_as.clone(),
        purpose: e.purpose.clone(),
        reference: e.reference.clone(),
        skipped_reason: e.skipped_reason.clone(),
        summary,
        claims,
        charts: Vec::new(),
        no_errors: None,
        groups: Vec::new(),
        has_load: e.measurements.iter().any(|m| m.load.is_some()),
        scalar_names: scalar_names.iter().map(|n| n.title().to_string()).collect(),
        rows,
    }
}

fn measurement_row(m: &Measurement, palette: &Palette, scalar_names: &[Scalar]) -> MeasurementRow {
    let h = measure::headline(m);
    let dash = || "–".to_string();
    let canary = match (m.canary_before_ms, m.canary_after_ms) {
        (Some(b), Some(a)) if b > 0.0 => {
            format!("{} → {} ({})", format::millis(b), format::millis(a), format::signed_percent(a / b))
        }
        (Some(b), None) => format!("{} → –", format::millis(b)),
        _ => dash(),
    };
    let cpu = match h {
        Some(h) if h.requests > 0 => {
            format!("{:.2} s ({:.1} ms/1k req)", m.app_cpu_s, m.app_cpu_s * 1_000.0 / (h.requests as f64 / 1_000.0))
        }
        _ => format!("{:.2} s", m.app_cpu_s),
    };
    let label = match m.workers {
        Some(w) if !m.label.contains("workers") => format!("{} (workers={w})", m.label),
        _ => m.label.clone(),
    };
    MeasurementRow {
        id: m.id.clone(),
        anchor: anchor("m", &m.id),
        stack: m.stack.clone(),
        color: style::css(palette.color(&m.stack)),
        label,
        trial: m.trial,
        throughput: h.map_or_else(dash, |h| format::rate(h.throughput)),
        p50: h.map_or_else(dash, |h| format::micros(h.p50_us)),
        p99: h.map_or_else(dash, |h| format::micros(h.p99_us)),
        p999: h.map_or_else(dash, |h| format::micros(h.p999_us)),
        max: h.map_or_else(dash, |h| format::micros(h.max_us)),
        errors: h.map_or_else(dash, |h| {
            if h.errors == 0 {
                "0".to_string()
            } else {
                format!("{} ({})", format::count(h.errors), format::percent(h.errors as f64 / h.requests.max(1) as f64))
            }
        }),
        cpu,
        rss: format::bytes(m.app_peak_rss_bytes as f64),
        canary,
        scalars: scalar_names.iter().map(|n| m.scalars.get(n).map_or_else(dash, |v| scalar_value(*n, *v))).collect(),
        valid: m.valid,
        invalid_reasons: if m.valid {
            Vec::new()
        } else if m.invalid_reasons.is_empty() {
            vec!["invalid (no reason recorded)".to_string()]
        } else {
            m.invalid_reasons.clone()
        },
        stderr_tail: m.app_stderr_tail.clone(),
    }
}

/// Formats a scalar in its unit.
fn scalar_value(scalar: Scalar, v: f64) -> String {
    match scalar.unit() {
        ScalarUnit::Milliseconds => format::millis(v),
        ScalarUnit::Bytes => format::bytes(v),
        ScalarUnit::Seconds => format::seconds(v),
        ScalarUnit::Rate | ScalarUnit::Ratio => {
            format!("{v:.3}").trim_end_matches('0').trim_end_matches('.').to_string()
        }
        ScalarUnit::Flag => if v >= 1.0 { "yes" } else { "no" }.to_string(),
    }
}

fn environment_view(results: &RunResults, palette: &Palette, measurements: &[&Measurement]) -> EnvironmentView {
    let env = &results.environment;
    let fact = |name: &str, value: String| Fact { name: name.to_string(), value };
    let mut machine = vec![
        fact("CPU", env.cpu_model.clone()),
        fact("cores", env.cores.to_string()),
        fact("kernel", env.kernel.clone()),
    ];
    if let Some(os) = &env.os {
        machine.push(fact("OS", os.clone()));
    }
    machine.push(fact(
        "pinning",
        format!("apps on CPU {}; load generator and upstream on CPU {}", env.app_cores, env.generator_cores),
    ));
    if let Some(note) = &env.pinning_note {
        machine.push(fact("pinning note", note.clone()));
    }
    if let Some(scheduling) = &env.upstream_scheduling {
        machine.push(fact("upstream thread", scheduling.clone()));
    }
    let mut software = vec![
        fact("claimbench", env.claimbench_version.clone()),
        fact("git commit", env.git_commit.clone().unwrap_or_else(|| "not a git checkout".to_string())),
    ];
    if let Some(db) = &env.database {
        let origin = if db.self_started { "started by claimbench" } else { "an existing server (--database-url)" };
        software.push(fact("database", format!("{}, {origin}, at {}", db.version, db.address)));
        if !db.settings.is_empty() {
            let settings: Vec<String> = db.settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
            software.push(fact("database settings", settings.join(", ")));
        }
        software
            .push(fact("database pool", format!("{} connections per app worker, in every stack", db.pool_per_worker)));
        let cpus = match (&db.cpus, &db.cpu_note) {
            (_, Some(note)) => note.clone(),
            (Some(cpus), None) => format!("CPU {cpus} of its own"),
            (None, None) => "not pinned by claimbench".to_string(),
        };
        software.push(fact("database CPUs", cpus));
        if !db.counters_available {
            software.push(fact(
                "database counters",
                "pg_stat_statements unavailable: trials are not checked against them".into(),
            ));
        }
    }
    let stacks = palette
        .stacks()
        .map(|name| match env.stacks.get(name) {
            Some(info) => StackRow {
                name: name.to_string(),
                color: style::css(palette.color(name)),
                runtime: info.runtime.name().to_string(),
                framework: info.framework.clone(),
                workers: info.workers.to_string(),
                versions: join_map(&info.versions.runtime),
                pinning: match &info.pinning.requested {
                    Some(r) if r == &info.pinning.actual => format!("CPU {r}"),
                    Some(r) => format!("asked for CPU {r}, got CPU {}", info.pinning.actual),
                    None => format!("not pinned (CPU {})", info.pinning.actual),
                },
                packages: info.versions.packages.iter().map(|(k, v)| fact(k, v.clone())).collect(),
            },
            None => StackRow {
                name: name.to_string(),
                color: style::css(palette.color(name)),
                runtime: "–".to_string(),
                framework: "–".to_string(),
                workers: "–".to_string(),
                versions: "not recorded".to_string(),
                pinning: "not recorded".to_string(),
                packages: Vec::new(),
            },
        })
        .collect();
    let mut run = vec![
        fact("run id", results.run_id.clone()),
        fact("profile", results.profile.clone()),
        fact("started", results.started_at.clone()),
        fact(
            "finished",
            match (&results.finished_at, results.complete) {
                (Some(t), true) => t.clone(),
                (Some(t), false) => format!("{t} (interrupted)"),
                (None, _) => "interrupted before the end".to_string(),
            },
        ),
    ];
    if let Some(d) = results.duration_s {
        run.push(fact("duration", format::seconds(d)));
    }
    if !results.filters.is_empty() {
        run.push(fact("filters", results.filters.join(" ")));
    }
    run.push(fact("measurements", measurements.len().to_string()));

    let bound: Vec<String> = measurements
        .iter()
        .filter_map(|m| {
            measure::generator_saturation(m).map(|reasons| {
                if reasons.is_empty() {
                    format!("{}: generator-bound", m.id)
                } else {
                    format!("{}: {}", m.id, reasons.join("; "))
                }
            })
        })
        .collect();
    let loaded = measurements.iter().filter(|m| m.load.is_some()).count();
    let self_check = SelfCheck {
        ok: bound.is_empty(),
        summary: if loaded == 0 {
            "No load runs, so no generator self-check.".to_string()
        } else if bound.is_empty() {
            let busiest = measurements.iter().filter_map(|m| measure::generator_cpu_fraction(m)).fold(0.0, f64::max);
            format!(
                "The load generator kept up in all {loaded} load runs (at most {} of its CPU).",
                format::percent(busiest)
            )
        } else {
            format!(
                "The load generator could not keep up in {} of {loaded} load runs; those \
                 measurements are invalid:",
                bound.len()
            )
        },
        bound,
    };
    EnvironmentView { machine, software, stacks, run, self_check }
}

fn join_map(map: &BTreeMap<String, String>) -> String {
    if map.is_empty() {
        "not recorded".to_string()
    } else {
        map.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
    }
}

fn or_dash(text: &str) -> String {
    if text.trim().is_empty() {
        "–".to_string()
    } else {
        text.to_string()
    }
}

/// The rule as the report states it.
pub const RUNTIME_RULE: &str = "A claim about Node against Python is supported for the runtimes only when it holds \
    (is supported) for the runtime-floor pair, node-http:starlette (each runtime with no framework), and for the \
    popular pair, express:fastapi.";

/// `ratio× (low–high)` of an estimate, or "—".
fn ratio_text(estimate: Option<&claimbench_model::run::Estimate>) -> String {
    estimate.map_or_else(|| "—".to_string(), |e| format::ratio_interval(e.ratio_median, e.ci_low, e.ci_high))
}

fn runtime_section(results: &RunResults) -> Option<RuntimeSection> {
    if results.pairs.len() < 2 {
        return None;
    }
    let claims_of = |i: usize| if i == 0 { &results.claims } else { &results.pairs[i].claims };
    let pairs: Vec<PairHead> = results
        .pairs
        .iter()
        .map(|p| {
            let label = p.label();
            let role = match label.as_str() {
                "express:fastapi" => "popular pair",
                "node-http:starlette" => "runtime floor",
                _ => "",
            };
            PairHead { label, role }
        })
        .collect();
    let measured = |c: &ClaimResult| !c.tested_by.is_empty();
    let rows = results
        .claims
        .iter()
        .filter(|c| measured(c))
        .map(|claim| {
            let cells = (0..results.pairs.len())
                .map(|i| {
                    let verdict = claims_of(i).iter().find(|c| c.id == claim.id).map(|c| &c.verdict);
                    PairCell {
                        badge: badge(verdict.map_or(Outcome::NotMeasured, |v| v.outcome)),
                        ratio: ratio_text(verdict.and_then(|v| v.estimate.as_ref())),
                        key_number: verdict.map_or_else(String::new, |v| v.key_number.clone()),
                    }
                })
                .collect();
            let rule = results.runtime_verdicts.iter().find(|r| r.claim == claim.id);
            let holds = rule.is_some_and(|r| r.holds);
            RuntimeRow {
                claim: claim.id.clone(),
                href: format!("#{}", anchor("claim", &claim.id)),
                cells,
                runtimes: if holds {
                    Badge { class: "supported", text: "supported for the runtimes" }
                } else {
                    Badge { class: "inconclusive", text: "not shown for the runtimes" }
                },
                runtimes_reason: rule.map_or_else(String::new, |r| r.reason.clone()),
            }
        })
        .collect();
    let mut spread_heads: Vec<(String, String)> = Vec::new();
    for s in &results.framework_spreads {
        let head = (s.stack.clone(), s.baseline.clone());
        if !spread_heads.contains(&head) {
            spread_heads.push(head);
        }
    }
    let spreads = results
        .claims
        .iter()
        .filter(|c| results.framework_spreads.iter().any(|s| s.claim == c.id))
        .map(|claim| {
            let found: Vec<Option<&claimbench_model::run::FrameworkSpread>> = spread_heads
                .iter()
                .map(|(stack, baseline)| {
                    results
                        .framework_spreads
                        .iter()
                        .find(|s| s.claim == claim.id && &s.stack == stack && &s.baseline == baseline)
                })
                .collect();
            SpreadRow {
                claim: claim.id.clone(),
                cells: found.iter().map(|s| ratio_text(s.and_then(|s| s.estimate.as_ref()))).collect(),
                titles: found.iter().map(|s| s.map_or_else(String::new, |s| s.key_number.clone())).collect(),
            }
        })
        .collect();
    Some(RuntimeSection {
        rule: RUNTIME_RULE.to_string(),
        note: "Each cell is the claim's primary evidence on that pair: its verdict and the median of the paired \
               ratios (node over python, or as the claim's metric states it) with its interval. Every pair but the \
               first ran only the units of the claims' primary evidences. The spreads are the same evidence between \
               two stacks of one runtime in this run: each stack over its runtime's stack in the first pair; a \
               spread wider than the gap between the runtimes means the framework, not the runtime, decides the \
               claim."
            .to_string(),
        pairs,
        rows,
        spread_heads: spread_heads.iter().map(|(a, b)| format!("{a}/{b}")).collect(),
        spreads,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(priming_s: f64) -> Method {
        Method {
            noise_threshold: 0.05,
            confidence: 0.95,
            slo_p99_ms: 100.0,
            room_p99_ms: 250.0,
            max_error_ratio: 0.01,
            canary_max_drift: 0.1,
            warmup_s: 1.0,
            trial_s: 0.7,
            priming_s,
            seed: 7,
            primary_only: true,
        }
    }

    #[test]
    fn the_method_says_how_long_each_unit_was_primed_and_says_nothing_when_it_was_not() {
        let primed = method_lines(&method(0.4)).join("\n");
        assert!(primed.contains("0.4 s of that unit's own load primes it, unmeasured"), "{primed}");
        let unprimed = method_lines(&method(0.0)).join("\n");
        assert!(!unprimed.contains("prime"), "{unprimed}");
    }
}
