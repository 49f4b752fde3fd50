//! The runner and the verdicts against a mock lab: no process, no socket, deterministic numbers.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use claimbench_model::load::LoadResult;
use claimbench_model::run::{Measurement, Method, Outcome, RunResults, Scalar};
use claimbench_suite::{
    assemble, catalogue, load_claims, Instance, Lab, LabFailure, Load, Measured, Profile, Progress, RunOptions, Runner,
};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// A load result from the recorded fixture, reshaped to `rate` req/s of 200s and `p50_ms`.
fn load_result(rate: f64, p50_ms: f64) -> LoadResult {
    let text = std::fs::read_to_string(root().join("fixtures/results/quick-run.json")).unwrap();
    let run: RunResults = serde_json::from_str(&text).unwrap();
    let mut load = run.experiments.iter().flat_map(|e| &e.measurements).find_map(|m| m.load.clone()).unwrap();
    load.duration_s = 1.0;
    load.requests = rate as u64;
    load.responses = rate as u64;
    load.achieved_rate = rate;
    load.status_counts = BTreeMap::from([(200, rate as u64)]);
    load.errors = BTreeMap::new();
    load.generator_saturated = false;
    load.saturation_reasons.clear();
    load.cancelled = false;
    load.latency.p50_us = p50_ms * 1000.0;
    load.latency.p99_us = p50_ms * 3000.0;
    load
}

/// Express is 1.5× faster than fastapi everywhere, with a little noise per trial; `broken`
/// never starts; the canary jumps once; the lab stops after `stop_after` trials.
struct MockLab {
    calls: u32,
    canary_calls: u32,
    broken: Option<String>,
    stop_after: Option<u32>,
}

impl Lab for MockLab {
    fn retain(&mut self, _keep: &[Instance]) {}

    fn ensure(&mut self, instance: &Instance) -> Result<(), LabFailure> {
        if self.broken.as_deref() == Some(instance.stack.as_str()) {
            return Err(LabFailure {
                message: format!("{} exited during startup", instance.stack),
                stderr_tail: Some("ImportError: no module named fastapi".into()),
            });
        }
        Ok(())
    }

    fn measure(
        &mut self,
        instance: &Instance,
        _load: &Load,
        _trial: Duration,
        _warmup: Duration,
    ) -> Result<Measured, LabFailure> {
        self.calls += 1;
        let noise = 1.0 + 0.02 * ((self.calls % 5) as f64 - 2.0);
        let (rate, p50) = if instance.stack == "express" { (1500.0 * noise, 2.0) } else { (1000.0, 3.0 * noise) };
        Ok(Measured {
            load: Some(load_result(rate, p50)),
            app_cpu_s: rate / 2000.0,
            app_peak_rss_bytes: 50 << 20,
            ..Measured::default()
        })
    }

    fn cold_start(&mut self, stack: &str) -> Result<Measured, LabFailure> {
        self.calls += 1;
        let ms = if stack == "express" { 120.0 } else { 900.0 };
        Ok(Measured {
            scalars: BTreeMap::from([(Scalar::ColdStartMs, ms), (Scalar::IdleRssBytes, 40e6)]),
            ..Measured::default()
        })
    }

    fn canary_ms(&mut self) -> Option<f64> {
        self.canary_calls += 1;
        // The second trial's "after" reading is twice as slow: that trial must be repeated.
        Some(if self.canary_calls == 4 { 2.0 } else { 1.0 })
    }

    fn interrupted(&self) -> bool {
        self.stop_after.is_some_and(|n| self.calls >= n)
    }
}

fn method() -> Method {
    Method {
        noise_threshold: 0.05,
        confidence: 0.95,
        slo_p99_ms: 100.0,
        max_error_ratio: 0.01,
        canary_max_drift: 0.25,
        warmup_s: 0.0,
        trial_s: 1.0,
    }
}

fn run_with(lab: &mut MockLab, experiment_ids: &[&str]) -> (Vec<Measurement>, Vec<String>) {
    let profile = Profile::named("quick").unwrap();
    let experiments: Vec<_> =
        catalogue(&profile).into_iter().filter(|e| experiment_ids.contains(&e.id.as_str())).collect();
    let options = RunOptions { stacks: vec!["express".into(), "fastapi".into()], method: method() };
    let mut sunk = Vec::new();
    let mut notes = Vec::new();
    let mut sink = |m: &Measurement| sunk.push(m.clone());
    let mut progress = |p: Progress| {
        if let Progress::Note(n) = p {
            notes.push(n)
        }
    };
    let mut runner = Runner { lab, profile: &profile, options: &options, sink: &mut sink, progress: &mut progress };
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
    let mut lab = MockLab { calls: 0, canary_calls: 0, broken: None, stop_after: None };
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
    let mut lab = MockLab { calls: 0, canary_calls: 0, broken: None, stop_after: None };
    let (measurements, _) = run_with(&mut lab, &["E-io", "E-coldstart"]);
    let claims = load_claims(&root().join("fixtures/claims.toml")).unwrap();
    let stacks =
        [("express", claimbench_model::stack::Runtime::Node), ("fastapi", claimbench_model::stack::Runtime::Python)];
    let results = assemble(header(&stacks), measurements, &catalogue(&Profile::named("quick").unwrap()), &claims);
    let io = results.claims.iter().find(|c| c.id == "io-throughput").unwrap();
    assert_eq!(io.verdict.outcome, Outcome::Supported, "{:?}", io.verdict);
    let estimate = io.verdict.estimate.as_ref().unwrap();
    assert!((estimate.ratio_median - 1.5).abs() < 0.1, "{estimate:?}");
    assert_eq!(estimate.pairs, 3);
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
fn a_failing_app_fails_its_measurements_with_its_stderr_and_the_run_goes_on() {
    let mut lab = MockLab { calls: 0, canary_calls: 0, broken: Some("fastapi".into()), stop_after: None };
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
    let mut lab = MockLab { calls: 0, canary_calls: 0, broken: None, stop_after: Some(5) };
    let (measurements, _) = run_with(&mut lab, &["E-overhead", "E-io"]);
    assert_eq!(lab.calls, 5);
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
