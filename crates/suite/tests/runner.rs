//! The runner and the verdicts against the scripted lab: no process, no socket, deterministic
//! numbers.

use std::collections::BTreeSet;
use std::path::Path;

use std::time::Duration;

use claimbench_model::load::LoadResult;
use claimbench_model::run::{Measurement, Method, Outcome, RunResults, Verdict};
use claimbench_suite::experiments::plan;
use claimbench_suite::runner::{schedule, MAKE_UP_PAIRS, NOT_REPEATED, PRIMING_ROUNDS, STORM_HELD};
use claimbench_suite::scripted::{method, ScriptedLab};
use claimbench_suite::{
    assemble, catalogue, load_claims, Experiment, Instance, Lab, LabFailure, Load, Measured, Profile, ProfileName,
    Progress, RunOptions, Runner,
};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// A load result from the recorded fixture, for the scripted lab to reshape.
fn template() -> LoadResult {
    let text = std::fs::read_to_string(root().join("fixtures/results/recorded-smoke.json")).unwrap();
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

fn run_profile(lab: &mut dyn Lab, experiment_ids: &[&str], profile: &Profile) -> (Vec<Measurement>, Vec<String>) {
    run_method(lab, experiment_ids, profile, method())
}

fn run_method(
    lab: &mut dyn Lab,
    experiment_ids: &[&str],
    profile: &Profile,
    method: Method,
) -> (Vec<Measurement>, Vec<String>) {
    run_experiments(lab, &named(profile, experiment_ids), profile, method)
}

/// The catalogue's experiments `ids` at `profile`.
fn named(profile: &Profile, ids: &[&str]) -> Vec<Experiment> {
    catalogue(profile).into_iter().filter(|e| ids.contains(&e.id.as_str())).collect()
}

fn run_experiments(
    lab: &mut dyn Lab,
    experiments: &[Experiment],
    profile: &Profile,
    method: Method,
) -> (Vec<Measurement>, Vec<String>) {
    let options = RunOptions {
        stacks: vec!["express".into(), "fastapi".into()],
        method,
        not_implemented: Default::default(),
        extra: Default::default(),
    };
    let mut sunk = Vec::new();
    let mut notes = Vec::new();
    let mut sink = |m: &Measurement| sunk.push(m.clone());
    let mut progress = |p: Progress| {
        if let Progress::Note(n) = p {
            notes.push(n)
        }
    };
    let mut runner = Runner { lab, profile, options: &options, sink: &mut sink, progress: &mut progress };
    let results = runner.run(experiments);
    let from_results: usize = results.iter().map(|e| e.measurements.len()).sum();
    assert_eq!(from_results, sunk.len(), "every measurement reached the sink as it finished");
    (sunk, notes)
}

fn header(measured_stacks: &[(&str, claimbench_model::stack::Runtime)]) -> RunResults {
    let text = std::fs::read_to_string(root().join("fixtures/results/recorded-smoke.json")).unwrap();
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
    // Quick's 6 trials per stack: three whole A B, B A blocks; trial 1 of fastapi is repeated.
    let (a, b) = ("express", "fastapi");
    assert_eq!(order, [a, b, b, b, a, a, b, b, a, a, b, b, a]);
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
    assert_eq!(realtime.verdict.outcome, Outcome::NotMeasured, "E-broadcast was not run: {:?}", realtime.verdict);
    let modules = results.claims.iter().find(|c| c.id == "es-modules").unwrap();
    assert_eq!(modules.verdict.outcome, Outcome::NotMeasured);
    assert!(modules.verdict.reason.contains("CommonJS"), "its own reason: {}", modules.verdict.reason);
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
    let mut lab = lab().stop_after(9);
    let (measurements, _) = run_with(&mut lab, &["E-overhead", "E-io"]);
    assert_eq!(lab.calls(), 9);
    // Nine calls: the trials, and the priming of each unit's first trial on each stack.
    assert!(measurements.len() >= 5, "{}", measurements.len());
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

fn stacks() -> Vec<String> {
    vec!["express".into(), "fastapi".into()]
}

fn node_and_python() -> [(&'static str, claimbench_model::stack::Runtime); 2] {
    [("express", claimbench_model::stack::Runtime::Node), ("fastapi", claimbench_model::stack::Runtime::Python)]
}

/// A scripted lab with faults added: canary readings taken from a list, and a share of one
/// stack's requests failing with one error class.
struct FaultyLab {
    inner: ScriptedLab,
    canary: Vec<f64>,
    readings: usize,
    failing: Option<(&'static str, &'static str, f64)>,
    /// Machine faults for the n-th call to `measure` (from 0); the others have none.
    faults: Vec<(usize, &'static str)>,
    /// Calls to `measure` whose app "dies": the lab fails them.
    dies: Vec<usize>,
    /// Open loop: the generator sends late (p99 send lag `lag_ms`, CPU 30%), and this share of
    /// the offered rate comes back.
    sends_late: Option<f64>,
    /// The p99 send lag of `sends_late`, in ms (1.4 unless set).
    lag_ms: f64,
    /// Whether that lag lands in the tail: the p99 from the intended send is the p99 from the
    /// actual send plus the lag (true unless set), or the two are equal (the late requests were
    /// not among the slowest).
    lag_in_tail: bool,
    /// Every result's judged p99, in ms, instead of the scripted one.
    p99_ms: Option<f64>,
    measures: usize,
    /// Requests of every open-loop result that waited for a free connection (the app held them
    /// all), with `sends_late`'s share of the rate coming back.
    waited_for_connections: u64,
    /// What each call to `settle` answers, in order (`None` once they run out).
    settle_waits: Vec<Option<Duration>>,
    settles: usize,
    /// A clock that each call to `measure` moves on by this much; no clock when `None`.
    time_per_measure: Option<Duration>,
    now: Duration,
}

impl FaultyLab {
    fn new() -> FaultyLab {
        FaultyLab {
            inner: ScriptedLab::new(template()),
            canary: Vec::new(),
            readings: 0,
            failing: None,
            faults: Vec::new(),
            dies: Vec::new(),
            sends_late: None,
            lag_ms: 1.4,
            lag_in_tail: true,
            p99_ms: None,
            measures: 0,
            waited_for_connections: 0,
            settle_waits: Vec::new(),
            settles: 0,
            time_per_measure: None,
            now: Duration::ZERO,
        }
    }
}

impl Lab for FaultyLab {
    fn retain(&mut self, keep: &[Instance]) {
        self.inner.retain(keep)
    }
    fn ensure(&mut self, instance: &Instance) -> Result<bool, LabFailure> {
        self.inner.ensure(instance)
    }
    fn measure(&mut self, i: &Instance, l: &Load, t: Duration, w: Duration) -> Result<Measured, LabFailure> {
        let call = self.measures;
        self.measures += 1;
        self.now += self.time_per_measure.unwrap_or_default();
        if self.dies.contains(&call) {
            return Err(LabFailure { message: format!("{} exited during the trial", i.stack), stderr_tail: None });
        }
        let mut measured = self.inner.measure(i, l, t, w)?;
        if let (Some(delivered), Some(load), Load::Open { .. }) = (self.sends_late, measured.load.as_mut(), l) {
            load.target_rate = Some(load.achieved_rate / delivered);
            load.generator_saturated = true;
            load.saturation_reasons =
                vec![format!("the load generator sent requests late (p99 send lag {:.2} ms > 1 ms)", self.lag_ms)];
            load.self_check.send_lag_p99_us = Some(self.lag_ms * 1000.0);
            load.self_check.cpu_fraction = 0.3;
            let tail = if self.lag_in_tail { self.lag_ms * 1000.0 } else { 0.0 };
            load.latency.p99_us = load.latency_uncorrected.p99_us + tail;
            load.late_sends = self.waited_for_connections;
        }
        if let (Some(p99_ms), Some(load)) = (self.p99_ms, measured.load.as_mut()) {
            load.latency_with_failures.p99_us = p99_ms * 1000.0;
        }
        measured.machine_faults.extend(self.faults.iter().filter(|(n, _)| *n == call).map(|(_, f)| f.to_string()));
        if let (Some((stack, class, share)), Some(load)) = (self.failing, measured.load.as_mut()) {
            if i.stack == stack {
                let failed = (load.requests as f64 * share).round() as u64;
                load.errors.insert(class.to_string(), failed);
                let ok = load.requests - failed;
                load.status_counts.insert(200, ok);
                load.responses = ok;
            }
        }
        Ok(measured)
    }
    fn cold_start(&mut self, stack: &str, minimal: bool) -> Result<Measured, LabFailure> {
        self.inner.cold_start(stack, minimal)
    }
    fn canary_ms(&mut self) -> Option<f64> {
        self.readings += 1;
        Some(self.canary.get(self.readings - 1).copied().unwrap_or(1.0))
    }
    fn settle(&mut self) -> Option<Duration> {
        self.settles += 1;
        self.settle_waits.get(self.settles - 1).copied().flatten()
    }
    fn clock(&self) -> Option<Duration> {
        self.time_per_measure.map(|_| self.now)
    }
    fn interrupted(&self) -> bool {
        self.inner.interrupted()
    }
}

#[test]
fn every_unit_runs_its_pairs_in_whole_a_b_b_a_blocks_in_every_profile() {
    for name in ProfileName::ALL {
        let profile = Profile::of(name);
        for experiment in catalogue(&profile) {
            let steps = schedule(&experiment, &stacks(), profile.reps, profile.cold_starts, 7);
            for (u, unit) in experiment.units.iter().enumerate() {
                let order: Vec<(u32, &str)> =
                    steps.iter().filter(|s| s.unit == u).map(|s| (s.trial, s.stack.as_str())).collect();
                let per_stack = order.len() / 2;
                assert!(
                    per_stack.is_multiple_of(2) && per_stack > 0,
                    "{name:?} {} {}: {per_stack}",
                    experiment.id,
                    unit.label
                );
                // The profile's pairs, or more where the unit asks for more.
                if unit.load.cold_start().is_none() {
                    let want = unit.min_pairs.map_or(profile.reps, |min| min.max(profile.reps));
                    assert_eq!(per_stack as u32, want + want % 2, "{name:?} {} {}", experiment.id, unit.label);
                }
                for (k, pair) in order.chunks(2).enumerate() {
                    let trial = k as u32 + 1;
                    let want = if trial % 2 == 1 { ["express", "fastapi"] } else { ["fastapi", "express"] };
                    assert_eq!(pair, [(trial, want[0]), (trial, want[1])], "{name:?} {} {}", experiment.id, unit.label);
                }
            }
        }
    }
}

#[test]
fn e_cost_asks_for_more_pairs_where_a_verdict_is_read_and_smoke_stays_short() {
    // E-cost's ratio needs its 20 pairs wherever a verdict is read, and smoke stays short.
    let cost_pairs = |name: ProfileName| {
        let profile = Profile::of(name);
        let cost = catalogue(&profile).into_iter().find(|e| e.id == "E-cost").unwrap();
        schedule(&cost, &stacks(), profile.reps, profile.cold_starts, 7).len() / 2
    };
    assert_eq!(cost_pairs(ProfileName::Quick), claimbench_suite::experiments::COST_PAIRS as usize);
    assert_eq!(cost_pairs(ProfileName::Nightly), claimbench_suite::experiments::COST_PAIRS as usize);
    assert_eq!(cost_pairs(ProfileName::Smoke), Profile::of(ProfileName::Smoke).reps as usize);
}

#[test]
fn the_unit_order_is_shuffled_from_the_seed_and_the_seed_is_recorded() {
    let profile = Profile::named("quick").unwrap();
    let cpu = catalogue(&profile).into_iter().find(|e| e.id == "E-cpu").unwrap();
    let units_in_order = |seed| {
        let mut seen: Vec<usize> = Vec::new();
        for step in schedule(&cpu, &stacks(), profile.reps, profile.cold_starts, seed) {
            if !seen.contains(&step.unit) {
                seen.push(step.unit);
            }
        }
        seen
    };
    assert_eq!(units_in_order(1), units_in_order(1), "the same seed gives the same order");
    assert_ne!(units_in_order(1), units_in_order(2), "another seed gives another order");
    assert_ne!(units_in_order(1), (0..cpu.units.len()).collect::<Vec<_>>(), "seed 1 leaves E-cpu in catalogue order");

    // Through the runner: the measurements follow the seed, and the results carry it.
    let labels = |seed| {
        let (measurements, _) = run_method(&mut lab(), &["E-cpu"], &profile, Method { seed, ..method() });
        measurements.iter().map(|m| m.label.clone()).collect::<Vec<_>>()
    };
    assert_eq!(labels(1), labels(1));
    assert_ne!(labels(1), labels(2));
    let (measurements, _) = run_method(&mut lab(), &["E-cpu"], &profile, Method { seed: 99, ..method() });
    let claims = load_claims(&root().join("fixtures/claims.toml")).unwrap();
    let mut head = header(&node_and_python());
    head.method.seed = 99;
    let results = assemble(head, measurements, &catalogue(&profile), &claims);
    let json = serde_json::to_value(&results).unwrap();
    assert_eq!(json["method"]["seed"], 99, "the seed is written to results.json");
}

#[test]
fn units_divided_within_one_stack_are_interleaved_trial_by_trial() {
    let profile = Profile::named("quick").unwrap();
    // No canary jump here: a repeat would add a measurement to the pattern.
    let (measurements, _) = run_profile(&mut FaultyLab::new(), &["E-hol"], &profile);
    for stack in ["express", "fastapi"] {
        let mine: Vec<(&str, u32)> =
            measurements.iter().filter(|m| m.stack == stack).map(|m| (m.label.as_str(), m.trial)).collect();
        let pairs = claimbench_suite::experiments::HOL_PAIRS as usize;
        assert_eq!(mine.len(), 3 * pairs, "{stack}: {pairs} trials of each of alone, mixed-io and mixed-cpu");
        let (u1, u2, u3) = (mine[0].0, mine[1].0, mine[2].0);
        let mut units = [u1, u2, u3];
        units.sort_unstable();
        assert_eq!(units, ["alone", "mixed-cpu", "mixed-io"], "{stack}: each unit once per trial");
        for (k, block) in mine.chunks(6).enumerate() {
            let t = 2 * k as u32 + 1;
            let want = [(u1, t), (u2, t), (u3, t), (u3, t + 1), (u2, t + 1), (u1, t + 1)];
            assert_eq!(block, want, "{stack}: U1 U2 U3, U3 U2 U1");
        }
    }
    // The workers' scaling group: trial k of w=1 and w=2 run next to each other on each stack.
    let (measurements, _) = run_profile(&mut FaultyLab::new(), &["E-workers"], &profile);
    let express: Vec<&Measurement> = measurements.iter().filter(|m| m.stack == "express").collect();
    let w1 = express.iter().position(|m| m.label == "json w=1 c=64" && m.trial == 3).unwrap();
    let w2 = express.iter().position(|m| m.label == "json w=2 c=64" && m.trial == 3).unwrap();
    assert_eq!(w1.abs_diff(w2), 1, "trial 3 of json w=1 and w=2 are adjacent on express");
}

#[test]
fn a_stack_over_its_error_budget_loses_the_evidence_and_its_trials_stay_valid() {
    let profile = Profile::named("nightly").unwrap();
    let claims = load_claims(&root().join("fixtures/claims.toml")).unwrap();
    // Express is 1.5x faster, but 5% of its requests time out: over the 1% budget, it loses.
    let mut lab = FaultyLab::new();
    lab.inner = ScriptedLab::express_vs_fastapi(template());
    lab.failing = Some(("express", "timeout", 0.05));
    let (measurements, _) = run_profile(&mut lab, &["E-io"], &profile);
    assert!(measurements.iter().filter(|m| m.stack == "express").all(|m| m.valid), "failures are not harness faults");
    let results = assemble(header(&node_and_python()), measurements, &catalogue(&profile), &claims);
    let io = &results.claims.iter().find(|c| c.id == "io-throughput").unwrap().verdict;
    assert_eq!(io.outcome, Outcome::Refuted, "express failed its requests: {io:?}");
    assert!(io.reason.contains("express") && io.reason.contains("timeout"), "{}", io.reason);
    assert!(io.reason.contains("error budget"), "{}", io.reason);

    // Under the budget (0.5% < 1%), the failures cost nothing beyond the lost throughput.
    let mut lab = FaultyLab::new();
    lab.inner = ScriptedLab::express_vs_fastapi(template());
    lab.failing = Some(("express", "timeout", 0.005));
    let (measurements, _) = run_profile(&mut lab, &["E-io"], &profile);
    let results = assemble(header(&node_and_python()), measurements, &catalogue(&profile), &claims);
    let io = &results.claims.iter().find(|c| c.id == "io-throughput").unwrap().verdict;
    assert_eq!(io.outcome, Outcome::Supported, "{io:?}");

    // Every request of fastapi times out: no throughput at all, and still a loss, not "invalid".
    let mut lab = FaultyLab::new();
    lab.failing = Some(("fastapi", "timeout", 1.0));
    let (measurements, _) = run_profile(&mut lab, &["E-io"], &profile);
    assert!(measurements.iter().all(|m| m.valid), "all requests failing is the app's doing");
    let results = assemble(header(&node_and_python()), measurements, &catalogue(&profile), &claims);
    let io = &results.claims.iter().find(|c| c.id == "io-throughput").unwrap().verdict;
    assert_eq!(io.outcome, Outcome::Supported, "fastapi failed every request: {io:?}");
    assert!(io.reason.contains("fastapi") && io.reason.contains("timeout"), "{}", io.reason);

    // A latency evidence (less is better): fastapi failing loses it, so "express is less" holds.
    let mut lab = FaultyLab::new();
    lab.failing = Some(("fastapi", "connect", 0.2));
    let (measurements, _) = run_profile(&mut lab, &["E-concurrency"], &profile);
    let results = assemble(header(&node_and_python()), measurements, &catalogue(&profile), &claims);
    let conc = &results.claims.iter().find(|c| c.id == "concurrency").unwrap().verdict;
    assert_eq!(conc.outcome, Outcome::Supported, "fastapi lost on its errors: {conc:?}");
    assert!(conc.reason.contains("fastapi") && conc.reason.contains("connect"), "{}", conc.reason);
}

#[test]
fn a_repeat_that_drifts_again_is_invalid() {
    let profile = Profile::named("quick").unwrap();
    let mut lab = FaultyLab::new();
    // Readings: the first trial's before/after, then its repeat's before/after.
    lab.canary = vec![1.0, 1.3, 1.0, 1.2];
    let (measurements, notes) = run_profile(&mut lab, &["E-io-fanout"], &profile);
    assert_eq!(measurements.len(), 15, "12 trials, one repeat, and a make-up pair for the lost pair");
    let (first, repeat) = (&measurements[0], &measurements[1]);
    assert!(!first.valid && first.invalid_reasons.iter().any(|r| r.contains("repeated")), "{first:?}");
    assert!(repeat.id.ends_with("/repeat") && repeat.trial == first.trial);
    assert!(!repeat.valid, "a repeat that drifts again is not kept: {repeat:?}");
    assert!(repeat.invalid_reasons[0].contains("again"), "{:?}", repeat.invalid_reasons);
    assert!(notes.iter().any(|n| n.contains("again")), "{notes:?}");
    assert!(measurements[2..].iter().all(|m| m.valid));
    let made_up: Vec<(&str, u32)> = measurements[13..].iter().map(|m| (m.stack.as_str(), m.trial)).collect();
    assert_eq!(made_up, [("express", 7), ("fastapi", 7)], "pair 7 makes up the lost pair 1, A B as odd trials go");
    // A drift within the 5% band is no reason to repeat.
    let mut lab = FaultyLab::new();
    lab.canary = vec![1.0, 1.04];
    let (measurements, _) = run_profile(&mut lab, &["E-io-fanout"], &profile);
    assert_eq!(measurements.len(), 12);
}

#[test]
fn a_machine_fault_is_repeated_in_place_but_a_dead_app_is_not() {
    // Without priming, the lab's n-th `measure` call is the n-th trial.
    let profile = Profile { priming: Duration::ZERO, ..Profile::named("quick").unwrap() };
    let mut lab = FaultyLab::new();
    // The second trial's generator side is saturated; the fifth's repeat is contended again.
    lab.faults = vec![(1, "generator side 97% busy"), (5, "app cores contended 12%"), (6, "app cores contended 9%")];
    // Before the first repeat the machine needs 12 s to settle (a steal storm); before the
    // second it is quiet at once.
    lab.settle_waits = vec![Some(Duration::from_secs(12)), None];
    let (measurements, notes) = run_profile(&mut lab, &["E-io-fanout"], &profile);
    assert_eq!(measurements.len(), 16, "12 trials, two repeats and one make-up pair");
    assert_eq!(lab.settles, 2, "the lab settles before each repeat, and only then");
    let (faulty, repeat) = (&measurements[1], &measurements[2]);
    assert!(!faulty.valid && faulty.invalid_reasons[0].contains("97% busy"), "{faulty:?}");
    let waited = "repeated once in its place, after waiting 12.0 s for the hypervisor to stop taking CPU time";
    assert!(faulty.invalid_reasons.iter().any(|r| r == waited), "{faulty:?}");
    assert!(notes.iter().any(|n| n.contains("after waiting 12.0 s")), "{notes:?}");
    assert!(measurements[5].invalid_reasons.iter().any(|r| r == "repeated once in its place"), "{:?}", measurements[5]);
    assert!(repeat.valid && repeat.id.ends_with("/repeat") && repeat.trial == faulty.trial, "{repeat:?}");
    assert!(!measurements[6].valid && measurements[6].id.ends_with("/repeat"), "{:?}", measurements[6]);
    assert!(notes.iter().any(|n| n.contains("invalid again") && n.contains("contended 9%")), "{notes:?}");
    assert_eq!(measurements.iter().filter(|m| m.valid).count(), 12 - 1 + 2, "one pair lost, then made up");

    // An app that died is reported, not measured again behind the user's back.
    let mut lab = FaultyLab::new();
    lab.dies = vec![0];
    let (measurements, _) = run_profile(&mut lab, &["E-io-fanout"], &profile);
    assert_eq!(measurements.len(), 14, "no repeat; the lost pair is made up at the end");
    assert!(!measurements[0].valid && measurements[0].invalid_reasons[0].contains("exited"));
}

#[test]
fn late_sends_invalidate_a_latency_trial_but_not_a_cost_trial_that_got_its_rate() {
    let profile = Profile::named("quick").unwrap();
    let mut lab = FaultyLab::new();
    lab.sends_late = Some(0.99);
    let (measurements, _) = run_profile(&mut lab, &["E-cost", "E-hol"], &profile);
    let (cost, hol): (Vec<&Measurement>, Vec<&Measurement>) =
        measurements.iter().partition(|m| m.experiment == "E-cost");
    assert!(!cost.is_empty() && cost.iter().all(|m| m.valid), "CPU per request is not moved by a late send");
    // The scripted lab sends late on plain open loops: E-hol's probe alone.
    let open_hol: Vec<&&Measurement> = hol.iter().filter(|m| m.label == "alone").collect();
    assert!(!open_hol.is_empty());
    assert!(
        open_hol.iter().all(|m| !m.valid && m.invalid_reasons[0].contains("send lag 1.40 ms")),
        "the probe's p99 is: {:?}",
        open_hol[0].invalid_reasons
    );

    // Beside a 40 ms p99, 1.4 ms of lag is under the 5% band: the probe's p99 stands.
    let mut lab = FaultyLab::new();
    (lab.sends_late, lab.p99_ms) = (Some(0.99), Some(40.0));
    let (measurements, _) = run_profile(&mut lab, &["E-hol"], &profile);
    assert!(measurements.iter().all(|m| m.valid), "{:?}", measurements.iter().find(|m| !m.valid));

    // The same lag that delayed no request in the tail (the p99 from the intended send is the
    // p99 from the actual send): it did not move what the trial is judged on.
    let mut lab = FaultyLab::new();
    (lab.sends_late, lab.lag_in_tail) = (Some(0.99), false);
    let (measurements, _) = run_profile(&mut lab, &["E-hol"], &profile);
    assert!(measurements.iter().all(|m| m.valid), "{:?}", measurements.iter().find(|m| !m.valid));

    // A rate that did not come back is no cost measurement either.
    let mut lab = FaultyLab::new();
    lab.sends_late = Some(0.8);
    let (measurements, _) = run_profile(&mut lab, &["E-cost"], &profile);
    assert!(measurements.iter().all(|m| !m.valid && m.invalid_reasons[0].contains("saturated")));

    // Unless what did not come back waited for a connection the app held (a thread pool that
    // cannot keep 1,000 sleeps going): that is the app's slowness, and its 5.5 s p99 stands
    // against it. The same trial with no request waiting stays the generator's.
    let held = |waited| {
        let mut lab = FaultyLab::new();
        (lab.sends_late, lab.p99_ms, lab.waited_for_connections) = (Some(0.46), Some(5500.0), waited);
        run_profile(&mut lab, &["E-concurrency"], &profile).0
    };
    let app_s = held(1075);
    assert!(!app_s.is_empty() && app_s.iter().all(|m| m.valid), "{:?}", app_s.iter().find(|m| !m.valid));
    let generator_s = held(0);
    assert!(generator_s.iter().any(|m| !m.valid && m.invalid_reasons[0].contains("saturated")), "{generator_s:?}");
}

#[test]
fn an_experiment_the_machine_cannot_give_its_cpus_is_not_run_and_its_claim_says_why() {
    let profile = Profile::named("quick").unwrap();
    let claims = load_claims(&root().join("fixtures/claims.toml")).unwrap();
    // A two-CPU machine: one for the app, one for the generator side.
    let two_cpus = |needs: &claimbench_suite::experiments::Needs| {
        if needs.app_cpus <= 1 && needs.generator_cpus <= 1 {
            Ok(())
        } else {
            Err(format!("not measurable on this machine: needs {} CPUs, has 2", needs.app_cpus + needs.generator_cpus))
        }
    };
    let (kept, not_measurable) = claimbench_suite::experiments::measurable(catalogue(&profile), two_cpus, 1 << 20);
    assert_eq!(not_measurable.keys().collect::<Vec<_>>(), ["E-workers"]);
    assert!(kept.iter().all(|e| e.id != "E-workers") && kept.len() == catalogue(&profile).len() - 1);

    let ids: Vec<&str> = kept.iter().map(|e| e.id.as_str()).filter(|id| ["E-io", "E-cost"].contains(id)).collect();
    let (measurements, _) = run_with(&mut lab(), &ids);
    assert!(measurements.iter().all(|m| m.experiment != "E-workers"), "nothing of E-workers ran");
    let head = RunResults { not_measurable, ..header(&node_and_python()) };
    let results = assemble(head, measurements, &catalogue(&profile), &claims);
    let scalability = &results.claims.iter().find(|c| c.id == "scalability").unwrap().verdict;
    assert_eq!(scalability.outcome, Outcome::NotMeasured);
    assert_eq!(scalability.key_number, "not measurable on this machine");
    assert!(
        scalability.reason.starts_with("E-workers: not measurable on this machine: needs 3 CPUs"),
        "{}",
        scalability.reason
    );
    let workers = results.experiments.iter().find(|e| e.id == "E-workers").unwrap();
    assert!(workers.skipped_reason.as_deref().is_some_and(|r| r.contains("needs 3 CPUs")), "{workers:?}");
    let json = serde_json::to_value(&results).unwrap();
    assert!(json["not_measurable"]["E-workers"].as_str().is_some(), "results.json records it");
}

#[test]
fn a_level_with_more_connections_than_the_file_descriptor_limit_is_not_measurable_with_its_reason() {
    let profile = Profile::named("standard").unwrap();
    let claims = load_claims(&root().join("fixtures/claims.toml")).unwrap();
    // 8,000 descriptors: 1,000 and 5,000 connections fit beside the margin, 10,000 do not.
    let (kept, not_measurable) = claimbench_suite::experiments::measurable(catalogue(&profile), |_| Ok(()), 8000);
    let concurrency = kept.iter().find(|e| e.id == "E-concurrency").unwrap();
    let labels: Vec<&str> = concurrency.units.iter().map(|u| u.label.as_str()).collect();
    assert_eq!(labels, ["c=1000", "c=5000"]);
    let why = &not_measurable["E-concurrency c=10000"];
    assert!(why.contains("10000 connections need 11024 file descriptors") && why.contains("allows 8000"), "{why}");

    let (measurements, _) = run_profile(&mut lab(), &["E-concurrency"], &profile);
    let measurements: Vec<Measurement> = measurements.into_iter().filter(|m| m.label != "c=10000").collect();
    let head = RunResults { not_measurable, ..header(&node_and_python()) };
    let results = assemble(head, measurements, &catalogue(&profile), &claims);
    let concurrency = results.claims.iter().find(|c| c.id == "concurrency").unwrap();
    let ten_k = concurrency.sub_verdicts.iter().find(|v| v.label.contains("10,000 connections")).unwrap();
    assert_eq!(ten_k.verdict.outcome, Outcome::NotMeasured);
    assert_eq!(ten_k.verdict.key_number, "not measurable on this machine");
    assert!(ten_k.verdict.reason.contains("RLIMIT_NOFILE allows 8000"), "{}", ten_k.verdict.reason);
    assert_eq!(
        concurrency.verdict.outcome,
        Outcome::Supported,
        "1,000 connections still decide: {:?}",
        concurrency.verdict
    );
}

#[test]
fn lost_pairs_are_made_up_at_most_make_up_pairs_times_per_block() {
    let profile = Profile::named("quick").unwrap();
    let mut lab = FaultyLab::new();
    // Every measurement a fault: the first trial is repeated, spoiled again, and from then on
    // no trial is (none comes out valid); the block tries every make-up pair.
    lab.faults = (0..100).map(|n| (n, "generator side 99% busy")).collect();
    let (measurements, notes) = run_profile(&mut lab, &["E-io-fanout"], &profile);
    let make_up = MAKE_UP_PAIRS as usize;
    assert_eq!(measurements.len(), (12 + 2 * make_up) + 1, "6 + make-up trials per stack, and one repeat");
    assert_eq!(measurements.iter().map(|m| m.trial).max(), Some(6 + MAKE_UP_PAIRS));
    assert_eq!(notes.iter().filter(|n| n.contains("making up pair")).count(), make_up, "{notes:?}");
}

#[test]
fn after_a_repeat_spoiled_again_no_spoiled_trial_is_repeated_until_one_comes_out_valid() {
    // Without priming, the lab's n-th `measure` call is the n-th measurement.
    let profile = Profile { priming: Duration::ZERO, ..Profile::named("quick").unwrap() };
    let experiments = named(&profile, &["E-io-fanout", "E-cpu"]);
    let mut lab = FaultyLab::new();
    // The second measurement and its repeat spoiled (a storm), then the third: not repeated. The
    // fourth is valid, so the fifth's fault is repeated again, and its repeat is clean.
    let storm = "app cores contended 11%";
    lab.faults = vec![(1, storm), (2, storm), (3, storm), (5, storm)];
    let (measurements, notes) = run_experiments(&mut lab, &experiments, &profile, method());
    let first = &measurements[..8];
    let repeats: Vec<bool> = first.iter().map(|m| m.id.ends_with("/repeat")).collect();
    let valid: Vec<bool> = first.iter().map(|m| m.valid).collect();
    assert_eq!(
        repeats,
        [false, false, true, false, false, false, true, false],
        "{:?}",
        first.iter().map(|m| &m.id).collect::<Vec<_>>()
    );
    assert_eq!(valid, [true, false, false, false, true, false, true, true]);
    let held = &measurements[3];
    let why = held.invalid_reasons.iter().find_map(|r| r.strip_prefix(NOT_REPEATED)).expect("a reason for no repeat");
    assert_eq!(
        why,
        format!(
            "{STORM_HELD}{} too, and no trial has come out valid since: a repeat now would most likely be spoiled again",
            measurements[1].id
        )
    );
    assert!(!held.invalid_reasons.iter().any(|r| r.starts_with("repeated once")), "{held:?}");
    assert!(notes.iter().any(|n| n.contains("no spoiled trial is repeated until one comes out valid")), "{notes:?}");
    // The two lost pairs are made up at the block's end.
    let fanout: Vec<&Measurement> = measurements.iter().filter(|m| m.experiment == "E-io-fanout").collect();
    assert_eq!(fanout.len(), 12 + 2 + 4, "12 trials, 2 repeats, 2 make-up pairs");
    assert!(fanout[14..].iter().all(|m| m.trial > 6 && m.valid));

    // The state is the machine's, not an experiment's. Spoil E-io-fanout's last trial and its
    // repeat, then every make-up trial (made up, never held, but not repeated either) and the
    // next experiment's first trial: that one is held too.
    let mut lab = FaultyLab::new();
    let make_ups = 2 * MAKE_UP_PAIRS as usize;
    lab.faults = (11..=12 + make_ups + 1).map(|n| (n, storm)).collect();
    let (measurements, _) = run_experiments(&mut lab, &experiments, &profile, method());
    let fanout: Vec<&Measurement> = measurements.iter().filter(|m| m.experiment == "E-io-fanout").collect();
    assert_eq!(fanout.len(), 12 + 1 + make_ups, "{:?}", fanout.iter().map(|m| &m.id).collect::<Vec<_>>());
    let cpu: Vec<&Measurement> = measurements.iter().filter(|m| m.experiment == "E-cpu").collect();
    assert!(!cpu[0].valid && !cpu[0].id.ends_with("/repeat"), "{:?}", cpu[0]);
    assert!(cpu[0].invalid_reasons.iter().any(|r| r.contains(STORM_HELD)), "{:?}", cpu[0].invalid_reasons);
    assert!(cpu[1].valid && !cpu[1].id.ends_with("/repeat"), "{:?}", cpu[1]);

    // The run's results count both kinds in one warning; with none left for the budget, it does
    // not send the user to another profile.
    let held = measurements.iter().filter(|m| m.invalid_reasons.iter().any(|r| r.contains(STORM_HELD))).count();
    assert_eq!(held, make_ups + 1);
    let claims = load_claims(&root().join("fixtures/claims.toml")).unwrap();
    let results = assemble(header(&node_and_python()), measurements, &experiments, &claims);
    let warning = results.warnings.iter().find(|w| w.contains("not measured again")).expect("a warning");
    let counts = format!("{held} of them waited for a trial to come out valid after a repeat was spoiled too, 0 for");
    assert!(warning.contains(&counts), "{warning}");
    assert!(warning.ends_with("run again on a quieter machine"), "{warning}");
}

#[test]
fn once_the_rest_of_the_plan_no_longer_fits_the_budget_a_spoiled_trial_is_not_repeated_nor_a_pair_made_up() {
    // Quick's knobs with a budget that E-io-fanout's plan fits, but not with every trial repeated.
    let quick = Profile::named("quick").unwrap();
    let experiments = named(&quick, &["E-io-fanout"]);
    let budget = Duration::from_secs(30);
    let profile = Profile { time_budget: Some(budget), ..quick };
    let mut lab = FaultyLab::new();
    // Every other measurement spoiled by the machine, so that each repeat comes out valid (a
    // repeat spoiled too would hold the repeats after it: see the storm test), and each takes
    // 1.5 s: the repeats soon leave too little of the budget for the rest of the plan.
    lab.faults = (0..100).step_by(2).map(|n| (n, "generator side 99% busy")).collect();
    lab.time_per_measure = Some(Duration::from_millis(1500));
    let (measurements, notes) = run_experiments(&mut lab, &experiments, &profile, method());
    let originals: Vec<&Measurement> = measurements.iter().filter(|m| !m.id.ends_with("/repeat")).collect();
    let repeats = measurements.len() - originals.len();
    let spoiled = originals.iter().filter(|m| !m.valid).count();
    // Every planned trial ran; the budget stopped the repeats part-way and every make-up pair.
    assert_eq!(originals.len(), 12, "{:?}", measurements.iter().map(|m| &m.id).collect::<Vec<_>>());
    assert!(originals.iter().all(|m| m.trial <= 6), "no make-up pair");
    assert!(repeats > 0 && repeats < spoiled, "{repeats} repeats of {spoiled} spoiled trials");
    let unrepeated: Vec<&&Measurement> =
        originals.iter().filter(|m| m.invalid_reasons.iter().any(|r| r.starts_with(NOT_REPEATED))).collect();
    assert_eq!(unrepeated.len(), spoiled - repeats, "each spoiled trial is either repeated or says why not");
    let reason = unrepeated[0].invalid_reasons.iter().find(|r| r.starts_with(NOT_REPEATED)).unwrap();
    assert!(
        reason.contains("the profile's 30 s budget had") && reason.contains("the rest of the plan takes"),
        "{reason}"
    );
    assert!(notes.iter().any(|n| n.contains("no make-up pair: the profile's 30 s budget")), "{notes:?}");
    assert!(!notes.iter().any(|n| n.contains("making up pair")), "{notes:?}");
    // The run ended within its budget and the 12 planned trials' own time.
    assert!(lab.now <= budget + Duration::from_millis(1500) * 12, "{:?}", lab.now);
    // The run's results say so once, with the count and the first trial left unrepeated.
    let claims = load_claims(&root().join("fixtures/claims.toml")).unwrap();
    let results = assemble(header(&node_and_python()), measurements.clone(), &experiments, &claims);
    let warning = results.warnings.iter().find(|w| w.contains("not measured again")).expect("a warning");
    let head = format!("{} invalid trial(s) were not measured again, from {} on:", unrepeated.len(), unrepeated[0].id);
    assert!(warning.starts_with(&head), "{warning}");
    assert!(warning.ends_with("or with --profile standard, which has no time budget"), "{warning}");

    // The same faults where the budget holds every repeat: each spoiled trial is repeated.
    let mut lab = FaultyLab::new();
    lab.faults = (0..100).step_by(2).map(|n| (n, "generator side 99% busy")).collect();
    lab.time_per_measure = Some(Duration::from_millis(100));
    let (measurements, _) = run_experiments(&mut lab, &experiments, &profile, method());
    assert_eq!(measurements.len(), 24, "12 trials, each spoiled and repeated clean");
    assert!(measurements.iter().filter(|m| m.id.ends_with("/repeat")).all(|m| m.valid));
    let results = assemble(header(&node_and_python()), measurements, &experiments, &claims);
    assert!(!results.warnings.iter().any(|w| w.contains("not measured again")), "{:?}", results.warnings);
}

#[test]
fn quick_runs_only_primary_units_with_enough_pairs_and_marks_the_rest_not_measured() {
    let profile = Profile::named("quick").unwrap();
    let claims = load_claims(&root().join("fixtures/claims.toml")).unwrap();
    let experiments = plan(catalogue(&profile), &claims, profile.primary_only);
    let options = RunOptions {
        stacks: stacks(),
        method: Method { primary_only: true, ..method() },
        not_implemented: Default::default(),
        extra: Default::default(),
    };
    let mut measurements = Vec::new();
    let mut sink = |m: &Measurement| measurements.push(m.clone());
    let mut progress = |_| {};
    let mut lab = lab();
    let mut runner =
        Runner { lab: &mut lab, profile: &profile, options: &options, sink: &mut sink, progress: &mut progress };
    runner.run(&experiments);
    let mut head = header(&node_and_python());
    head.method.primary_only = true;
    let results = assemble(head, measurements, &catalogue(&profile), &claims);
    let io = results.claims.iter().find(|c| c.id == "io-throughput").unwrap();
    assert_eq!(io.verdict.outcome, Outcome::Supported, "{:?}", io.verdict);
    let estimate = io.verdict.estimate.as_ref().unwrap();
    assert_eq!(estimate.pairs, 6);
    assert!(estimate.confidence.is_some_and(|l| l >= 0.95), "{estimate:?}");
    assert!(io.sub_verdicts[0].primary && io.sub_verdicts[1..].iter().all(|v| !v.primary));
    // The scripted lab ignores the 500 req/s cap of 10 connections on a 20 ms upstream, so the
    // negative control fails, as it would for a harness that broke the cap, and says so run-wide.
    let control = io.sub_verdicts.iter().find(|v| v.label.starts_with("negative control")).unwrap();
    assert_eq!(control.verdict.outcome, Outcome::Refuted, "{:?}", control.verdict);
    assert!(control.verdict.reason.contains("harness problem"), "{}", control.verdict.reason);
    assert!(
        results.warnings.iter().any(|w| w.starts_with("negative control failed (io-throughput")),
        "{:?}",
        results.warnings
    );
    let slo = io.sub_verdicts.iter().find(|v| v.verdict.reason.contains("'slo'")).unwrap();
    assert_eq!(slo.verdict.outcome, Outcome::NotMeasured, "{:?}", slo.verdict);
    assert!(slo.verdict.reason.starts_with("not measured in this profile"), "{}", slo.verdict.reason);
    for claim in results.claims.iter().filter(|c| c.verdict.outcome != Outcome::NotMeasured) {
        let pairs = claim.verdict.estimate.as_ref().map(|e| e.pairs);
        assert!(pairs.is_some_and(|p| p >= 6), "{}: {pairs:?}", claim.id);
    }
}

#[test]
fn the_planned_estimates_fit_the_profiles_budgets() {
    let claims = load_claims(&root().join("fixtures/claims.toml")).unwrap();
    let mut printed = Vec::new();
    for (name, limit) in [("quick", 270), ("standard", 45 * 60), ("nightly", 45 * 60)] {
        let profile = Profile::named(name).unwrap();
        let experiments = plan(catalogue(&profile), &claims, profile.primary_only);
        // The profile's pairs, as `claimbench run` plans them: the further pairs' stacks on the
        // primary evidences' units only.
        let further: Vec<String> =
            profile.pairs.iter().skip(1).flat_map(|p| p.split(':').map(String::from).collect::<Vec<_>>()).collect();
        let units = plan(experiments.clone(), &claims, true)
            .into_iter()
            .map(|e| (e.id, e.units.into_iter().map(|u| u.label).collect()))
            .collect();
        let plan_of = |extra: claimbench_suite::ExtraStacks| {
            let options = RunOptions { stacks: stacks(), method: method(), not_implemented: Default::default(), extra };
            let mut lab = lab();
            let (mut sink, mut progress) = (|_: &Measurement| {}, |_| {});
            let runner = Runner {
                lab: &mut lab,
                profile: &profile,
                options: &options,
                sink: &mut sink,
                progress: &mut progress,
            };
            let each: Vec<String> = experiments
                .iter()
                .map(|e| format!("{} {:.0} s", e.id, runner.estimate(std::slice::from_ref(e)).as_secs_f64()))
                .collect();
            (runner.trial_count(&experiments), runner.estimate(&experiments), each)
        };
        let (trials, first, each) = plan_of(Default::default());
        let further_pairs = (profile.pairs.len() - 1) as u32;
        let extra = claimbench_suite::ExtraStacks { stacks: further, units, not_implemented: Default::default() };
        let (all_trials, all, _) = plan_of(extra);
        printed.push(format!(
            "{name}: first pair {trials} trials, about {:.0} s ({}); with its {} pair(s) {all_trials} trials, about {:.0} s",
            first.as_secs_f64(),
            each.join(", "),
            profile.pairs.len(),
            all.as_secs_f64()
        ));
        // The whole plan, every pair, keeps the profile's budget (standard's is only printed).
        if name != "standard" {
            assert!(all < Duration::from_secs(limit), "{name}: {all:?} over {limit} s\n{}", printed.join("\n"));
        }
        // A further pair runs the primary units only: it costs less than the first pair.
        if further_pairs > 0 {
            assert!(all - first < (first * further_pairs), "{name}: {all:?} with the further pairs, {first:?} without");
        }
    }
    eprintln!("{}", printed.join("\n"));
}

#[test]
fn an_experiment_a_stack_does_not_implement_is_skipped_and_its_claim_says_so() {
    let profile = Profile::named("quick").unwrap();
    let experiments: Vec<_> =
        catalogue(&profile).into_iter().filter(|e| ["E-io", "E-coldstart"].contains(&e.id.as_str())).collect();
    // As if /io/* were a group only express implemented.
    let group_of = |_: &str, path: &str| Some(if path.starts_with("/io/") { "streams" } else { "http" }.to_string());
    let implements = |stack: &str, group: &str| group == "http" || stack == "express";
    let not_implemented: std::collections::BTreeMap<String, String> = experiments
        .iter()
        .filter_map(|e| {
            claimbench_suite::runner::not_implemented(e, &stacks(), &group_of, &implements)
                .map(|why| (e.id.clone(), why))
        })
        .collect();
    assert_eq!(not_implemented.keys().collect::<Vec<_>>(), vec!["E-io"], "cold starts need no group");
    assert!(not_implemented["E-io"].contains("fastapi lacks the 'streams' endpoints"), "{not_implemented:?}");

    let options = RunOptions { stacks: stacks(), method: method(), not_implemented, extra: Default::default() };
    let (mut sunk, mut notes) = (Vec::new(), Vec::new());
    let mut sink = |m: &Measurement| sunk.push(m.clone());
    let mut progress = |p: Progress| {
        if let Progress::Note(n) = p {
            notes.push(n)
        }
    };
    let mut lab = lab();
    let mut runner =
        Runner { lab: &mut lab, profile: &profile, options: &options, sink: &mut sink, progress: &mut progress };
    let results = runner.run(&experiments);
    let io = results.iter().find(|e| e.id == "E-io").unwrap();
    assert!(io.measurements.is_empty(), "nothing was measured for a pair that cannot answer E-io");
    assert!(io.skipped_reason.as_deref().is_some_and(|r| r.starts_with("not implemented by this stack")));
    let cold = results.iter().find(|e| e.id == "E-coldstart").unwrap();
    assert!(!cold.measurements.is_empty(), "the other experiment still ran");
    assert!(notes.iter().any(|n| n.contains("E-io") && n.contains("not implemented")), "{notes:?}");

    let claims = load_claims(&root().join("fixtures/claims.toml")).unwrap();
    // The CLI records the reasons with the run's not-measurable experiments, as here.
    let mut run = header(&node_and_python());
    run.not_measurable.extend(options.not_implemented.clone());
    let assembled = assemble(run, sunk, &catalogue(&profile), &claims);
    let io_claim = assembled.claims.iter().find(|c| c.id == "io-throughput").unwrap();
    assert_eq!(io_claim.verdict.outcome, Outcome::NotMeasured);
    assert!(io_claim.verdict.reason.contains("not implemented by this stack"), "{:?}", io_claim.verdict);
    assert_eq!(io_claim.verdict.key_number, "not implemented by this stack");
    assert_eq!(assembled.claims.len(), claims.claims.len(), "the row is kept");
}

/// A `measure` call as logged: the offered rate, the request count, and the trial's length.
type MeasureCall = (f64, Option<u64>, Duration);

/// A scripted lab that logs every call the runner makes: `drain`, and `measure` with its load
/// and length (`log`); every `measure` call with its stack, connections, length and warm-up
/// (`calls`). With `stops`, it stops that stack's instance after that many of its `measure`
/// calls, so that the next `ensure` starts it afresh (an app restarted mid-experiment).
struct Recording {
    inner: ScriptedLab,
    log: Vec<(String, Option<MeasureCall>)>,
    calls: Vec<LoggedCall>,
    stops: Option<(&'static str, usize)>,
}

impl Recording {
    fn new(inner: ScriptedLab) -> Recording {
        Recording { inner, log: Vec::new(), calls: Vec::new(), stops: None }
    }
}

impl Lab for Recording {
    fn retain(&mut self, keep: &[Instance]) {
        self.inner.retain(keep)
    }
    fn ensure(&mut self, instance: &Instance) -> Result<bool, LabFailure> {
        self.inner.ensure(instance)
    }
    fn restart(&mut self, instance: &Instance) {
        self.inner.restart(instance)
    }
    fn drain(&mut self, instance: &Instance) {
        self.log.push((format!("drain {}", instance.stack), None));
    }
    fn measure(&mut self, i: &Instance, l: &Load, t: Duration, w: Duration) -> Result<Measured, LabFailure> {
        let step = match l {
            Load::Open { rate, poisson_seed, .. } => Some((*rate, *poisson_seed, t)),
            _ => None,
        };
        self.log.push((format!("measure {}", i.stack), step));
        self.calls.push((i.stack.clone(), l.connections(), t, w));
        let measured = self.inner.measure(i, l, t, w);
        if let Some((stack, after)) = self.stops {
            if i.stack == stack && self.calls.iter().filter(|c| c.0 == stack).count() == after {
                self.inner.restart(i);
            }
        }
        measured
    }
    fn cold_start(&mut self, stack: &str, minimal: bool) -> Result<Measured, LabFailure> {
        self.inner.cold_start(stack, minimal)
    }
    fn canary_ms(&mut self) -> Option<f64> {
        Some(1.0)
    }
    fn interrupted(&self) -> bool {
        false
    }
}

/// A scripted lab whose express serves 1,300 req/s of `/io/upstream` and fastapi 800.
fn capacities_1300_and_800() -> ScriptedLab {
    use claimbench_suite::scripted::StackScript;
    let script = |rate| StackScript { rate, p50_ms: 2.0, cold_start_ms: 100.0, wobbles_rate: false };
    ScriptedLab::new(template()).stack("express", script(1300.0)).stack("fastapi", script(800.0))
}

/// Runs E-io's SLO search alone, at `profile`, on `lab`.
fn run_slo_search(lab: &mut dyn Lab, profile: &Profile) -> Vec<Measurement> {
    run_one_unit(lab, profile, "E-io", "slo").0
}

/// Runs one unit of one experiment alone, at `profile`, on `lab`: its measurements and the
/// progress notes.
fn run_one_unit(
    lab: &mut dyn Lab,
    profile: &Profile,
    experiment: &str,
    label: &str,
) -> (Vec<Measurement>, Vec<String>) {
    let experiments: Vec<_> = catalogue(profile)
        .into_iter()
        .filter(|e| e.id == experiment)
        .map(|mut e| {
            e.units.retain(|u| u.label == label);
            e
        })
        .collect();
    assert!(experiments.iter().any(|e| !e.units.is_empty()), "{experiment} has no unit {label} in {}", profile.name);
    let options = RunOptions {
        stacks: stacks(),
        method: method(),
        not_implemented: Default::default(),
        extra: Default::default(),
    };
    let (mut measurements, mut notes) = (Vec::new(), Vec::new());
    let mut sink = |m: &Measurement| measurements.push(m.clone());
    let mut progress = |p: Progress| {
        if let Progress::Note(n) = p {
            notes.push(n)
        }
    };
    Runner { lab, profile, options: &options, sink: &mut sink, progress: &mut progress }.run(&experiments);
    (measurements, notes)
}

/// The verdict of `claim`'s evidence whose label starts with `label`, from `measurements` of a
/// run at `profile` judged against the claims file.
fn evidence_verdict(measurements: Vec<Measurement>, profile: &Profile, claim: &str, label: &str) -> Verdict {
    let claims = load_claims(&root().join("fixtures/claims.toml")).unwrap();
    let results = assemble(header(&node_and_python()), measurements, &catalogue(profile), &claims);
    let claim = results.claims.into_iter().find(|c| c.id == claim).unwrap();
    claim.sub_verdicts.into_iter().find(|v| v.label.starts_with(label)).unwrap().verdict
}

/// Every measured step of a search came right after a drain of the app.
fn assert_each_step_was_drained_first(log: &[(String, Option<MeasureCall>)]) {
    for pair in log.windows(2).filter(|w| w[1].0.starts_with("measure")) {
        assert!(pair[0].0.starts_with("drain"), "a step started without a drain: {pair:?}");
    }
}

#[test]
fn the_room_search_bisects_the_members_to_each_stack_s_own_room_and_gives_real_time_its_score() {
    use claimbench_model::run::Scalar;
    use claimbench_suite::experiments::{ROOM_RATE, ROOM_SEARCH_CEILING, ROOM_SEARCH_LABEL, ROOM_TRIAL};
    use claimbench_suite::scripted::StackScript;
    // The scripted lab holds a room of up to its rate in members: 1,300 and 800.
    let mut lab = Recording::new(capacities_1300_and_800());
    let profile = Profile::named("standard").unwrap();
    let (measurements, _) = run_one_unit(&mut lab, &profile, "E-broadcast", ROOM_SEARCH_LABEL);
    assert_eq!(measurements.len(), 2 * profile.reps as usize);
    for m in &measurements {
        assert!(m.valid, "{m:?}");
        let room = if m.stack == "express" { 1300.0 } else { 800.0 };
        let found = m.scalars[&Scalar::RoomMaxMembers];
        assert!(found <= room && found >= room / 1.10, "{}: {found} members for a room of {room}", m.id);
        assert!(!m.scalars.contains_key(&Scalar::SloMaxRate), "a room search is not a rate search");
        // The measurement is the largest room held, at the room's message rate; no memory per
        // member is read off an app that earlier, larger rooms have grown.
        assert_eq!(m.offered_rate, Some(ROOM_RATE));
        assert!(!m.scalars.contains_key(&Scalar::RssPerConnectionBytes), "{:?}", m.scalars);
        let steps = &m.load.as_ref().unwrap().steps;
        assert!(steps.len() >= 4, "{steps:?}");
        for s in steps {
            let members = s.members.expect("every step of a room search names its members");
            assert_eq!(s.target_rate, ROOM_RATE * members as f64, "deliveries offered");
        }
        assert!(steps.windows(2).all(|w| w[0].members < w[1].members), "{steps:?}");
    }
    // Every step is the same message rate over its own room, for the fixed room's length.
    let steps: Vec<(f64, Option<u64>, Duration)> = lab.log.iter().filter_map(|(_, s)| *s).collect();
    assert!(steps.iter().all(|(rate, seed, length)| *rate == ROOM_RATE && seed.is_some() && *length == ROOM_TRIAL));
    assert_each_step_was_drained_first(&lab.log);

    // The score decides real-time's evidence, by the rooms' own ratio.
    let score_of = |measurements| evidence_verdict(measurements, &profile, "real-time", "largest /ws/room");
    let score = score_of(measurements);
    let estimate = score.estimate.as_ref().unwrap();
    assert!((estimate.ratio_median - 1300.0 / 800.0).abs() < 0.15, "{estimate:?}");
    assert_eq!(score.outcome, Outcome::Supported, "{score:?}");

    // A stack that holds more than the generator can offer is held at the ceiling, and the run
    // says that it may hold more; nightly does not run the search at all.
    let big = |rate| StackScript { rate, p50_ms: 2.0, cold_start_ms: 100.0, wobbles_rate: false };
    let mut lab = ScriptedLab::new(template()).stack("express", big(9000.0)).stack("fastapi", big(800.0));
    let (measurements, notes) = run_one_unit(&mut lab, &profile, "E-broadcast", ROOM_SEARCH_LABEL);
    let express: Vec<f64> =
        measurements.iter().filter(|m| m.stack == "express").map(|m| m.scalars[&Scalar::RoomMaxMembers]).collect();
    assert!(express.iter().all(|n| *n == f64::from(ROOM_SEARCH_CEILING)), "{express:?}");
    assert!(notes.iter().any(|n| n.contains("the ceiling of 3000 members")), "{notes:?}");
    assert!(measurements.iter().all(|m| m.scalars[&Scalar::SearchCeilingHeld] == f64::from(m.stack == "express")));

    // A capped answer is a lower bound. Express's cap can only widen its lead, so the verdict
    // stands and says why; with both sides capped the ratio of 1 is the harness's, not theirs.
    let trials = profile.reps;
    let one_capped = score_of(measurements);
    assert_eq!(one_capped.outcome, Outcome::Supported, "{one_capped:?}");
    assert!(
        one_capped.reason.contains(&format!("held its ceiling (the load generator's own limit, so the stack may hold more) for express in {trials} of {trials} trials, which cannot change the verdict")),
        "{}",
        one_capped.reason
    );
    let mut lab = ScriptedLab::new(template()).stack("express", big(9000.0)).stack("fastapi", big(9000.0));
    let both_capped = score_of(run_one_unit(&mut lab, &profile, "E-broadcast", ROOM_SEARCH_LABEL).0);
    assert_eq!(both_capped.estimate.as_ref().unwrap().ratio_median, 1.0);
    assert_eq!(both_capped.outcome, Outcome::Inconclusive, "{both_capped:?}");
    assert!(
        both_capped.reason.contains(&format!("express in {trials} of {trials} trials and fastapi in {trials} of {trials} trials, and the verdict turns on how far beyond it")),
        "{}",
        both_capped.reason
    );
    // The other side capped: fastapi may hold more than 3,000, which only deepens the refutation.
    let mut lab = ScriptedLab::new(template()).stack("express", big(800.0)).stack("fastapi", big(9000.0));
    let den_capped = score_of(run_one_unit(&mut lab, &profile, "E-broadcast", ROOM_SEARCH_LABEL).0);
    assert_eq!(den_capped.outcome, Outcome::Refuted, "{den_capped:?}");
    assert!(den_capped.reason.contains("which cannot change the verdict"), "{}", den_capped.reason);
    let nightly = catalogue(&Profile::named("nightly").unwrap());
    let broadcast = nightly.iter().find(|e| e.id == "E-broadcast").unwrap();
    assert!(broadcast.units.iter().all(|u| u.label != ROOM_SEARCH_LABEL));
}

#[test]
fn the_slo_search_bisects_to_each_stack_s_own_saturation_point_with_drained_poisson_steps() {
    use claimbench_model::run::Scalar;
    let mut lab = Recording::new(capacities_1300_and_800());
    let profile = Profile::named("standard").unwrap();
    let measurements = run_slo_search(&mut lab, &profile);

    assert_eq!(measurements.len(), 2 * profile.reps as usize);
    for m in &measurements {
        assert!(m.valid, "{m:?}");
        let capacity = if m.stack == "express" { 1300.0 } else { 800.0 };
        let found = m.scalars[&Scalar::SloMaxRate];
        assert!(found <= capacity && found >= capacity / 1.05, "{}: {found} for a capacity of {capacity}", m.id);
        assert_eq!(m.offered_rate, Some(found), "the measurement is the highest step held");
        let steps = &m.load.as_ref().unwrap().steps;
        assert!(steps.len() >= 4 && steps.windows(2).all(|w| w[0].target_rate < w[1].target_rate), "{steps:?}");
    }
    // Every step is a Poisson run of its own, with its own seed, long enough for 1,000 samples,
    // and each starts on a drained app.
    let steps: Vec<(f64, Option<u64>, Duration)> = lab.log.iter().filter_map(|(_, s)| *s).collect();
    assert!(steps.len() >= 8 * measurements.len() / 2, "{}", steps.len());
    for (rate, seed, length) in &steps {
        assert!(seed.is_some(), "Poisson arrivals");
        assert!(rate * length.as_secs_f64() >= 1000.0, "{rate} req/s for {length:?}");
    }
    let mut seeds: Vec<u64> = steps.iter().filter_map(|s| s.1).collect();
    seeds.sort_unstable();
    seeds.dedup();
    assert_eq!(seeds.len(), steps.len(), "no two steps share a seed");
    assert_each_step_was_drained_first(&lab.log);

    // Different capacities give different answers, and the ratio is theirs, not a grid's.
    let slo = evidence_verdict(measurements, &profile, "io-throughput", "highest open-loop rate");
    let estimate = slo.estimate.as_ref().unwrap();
    assert!((estimate.ratio_median - 1300.0 / 800.0).abs() < 0.1, "{estimate:?}");
    assert_eq!(slo.outcome, Outcome::Supported, "{slo:?}");
}

#[test]
fn an_slo_search_step_that_sent_late_by_little_beside_the_slo_is_judged_and_one_by_more_is_spoiled() {
    use claimbench_model::run::Scalar;
    let profile = Profile::named("standard").unwrap();
    let search = |lag_ms: f64| {
        let mut lab = FaultyLab::new();
        lab.inner = capacities_1300_and_800();
        (lab.sends_late, lab.lag_ms) = (Some(0.99), lag_ms);
        run_slo_search(&mut lab, &profile)
    };
    // 1.4 ms of lag beside a 100 ms SLO (the 1 ms rule alone would spoil every step): judged.
    let small = search(1.4);
    assert!(!small.is_empty() && small.iter().all(|m| m.valid), "{:?}", small.iter().find(|m| !m.valid));
    for m in &small {
        let capacity = if m.stack == "express" { 1300.0 } else { 800.0 };
        let found = m.scalars[&Scalar::SloMaxRate];
        assert!(found <= capacity && found >= capacity / 1.05, "{}: {found} for {capacity}", m.id);
    }
    // 6 ms is more than 5% of the SLO: the step is the generator's, and the search is invalid.
    let large = search(6.0);
    assert!(large.iter().all(|m| !m.valid), "{:?}", large.iter().find(|m| m.valid));
    assert!(large[0].invalid_reasons.iter().any(|r| r.contains("send lag 6.00 ms")), "{:?}", large[0].invalid_reasons);
}

#[test]
fn a_spoiled_slo_step_is_measured_once_more_and_only_a_spoiled_repeat_ends_the_search() {
    use claimbench_model::run::Scalar;
    let profile = Profile::named("standard").unwrap();
    let late = "15 of 1000 upstream answers (1.5%) left more than 5 ms after their delay";
    let search = |faults: Vec<(usize, &'static str)>| {
        let mut lab = FaultyLab::new();
        lab.inner = capacities_1300_and_800();
        lab.faults = faults;
        run_slo_search(&mut lab, &profile)
    };
    // The first search's third step meets a late upstream once: it is measured again, the
    // search finds express's capacity, and the step says what spoiled its first attempt.
    let once = search(vec![(2, late)]);
    let first = &once[0];
    assert!(first.valid && !first.id.ends_with("/repeat"), "{first:?}");
    let found = first.scalars[&Scalar::SloMaxRate];
    assert!((1300.0 / 1.05..=1300.0).contains(&found), "{found}");
    let steps = &first.load.as_ref().unwrap().steps;
    let repeated: Vec<&str> = steps.iter().filter_map(|s| s.first_attempt_spoiled.as_deref()).collect();
    assert_eq!(repeated, [late], "{steps:?}");
    assert_eq!(once.len(), 2 * profile.reps as usize, "no search was repeated whole");
    // Spoiled in its repeat too: the search ends invalid and says so; the trial is then
    // repeated whole, as any spoiled trial is.
    let twice = search(vec![(2, late), (3, late)]);
    assert!(!twice[0].valid, "{:?}", twice[0]);
    let reasons = twice[0].invalid_reasons.join("; ");
    assert!(reasons.contains("(again, in its repeat): 15 of 1000 upstream answers"), "{reasons}");
    assert!(twice[1].id.ends_with("/repeat") && twice[1].valid, "{:?}", twice[1]);
}

#[test]
fn a_wrong_answer_under_load_is_a_loss_for_its_stack_and_the_trial_stays_valid() {
    let profile = Profile::named("nightly").unwrap();
    let claims = load_claims(&root().join("fixtures/claims.toml")).unwrap();
    // Express is 1.5x faster, but one sampled response in a thousand differs from the contract's
    // body: far under the 1% error budget, and still a loss.
    let mut lab = FaultyLab::new();
    lab.inner = ScriptedLab::express_vs_fastapi(template());
    lab.failing = Some(("express", "body_mismatch", 0.001));
    let (measurements, _) = run_profile(&mut lab, &["E-io-fanout"], &profile);
    assert!(measurements.iter().all(|m| m.valid), "a wrong answer does not make a trial invalid");
    let wrong: Vec<&Measurement> = measurements.iter().filter(|m| !m.wrong_answers.is_empty()).collect();
    assert!(!wrong.is_empty() && wrong.iter().all(|m| m.stack == "express"), "{wrong:?}");
    assert!(wrong[0].wrong_answers[0].contains("contract's expected"), "{:?}", wrong[0].wrong_answers);
    let results = assemble(header(&node_and_python()), measurements, &catalogue(&profile), &claims);
    let io = results.claims.iter().find(|c| c.id == "io-throughput").unwrap();
    let fanout = io.sub_verdicts.iter().find(|v| v.label.contains("fanout=8")).unwrap();
    assert_eq!(fanout.verdict.outcome, Outcome::Refuted, "express answered wrongly: {:?}", fanout.verdict);
    assert!(fanout.verdict.key_number.contains("express wrong answers under load"), "{:?}", fanout.verdict);
}

#[test]
fn further_pairs_take_turns_on_the_primary_units_only_and_each_pair_is_judged_on_its_own_stacks() {
    use claimbench_model::run::PairResults;
    use claimbench_model::stack::Runtime;
    use claimbench_suite::scripted::StackScript;
    use claimbench_suite::ExtraStacks;

    let profile = Profile::named("standard").unwrap();
    let claims = load_claims(&root().join("fixtures/claims.toml")).unwrap();
    let experiments: Vec<_> =
        catalogue(&profile).into_iter().filter(|e| ["E-io", "E-coldstart"].contains(&e.id.as_str())).collect();
    let primary: std::collections::BTreeMap<String, Vec<String>> = plan(experiments.clone(), &claims, true)
        .into_iter()
        .map(|e| (e.id, e.units.into_iter().map(|u| u.label).collect()))
        .collect();
    // node-http twice express's rate, starlette a tenth above fastapi's; starlette cannot answer
    // E-coldstart (as if it lacked a group the experiment needs).
    let script = |rate, cold_start_ms| StackScript { rate, p50_ms: 2.0, cold_start_ms, wobbles_rate: false };
    let mut lab = ScriptedLab::express_vs_fastapi(template())
        .stack("node-http", script(3000.0, 80.0))
        .stack("starlette", script(1100.0, 700.0));
    let skipped = "not implemented by this stack: starlette lacks the 'x' endpoints";
    let extra = ExtraStacks {
        stacks: vec!["node-http".into(), "starlette".into()],
        units: primary.clone(),
        not_implemented: [("E-coldstart".to_string(), "starlette".to_string())].into(),
    };
    let options = RunOptions { stacks: stacks(), method: method(), not_implemented: Default::default(), extra };
    let mut measurements = Vec::new();
    let (mut sink, mut progress) = (|m: &Measurement| measurements.push(m.clone()), |_| {});
    Runner { lab: &mut lab, profile: &profile, options: &options, sink: &mut sink, progress: &mut progress }
        .run(&experiments);

    let labels = |stack: &str, experiment: &str| -> std::collections::BTreeSet<String> {
        measurements
            .iter()
            .filter(|m| m.stack == stack && m.experiment == experiment)
            .map(|m| m.label.clone())
            .collect()
    };
    let all_io: std::collections::BTreeSet<String> =
        experiments.iter().find(|e| e.id == "E-io").unwrap().units.iter().map(|u| u.label.clone()).collect();
    let primary_io: std::collections::BTreeSet<String> = primary["E-io"].iter().cloned().collect();
    assert!(primary_io.len() < all_io.len(), "standard's E-io has exploratory units too");
    assert_eq!(labels("express", "E-io"), all_io, "the first pair runs every unit");
    assert_eq!(labels("node-http", "E-io"), primary_io, "a further pair runs the primary units only");
    assert_eq!(labels("starlette", "E-io"), primary_io);
    assert!(!labels("node-http", "E-coldstart").is_empty());
    assert!(labels("starlette", "E-coldstart").is_empty(), "never on an experiment the stack cannot answer");
    // Within one trial of a primary unit the four stacks take turns, forward then backward.
    let unit = primary["E-io"][0].clone();
    let turns: Vec<&str> = measurements
        .iter()
        .filter(|m| m.experiment == "E-io" && m.label == unit && m.trial <= 2 && m.valid)
        .map(|m| m.stack.as_str())
        .collect();
    assert_eq!(turns, ["express", "fastapi", "node-http", "starlette", "starlette", "node-http", "fastapi", "express"]);

    let four = [
        ("express", Runtime::Node),
        ("fastapi", Runtime::Python),
        ("node-http", Runtime::Node),
        ("starlette", Runtime::Python),
    ];
    let mut run = header(&four);
    let pair = |node: &str, python: &str, primary_only| PairResults {
        node: node.into(),
        python: python.into(),
        primary_only,
        not_implemented: Default::default(),
        claims: Vec::new(),
    };
    let mut floor = pair("node-http", "starlette", true);
    floor.not_implemented.insert("E-coldstart".into(), skipped.into());
    run.pairs = vec![pair("express", "fastapi", false), floor];
    let results = assemble(run, measurements, &catalogue(&profile), &claims);

    let claim =
        |claims: &[claimbench_model::run::ClaimResult], id: &str| claims.iter().find(|c| c.id == id).cloned().unwrap();
    assert!(results.claims.iter().all(|c| c.pair.as_deref() == Some("express:fastapi")), "every row names its pair");
    let floor = &results.pairs[1];
    assert_eq!(floor.claims.len(), results.claims.len(), "every claim has a row for every pair");
    assert!(floor.claims.iter().all(|c| c.pair.as_deref() == Some("node-http:starlette")));
    let io = claim(&floor.claims, "io-throughput");
    let estimate = io.verdict.estimate.clone().unwrap();
    assert_eq!((estimate.numerator.as_str(), estimate.denominator.as_str()), ("node-http", "starlette"));
    assert!((2.5..3.0).contains(&estimate.ratio_median), "3000 / 1100 req/s: {estimate:?}");
    assert_eq!(io.verdict.outcome, Outcome::Supported);
    // An exploratory evidence on units only the first pair ran: measured there, not on the floor.
    let first_io = claim(&results.claims, "io-throughput");
    let (floor_sub, first_sub) = io
        .sub_verdicts
        .iter()
        .zip(&first_io.sub_verdicts)
        .find(|(s, _)| s.verdict.reason.contains("not measured in this profile"))
        .unwrap_or_else(|| panic!("an exploratory evidence is left to the first pair: {:?}", io.sub_verdicts));
    assert!(!floor_sub.primary && first_sub.verdict.estimate.is_some(), "{first_sub:?}");
    let serverless = claim(&floor.claims, "serverless");
    assert_eq!(serverless.verdict.key_number, "not implemented by this stack", "{:?}", serverless.verdict);
    assert_eq!(claim(&results.claims, "serverless").verdict.outcome, Outcome::Supported, "the first pair ran it");

    // Within each runtime: each stack over the first pair's, on the same paired evidence.
    let spread = |stack: &str| {
        results.framework_spreads.iter().find(|s| s.claim == "io-throughput" && s.stack == stack).cloned().unwrap()
    };
    let node = spread("node-http").estimate.unwrap();
    assert_eq!((node.numerator.as_str(), node.denominator.as_str()), ("node-http", "express"));
    assert!((1.8..2.2).contains(&node.ratio_median), "3000 / 1500 req/s: {node:?}");
    let python = spread("starlette").estimate.unwrap();
    assert!((1.0..1.2).contains(&python.ratio_median), "1100 / 1000 req/s: {python:?}");
    let rule = |id: &str| results.runtime_verdicts.iter().find(|r| r.claim == id).cloned().unwrap();
    assert!(rule("io-throughput").holds, "{:?}", rule("io-throughput"));
    let serverless = rule("serverless");
    assert!(!serverless.holds && serverless.reason.contains("node-http:starlette"), "{serverless:?}");
}

/// One `measure` call as `Recording` logs it in `calls`: the stack, the load's connections, the trial's
/// length and its warm-up.
type LoggedCall = (String, u32, Duration, Duration);

/// Runs `experiments` at `profile` on a recording lab: its `measure` calls and the measurements
/// recorded.
fn run_priming(
    experiments: &[Experiment],
    profile: &Profile,
    stops: Option<(&'static str, usize)>,
) -> (Vec<LoggedCall>, usize) {
    let mut lab = Recording { stops, ..Recording::new(ScriptedLab::express_vs_fastapi(template())) };
    let recorded = run_experiments(&mut lab, experiments, profile, method()).0.len();
    (lab.calls, recorded)
}

/// E-io's fixed-load units at `profile` (its SLO search left out: a search is never primed).
fn fixed_io(profile: &Profile) -> Experiment {
    let mut io = catalogue(profile).into_iter().find(|e| e.id == "E-io").unwrap();
    io.units.retain(|u| !matches!(u.load, Load::SloSearch(_)));
    io
}

#[test]
fn each_unit_is_primed_unmeasured_on_each_app_before_its_first_trial_there() {
    let quick = Profile::named("quick").unwrap();
    let is_priming = |c: &LoggedCall| c.2 == quick.priming / PRIMING_ROUNDS && c.3.is_zero();
    let io = fixed_io(&quick);
    let (log, recorded) = run_priming(std::slice::from_ref(&io), &quick, None);
    let trials: usize = io.units.len() * 2 * quick.reps as usize;
    // Nothing of a priming load is recorded: the measurements are the planned trials.
    assert_eq!(recorded, trials);
    let rounds = PRIMING_ROUNDS as usize;
    assert_eq!(log.len(), trials + io.units.len() * 2 * rounds, "one priming per unit and stack: {log:?}");
    for stack in ["express", "fastapi"] {
        for unit in &io.units {
            let calls: Vec<&LoggedCall> =
                log.iter().filter(|c| c.0 == stack && c.1 == unit.load.connections()).collect();
            // The priming's loads come first, one after another.
            assert!(
                calls[..rounds].iter().all(|c| is_priming(c)),
                "{stack} {}: the first calls prime: {calls:?}",
                unit.label
            );
            assert_eq!(calls.iter().filter(|c| is_priming(c)).count(), rounds, "{stack} {}", unit.label);
            // Both stacks are primed before either's first trial, so each app rests between its
            // priming and its first trial as between its later trials.
            let first_trial = log.iter().position(|c| c.1 == unit.load.connections() && !is_priming(c)).unwrap();
            let primed_at: Vec<usize> = log
                .iter()
                .enumerate()
                .filter(|(_, c)| c.1 == unit.load.connections() && is_priming(c))
                .map(|(i, _)| i)
                .collect();
            assert!(
                primed_at.len() == 2 * rounds && primed_at.iter().all(|&i| i < first_trial),
                "{}: {log:?}",
                unit.label
            );
            // The measured trials are all alike: the unit's own trial and warm-up.
            let measured = (unit.trial(quick.trial), unit.warmup(quick.trial_warmup));
            assert!(calls[rounds..].iter().all(|c| (c.2, c.3) == measured), "{stack} {}: {calls:?}", unit.label);
        }
    }
}

#[test]
fn an_app_started_anew_mid_experiment_is_primed_again_before_its_next_trials() {
    let quick = Profile::named("quick").unwrap();
    let is_priming = |c: &LoggedCall| c.2 == quick.priming / PRIMING_ROUNDS && c.3.is_zero();
    // Express's app stops after its 20th call, in the middle of a unit's trials, so its next
    // `ensure` starts it afresh.
    let (log, _) = run_priming(&[fixed_io(&quick)], &quick, Some(("express", 20)));
    let express: Vec<&LoggedCall> = log.iter().filter(|c| c.0 == "express").collect();
    let (before, after) = express.split_at(20);
    assert!(is_priming(after[0]), "the first call after the restart primes: {:?}", after[0]);
    // The unit under way is primed a second time; every unit after the restart is primed before
    // its first trial there, and only once.
    let under_way = after[0].1;
    assert!(before.iter().any(|c| c.1 == under_way && !is_priming(c)), "{express:?}");
    let connections: BTreeSet<u32> = after.iter().map(|c| c.1).collect();
    for n in connections {
        let calls: Vec<&&LoggedCall> = after.iter().filter(|c| c.1 == n).collect();
        let rounds = PRIMING_ROUNDS as usize;
        assert!(calls[..rounds].iter().all(|c| is_priming(c)), "c={n}: {express:?}");
        assert_eq!(calls.iter().filter(|c| is_priming(c)).count(), rounds, "c={n}: {express:?}");
    }
    let fastapi_primings = log.iter().filter(|c| c.0 == "fastapi" && is_priming(c)).count();
    assert_eq!(fastapi_primings, 4 * PRIMING_ROUNDS as usize, "fastapi's app kept running: each unit primed once");
}

#[test]
fn fresh_apps_cold_starts_searches_and_a_profile_without_priming_are_never_primed() {
    let quick = Profile::named("quick").unwrap();
    // E-concurrency's units want a fresh app every block; E-coldstart spawns its own.
    let (log, recorded) = run_priming(&named(&quick, &["E-concurrency", "E-coldstart"]), &quick, None);
    assert!(recorded > 0);
    assert!(log.iter().all(|c| c.2 != quick.priming / PRIMING_ROUNDS), "{log:?}");
    // Smoke primes nothing, the room search included.
    let smoke = Profile::named("smoke").unwrap();
    assert!(smoke.priming.is_zero());
    let (log, recorded) = run_priming(&named(&smoke, &["E-io", "E-broadcast"]), &smoke, None);
    assert!(recorded > 0);
    assert!(log.iter().all(|c| !c.2.is_zero()), "{log:?}");
    // Standard's room search is not primed, its fixed room is.
    let standard = Profile::named("standard").unwrap();
    let (log, _) = run_priming(&named(&standard, &["E-broadcast"]), &standard, None);
    let primings: Vec<&LoggedCall> =
        log.iter().filter(|c| c.2 == standard.priming / PRIMING_ROUNDS && c.3.is_zero()).collect();
    assert_eq!(primings.len(), 2 * PRIMING_ROUNDS as usize, "the fixed room, once per stack: {primings:?}");
}
