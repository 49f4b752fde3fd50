//! The runner and the verdicts against the scripted lab: no process, no socket, deterministic
//! numbers.

use std::path::Path;

use claimbench_model::load::LoadResult;
use claimbench_model::run::{Measurement, Outcome, RunResults};
use claimbench_suite::scripted::{method, ScriptedLab};
use claimbench_suite::{assemble, catalogue, load_claims, Profile, Progress, RunOptions, Runner};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// A load result from the recorded fixture, for the scripted lab to reshape.
fn template() -> LoadResult {
    let text = std::fs::read_to_string(root().join("fixtures/results/quick-run.json")).unwrap();
    let run: RunResults = serde_json::from_str(&text).unwrap();
    run.experiments.iter().flat_map(|e| &e.measurements).find_map(|m| m.load.clone()).unwrap()
}

/// Express is 1.5× faster than fastapi everywhere, with a little noise per trial; the canary
/// jumps once (its fourth reading).
fn lab() -> ScriptedLab {
    ScriptedLab::express_vs_fastapi(template())
}

fn run_with(lab: &mut ScriptedLab, experiment_ids: &[&str]) -> (Vec<Measurement>, Vec<String>) {
    run_profile(lab, experiment_ids, &Profile::named("quick").unwrap())
}

fn run_profile(lab: &mut ScriptedLab, experiment_ids: &[&str], profile: &Profile) -> (Vec<Measurement>, Vec<String>) {
    let experiments: Vec<_> =
        catalogue(profile).into_iter().filter(|e| experiment_ids.contains(&e.id.as_str())).collect();
    let options = RunOptions { stacks: vec!["express".into(), "fastapi".into()], method: method() };
    let mut sunk = Vec::new();
    let mut notes = Vec::new();
    let mut sink = |m: &Measurement| sunk.push(m.clone());
    let mut progress = |p: Progress| {
        if let Progress::Note(n) = p {
            notes.push(n)
        }
    };
    let mut runner = Runner { lab, profile, options: &options, sink: &mut sink, progress: &mut progress };
    let results = runner.run(&experiments);
    let from_results: usize = results.iter().map(|e| e.measurements.len()).sum();
    assert_eq!(from_results, sunk.len(), "every measurement reached the sink as it finished");
    (sunk, notes)
}

fn header(measured_stacks: &[(&str, claimbench_model::stack::Runtime)]) -> RunResults {
    let text = std::fs::read_to_string(root().join("fixtures/results/quick-run.json")).unwrap();
    let mut run: RunResults = serde_json::from_str(&text).unwrap();
    run.claims.clear();
    run.experiments.clear();
    run.complete = true;
    run.method = method();
    let template = run.environment.stacks.values().next().unwrap().clone();
    run.environment.stacks = measured_stacks
        .iter()
        .map(|(n, r)| (n.to_string(), claimbench_model::run::StackInfo { runtime: *r, ..template.clone() }))
        .collect();
    run
}

#[test]
fn trials_alternate_a_b_b_a_and_a_canary_jump_repeats_the_trial() {
    let mut lab = lab();
    let (measurements, _) = run_with(&mut lab, &["E-io-fanout"]);
    let order: Vec<&str> = measurements.iter().map(|m| m.stack.as_str()).collect();
    assert_eq!(order, ["express", "fastapi", "fastapi", "fastapi", "express", "express", "fastapi"]);
    let repeated = &measurements[1];
    assert!(!repeated.valid && repeated.invalid_reasons[0].contains("speed canary"), "{repeated:?}");
    assert_eq!(repeated.canary_before_ms, Some(1.0));
    assert_eq!(repeated.canary_after_ms, Some(2.0));
    assert!(measurements[2].valid && measurements[2].id.ends_with("/repeat"));
    assert_eq!(measurements[2].trial, repeated.trial, "the repeat takes the flagged trial's place in its pair");
}

#[test]
fn a_clear_advantage_over_enough_pairs_supports_the_claim() {
    // At least 6 pairs (and cold starts) are needed for a 95% interval.
    let profile = Profile::named("nightly").unwrap();
    let mut lab = lab();
    let (measurements, _) = run_profile(&mut lab, &["E-io", "E-coldstart"], &profile);
    let claims = load_claims(&root().join("fixtures/claims.toml")).unwrap();
    let stacks =
        [("express", claimbench_model::stack::Runtime::Node), ("fastapi", claimbench_model::stack::Runtime::Python)];
    let results = assemble(header(&stacks), measurements, &catalogue(&profile), &claims);
    let io = results.claims.iter().find(|c| c.id == "io-throughput").unwrap();
    assert_eq!(io.verdict.outcome, Outcome::Supported, "{:?}", io.verdict);
    let estimate = io.verdict.estimate.as_ref().unwrap();
    assert!((estimate.ratio_median - 1.5).abs() < 0.1, "{estimate:?}");
    assert_eq!(estimate.pairs, profile.reps);
    assert!(estimate.confidence.is_some_and(|level| level >= 0.95), "{estimate:?}");
    assert!(estimate.ci_low > 1.05 && estimate.ci_high < 1.7, "{estimate:?}");
    let serverless = results.claims.iter().find(|c| c.id == "serverless").unwrap();
    assert_eq!(serverless.verdict.outcome, Outcome::Supported, "express starts 7.5x faster: {:?}", serverless.verdict);
    let cpu = results.claims.iter().find(|c| c.id == "cpu-strength").unwrap();
    assert_eq!(cpu.verdict.outcome, Outcome::NotMeasured, "E-cpu was not run: {:?}", cpu.verdict);
    let realtime = results.claims.iter().find(|c| c.id == "real-time").unwrap();
    assert_eq!(realtime.verdict.outcome, Outcome::NotMeasured);
    assert!(realtime.verdict.reason.contains("WebSocket"));
    assert_eq!(results.claims.len(), claims.claims.len(), "every claim is listed, none dropped");
}

#[test]
fn too_few_pairs_for_a_95_percent_interval_are_inconclusive_and_show_their_true_level() {
    let profile = Profile::named("smoke").unwrap();
    assert!(profile.reps < 6, "smoke must stay below the 6 pairs of a 95% interval for this test");
    let mut lab = lab();
    let (measurements, _) = run_profile(&mut lab, &["E-io"], &profile);
    let claims = load_claims(&root().join("fixtures/claims.toml")).unwrap();
    let stacks =
        [("express", claimbench_model::stack::Runtime::Node), ("fastapi", claimbench_model::stack::Runtime::Python)];
    let results = assemble(header(&stacks), measurements, &catalogue(&profile), &claims);
    let io = &results.claims.iter().find(|c| c.id == "io-throughput").unwrap().verdict;
    assert_eq!(io.outcome, Outcome::Inconclusive, "a clear 1.5x over too few pairs decides nothing: {io:?}");
    let needed = format!("too few pairs for a 95% interval ({} pairs, 6 needed)", profile.reps);
    assert!(io.reason.starts_with(&needed), "{}", io.reason);
    let estimate = io.estimate.as_ref().unwrap();
    let level = 1.0 - 2.0 * 0.5f64.powi(profile.reps as i32);
    assert_eq!(estimate.confidence, Some(level), "[min, max] at the level it has");
    assert!(io.key_number.contains(&format!("{}% CI", level * 100.0)), "{}", io.key_number);
}

#[test]
fn a_failing_app_fails_its_measurements_with_its_stderr_and_the_run_goes_on() {
    let mut lab = lab().broken("fastapi", "fastapi exited during startup", "ImportError: no module named fastapi");
    let (measurements, notes) = run_with(&mut lab, &["E-io-fanout", "E-overhead"]);
    let fastapi: Vec<&Measurement> = measurements.iter().filter(|m| m.stack == "fastapi").collect();
    assert!(!fastapi.is_empty() && fastapi.iter().all(|m| !m.valid));
    assert!(fastapi.iter().all(|m| m.app_stderr_tail.as_deref() == Some("ImportError: no module named fastapi")));
    assert!(measurements.iter().filter(|m| m.stack == "express").count() >= 12, "express kept being measured");
    assert!(notes.iter().any(|n| n.contains("exited during startup")), "{notes:?}");
    let claims = load_claims(&root().join("fixtures/claims.toml")).unwrap();
    let stacks =
        [("express", claimbench_model::stack::Runtime::Node), ("fastapi", claimbench_model::stack::Runtime::Python)];
    let results = assemble(header(&stacks), measurements, &catalogue(&Profile::named("quick").unwrap()), &claims);
    let io = results.claims.iter().find(|c| c.id == "io-throughput").unwrap();
    let fanout = io.sub_verdicts.iter().find(|v| v.experiment.as_deref() == Some("E-io-fanout")).unwrap();
    assert_eq!(fanout.verdict.outcome, Outcome::Invalid, "{:?}", fanout.verdict);
    assert!(fanout.verdict.reason.contains("exited during startup"), "{}", fanout.verdict.reason);
}

#[test]
fn an_interrupted_run_keeps_what_it_measured_and_says_where_it_stopped() {
    let mut lab = lab().stop_after(5);
    let (measurements, _) = run_with(&mut lab, &["E-overhead", "E-io"]);
    assert_eq!(lab.calls(), 5);
    assert!(measurements.len() >= 5);
    let claims = load_claims(&root().join("fixtures/claims.toml")).unwrap();
    let stacks =
        [("express", claimbench_model::stack::Runtime::Node), ("fastapi", claimbench_model::stack::Runtime::Python)];
    let mut head = header(&stacks);
    head.complete = false;
    let results = assemble(head, measurements, &catalogue(&Profile::named("quick").unwrap()), &claims);
    let io = results.experiments.iter().find(|e| e.id == "E-io").unwrap();
    assert!(io.measurements.is_empty());
    assert_eq!(io.skipped_reason.as_deref(), Some("the run stopped before this experiment"));
    let claim = results.claims.iter().find(|c| c.id == "io-throughput").unwrap();
    assert_eq!(claim.verdict.outcome, Outcome::NotMeasured, "{:?}", claim.verdict);
}
