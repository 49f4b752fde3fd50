//! Walks the plan: for every experiment and unit, trials of the stacks alternate A B B A …, each
//! bracketed by the speed canary; every finished measurement goes to the sink at once, so an
//! interrupted run keeps everything measured so far.
//!
//! Starting apps and applying load happen behind the [`Lab`] trait (the CLI's supervisor + engine,
//! or a mock in tests). Checking a measurement (saturated generator, errors, canary drift, a dead
//! app) and deriving its scalars happen here, identically for every lab.

use std::collections::BTreeMap;
use std::time::Duration;

use claimbench_model::load::LoadResult;
use claimbench_model::run::{ExperimentResult, Measurement, Method, Scalar, UpstreamLate};

use crate::experiments::{Experiment, Instance, Load, Unit};
use crate::profile::Profile;

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
}

/// Runs experiments through a lab.
pub struct Runner<'a> {
    pub lab: &'a mut dyn Lab,
    pub profile: &'a Profile,
    pub options: &'a RunOptions,
    pub sink: &'a mut dyn FnMut(&Measurement),
    pub progress: &'a mut dyn FnMut(Progress),
}

impl Runner<'_> {
    /// Number of trials the plan holds (without repeats).
    pub fn trial_count(&self, experiments: &[Experiment]) -> usize {
        experiments.iter().map(|e| self.trials_of(e)).sum()
    }

    fn trials_of(&self, experiment: &Experiment) -> usize {
        let stacks = self.options.stacks.len();
        experiment
            .units
            .iter()
            .map(|u| match u.load {
                Load::ColdStart => stacks * self.profile.cold_starts as usize,
                _ => stacks * self.profile.reps as usize,
            })
            .sum()
    }

    /// Roughly how long the plan takes.
    pub fn estimate(&self, experiments: &[Experiment]) -> Duration {
        let p = self.profile;
        let mut total = Duration::ZERO;
        for e in experiments {
            for u in &e.units {
                let per_trial = match &u.load {
                    Load::ColdStart => Duration::from_millis(1500),
                    Load::RateSteps { rates, step, .. } => *step * rates.len() as u32 + p.trial_warmup,
                    Load::Mixed { .. } => p.trial + p.trial_warmup + Duration::from_millis(300),
                    _ => p.trial + p.trial_warmup + Duration::from_millis(100),
                };
                let n = match u.load {
                    Load::ColdStart => p.cold_starts,
                    _ => p.reps,
                } * self.options.stacks.len() as u32;
                total += per_trial * n;
            }
            total += (p.stack_warmup + Duration::from_secs(1)) * e.instances(&self.options.stacks).len() as u32;
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
            self.lab.retain(&experiment.instances(&self.options.stacks));
            for unit in &experiment.units {
                let reps = match unit.load {
                    Load::ColdStart => self.profile.cold_starts,
                    _ => self.profile.reps,
                };
                for trial in 1..=reps {
                    // A B, B A, A B …: neither stack always goes first.
                    let mut order: Vec<&String> = self.options.stacks.iter().collect();
                    if trial % 2 == 0 {
                        order.reverse();
                    }
                    for stack in order {
                        if self.lab.interrupted() {
                            break;
                        }
                        index += 1;
                        (self.progress)(Progress::Trial {
                            index,
                            experiment: experiment.id.clone(),
                            stack: stack.clone(),
                            label: unit.label.clone(),
                            trial,
                            length: self.profile.trial,
                        });
                        for m in self.trial(experiment, unit, stack, trial) {
                            (self.sink)(&m);
                            result.measurements.push(m);
                        }
                    }
                }
            }
            results.push(result);
        }
        self.lab.retain(&[]);
        results
    }

    /// One trial; a second measurement follows when the speed canary moved too much.
    fn trial(&mut self, experiment: &Experiment, unit: &Unit, stack: &str, trial: u32) -> Vec<Measurement> {
        let mut out = Vec::new();
        for attempt in 0..2 {
            let mut m = self.measure_once(experiment, unit, stack, trial);
            if attempt == 1 {
                m.id.push_str("/repeat");
            }
            let drift = match (m.canary_before_ms, m.canary_after_ms) {
                (Some(before), Some(after)) if before > 0.0 => (after / before - 1.0).abs(),
                _ => 0.0,
            };
            let drifted = drift > self.options.method.canary_max_drift && m.valid;
            if drifted {
                m.scalars.insert(Scalar::CanaryDrift, drift);
                if attempt == 0 {
                    m.valid = false;
                    m.invalid_reasons.push(format!(
                        "the machine's speed moved {:.0}% during the trial (speed canary): repeated",
                        drift * 100.0
                    ));
                } else {
                    (self.progress)(Progress::Note(format!(
                        "{}: the speed canary moved {:.0}% again; kept the repeat",
                        m.id,
                        drift * 100.0
                    )));
                }
            }
            out.push(m);
            if !drifted || attempt == 1 || self.lab.interrupted() {
                break;
            }
        }
        out
    }

    fn measure_once(&mut self, experiment: &Experiment, unit: &Unit, stack: &str, trial: u32) -> Measurement {
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
                check_validity(&mut m, self.options.method.max_error_ratio);
                (m.app_cpu_resolution_s, m.generator_side_busy) =
                    (measured.app_cpu_resolution_s, measured.generator_side_busy);
                (m.app_core_contention, m.steal, m.upstream_late) =
                    (measured.app_core_contention, measured.steal, measured.upstream_late);
                m.valid &= measured.machine_faults.is_empty();
                m.invalid_reasons.extend(measured.machine_faults);
            }
            Err(failure) => {
                m.valid = false;
                m.invalid_reasons.push(failure.message.clone());
                m.app_stderr_tail = failure.stderr_tail;
                (self.progress)(Progress::Note(format!("{}: {}", m.id, failure.message)));
            }
        }
        m
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
        m.scalars.insert(Scalar::P99OverheadMs, load.latency.p99_us / 1000.0 - delay);
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

fn check_validity(m: &mut Measurement, max_error_ratio: f64) {
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
    let ratio = error_ratio(load);
    if ratio > max_error_ratio {
        m.valid = false;
        let classes: Vec<String> =
            load.errors.iter().filter(|(_, n)| **n > 0).map(|(k, n)| format!("{k} {n}")).collect();
        m.invalid_reasons.push(format!(
            "{:.1}% of requests failed ({}), above the {:.1}% limit",
            ratio * 100.0,
            classes.join(", "),
            max_error_ratio * 100.0
        ));
    }
    if load.cancelled {
        m.valid = false;
        m.invalid_reasons.push("the trial was interrupted before its end".into());
    }
    if load.responses == 0 && m.valid {
        m.valid = false;
        m.invalid_reasons.push("no response arrived during the trial".into());
    }
}
