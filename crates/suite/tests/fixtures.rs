//! `fixtures/results/scripted-run.json` is made by the code it tests: the real `Runner` and
//! `assemble` over the scripted lab, for the quick profile's whole catalogue. This test makes it
//! again and fails when the committed file has drifted from what the suite now produces.
//!
//! To regenerate it after an intended change:
//! `CLAIMBENCH_BLESS=1 cargo test --release -p claimbench-suite --test fixtures`.

use std::path::{Path, PathBuf};

use claimbench_model::run::{Measurement, RunResults};
use claimbench_suite::scripted::{method, ScriptedLab};
use claimbench_suite::{assemble, catalogue, load_claims, Profile, RunOptions, Runner};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn fixture_path() -> PathBuf {
    root().join("fixtures/results/scripted-run.json")
}

/// The run's header (environment, method) and a load result to reshape, from the recorded
/// smoke run: real machine facts, scripted numbers.
fn recorded() -> RunResults {
    let text = std::fs::read_to_string(root().join("fixtures/results/recorded-smoke.json")).unwrap();
    serde_json::from_str(&text).expect("the recorded smoke run parses")
}

/// The quick profile's whole catalogue over [`ScriptedLab::express_vs_fastapi`].
fn generate() -> RunResults {
    let recorded = recorded();
    let mut template = recorded.experiments.iter().flat_map(|e| &e.measurements).find_map(|m| m.load.clone()).unwrap();
    // Every fifth point of the percentile curves is enough to draw them, and keeps the file small.
    for curve in [&mut template.distribution, &mut template.distribution_uncorrected] {
        *curve = curve.iter().step_by(5).cloned().collect();
    }
    let mut lab = ScriptedLab::express_vs_fastapi(template);
    let profile = Profile::named("quick").unwrap();
    let experiments = catalogue(&profile);
    let options = RunOptions { stacks: vec!["express".into(), "fastapi".into()], method: method() };
    let mut measurements: Vec<Measurement> = Vec::new();
    let mut sink = |m: &Measurement| measurements.push(m.clone());
    let mut progress = |_| {};
    let mut runner =
        Runner { lab: &mut lab, profile: &profile, options: &options, sink: &mut sink, progress: &mut progress };
    runner.run(&experiments);

    let mut header = recorded;
    header.run_id = "2026-03-14T10-22-05Z-scripted".to_string();
    header.profile = "quick".to_string();
    header.started_at = "2026-03-14T10:22:05Z".to_string();
    header.finished_at = Some("2026-03-14T10:40:17Z".to_string());
    header.duration_s = Some(1092.0);
    header.complete = true;
    header.method = method();
    header.claims.clear();
    header.experiments.clear();
    header.warnings.clear();
    let claims = load_claims(&root().join("fixtures/claims.toml")).unwrap();
    assemble(header, measurements, &experiments, &claims)
}

#[test]
fn the_committed_scripted_run_is_what_the_runner_and_assemble_produce() {
    let json = serde_json::to_string_pretty(&generate()).unwrap() + "\n";
    let path = fixture_path();
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
fn the_scripted_run_supports_the_throughput_claim_and_records_the_claimed_side() {
    let run = generate();
    let io = run.claims.iter().find(|c| c.id == "io-throughput").unwrap();
    let estimate = io.verdict.estimate.as_ref().expect("io-throughput has a ratio");
    assert!((estimate.ratio_median - 1.5).abs() < 0.1, "{estimate:?}");
    assert!(estimate.claimed.is_some(), "the claimed side is recorded, so compare needs no words");
    assert!(io.verdict.key_number.contains(" pairs)"), "{}", io.verdict.key_number);
}
