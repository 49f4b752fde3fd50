//! The scripted fixtures in `fixtures/results/` are made by the code they test: the real
//! `Runner` and `assemble` over the scripted lab. `scripted-run.json` is the quick profile's
//! whole catalogue (6 pairs), the run the report, history and schema tests read;
//! `scripted-standard.json` is the standard profile (12 pairs, enough for a comparison's
//! Bonferroni level) from another seed, the run compare's tests change and compare;
//! `scripted-pairs.json` is the quick catalogue on standard's four pairs (the further pairs'
//! stacks on the primary units only), its measurements dropped to keep it small, which the
//! report's "Runtime or framework?" tests read. This test makes all three again and fails when a
//! committed file has drifted from what the suite now produces.
//!
//! To regenerate them after an intended change:
//! `CLAIMBENCH_BLESS=1 cargo test --release -p claimbench-suite --test fixtures`.

use std::path::{Path, PathBuf};

use claimbench_model::run::{Measurement, PairResults, RunResults, StackInfo};
use claimbench_model::stack::Runtime;
use claimbench_suite::experiments::plan;
use claimbench_suite::scripted::{method, ScriptedLab, StackScript};
use claimbench_suite::{assemble, catalogue, load_claims, ExtraStacks, Profile, RunOptions, Runner};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn fixture_path(name: &str) -> PathBuf {
    root().join("fixtures/results").join(name)
}

/// The run's header (environment, method) and a load result to reshape, from the recorded
/// smoke run: real machine facts, scripted numbers.
fn recorded() -> RunResults {
    let text = std::fs::read_to_string(root().join("fixtures/results/recorded-smoke.json")).unwrap();
    serde_json::from_str(&text).expect("the recorded smoke run parses")
}

/// One committed fixture: which profile's whole catalogue, under which seed.
struct Fixture {
    file: &'static str,
    profile: &'static str,
    seed: u64,
    /// Every `step`-th point of the percentile curves, or `None` for a lean template: no curves,
    /// time series or warm-up. Every fifth point is enough to draw the curves; compare reads
    /// none of them, so its fixture keeps none and stays small.
    curve_step: Option<usize>,
    /// Standard's four pairs instead of express:fastapi alone, measurements dropped.
    pairs: bool,
}

const SCRIPTED_RUN: Fixture =
    Fixture { file: "scripted-run.json", profile: "quick", seed: 1, curve_step: Some(5), pairs: false };
const SCRIPTED_STANDARD: Fixture =
    Fixture { file: "scripted-standard.json", profile: "standard", seed: 2, curve_step: None, pairs: false };
const SCRIPTED_PAIRS: Fixture =
    Fixture { file: "scripted-pairs.json", profile: "quick", seed: 3, curve_step: None, pairs: true };

/// The further stacks of [`SCRIPTED_PAIRS`] with their throughput and cold start: node-http far
/// ahead of express, fastify ahead, nestjs a little behind; starlette a little ahead of
/// fastapi, flask and django far behind it (the anchors' order, not their figures).
const FURTHER: [(&str, Runtime, f64, f64); 6] = [
    ("node-http", Runtime::Node, 3000.0, 90.0),
    ("starlette", Runtime::Python, 1150.0, 700.0),
    ("nestjs", Runtime::Node, 1300.0, 400.0),
    ("django", Runtime::Python, 450.0, 1100.0),
    ("fastify", Runtime::Node, 2200.0, 150.0),
    ("flask", Runtime::Python, 500.0, 600.0),
];

/// The fixture's profile, whole catalogue, over [`ScriptedLab::express_vs_fastapi`].
fn generate(fixture: &Fixture) -> RunResults {
    let recorded = recorded();
    let mut template = recorded.experiments.iter().flat_map(|e| &e.measurements).find_map(|m| m.load.clone()).unwrap();
    for curve in [&mut template.distribution, &mut template.distribution_uncorrected] {
        *curve = match fixture.curve_step {
            Some(step) => curve.iter().step_by(step).cloned().collect(),
            None => Vec::new(),
        };
    }
    if fixture.curve_step.is_none() {
        template.intervals.clear();
        template.warmup = None;
    }
    let mut lab = ScriptedLab::express_vs_fastapi(template);
    let profile = Profile::named(fixture.profile).unwrap();
    let experiments = catalogue(&profile);
    let claims = load_claims(&root().join("fixtures/claims.toml")).unwrap();
    let method = claimbench_model::run::Method { seed: fixture.seed, ..method() };
    let mut extra = ExtraStacks::default();
    if fixture.pairs {
        for (name, _, rate, cold_start_ms) in FURTHER {
            lab = lab.stack(name, StackScript { rate, p50_ms: 2000.0 / rate, cold_start_ms, wobbles_rate: false });
            extra.stacks.push(name.to_string());
            // As `claimbench run` finds from the registry: only express and fastapi declare `db`.
            extra.not_implemented.insert(("E-db".to_string(), name.to_string()));
        }
        extra.units = plan(experiments.clone(), &claims, true)
            .into_iter()
            .map(|e| (e.id, e.units.into_iter().map(|u| u.label).collect()))
            .collect();
    }
    let options = RunOptions {
        stacks: vec!["express".into(), "fastapi".into()],
        method: method.clone(),
        not_implemented: Default::default(),
        extra,
    };
    let mut measurements: Vec<Measurement> = Vec::new();
    let mut sink = |m: &Measurement| measurements.push(m.clone());
    let mut progress = |_| {};
    let mut runner =
        Runner { lab: &mut lab, profile: &profile, options: &options, sink: &mut sink, progress: &mut progress };
    runner.run(&experiments);

    let mut header = recorded;
    header.run_id = match fixture.profile {
        "quick" => "2026-03-14T10-22-05Z-scripted".to_string(),
        other => format!("2026-03-14T10-22-05Z-scripted-{other}"),
    };
    header.profile = fixture.profile.to_string();
    header.started_at = "2026-03-14T10:22:05Z".to_string();
    header.finished_at = Some("2026-03-14T10:40:17Z".to_string());
    header.duration_s = Some(1092.0);
    header.complete = true;
    header.method = method;
    header.claims.clear();
    header.experiments.clear();
    header.warnings.clear();
    if !fixture.pairs {
        return assemble(header, measurements, &experiments, &claims);
    }
    header.run_id = "2026-03-14T10-22-05Z-scripted-pairs".to_string();
    let template = header.environment.stacks["express"].clone();
    for (name, runtime, _, _) in FURTHER {
        let info = StackInfo { runtime, framework: name.to_string(), ..template.clone() };
        header.environment.stacks.insert(name.to_string(), info);
    }
    header.pairs = Profile::named("standard")
        .unwrap()
        .pairs
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let (node, python) = label.split_once(':').unwrap();
            let lacking = format!(
                "not implemented by this stack: {node} lacks the 'db' endpoints, {python} lacks the 'db' endpoints"
            );
            PairResults {
                node: node.into(),
                python: python.into(),
                primary_only: i > 0,
                not_implemented: if i > 0 { [("E-db".to_string(), lacking)].into() } else { Default::default() },
                claims: Vec::new(),
            }
        })
        .collect();
    let mut results = assemble(header, measurements, &experiments, &claims);
    for e in &mut results.experiments {
        e.measurements.clear();
    }
    results
}

fn check_committed(fixture: &Fixture) {
    let json = serde_json::to_string_pretty(&generate(fixture)).unwrap() + "\n";
    let path = fixture_path(fixture.file);
    if std::env::var_os("CLAIMBENCH_BLESS").is_some() {
        std::fs::write(&path, &json).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == json,
        "{} has drifted from what the suite produces; if the change is intended, regenerate it with \
         `CLAIMBENCH_BLESS=1 cargo test --release -p claimbench-suite --test fixtures` and commit it",
        path.display()
    );
}

#[test]
fn the_committed_scripted_run_is_what_the_runner_and_assemble_produce() {
    check_committed(&SCRIPTED_RUN);
}

#[test]
fn the_committed_standard_run_for_compare_is_what_the_runner_and_assemble_produce() {
    check_committed(&SCRIPTED_STANDARD);
}

#[test]
fn the_committed_run_of_four_pairs_is_what_the_runner_and_assemble_produce() {
    check_committed(&SCRIPTED_PAIRS);
}

#[test]
fn the_scripted_run_supports_the_throughput_claim_and_records_the_claimed_side() {
    let run = generate(&SCRIPTED_RUN);
    let io = run.claims.iter().find(|c| c.id == "io-throughput").unwrap();
    let estimate = io.verdict.estimate.as_ref().expect("io-throughput has a ratio");
    assert!((estimate.ratio_median - 1.5).abs() < 0.1, "{estimate:?}");
    assert!(estimate.claimed.is_some(), "the claimed side is recorded, so compare needs no words");
    assert!(io.verdict.key_number.contains(" pairs)"), "{}", io.verdict.key_number);
}

#[test]
fn the_standard_run_has_twelve_pairs_on_every_estimate_and_e_cost_its_own() {
    let run = generate(&SCRIPTED_STANDARD);
    // Every evidence, with the experiment it was measured in.
    let pairs: Vec<(Option<String>, String, u32)> = run
        .claims
        .iter()
        .flat_map(|c| &c.sub_verdicts)
        .filter_map(|s| s.verdict.estimate.as_ref().map(|e| (s.experiment.clone(), s.label.clone(), e.pairs)))
        .collect();
    assert!(pairs.len() > 30, "{} estimates", pairs.len());
    let cost = claimbench_suite::experiments::COST_PAIRS;
    assert!(pairs.iter().any(|(e, _, _)| e.as_deref() == Some("E-cost")), "{pairs:?}");
    for (experiment, label, p) in &pairs {
        let want = if experiment.as_deref() == Some("E-cost") { cost } else { 12 };
        assert_eq!(*p, want, "{experiment:?} {label}");
    }
}
