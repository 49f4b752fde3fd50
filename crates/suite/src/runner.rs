//! Walks the plan: for every experiment, its units in an order shuffled from the run's seed, in
//! whole A B, B A blocks of trials, the units of an interleaved group trial by trial ([`schedule`]);
//! each trial bracketed by the speed canary; a trial a harness fault made invalid measured once
//! more in its place, and a block left short of complete pairs given up to [`MAKE_UP_PAIRS`] more,
//! both only while the rest of the plan still fits in the profile's time budget ([`Budget`]);
//! every finished measurement goes to the sink at once, so an interrupted run keeps everything
//! measured so far.
//!
//! Starting apps and applying load happen behind the [`Lab`] trait (the CLI's supervisor + engine,
//! or a mock in tests). Checking a measurement (saturated generator, canary drift, a dead app, an
//! interruption) and deriving its scalars happen here, identically for every lab. Failed requests
//! do not make a trial invalid: they are the app's doing and count against its stack when the
//! evidence is decided (`evaluate`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use claimbench_model::load::{ErrorClass, LoadResult, StepResult};
use claimbench_model::run::{ExperimentResult, Measurement, Method, Scalar, UpstreamLate};

use crate::experiments::{Experiment, Instance, Load, SearchAxis, SloSearch, Unit, BACKGROUND_LEAD};
use crate::profile::Profile;
use crate::slo;
use crate::stats::SplitMix64;

/// What a lab measured for one trial.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    /// The load result (for `Mixed`, the probe's); `None` for cold starts.
    pub load: Option<LoadResult>,
    /// App CPU seconds (user + system) during the trial.
    pub app_cpu_s: f64,
    /// Peak RSS of the app's process tree during the trial.
    pub app_peak_rss_bytes: u64,
    /// RSS just before the trial, for per-connection memory.
    pub app_rss_before_bytes: u64,
    /// A fresh instance's memory at rest (PSS where the kernel gives it, else RSS), taken once
    /// when it started, for memory per connection over it.
    pub app_memory_baseline_bytes: Option<u64>,
    /// The app's memory (the same kind) with the trial's connections open.
    pub app_memory_loaded_bytes: Option<u64>,
    /// Lab-specific numbers, e.g. `cold_start_ms`, `idle_rss_bytes`.
    pub scalars: BTreeMap<Scalar, f64>,
    /// Resolution of `app_cpu_s` in seconds, when the lab knows it.
    pub app_cpu_resolution_s: Option<f64>,
    /// Busy fraction of the generator-side CPUs during the measured window.
    pub generator_side_busy: Option<f64>,
    /// Fraction of the app's CPUs other processes used during the measured window.
    pub app_core_contention: Option<f64>,
    /// Fraction of the app's CPUs stolen by the hypervisor during the measured window.
    pub steal: Option<f64>,
    /// Late upstream answers during the measured window.
    pub upstream_late: Option<UpstreamLate>,
    /// Wrong answers the lab caught, worded for the user (upstream hits that do not match the
    /// successful calls); the runner adds sampled bodies that differed. Each makes the trial a
    /// loss for its stack, never invalid.
    pub wrong_answers: Vec<String>,
    /// Faults of the machine or the harness the lab saw (saturated generator side, contended app
    /// cores, a late upstream), worded for the user: each makes the trial invalid.
    pub machine_faults: Vec<String>,
}

/// Why a lab could not measure: the message, and the app's stderr tail when an app failed.
#[derive(Debug, Clone)]
pub struct LabFailure {
    pub message: String,
    pub stderr_tail: Option<String>,
}

/// What the runner needs from the outside world.
pub trait Lab {
    /// Stops every running instance not in `keep`.
    fn retain(&mut self, keep: &[Instance]);
    /// Makes sure `instance` is running, ready and warmed up (a no-op when it already is): true
    /// when it started the instance just now.
    fn ensure(&mut self, instance: &Instance) -> Result<bool, LabFailure>;
    /// Applies `load` to `instance` for `trial` after `warmup`.
    fn measure(
        &mut self,
        instance: &Instance,
        load: &Load,
        trial: Duration,
        warmup: Duration,
    ) -> Result<Measured, LabFailure>;
    /// Stops `instance` if it runs, so the next [`Lab::ensure`] starts it afresh (a unit that
    /// measures memory per connection on a fresh app). A no-op by default.
    fn restart(&mut self, _instance: &Instance) {}
    /// Waits until `instance` has finished whatever earlier load left it (requests the client
    /// gave up on), so the next step of an SLO search starts on an idle app. A no-op by default.
    fn drain(&mut self, _instance: &Instance) {}
    /// Spawns `stack` afresh, times it to the first 200, records idle RSS, stops it.
    fn cold_start(&mut self, stack: &str, minimal: bool) -> Result<Measured, LabFailure>;
    /// Runs the fixed speed canary on the app's core; milliseconds, `None` if unavailable.
    fn canary_ms(&mut self) -> Option<f64>;
    /// Waits, before an invalid trial is repeated, until the hypervisor no longer takes a share of
    /// the machine's CPUs (steal), up to a limit: how long it waited, or `None` when the machine
    /// was quiet at once. A no-op by default.
    fn settle(&mut self) -> Option<Duration> {
        None
    }
    /// Time since the command started, against the profile's `time_budget`; a lab without a
    /// clock (`None`, the default) never runs out of time.
    fn clock(&self) -> Option<Duration> {
        None
    }
    /// True once the user asked to stop.
    fn interrupted(&self) -> bool;
}

/// Events for progress bars.
#[derive(Debug, Clone)]
pub enum Progress {
    /// The plan: how many trials and roughly how long.
    Plan { trials: usize, estimate: Duration },
    /// A trial starts.
    Trial { index: usize, experiment: String, stack: String, label: String, trial: u32, length: Duration },
    /// Something the user should see, e.g. a failing app.
    Note(String),
}

/// Settings of a run that are not the profile's.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Stacks to measure, in A B order.
    pub stacks: Vec<String>,
    pub method: Method,
    /// Experiments a stack of the run cannot answer, by id, with the reason (which stack lacks
    /// which endpoint group; see [`not_implemented`]): skipped, and reported as such.
    pub not_implemented: BTreeMap<String, String>,
    /// The stacks of the run's further pairs, measured beside `stacks` on some units only.
    pub extra: ExtraStacks,
}

/// The stacks of a run's further pairs (`--pairs`, `--stacks all`; none by default): they are
/// measured only on `units` (the units of the claims' primary evidences), interleaved with the
/// first pair's stacks trial by trial, and never on an experiment they cannot answer.
#[derive(Debug, Clone, Default)]
pub struct ExtraStacks {
    /// In the order they take their turns after `RunOptions::stacks`.
    pub stacks: Vec<String>,
    /// Experiment id -> the labels of the units the extra stacks are measured on.
    pub units: BTreeMap<String, Vec<String>>,
    /// `(experiment, stack)`: the stack lacks an endpoint group the experiment needs.
    pub not_implemented: std::collections::BTreeSet<(String, String)>,
}

impl RunOptions {
    /// Every stack of the run: the first pair's, then the extra ones.
    pub fn all_stacks(&self) -> Vec<String> {
        let mut all = self.stacks.clone();
        all.extend(self.extra.stacks.iter().filter(|s| !self.stacks.contains(s)).cloned());
        all
    }

    /// The stacks `unit` of `experiment` is measured on, in turn order.
    pub fn stacks_of(&self, experiment: &Experiment, unit: &Unit) -> Vec<String> {
        let mut out = Vec::new();
        if !self.not_implemented.contains_key(&experiment.id) {
            out.extend(self.stacks.iter().cloned());
        }
        let chosen = self.extra.units.get(&experiment.id).is_some_and(|labels| labels.contains(&unit.label));
        if chosen {
            out.extend(
                self.extra
                    .stacks
                    .iter()
                    .filter(|s| !self.stacks.contains(s))
                    .filter(|s| !self.extra.not_implemented.contains(&(experiment.id.clone(), (*s).clone())))
                    .cloned(),
            );
        }
        out
    }

    /// The stacks `experiment` is measured on at all.
    fn stacks_of_experiment(&self, experiment: &Experiment) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for unit in &experiment.units {
            for stack in self.stacks_of(experiment, unit) {
                if !out.contains(&stack) {
                    out.push(stack);
                }
            }
        }
        out
    }
}

/// The reason `experiment` cannot compare `stacks`, if one of them lacks an endpoint group the
/// experiment's requests need. `group_of(method, path)` is the contract's group of a request;
/// `implements(stack, group)` is the registry's answer.
pub fn not_implemented(
    experiment: &Experiment,
    stacks: &[String],
    group_of: &dyn Fn(&str, &str) -> Option<String>,
    implements: &dyn Fn(&str, &str) -> bool,
) -> Option<String> {
    let mut needed: Vec<String> = Vec::new();
    for unit in &experiment.units {
        for request in unit.load.requests() {
            if let Some(group) = group_of(&request.method, &request.path) {
                if !needed.contains(&group) {
                    needed.push(group);
                }
            }
        }
    }
    let missing: Vec<String> = stacks
        .iter()
        .flat_map(|stack| {
            needed.iter().filter(|g| !implements(stack, g)).map(move |g| format!("{stack} lacks the '{g}' endpoints"))
        })
        .collect();
    (!missing.is_empty()).then(|| format!("not implemented by this stack: {}", missing.join(", ")))
}

/// Runs experiments through a lab.
pub struct Runner<'a> {
    pub lab: &'a mut dyn Lab,
    pub profile: &'a Profile,
    pub options: &'a RunOptions,
    pub sink: &'a mut dyn FnMut(&Measurement),
    pub progress: &'a mut dyn FnMut(Progress),
}

/// Time a trial costs beyond its warm-up and measured window: two canary readings, the engine's
/// set-up and tear-down. The quick profile of 178 trials (3 reps) took about 3.5 minutes on the
/// 2-core machine, which the measured windows, warm-ups and stack starts already account for.
const TRIAL_OVERHEAD: Duration = Duration::from_millis(50);
/// One cold start: spawn, first 200 on /health, 300 ms at rest for the idle RSS, stop. Measured
/// here (2026-12-02, quick): express 0.5-0.6 s and fastapi 3.0-3.5 s to the first 200.
const COLD_START_COST: Duration = Duration::from_millis(2300);
/// One cold start of a minimal handler module: express 0.3 s, fastapi 1.8-2.0 s to the first
/// 200 (2026-12-02, smoke).
const COLD_START_MINIMAL_COST: Duration = Duration::from_millis(1400);
/// Starting one app instance, before its warm-up load: spawn, readiness, the verify request.
const INSTANCE_START_COST: Duration = Duration::from_millis(1500);

/// Steps a typical SLO search takes: three or four to bracket the saturation point from 1,000
/// req/s, and four or five to bisect the bracket to 5%.
const TYPICAL_SEARCH_STEPS: u32 = 8;
/// Steps a typical room search takes from 1,500 members: two up to the 3,000 ceiling for a stack
/// that holds it, up to five to bracket and bisect to 10% for one that does not. Measured in a
/// standard run on 2026-12-07: Express 2 steps in all 12 searches, FastAPI 2 to 5 (22 searches in
/// 156 s).
const TYPICAL_ROOM_STEPS: u32 = 3;
/// What one WebSocket connection costs to open before a trial: 1,000 upgrades took 0.5-1 s here
/// (2026-12-01), FastAPI's the slower.
const WS_JOIN_COST: Duration = Duration::from_micros(700);
/// The warm-up of one SLO search step: its connections are open before it starts, so this only
/// brings the app to the step's rate.
const SEARCH_STEP_WARMUP: Duration = Duration::from_millis(200);

/// What opening `load`'s WebSocket connections costs before it starts (nothing for HTTP).
fn joins(load: &Load) -> Duration {
    if load.requests().iter().any(|r| r.websocket.is_some()) {
        WS_JOIN_COST * load.connections()
    } else {
        Duration::ZERO
    }
}

/// The loads a priming is split into, each of its own connections, opened and closed: a trial
/// opens its connections afresh, and one load did not warm that path. With one 400 ms room of
/// 1,000 members as the priming, Express's first fan-out trial had a p99 of 7.8-11.9 ms in five
/// quick runs of `--claims real-time` of five, against 4.4-6.3 ms in its later trials, so the
/// first pair leaned against Express in every run (ratio 1.16-1.84, the rest 0.41-1.05); with
/// two such rooms, 4.7-5.0 ms in three runs of three. With quick's 400 ms split into two rooms of
/// 200 ms, three whole quick runs had all 18 fan-out pairs at 0.62-0.84 (2026-12-08).
pub const PRIMING_ROUNDS: u32 = 2;

/// Whether `unit` is primed under `profile` before its first trial on an instance: a load of
/// fixed shape on an app kept running (not a search, whose steps warm up on their own; not a
/// cold start; not a unit that wants a fresh app).
fn primes(profile: &Profile, unit: &Unit) -> bool {
    !profile.priming.is_zero()
        && !unit.fresh
        && unit.load.cold_start().is_none()
        && !matches!(unit.load, Load::SloSearch(_))
}

/// The units of one experiment primed on each instance since it started, by label.
type Primed = BTreeSet<(String, Instance)>;

/// One step of a run's schedule: a trial of `unit` on `stack`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Index of the unit within its experiment.
    pub unit: usize,
    pub stack: String,
    /// The trial number, from 1; trial k of one stack pairs with trial k of the other, and with
    /// trial k of the other units of an interleaved group.
    pub trial: u32,
}

/// FNV-1a of an experiment id, so each experiment's shuffle depends on the seed and on it alone
/// (not on which experiments ran before it).
fn id_hash(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// Shuffles `items` in place (Fisher-Yates).
fn shuffle<T>(items: &mut [T], rng: &mut SplitMix64) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i + 1));
    }
}

/// The blocks of one experiment, in run order: an interleaved group (see
/// [`Experiment::interleave`]) is one block, any other unit a block of its own; the blocks, and
/// the units within a group, are shuffled from `seed`.
pub fn blocks(experiment: &Experiment, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = SplitMix64::new(seed ^ id_hash(&experiment.id));
    let index_of = |label: &String| experiment.units.iter().position(|u| &u.label == label);
    let mut grouped = vec![false; experiment.units.len()];
    let mut blocks: Vec<Vec<usize>> = Vec::new();
    for group in &experiment.interleave {
        let block: Vec<usize> = group.iter().filter_map(index_of).filter(|&i| !grouped[i]).collect();
        for &i in &block {
            grouped[i] = true;
        }
        if !block.is_empty() {
            blocks.push(block);
        }
    }
    blocks.extend((0..experiment.units.len()).filter(|&i| !grouped[i]).map(|i| vec![i]));
    shuffle(&mut blocks, &mut rng);
    for block in &mut blocks {
        shuffle(block, &mut rng);
    }
    blocks
}

/// The steps of `block` for the trial numbers `trials`: trial k of every stack and unit runs
/// before trial k+1; odd trials go A B with the units forward, even trials B A with the units
/// reversed, so each stack sees a group as U1 U2, U2 U1.
fn block_steps(block: &[usize], stacks: &[String], trials: std::ops::RangeInclusive<u32>) -> Vec<Step> {
    block_steps_on(block, stacks, &|_| stacks.to_vec(), trials)
}

/// [`block_steps`] where unit `u` runs only on `stacks_of(u)` (a subset of `stacks`, which gives
/// the turn order): with several pairs, the extra stacks take their turns on their units only.
fn block_steps_on(
    block: &[usize],
    stacks: &[String],
    stacks_of: &dyn Fn(usize) -> Vec<String>,
    trials: std::ops::RangeInclusive<u32>,
) -> Vec<Step> {
    let on: Vec<Vec<String>> = block.iter().map(|&u| stacks_of(u)).collect();
    let mut steps = Vec::new();
    for trial in trials {
        let forward = trial % 2 == 1;
        let mut stack_order: Vec<&String> = stacks.iter().collect();
        let mut unit_order: Vec<(usize, &Vec<String>)> = block.iter().copied().zip(&on).collect();
        if !forward {
            stack_order.reverse();
            unit_order.reverse();
        }
        for stack in stack_order {
            for (unit, its) in &unit_order {
                if its.contains(stack) {
                    steps.push(Step { unit: *unit, stack: stack.clone(), trial });
                }
            }
        }
    }
    steps
}

/// Trials per stack a block of `experiment` runs: `reps` (or `cold_starts` for a cold-start
/// block), or more where a unit of the block asks for more pairs, rounded up to even so the A B,
/// B A order comes in whole blocks.
fn block_trials(experiment: &Experiment, block: &[usize], reps: u32, cold_starts: u32) -> u32 {
    let count = match experiment.units[block[0]].load {
        Load::ColdStart | Load::ColdStartMinimal => cold_starts,
        _ => block.iter().filter_map(|&u| experiment.units[u].min_pairs).fold(reps, u32::max),
    };
    count + count % 2
}

/// The order of one experiment's trials, without make-up pairs: its [`blocks`], each run for
/// its trial count in whole A B, B A blocks ([`block_steps`]).
pub fn schedule(experiment: &Experiment, stacks: &[String], reps: u32, cold_starts: u32, seed: u64) -> Vec<Step> {
    blocks(experiment, seed)
        .into_iter()
        .flat_map(|block| {
            let count = block_trials(experiment, &block, reps, cold_starts);
            block_steps(&block, stacks, 1..=count)
        })
        .collect()
}

/// Extra pairs a block may run when harness faults left it fewer complete pairs than planned: a
/// lost pair costs the verdict its 95% interval at quick's 6 pairs. Which pairs are made up
/// depends only on validity (the harness's faults), never on the values measured. Two were too
/// few here: three quick runs on 2026-12-06 left cpu-strength, execution-speed or non-blocking
/// with 4-5 pairs ("too few pairs") in one run of three, at 25-31 invalid trials a run.
pub const MAKE_UP_PAIRS: u32 = 4;

/// How the reason of an invalid trial that was not measured again begins: the profile's time
/// budget had no room for it, or the machine was still spoiling repeats ([`STORM_HELD`]).
pub const NOT_REPEATED: &str = "not repeated: ";

/// How the rest of the reason begins when a spoiled trial is not repeated because the last repeat
/// was spoiled too and no trial has come out valid since: the machine is in a steal storm, and a
/// repeat now would most likely be spoiled again. Over 32 runs on 2026-12-07 (quick runs and
/// calibrations, every spoiled trial repeated at once), 105 of the 593 repeats measured in that
/// state came out valid (18%), and 280 of the 493 others (57%); the 593 measured 390 s of
/// windows, 12 s a run before warm-ups and set-up, that the time budget now leaves to later
/// repeats. The state ends with the next valid trial,
/// planned or made up; make-up pairs are not held.
pub const STORM_HELD: &str = "the machine spoiled the repeat of ";

/// The trial numbers `1..=last` for which every unit of `block` has a valid measurement on every
/// stack: the complete pairs.
fn complete_trials(
    measurements: &[Measurement],
    experiment: &Experiment,
    block: &[usize],
    stacks_of: &dyn Fn(usize) -> Vec<String>,
    last: u32,
) -> u32 {
    (1..=last)
        .filter(|&t| {
            block.iter().all(|&u| {
                stacks_of(u).iter().all(|s| {
                    measurements
                        .iter()
                        .any(|m| m.valid && m.trial == t && &m.stack == s && m.label == experiment.units[u].label)
                })
            })
        })
        .count() as u32
}

/// The profile's time budget (`Profile::time_budget`) as one experiment sees it: the plan still
/// to come (see [`Runner::estimate`]) must fit in what is left of it before a repeat or a make-up
/// pair is measured.
#[derive(Debug, Clone, Copy)]
struct Budget {
    /// The profile's budget, on the lab's clock (from the command's start).
    limit: Duration,
    /// The plan of the experiments after this one.
    after: Duration,
    /// This experiment's own plan, and its planned trials.
    this: Duration,
    trials: usize,
}

impl Budget {
    /// Why nothing more is measured again, `done` of this experiment's trials in: the rest of
    /// the plan would not fit in the budget any more. `None` while it would, or without a clock.
    fn spent(&self, lab: &dyn Lab, done: usize) -> Option<String> {
        let now = lab.clock()?;
        let left = self.this.mul_f64(1.0 - (done.min(self.trials) as f64 / self.trials.max(1) as f64));
        let rest = self.after + left;
        (now + rest > self.limit).then(|| {
            format!(
                "the profile's {:.0} s budget had {:.0} s left, and the rest of the plan takes about {:.0} s",
                self.limit.as_secs_f64(),
                self.limit.saturating_sub(now).as_secs_f64(),
                rest.as_secs_f64()
            )
        })
    }
}

/// What, besides a trial's own fault, decides whether it is measured again when spoiled: the
/// profile's time budget, and the run's storm state (see [`STORM_HELD`]).
struct Repeats<'a> {
    /// Why the budget has no room for a repeat now; `None` while it has.
    out_of_time: &'a dyn Fn(&dyn Lab) -> Option<String>,
    /// The repeat last spoiled again, while no trial has come out valid since.
    storm: &'a mut Option<String>,
}

impl Repeats<'_> {
    /// Why a spoiled trial is not measured again now; `None`: it may be.
    fn held(&self, lab: &dyn Lab) -> Option<String> {
        (self.out_of_time)(lab).or_else(|| {
            self.storm.as_ref().map(|id| {
                format!(
                    "{STORM_HELD}{id} too, and no trial has come out valid since: a repeat now would most likely be \
                     spoiled again"
                )
            })
        })
    }

    /// A valid measurement ends a storm; a repeat spoiled again starts one.
    fn record(&mut self, m: &Measurement, repeat: bool) {
        if m.valid {
            *self.storm = None;
        } else if repeat {
            *self.storm = Some(m.id.trim_end_matches("/repeat").to_string());
        }
    }
}

impl Runner<'_> {
    fn schedule_of(&self, experiment: &Experiment) -> Vec<Step> {
        let p = self.profile;
        let stacks = self.options.all_stacks();
        let stacks_of = |u: usize| self.options.stacks_of(experiment, &experiment.units[u]);
        blocks(experiment, self.options.method.seed)
            .into_iter()
            .flat_map(|block| {
                let count = block_trials(experiment, &block, p.reps, p.cold_starts);
                block_steps_on(&block, &stacks, &stacks_of, 1..=count)
            })
            .collect()
    }

    /// Number of trials the plan holds (without repeats).
    pub fn trial_count(&self, experiments: &[Experiment]) -> usize {
        experiments.iter().map(|e| self.schedule_of(e).len()).sum()
    }

    /// How long the plan takes, without repeats: every trial's warm-up, window and overhead,
    /// every cold start, and every app instance started (kept running from one experiment to the
    /// next when both need it, as the lab's `retain` does).
    pub fn estimate(&self, experiments: &[Experiment]) -> Duration {
        let p = self.profile;
        let mut total = Duration::ZERO;
        let mut running: Vec<Instance> = Vec::new();
        for e in experiments {
            for step in self.schedule_of(e) {
                total += match &e.units[step.unit].load {
                    Load::ColdStart => COLD_START_COST,
                    Load::ColdStartMinimal => COLD_START_MINIMAL_COST,
                    // Most steps of a typical rate search run above twice the start rate; a room
                    // search's steps lie around its start, each joining its members afresh.
                    Load::SloSearch(search) => {
                        let (at, steps) = match search.axis {
                            SearchAxis::Rate => (2.0 * search.bounds.start, TYPICAL_SEARCH_STEPS),
                            SearchAxis::Members { .. } => (search.bounds.start, TYPICAL_ROOM_STEPS),
                        };
                        let joins = match search.step_load(at, 0) {
                            load @ Load::Open { .. } if search.request.websocket.is_some() => {
                                WS_JOIN_COST * load.connections()
                            }
                            _ => Duration::ZERO,
                        };
                        let step = search.step_length(at);
                        (step + p.trial_warmup.min(SEARCH_STEP_WARMUP) + TRIAL_OVERHEAD + joins) * steps
                    }
                    Load::Mixed { .. } => {
                        let unit = &e.units[step.unit];
                        unit.trial(p.trial) + unit.warmup(p.trial_warmup) + TRIAL_OVERHEAD + BACKGROUND_LEAD
                    }
                    load => {
                        let unit = &e.units[step.unit];
                        unit.trial(p.trial) + unit.warmup(p.trial_warmup) + TRIAL_OVERHEAD + joins(load)
                    }
                };
            }
            for unit in e.units.iter().filter(|u| primes(p, u)) {
                let stacks = self.options.stacks_of(e, unit).len() as u32;
                total += (p.priming + (TRIAL_OVERHEAD + joins(&unit.load)) * PRIMING_ROUNDS) * stacks;
            }
            let needed = e.instances(&self.options.stacks_of_experiment(e));
            // A fresh unit starts its stacks once more (its block restarts them).
            let fresh: usize = e.units.iter().filter(|u| u.fresh).map(|u| self.options.stacks_of(e, u).len()).sum();
            let started = (needed.iter().filter(|i| !running.contains(i)).count() + fresh) as u32;
            total += (p.stack_warmup + INSTANCE_START_COST) * started;
            running = needed;
        }
        total
    }

    /// Runs every experiment, in order; stops early when the lab is interrupted.
    pub fn run(&mut self, experiments: &[Experiment]) -> Vec<ExperimentResult> {
        let trials = self.trial_count(experiments);
        let estimate = self.estimate(experiments);
        (self.progress)(Progress::Plan { trials, estimate });
        let limit = self.profile.time_budget.filter(|_| self.lab.clock().is_some());
        // The repeat last spoiled again, while no trial has come out valid since (see
        // `STORM_HELD`); machine-wide, so it outlives an experiment.
        let mut storm: Option<String> = None;
        let mut index = 0;
        let mut results = Vec::new();
        for (k, experiment) in experiments.iter().enumerate() {
            let budget = limit.map(|limit| Budget {
                limit,
                after: self.estimate(&experiments[k + 1..]),
                this: self.estimate(std::slice::from_ref(experiment)),
                trials: self.schedule_of(experiment).len(),
            });
            // This experiment's trials so far, repeats not counted.
            let mut done = 0;
            let mut result = experiment.empty_result();
            // The units primed on each instance in this experiment (see `prime`).
            let mut primed = Primed::new();
            if self.lab.interrupted() {
                result.skipped_reason = Some("the run was interrupted before this experiment".into());
                results.push(result);
                continue;
            }
            if let Some(reason) = self.options.not_implemented.get(&experiment.id) {
                (self.progress)(Progress::Note(format!("{}: {reason}", experiment.id)));
                if self.options.stacks_of_experiment(experiment).is_empty() {
                    result.skipped_reason = Some(reason.clone());
                    results.push(result);
                    continue;
                }
            }
            let measured_on = self.options.stacks_of_experiment(experiment);
            self.lab.retain(&experiment.instances(&measured_on));
            let p = self.profile;
            let stacks = self.options.all_stacks();
            let options = self.options;
            let stacks_of_unit = |unit: &Unit| options.stacks_of(experiment, unit);
            let stacks_of = |u: usize| stacks_of_unit(&experiment.units[u]);
            'blocks: for block in blocks(experiment, self.options.method.seed) {
                let planned = block_trials(experiment, &block, p.reps, p.cold_starts);
                // The block's units, each with its instance on each of its stacks.
                let on_stacks: Vec<(&Unit, Instance)> = block
                    .iter()
                    .map(|&u| &experiment.units[u])
                    .flat_map(|unit| stacks_of_unit(unit).into_iter().map(move |s| (unit, unit.instance_on(&s))))
                    .collect();
                for (_, instance) in on_stacks.iter().filter(|(unit, _)| unit.fresh) {
                    self.lab.restart(instance);
                }
                // Every stack of the block is primed before its first trial, so that each app
                // rests while the others are primed, as it rests between its later trials while
                // the others are measured.
                for (unit, instance) in on_stacks.iter().filter(|(unit, _)| primes(p, unit)) {
                    if self.lab.interrupted() {
                        break 'blocks;
                    }
                    if let Ok(started) = self.lab.ensure(instance) {
                        self.prime(unit, instance, started, &mut primed);
                    }
                }
                let mut last = planned;
                let mut steps = block_steps_on(&block, &stacks, &stacks_of, 1..=planned);
                loop {
                    for step in steps {
                        if self.lab.interrupted() {
                            break 'blocks;
                        }
                        let unit = &experiment.units[step.unit];
                        index += 1;
                        (self.progress)(Progress::Trial {
                            index,
                            experiment: experiment.id.clone(),
                            stack: step.stack.clone(),
                            label: unit.label.clone(),
                            trial: step.trial,
                            length: unit.trial(self.profile.trial),
                        });
                        done += 1;
                        let spent = |lab: &dyn Lab| budget.and_then(|b| b.spent(lab, done));
                        let mut repeats = Repeats { out_of_time: &spent, storm: &mut storm };
                        for m in self.trial(experiment, unit, &step.stack, step.trial, &mut primed, &mut repeats) {
                            (self.sink)(&m);
                            result.measurements.push(m);
                        }
                    }
                    let complete = complete_trials(&result.measurements, experiment, &block, &stacks_of, last);
                    if complete >= planned || last >= planned + MAKE_UP_PAIRS {
                        break;
                    }
                    if let Some(spent) = budget.and_then(|b| b.spent(&*self.lab, done)) {
                        (self.progress)(Progress::Note(format!(
                            "{} {}: {complete} of {planned} pairs complete; no make-up pair: {spent}",
                            experiment.id,
                            block.iter().map(|&u| experiment.units[u].label.as_str()).collect::<Vec<_>>().join(" + ")
                        )));
                        break;
                    }
                    last += 1;
                    (self.progress)(Progress::Note(format!(
                        "{} {}: {complete} of {planned} pairs complete; making up pair {last}",
                        experiment.id,
                        block.iter().map(|&u| experiment.units[u].label.as_str()).collect::<Vec<_>>().join(" + ")
                    )));
                    steps = block_steps_on(&block, &stacks, &stacks_of, last..=last);
                }
            }
            results.push(result);
        }
        self.lab.retain(&[]);
        results
    }

    /// Before the first trial of `unit` on `instance` (and again once that instance was started
    /// anew: `started`), applies the unit's own load for the profile's priming time, split into
    /// [`PRIMING_ROUNDS`] loads of their own connections, and keeps nothing of it, so that no
    /// measured trial meets its code path and load level cold (see [`Profile::priming`]). The
    /// run primes a block's stacks before its first trial; a trial primes only an instance
    /// started anew since, or one whose priming failed.
    fn prime(&mut self, unit: &Unit, instance: &Instance, started: bool, primed: &mut Primed) {
        if started {
            primed.retain(|(_, i)| i != instance);
        }
        if !primes(self.profile, unit) {
            return;
        }
        let key = (unit.label.clone(), instance.clone());
        let round = self.profile.priming / PRIMING_ROUNDS;
        if !primed.contains(&key)
            && (0..PRIMING_ROUNDS).all(|_| self.lab.measure(instance, &unit.load, round, Duration::ZERO).is_ok())
        {
            primed.insert(key);
        }
    }

    /// One trial. A trial that a fault of the harness or the machine made invalid (a saturated
    /// generator side, contended app cores, a late upstream, the speed canary moving more than the
    /// method allows, no request sent) is measured once more in its place, so one bad second does
    /// not cost its unit a pair; a repeat that is invalid again stays invalid, and until a trial
    /// comes out valid nothing is repeated (see [`STORM_HELD`]), nor once the budget is spent. An
    /// app that failed to start or died is not repeated: that is the lab's to report, and an
    /// interruption ends the run.
    fn trial(
        &mut self,
        experiment: &Experiment,
        unit: &Unit,
        stack: &str,
        trial: u32,
        primed: &mut Primed,
        repeats: &mut Repeats,
    ) -> Vec<Measurement> {
        let mut out = Vec::new();
        for attempt in 0..2 {
            let (mut m, repeatable) = self.measure_once(experiment, unit, stack, trial, primed);
            let repeat = attempt == 1;
            if repeat {
                m.id.push_str("/repeat");
            }
            let drift = match (m.canary_before_ms, m.canary_after_ms) {
                (Some(before), Some(after)) if before > 0.0 => (after / before - 1.0).abs(),
                _ => 0.0,
            };
            let limit = self.options.method.canary_max_drift;
            if drift > limit && m.valid {
                m.scalars.insert(Scalar::CanaryDrift, drift);
                m.valid = false;
                m.invalid_reasons.push(format!(
                    "the machine's speed moved {:.0}%{} (speed canary, limit {:.0}%)",
                    drift * 100.0,
                    if repeat { " again in the repeat" } else { " during the trial" },
                    limit * 100.0
                ));
            }
            let spoiled = !m.valid && repeatable && !repeat;
            let held = if spoiled { repeats.held(&*self.lab) } else { None };
            let again = spoiled && !self.lab.interrupted() && held.is_none();
            if let Some(held) = &held {
                m.invalid_reasons.push(format!("{NOT_REPEATED}{held}"));
            }
            repeats.record(&m, repeat);
            if again {
                // A repeat inside a steal storm is spoiled again: wait the storm out first.
                let waited = self.lab.settle().map_or_else(String::new, |waited| {
                    format!(", after waiting {:.1} s for the hypervisor to stop taking CPU time", waited.as_secs_f64())
                });
                m.invalid_reasons.push(format!("repeated once in its place{waited}"));
                if !waited.is_empty() {
                    (self.progress)(Progress::Note(format!("{}: repeated{waited}", m.id)));
                }
            } else if !m.valid && repeat {
                (self.progress)(Progress::Note(format!(
                    "{}: invalid again in its repeat ({}); the pair is lost, and no spoiled trial is repeated \
                     until one comes out valid",
                    m.id,
                    m.invalid_reasons.first().map(String::as_str).unwrap_or("invalid")
                )));
            }
            out.push(m);
            if !again {
                break;
            }
        }
        out
    }

    /// An SLO search on `instance` ([`slo::search`]): every step a load run of its own, with
    /// seeded Poisson arrivals, long enough for the search's samples, started only once the app
    /// has drained the previous one. The result is the highest step that held (its load, CPU and
    /// memory), with every step's totals in `load.steps` and the rate as `slo_max_rate`; for a
    /// room search ([`SearchAxis::Members`]), the largest room held as `room_max_members`. A step
    /// with a machine fault or a saturated generator is measured once more in its place, as a
    /// trial is, and the repeat names the first attempt's fault in its step; a repeat spoiled
    /// again ends the search and makes it invalid. (In a standard run on 2026-12-06, 27 of 43
    /// E-io searches ended on one spoiled step, 18 of them on a late upstream at 1-3% of answers.)
    fn slo_search(&mut self, instance: &Instance, search: &SloSearch, seed: u64) -> Result<Measured, LabFailure> {
        let method = &self.options.method;
        let (slo_p99_ms, warmup) =
            (search_target_ms(search, method), self.profile.trial_warmup.min(SEARCH_STEP_WARMUP));
        let unit = search.unit();
        let mut steps: Vec<(f64, bool, Measured, Option<String>)> = Vec::new();
        let mut failure: Option<LabFailure> = None;
        let mut faults: Vec<String> = Vec::new();
        let mut wrong: Vec<String> = Vec::new();
        // A step the harness spoiled is kept, so a search that measured nothing else still
        // shows what its load did.
        let mut spoiled: Option<Measured> = None;
        let lab = &mut *self.lab;
        let mut tries = 0u64;
        let outcome = slo::search_in(&search.bounds, unit, |at| {
            // The fault of this step's first attempt, when the harness spoiled it and it was
            // measured once more in its place, as a spoiled trial is.
            let mut first_attempt: Option<String> = None;
            loop {
                if lab.interrupted() {
                    faults.push("the trial was interrupted before its end".into());
                    return None;
                }
                tries += 1;
                let load = search.step_load(at, seed ^ tries.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                lab.drain(instance);
                let measured = match lab.measure(instance, &load, search.step_length(at), warmup) {
                    Ok(measured) => measured,
                    Err(e) => {
                        failure = Some(e);
                        return None;
                    }
                };
                let Some(result) = measured.load.as_ref() else {
                    faults.push(format!("step at {at:.0} {unit}: the lab returned no load result"));
                    return None;
                };
                let mut step_faults = measured.machine_faults.clone();
                if result.generator_saturated && !step_late_sends_excused(result, slo_p99_ms) {
                    step_faults
                        .push(format!("the load generator was saturated ({})", result.saturation_reasons.join("; ")));
                }
                if result.cancelled && step_faults.is_empty() {
                    step_faults.push("the step was cancelled".into());
                }
                if !step_faults.is_empty() {
                    if first_attempt.is_none() && !result.cancelled {
                        let waited = lab.settle().map_or_else(String::new, |waited| {
                            format!("; waited {:.1} s for the hypervisor to stop taking CPU time", waited.as_secs_f64())
                        });
                        first_attempt = Some(format!("{}{waited}", step_faults.join("; ")));
                        continue;
                    }
                    let again = if first_attempt.is_some() { " (again, in its repeat)" } else { "" };
                    faults.extend(step_faults.iter().map(|f| format!("step at {at:.0} {unit}{again}: {f}")));
                    spoiled = Some(Measured { machine_faults: Vec::new(), ..measured });
                    return None;
                }
                // A rate step answers in 2xx responses to the rate offered. A room step answers in
                // deliveries, one per member for every message actually sent: at 20 messages a
                // second a one-second Poisson step sends 20 ± 4.5, so the offered rate is no
                // yardstick (in a standard run on 2026-12-07, Express's 1,500-member step with a
                // p99 of 28 ms failed on it, 21,000 deliveries against 30,000 offered).
                let (answered, offered) = match search.axis {
                    SearchAxis::Rate => (ok_responses(result), at),
                    SearchAxis::Members { .. } => {
                        (result.responses, result.requests as f64 / result.duration_s.max(1e-9))
                    }
                };
                let held = step_held(result, answered, offered, slo_p99_ms, search.max_error_ratio);
                wrong.extend(wrong_answers(&measured).into_iter().map(|w| format!("step at {at:.0} {unit}: {w}")));
                steps.push((at, held, measured, first_attempt));
                return Some(held);
            }
        });
        if let Some(failure) = failure {
            return Err(failure);
        }
        if let Some(short) = &outcome.short {
            (self.progress)(Progress::Note(format!(
                "{} slo search on {}: {short}; highest held {:.0} {unit}",
                instance.stack, search.request.path, outcome.max_rate
            )));
        }
        let mut path: Vec<StepResult> = steps
            .iter()
            .filter_map(|(at, _, m, first)| {
                let (offered, members) = match search.axis {
                    SearchAxis::Rate => (*at, None),
                    SearchAxis::Members { rate } => (rate * at.round(), Some(at.round() as u32)),
                };
                m.load.as_ref().map(|l| StepResult {
                    first_attempt_spoiled: first.clone(),
                    members,
                    ..as_step(l, offered)
                })
            })
            .collect();
        path.sort_by(|a, b| a.target_rate.total_cmp(&b.target_rate));
        // The measurement is the highest step that held; when none did, the lowest step tried.
        let chosen = steps
            .iter()
            .filter(|(_, held, _, _)| *held)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .or_else(|| steps.iter().min_by(|a, b| a.0.total_cmp(&b.0)))
            .map(|(_, _, m, _)| m.clone())
            .or(spoiled);
        let mut measured = match chosen {
            Some(m) => m,
            None => Measured { load: None, ..Measured::default() },
        };
        if let Some(load) = measured.load.as_mut() {
            load.steps = path;
        }
        let scalar = match search.axis {
            SearchAxis::Rate => Scalar::SloMaxRate,
            SearchAxis::Members { .. } => Scalar::RoomMaxMembers,
        };
        measured.scalars.insert(scalar, outcome.max_rate);
        let ceiling_held = outcome.failed_at.is_none() && outcome.max_rate >= search.bounds.ceiling;
        measured.scalars.insert(Scalar::SearchCeilingHeld, if ceiling_held { 1.0 } else { 0.0 });
        measured.machine_faults.extend(faults);
        measured.wrong_answers = wrong;
        if measured.load.is_none() && measured.machine_faults.is_empty() {
            measured.machine_faults.push("the slo search measured no step".into());
        }
        Ok(measured)
    }

    /// One measurement, and whether it may be repeated should it turn out invalid (it may, unless
    /// the lab failed or the trial was interrupted).
    fn measure_once(
        &mut self,
        experiment: &Experiment,
        unit: &Unit,
        stack: &str,
        trial: u32,
        primed: &mut Primed,
    ) -> (Measurement, bool) {
        let instance = unit.instance_on(stack);
        let mut m = Measurement {
            id: format!("{}/{}/{}/{}", experiment.id, stack, unit.label, trial),
            experiment: experiment.id.clone(),
            stack: stack.to_string(),
            label: unit.label.clone(),
            trial,
            workers: (unit.workers != 1).then_some(unit.workers),
            connections: connections_of(&unit.load),
            offered_rate: match &unit.load {
                Load::Open { rate, .. } => Some(*rate),
                Load::Mixed { probe, .. } => match probe.as_ref() {
                    Load::Open { rate, .. } => Some(*rate),
                    _ => None,
                },
                _ => None,
            },
            endpoint: unit.endpoint.clone(),
            load: None,
            app_cpu_s: 0.0,
            app_cpu_resolution_s: None,
            generator_side_busy: None,
            app_core_contention: None,
            steal: None,
            upstream_late: None,
            app_peak_rss_bytes: 0,
            canary_before_ms: None,
            canary_after_ms: None,
            valid: true,
            invalid_reasons: Vec::new(),
            wrong_answers: Vec::new(),
            app_stderr_tail: None,
            scalars: BTreeMap::new(),
        };
        let measured = if let Some(minimal) = unit.load.cold_start() {
            self.lab.cold_start(stack, minimal)
        } else {
            match self.lab.ensure(&instance) {
                Ok(started) => {
                    self.prime(unit, &instance, started, primed);
                    m.canary_before_ms = self.lab.canary_ms();
                    let r = match &unit.load {
                        Load::SloSearch(search) => {
                            let seed = self.options.method.seed ^ id_hash(&m.id);
                            self.slo_search(&instance, search, seed)
                        }
                        load => {
                            let (trial, warmup) =
                                (unit.trial(self.profile.trial), unit.warmup(self.profile.trial_warmup));
                            self.lab.measure(&instance, load, trial, warmup)
                        }
                    };
                    m.canary_after_ms = self.lab.canary_ms();
                    r
                }
                Err(e) => Err(e),
            }
        };
        match measured {
            Ok(measured) => {
                m.app_cpu_s = measured.app_cpu_s;
                m.app_peak_rss_bytes = measured.app_peak_rss_bytes;
                m.scalars = measured.scalars.clone();
                if let Some(rate) = measured.scalars.get(&Scalar::SloMaxRate) {
                    m.offered_rate = Some(*rate);
                }
                // A room search's measurement is its largest room held, at the room's message
                // rate. Its memory is not taken per member: the app is not fresh, so an earlier
                // step's larger room has already grown it (a standard run on 2026-12-07 read 0
                // bytes per member in 7 of 24 searches); E-concurrency measures that on fresh apps.
                if let Load::SloSearch(SloSearch { axis: SearchAxis::Members { rate }, .. }) = &unit.load {
                    m.offered_rate = Some(*rate);
                }
                derive_scalars(&mut m, unit, &measured);
                m.wrong_answers = if matches!(unit.load, Load::SloSearch(_)) {
                    // The search gathered every step's own.
                    measured.wrong_answers.clone()
                } else {
                    wrong_answers(&measured)
                };
                m.load = measured.load;
                check_validity(&mut m, unit, &self.options.method);
                (m.app_cpu_resolution_s, m.generator_side_busy) =
                    (measured.app_cpu_resolution_s, measured.generator_side_busy);
                (m.app_core_contention, m.steal, m.upstream_late) =
                    (measured.app_core_contention, measured.steal, measured.upstream_late);
                m.valid &= measured.machine_faults.is_empty();
                m.invalid_reasons.extend(measured.machine_faults);
                let cancelled = m.load.as_ref().is_some_and(|l| l.cancelled);
                (m, !cancelled)
            }
            Err(failure) => {
                m.valid = false;
                m.invalid_reasons.push(failure.message.clone());
                m.app_stderr_tail = failure.stderr_tail;
                (self.progress)(Progress::Note(format!("{}: {}", m.id, failure.message)));
                (m, false)
            }
        }
    }
}

fn connections_of(load: &Load) -> Option<u32> {
    match load {
        Load::Closed { connections, .. } => Some(*connections),
        Load::Mixed { background, .. } => connections_of(background),
        _ => None,
    }
}

/// Requests that failed (any error class) over all finished requests.
pub fn error_ratio(load: &LoadResult) -> f64 {
    let errors: u64 = load.errors.values().sum();
    if load.requests == 0 {
        0.0
    } else {
        errors as f64 / load.requests as f64
    }
}

/// Successful (2xx) responses.
pub fn ok_responses(load: &LoadResult) -> u64 {
    load.status_counts.iter().filter(|(s, _)| (200..300).contains(*s)).map(|(_, n)| n).sum()
}

fn derive_scalars(m: &mut Measurement, unit: &Unit, measured: &Measured) {
    let Some(load) = &measured.load else { return };
    if let Some(delay) = unit.built_in_delay_ms {
        m.scalars.insert(Scalar::P99OverheadMs, load.judged_latency().p99_us / 1000.0 - delay);
    }
    if unit.fresh && unit.load.connections() > 0 {
        // Over the fresh instance's memory at rest, so what earlier trials grew is not counted
        // as free and a negative growth is kept as measured (no floor decides the ratio).
        let baseline = measured.app_memory_baseline_bytes.unwrap_or(measured.app_rss_before_bytes);
        let loaded = measured.app_memory_loaded_bytes.unwrap_or(measured.app_peak_rss_bytes);
        let grown = loaded as f64 - baseline as f64;
        m.scalars.insert(Scalar::RssPerConnectionBytes, grown / unit.load.connections() as f64);
    } else if let Some(connections) = m.connections {
        let grown = measured.app_peak_rss_bytes.saturating_sub(measured.app_rss_before_bytes);
        m.scalars.insert(Scalar::RssPerConnectionBytes, grown as f64 / connections as f64);
    }
}

/// The wrong answers of a trial: the lab's, and every sampled response the engine found unlike
/// the contract's expected body.
fn wrong_answers(measured: &Measured) -> Vec<String> {
    let mut out = measured.wrong_answers.clone();
    let mismatched =
        measured.load.as_ref().and_then(|l| l.errors.get(ErrorClass::BodyMismatch.as_str()).copied()).unwrap_or(0);
    if mismatched > 0 {
        out.push(format!(
            "{mismatched} sampled response(s) did not match the contract's expected status and body for the request"
        ));
    }
    out
}

/// Whether one open-loop step held the objective: p99 (failures counted at the timeout) within
/// `slo_p99_ms`, at most `max_error_ratio` of its requests failed, and the `answered` requests
/// (2xx responses, or a room's deliveries) kept up with the `offered` ones a second (a tenth of
/// slack for Poisson's variation).
pub fn step_held(load: &LoadResult, answered: u64, offered: f64, slo_p99_ms: f64, max_error_ratio: f64) -> bool {
    load.requests > 0
        && load.judged_latency().p99_us <= slo_p99_ms * 1000.0
        && error_ratio(load) <= max_error_ratio
        && answered as f64 / load.duration_s.max(1e-9) >= 0.9 * offered
}

/// The p99 a search's steps are held to: the run's SLO for a rate, its room target for a room.
fn search_target_ms(search: &SloSearch, method: &Method) -> f64 {
    match search.axis {
        SearchAxis::Rate => method.slo_p99_ms,
        SearchAxis::Members { .. } => method.room_p99_ms,
    }
}

/// A load result's totals as one rate step, for the record of an SLO search's path.
fn as_step(load: &LoadResult, offered: f64) -> StepResult {
    StepResult {
        target_rate: offered,
        members: None,
        duration_s: load.duration_s,
        achieved_rate: load.achieved_rate,
        requests: load.requests,
        responses: load.responses,
        errors: load.errors.clone(),
        late_sends: load.late_sends,
        latency: *load.judged_latency(),
        latency_uncorrected: load.latency_uncorrected,
        send_lag: load.send_lag,
        histograms: load.histograms.clone(),
        first_attempt_spoiled: None,
    }
}

/// The share of an open-loop rate that must come back for late sends alone not to invalidate a
/// trial.
const DELIVERED_RATE: f64 = 0.95;
/// The p99 send lag, as a share of the trial's own p99 latency, up to which late sends do not
/// invalidate a latency trial (above the engine's absolute 1 ms). A request's latency is at most
/// its service time plus its send lag, so a lag of 5% of the p99 moves that p99 by about 5% at
/// most: the verdict band. A 40 ms p99 tolerates 2 ms of lag; a 3 ms p99 keeps the 1 ms rule.
const LAG_SHARE_OF_P99: f64 = 0.05;

/// How far the generator's send lag moved a trial's p99: the p99 timed from each request's
/// intended send over the p99 timed from its actual send, less one. Where that is within
/// [`LAG_SHARE_OF_P99`], the lag measurably did not move the p99 by more than the verdict band,
/// whatever its size beside the p99: a late send moves only the request it delays, and most
/// delayed requests are not in the tail. In a quick run on 2026-12-06, E-hol's probe sent with a
/// p99 lag of 1.0-7.5 ms in 17 trials; that lag moved express's p99 (13-24 ms) by 0.1-3.6% and
/// fastapi's (2-23 ms) by 0.1-97%. `None` without an uncorrected p99.
fn p99_moved_by_lag(load: &LoadResult) -> Option<f64> {
    let (corrected, uncorrected) = (load.latency.p99_us, load.latency_uncorrected.p99_us);
    (uncorrected > 0.0).then(|| corrected / uncorrected - 1.0)
}

/// The p99 send lag, as a share of the SLO, up to which late sends do not spoil a step of an SLO
/// search. A step is judged on "p99 within the SLO", and a late send raises a request's latency
/// by at most its lag, so a lag of 5% of the SLO can turn that judgment only for a p99 within the
/// verdict band of the SLO. Measured on the 2-CPU machine (2026-12-06, a standard run): every
/// step of every search, 1,000 to 8,000 req/s over 1,024 connections, had a p99 send lag of
/// 1.0-5.8 ms with the generator's CPU far from busy, so under the bare 1 ms rule no search ever
/// finished and every SLO evidence read invalid.
const LAG_SHARE_OF_SLO: f64 = 0.05;

/// Whether a search step's only generator fault was sending late, by little beside the SLO it is
/// judged against (see [`LAG_SHARE_OF_SLO`]).
fn step_late_sends_excused(load: &LoadResult, slo_p99_ms: f64) -> bool {
    let lag_us = load.self_check.send_lag_p99_us.unwrap_or(0.0);
    !load.self_check.cpu_saturated() && lag_us <= LAG_SHARE_OF_SLO * slo_p99_ms * 1000.0
}

/// Whether the generator's only fault was sending late, and that lateness cannot decide what
/// this unit is judged on: for a rate search, its chosen step's lag is small beside the SLO;
/// otherwise its rate came back, and either no evidence reads its latency, or the lag is small
/// beside the latency measured (see [`LAG_SHARE_OF_P99`]), or it moved the p99 by less than that
/// ([`p99_moved_by_lag`]).
fn late_sends_excused(load: &LoadResult, unit: &Unit, method: &Method) -> bool {
    if let Load::SloSearch(search) = &unit.load {
        return step_late_sends_excused(load, search_target_ms(search, method));
    }
    // The rate came back; or what did not come back waited for a connection the app had not
    // freed, which is the app's slowness, not the generator's: the corrected latency counts the
    // wait against the app. (In a standard run on 2026-12-07 all 64 E-concurrency trials of Django
    // and Flask at 1,000 connections answered 44-47% of the rate, 1,055-1,109 of 2,000 requests
    // waited for a connection, the generator used 2-7% of its core, and a 1.1-12.9 ms send lag
    // made each trial invalid, as if the generator had failed.)
    let delivered =
        load.target_rate.is_some_and(|rate| load.achieved_rate >= DELIVERED_RATE * rate) || load.late_sends > 0;
    let lag_us = load.self_check.send_lag_p99_us.unwrap_or(0.0);
    let small_beside_p99 = lag_us <= LAG_SHARE_OF_P99 * load.judged_latency().p99_us;
    let moved_p99_little = p99_moved_by_lag(load).is_some_and(|moved| moved <= LAG_SHARE_OF_P99);
    !load.self_check.cpu_saturated() && delivered && (!unit.judged_on_latency || small_beside_p99 || moved_p99_little)
}

fn check_validity(m: &mut Measurement, unit: &Unit, method: &Method) {
    let Some(load) = &m.load else { return };
    if load.generator_saturated && !late_sends_excused(load, unit, method) {
        m.valid = false;
        let why = if load.saturation_reasons.is_empty() {
            "no reason given".to_string()
        } else {
            load.saturation_reasons.join("; ")
        };
        m.invalid_reasons
            .push(format!("the load generator was saturated ({why}): the numbers measure claimbench, not the app"));
    }
    if load.cancelled {
        m.valid = false;
        m.invalid_reasons.push("the trial was interrupted before its end".into());
    }
    // Requests sent and all failed are the app's failures (they count against it); no request
    // sent at all is the harness's.
    if load.requests == 0 && m.valid {
        m.valid = false;
        m.invalid_reasons.push("no request was sent during the trial".into());
    }
}
