//! A scripted [`Lab`]: a test seam that measures nothing and answers every trial with numbers
//! worked out from a script, so whole runs (the [`Runner`](crate::Runner), [`assemble`](crate::assemble),
//! the verdicts, the report) can be tested and their fixtures generated without a process or a
//! socket.
//!
//! Each stack gets a throughput, a median latency and a cold start. Trials carry a small
//! deterministic wobble (±2% in a cycle of five calls: on the rate of a stack marked `wobbles_rate`,
//! on the latency otherwise), so intervals have a width and the same script always gives the same
//! results. A request to `/io/sleep?ms=N` takes its N ms on top. An open-loop step with Poisson arrivals (the SLO search's) holds up to the stack's
//! rate: above it the stack answers only its rate, with a p99 of ten seconds, so a search finds
//! each stack's scripted capacity. A broadcast room's step holds up to the stack's rate in members. A stack can be scripted to fail at startup, the speed canary to jump at one reading,
//! and the run to be interrupted after some trials. The real lab lives in the CLI.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use claimbench_model::load::{LatencySummary, LoadResult};
use claimbench_model::run::{Method, Scalar};

use crate::runner::{Lab, LabFailure, Measured};
use crate::{Instance, Load};

/// How one stack behaves in a [`ScriptedLab`].
#[derive(Debug, Clone, PartialEq)]
pub struct StackScript {
    /// Requests per second a trial achieves.
    pub rate: f64,
    /// Median latency of a trial; p99 is three times it.
    pub p50_ms: f64,
    /// Time to the first 200 of a fresh process.
    pub cold_start_ms: f64,
    /// The wobble goes on the rate (true) or on the latency (false).
    pub wobbles_rate: bool,
}

/// A [`Lab`] that answers from a script; see the module documentation.
#[derive(Debug, Clone)]
pub struct ScriptedLab {
    template: LoadResult,
    stacks: BTreeMap<String, StackScript>,
    broken: Option<(String, LabFailure)>,
    canary_jump: Option<(u32, f64)>,
    stop_after: Option<u32>,
    calls: u32,
    canary_calls: u32,
    /// The instances started and not stopped since, so `ensure` can say when it starts one.
    running: BTreeSet<Instance>,
}

impl ScriptedLab {
    /// A lab whose load results are `template` reshaped per trial (rate, counts, latencies);
    /// stacks not scripted with [`ScriptedLab::stack`] answer like a 1000 req/s, 3 ms stack.
    pub fn new(template: LoadResult) -> ScriptedLab {
        ScriptedLab {
            template,
            stacks: BTreeMap::new(),
            broken: None,
            canary_jump: None,
            stop_after: None,
            calls: 0,
            canary_calls: 0,
            running: BTreeSet::new(),
        }
    }

    /// The tests' and fixtures' usual script: express has 1.5× fastapi's throughput with two
    /// thirds of its latency and a seventh of its cold start, and the canary's fourth reading
    /// jumps to 2 ms, so one trial is flagged and repeated.
    pub fn express_vs_fastapi(template: LoadResult) -> ScriptedLab {
        ScriptedLab::new(template)
            .stack("express", StackScript { rate: 1500.0, p50_ms: 2.0, cold_start_ms: 120.0, wobbles_rate: true })
            .stack("fastapi", StackScript { rate: 1000.0, p50_ms: 3.0, cold_start_ms: 900.0, wobbles_rate: false })
            .canary_jump(4, 2.0)
    }

    /// Scripts how `name` behaves.
    pub fn stack(mut self, name: &str, script: StackScript) -> ScriptedLab {
        self.stacks.insert(name.to_string(), script);
        self
    }

    /// `name` never starts: every `ensure` fails with `message` and the app's `stderr_tail`.
    pub fn broken(mut self, name: &str, message: &str, stderr_tail: &str) -> ScriptedLab {
        let failure = LabFailure { message: message.to_string(), stderr_tail: Some(stderr_tail.to_string()) };
        self.broken = Some((name.to_string(), failure));
        self
    }

    /// The `reading`-th canary reading (from 1) is `ms` instead of 1 ms.
    pub fn canary_jump(mut self, reading: u32, ms: f64) -> ScriptedLab {
        self.canary_jump = Some((reading, ms));
        self
    }

    /// The lab reports an interruption once it has measured `trials` trials.
    pub fn stop_after(mut self, trials: u32) -> ScriptedLab {
        self.stop_after = Some(trials);
        self
    }

    /// How many trials (loads and cold starts) the lab has measured.
    pub fn calls(&self) -> u32 {
        self.calls
    }

    fn script(&self, stack: &str) -> StackScript {
        self.stacks.get(stack).cloned().unwrap_or(StackScript {
            rate: 1000.0,
            p50_ms: 3.0,
            cold_start_ms: 900.0,
            wobbles_rate: false,
        })
    }

    /// The template reshaped to `rate` req/s of 200s, one second long, with median `p50_ms`.
    fn load_result(&self, rate: f64, p50_ms: f64) -> LoadResult {
        let mut load = self.template.clone();
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
        load.latency_with_failures = load.latency;
        // Connections open in a fifth of a millisecond on loopback, for every stack alike.
        load.connect = Some(LatencySummary {
            min_us: 50.0,
            mean_us: 110.0,
            max_us: 300.0,
            p50_us: 100.0,
            p75_us: 120.0,
            p90_us: 150.0,
            p99_us: 200.0,
            p999_us: 250.0,
            p9999_us: 300.0,
            ..load.latency
        });
        load
    }
}

/// The method scripted runs are judged by: the default thresholds, one-second trials, no warm-up.
pub fn method() -> Method {
    Method {
        noise_threshold: 0.05,
        confidence: 0.95,
        slo_p99_ms: 100.0,
        room_p99_ms: claimbench_model::run::DEFAULT_ROOM_P99_MS,
        max_error_ratio: 0.01,
        canary_max_drift: 0.05,
        warmup_s: 0.0,
        trial_s: 1.0,
        priming_s: 0.0,
        seed: 1,
        primary_only: false,
    }
}

impl Lab for ScriptedLab {
    fn retain(&mut self, keep: &[Instance]) {
        self.running.retain(|i| keep.contains(i));
    }

    fn restart(&mut self, instance: &Instance) {
        self.running.remove(instance);
    }

    fn ensure(&mut self, instance: &Instance) -> Result<bool, LabFailure> {
        match &self.broken {
            Some((stack, failure)) if *stack == instance.stack => Err(failure.clone()),
            _ => Ok(self.running.insert(instance.clone())),
        }
    }

    fn measure(
        &mut self,
        instance: &Instance,
        load: &Load,
        _trial: Duration,
        _warmup: Duration,
    ) -> Result<Measured, LabFailure> {
        self.calls += 1;
        let wobble = 1.0 + 0.02 * ((self.calls % 5) as f64 - 2.0);
        let s = self.script(&instance.stack);
        let (rate, p50) = if s.wobbles_rate { (s.rate * wobble, s.p50_ms) } else { (s.rate, s.p50_ms * wobble) };
        let mut result = self.load_result(rate, p50);
        // A sleeping endpoint's own delay comes on top, as it would in a real app.
        let delay_ms = match load {
            Load::Closed { request, .. } | Load::Open { request, .. } => {
                request.path.strip_prefix("/io/sleep?ms=").and_then(|ms| ms.parse::<f64>().ok())
            }
            _ => None,
        };
        if let Some(delay) = delay_ms {
            result.latency.p50_us += delay * 1000.0;
            result.latency.p99_us += delay * 1000.0;
            result.latency_with_failures = result.latency;
        }
        if let Load::Open { request, rate: offered, connections, poisson_seed: Some(_) } = load {
            // A room step holds up to the stack's rate in members, and delivers every message to
            // every member; a rate step holds up to its rate.
            let room = request.websocket.is_some_and(|ws| ws.broadcast_senders.is_some());
            let (held, answered) = if room {
                (f64::from(*connections) <= s.rate, offered * f64::from(*connections))
            } else {
                (*offered <= s.rate, *offered)
            };
            if held {
                result = self.load_result(answered, p50);
            } else {
                result.latency.p99_us = 10e6;
                result.latency_with_failures = result.latency;
            }
        }
        // A download's first byte comes at a fifth of its latency, and its pieces a twentieth
        // apart at worst, as the engine records them for streams only.
        if load.requests().iter().any(|r| r.path.starts_with("/stream/download")) {
            let scaled = |by: f64| LatencySummary {
                min_us: result.latency.min_us * by,
                mean_us: result.latency.mean_us * by,
                stdev_us: result.latency.stdev_us * by,
                max_us: result.latency.max_us * by,
                p50_us: result.latency.p50_us * by,
                p75_us: result.latency.p75_us * by,
                p90_us: result.latency.p90_us * by,
                p99_us: result.latency.p99_us * by,
                p999_us: result.latency.p999_us * by,
                p9999_us: result.latency.p9999_us * by,
                ..result.latency
            };
            (result.first_byte, result.chunk_gaps) = (Some(scaled(0.2)), Some(scaled(0.05)));
        }
        // A database endpoint costs the database the same CPU per answer on every stack.
        let database = match load {
            Load::Closed { request, .. } | Load::Open { request, .. } => {
                claimbench_model::database::work_for_target(&request.path)
            }
            _ => None,
        };
        let scalars = database.map(|_| BTreeMap::from([(Scalar::DatabaseCpuS, rate / 4000.0)])).unwrap_or_default();
        Ok(Measured {
            load: Some(result),
            app_cpu_s: rate / 2000.0,
            app_peak_rss_bytes: 50 << 20,
            scalars,
            ..Measured::default()
        })
    }

    fn cold_start(&mut self, stack: &str, _minimal: bool) -> Result<Measured, LabFailure> {
        self.calls += 1;
        Ok(Measured {
            scalars: BTreeMap::from([
                (Scalar::ColdStartMs, self.script(stack).cold_start_ms),
                (Scalar::IdleRssBytes, 40e6),
            ]),
            ..Measured::default()
        })
    }

    fn canary_ms(&mut self) -> Option<f64> {
        self.canary_calls += 1;
        Some(match self.canary_jump {
            Some((reading, ms)) if reading == self.canary_calls => ms,
            _ => 1.0,
        })
    }

    fn interrupted(&self) -> bool {
        self.stop_after.is_some_and(|n| self.calls >= n)
    }
}
