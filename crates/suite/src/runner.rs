//! Walks the plan: for every experiment, its units in an order shuffled from the run's seed, in
//! whole A B, B A blocks of trials, the units of an interleaved group trial by trial ([`schedule`]);
//! each trial bracketed by the speed canary; a trial a harness fault made invalid measured once
//! more in its place, and a block left short of complete pairs given up to [`MAKE_UP_PAIRS`] more;
//! every finished measurement goes to the sink at once, so an interrupted run keeps everything
//! measured so far.
//!
//! Starting apps and applying load happen behind the [`Lab`] trait (the CLI's supervisor + engine,
//! or a mock in tests). Checking a measurement (saturated generator, canary drift, a dead app, an
//! interruption) and deriving its scalars happen here, identically for every lab. Failed requests
//! do not make a trial invalid: they are the app's doing and count against its stack when the
//! evidence is decided (`evaluate`).

use std::collections::BTreeMap;
use std::time::Duration;

use claimbench_model::load::LoadResult;
use claimbench_model::run::{ExperimentResult, Measurement, Method, Scalar, UpstreamLate};

use crate::experiments::{Experiment, Instance, Load, Unit};
use crate::profile::Profile;
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
    /// Makes sure `instance` is running, ready and warmed up (a no-op when it already is).
    fn ensure(&mut self, instance: &Instance) -> Result<(), LabFailure>;
    /// Applies `load` to `instance` for `trial` after `warmup`.
    fn measure(
        &mut self,
        instance: &Instance,
        load: &Load,
        trial: Duration,
        warmup: Duration,
    ) -> Result<Measured, LabFailure>;
    /// Spawns `stack` afresh, times it to the first 200, records idle RSS, stops it.
    fn cold_start(&mut self, stack: &str) -> Result<Measured, LabFailure>;
    /// Runs the fixed speed canary on the app's core; milliseconds, `None` if unavailable.
    fn canary_ms(&mut self) -> Option<f64>;
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
/// One cold start: spawn, first 200 on /health (up to about a second for uvicorn), stop.
const COLD_START_COST: Duration = Duration::from_millis(1500);
/// Starting one app instance, before its warm-up load: spawn, readiness, the verify request.
const INSTANCE_START_COST: Duration = Duration::from_millis(1500);

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
    let mut steps = Vec::new();
    for trial in trials {
        let forward = trial % 2 == 1;
        let mut stack_order: Vec<&String> = stacks.iter().collect();
        let mut unit_order = block.to_vec();
        if !forward {
            stack_order.reverse();
            unit_order.reverse();
        }
        for stack in stack_order {
            for &unit in &unit_order {
                steps.push(Step { unit, stack: stack.clone(), trial });
            }
        }
    }
    steps
}

/// Trials per stack a block of `experiment` runs: `reps` (or `cold_starts` for a cold-start
/// block), rounded up to even so the A B, B A order comes in whole blocks.
fn block_trials(experiment: &Experiment, block: &[usize], reps: u32, cold_starts: u32) -> u32 {
    let count = match experiment.units[block[0]].load {
        Load::ColdStart => cold_starts,
        _ => reps,
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
/// depends only on validity (the harness's faults), never on the values measured.
pub const MAKE_UP_PAIRS: u32 = 2;

/// The trial numbers `1..=last` for which every unit of `block` has a valid measurement on every
/// stack: the complete pairs.
fn complete_trials(
    measurements: &[Measurement],
    experiment: &Experiment,
    block: &[usize],
    stacks: &[String],
    last: u32,
) -> u32 {
    (1..=last)
        .filter(|&t| {
            block.iter().all(|&u| {
                stacks.iter().all(|s| {
                    measurements
                        .iter()
                        .any(|m| m.valid && m.trial == t && &m.stack == s && m.label == experiment.units[u].label)
                })
            })
        })
        .count() as u32
}

impl Runner<'_> {
    fn schedule_of(&self, experiment: &Experiment) -> Vec<Step> {
        if self.options.not_implemented.contains_key(&experiment.id) {
            return Vec::new();
        }
        let p = self.profile;
        schedule(experiment, &self.options.stacks, p.reps, p.cold_starts, self.options.method.seed)
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
            if self.options.not_implemented.contains_key(&e.id) {
                continue;
            }
            for step in self.schedule_of(e) {
                total += match &e.units[step.unit].load {
                    Load::ColdStart => COLD_START_COST,
                    Load::RateSteps { rates, step, .. } => *step * rates.len() as u32 + p.trial_warmup + TRIAL_OVERHEAD,
                    Load::Mixed { .. } => p.trial + p.trial_warmup + TRIAL_OVERHEAD + Duration::from_millis(300),
                    _ => p.trial + p.trial_warmup + TRIAL_OVERHEAD,
                };
            }
            let needed = e.instances(&self.options.stacks);
            let started = needed.iter().filter(|i| !running.contains(i)).count() as u32;
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
        let mut index = 0;
        let mut results = Vec::new();
        for experiment in experiments {
            let mut result = ExperimentResult {
                id: experiment.id.clone(),
                title: experiment.title.clone(),
                what: experiment.what.clone(),
                measured_as: experiment.measured_as.clone(),
                skipped_reason: None,
                measurements: Vec::new(),
            };
            if self.lab.interrupted() {
                result.skipped_reason = Some("the run was interrupted before this experiment".into());
                results.push(result);
                continue;
            }
            if let Some(reason) = self.options.not_implemented.get(&experiment.id) {
                result.skipped_reason = Some(reason.clone());
                (self.progress)(Progress::Note(format!("{}: {reason}", experiment.id)));
                results.push(result);
                continue;
            }
            self.lab.retain(&experiment.instances(&self.options.stacks));
            let (p, stacks) = (self.profile, &self.options.stacks);
            'blocks: for block in blocks(experiment, self.options.method.seed) {
                let planned = block_trials(experiment, &block, p.reps, p.cold_starts);
                let mut last = planned;
                let mut steps = block_steps(&block, stacks, 1..=planned);
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
                            length: self.profile.trial,
                        });
                        for m in self.trial(experiment, unit, &step.stack, step.trial) {
                            (self.sink)(&m);
                            result.measurements.push(m);
                        }
                    }
                    let complete = complete_trials(&result.measurements, experiment, &block, stacks, last);
                    if complete >= planned || last >= planned + MAKE_UP_PAIRS {
                        break;
                    }
                    last += 1;
                    (self.progress)(Progress::Note(format!(
                        "{} {}: {complete} of {planned} pairs complete; making up pair {last}",
                        experiment.id,
                        block.iter().map(|&u| experiment.units[u].label.as_str()).collect::<Vec<_>>().join(" + ")
                    )));
                    steps = block_steps(&block, stacks, last..=last);
                }
            }
            results.push(result);
        }
        self.lab.retain(&[]);
        results
    }

    /// One trial. A trial that a fault of the harness or the machine made invalid (a saturated
    /// generator side, contended app cores, a late upstream, the speed canary moving more than the
    /// method allows, no request sent) is measured once more in its place, so one bad second does
    /// not cost its unit a pair; a repeat that is invalid again stays invalid. An app that failed to
    /// start or died is not repeated: that is the lab's to report, and an interruption ends the run.
    fn trial(&mut self, experiment: &Experiment, unit: &Unit, stack: &str, trial: u32) -> Vec<Measurement> {
        let mut out = Vec::new();
        for attempt in 0..2 {
            let (mut m, repeatable) = self.measure_once(experiment, unit, stack, trial);
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
            let again = !m.valid && repeatable && !repeat && !self.lab.interrupted();
            if again {
                m.invalid_reasons.push("repeated once in its place".into());
            } else if !m.valid && repeat {
                (self.progress)(Progress::Note(format!(
                    "{}: invalid again in its repeat ({}); the pair is lost",
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

    /// One measurement, and whether it may be repeated should it turn out invalid (it may, unless
    /// the lab failed or the trial was interrupted).
    fn measure_once(&mut self, experiment: &Experiment, unit: &Unit, stack: &str, trial: u32) -> (Measurement, bool) {
        let instance = Instance { stack: stack.to_string(), workers: unit.workers, wide: unit.wide };
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
            app_stderr_tail: None,
            scalars: BTreeMap::new(),
        };
        let measured = if matches!(unit.load, Load::ColdStart) {
            self.lab.cold_start(stack)
        } else {
            match self.lab.ensure(&instance) {
                Ok(()) => {
                    m.canary_before_ms = self.lab.canary_ms();
                    let r = self.lab.measure(&instance, &unit.load, self.profile.trial, self.profile.trial_warmup);
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
                derive_scalars(
                    &mut m,
                    unit,
                    &measured,
                    self.options.method.slo_p99_ms,
                    self.options.method.max_error_ratio,
                );
                m.load = measured.load;
                check_validity(&mut m);
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

fn derive_scalars(m: &mut Measurement, unit: &Unit, measured: &Measured, slo_p99_ms: f64, max_error_ratio: f64) {
    let Some(load) = &measured.load else { return };
    if let Some(delay) = unit.built_in_delay_ms {
        m.scalars.insert(Scalar::P99OverheadMs, load.judged_latency().p99_us / 1000.0 - delay);
    }
    if let Some(connections) = m.connections {
        let grown = measured.app_peak_rss_bytes.saturating_sub(measured.app_rss_before_bytes);
        m.scalars.insert(Scalar::RssPerConnectionBytes, grown as f64 / connections as f64);
    }
    if matches!(unit.load, Load::RateSteps { .. }) {
        let held = load
            .steps
            .iter()
            .filter(|s| {
                let errors: u64 = s.errors.values().sum();
                let errors_ok = s.requests == 0 || (errors as f64 / s.requests as f64) <= max_error_ratio;
                s.latency.p99_us <= slo_p99_ms * 1000.0 && errors_ok && s.achieved_rate >= 0.95 * s.target_rate
            })
            .map(|s| s.target_rate)
            .fold(0.0, f64::max);
        m.scalars.insert(Scalar::SloMaxRate, held);
    }
}

fn check_validity(m: &mut Measurement) {
    let Some(load) = &m.load else { return };
    if load.generator_saturated {
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
