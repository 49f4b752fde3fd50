//! The real [`Lab`]: apps from the supervisor, load from the engine, the upstream in-process.
//! The suite decides what to run; this file only translates its requests into processes and
//! engine plans.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use claimbench_engine::{Expect, Mode, Plan, RateStep, RequestTemplate, RuntimeChoice, Schedule};
use claimbench_model::load::LoadResult;
use claimbench_model::run::Scalar;
use claimbench_suite::experiments::Request;
use claimbench_suite::{Instance, Lab, LabFailure, Load, Measured};
use claimbench_supervisor::{shutdown, RunningStack, StackConfig, Supervisor, SupervisorError, Upstream};

use crate::lab::CoreSplit;

/// Supervisor + engine + upstream.
pub struct RealLab {
    supervisor: Supervisor,
    upstream: Upstream,
    split: CoreSplit,
    stack_warmup: Duration,
    running: BTreeMap<Instance, RunningStack>,
    bodies: HashMap<String, Bytes>,
}

fn failure(e: impl std::fmt::Display) -> LabFailure {
    LabFailure { message: e.to_string(), stderr_tail: None }
}

fn app_failure(e: SupervisorError) -> LabFailure {
    let tail = match &e {
        SupervisorError::Died { tail, .. }
        | SupervisorError::ExitedAtStartup { tail, .. }
        | SupervisorError::NotReady { tail, .. } => Some(tail.0.clone()),
        _ => None,
    };
    // The tail travels separately; keep the message to its first line.
    let message = e.to_string().lines().next().unwrap_or_default().trim_end_matches(';').to_string();
    LabFailure { message, stderr_tail: tail }
}

impl RealLab {
    pub fn new(supervisor: Supervisor, upstream: Upstream, split: CoreSplit, stack_warmup: Duration) -> RealLab {
        RealLab { supervisor, upstream, split, stack_warmup, running: BTreeMap::new(), bodies: HashMap::new() }
    }

    fn config(&self, instance: &Instance) -> StackConfig {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        StackConfig {
            workers: instance.workers,
            cpus: Some(if instance.wide { (0..cores).collect() } else { self.split.app.clone() }),
            upstream_url: Some(self.upstream.url()),
            ..StackConfig::new(&instance.stack)
        }
    }

    fn body(&mut self, file: &str) -> Result<Bytes, LabFailure> {
        if let Some(body) = self.bodies.get(file) {
            return Ok(body.clone());
        }
        let path: PathBuf = self.supervisor.root().join(file);
        let bytes =
            std::fs::read(&path).map_err(|e| failure(format!("reading the request body {}: {e}", path.display())))?;
        let bytes = Bytes::from(bytes);
        self.bodies.insert(file.to_string(), bytes.clone());
        Ok(bytes)
    }

    fn template(&mut self, request: &Request) -> Result<RequestTemplate, LabFailure> {
        let mut template = RequestTemplate::get(&request.path);
        template.method = request.method.clone();
        if let Some(file) = &request.body_file {
            template.body = self.body(file)?;
            template.headers.push(("content-type".into(), "application/json".into()));
        }
        template.expect = Some(Expect { status: Some(200), body: None });
        Ok(template)
    }

    fn plan(&mut self, url: &str, load: &Load, trial: Duration, warmup: Duration) -> Result<Plan, LabFailure> {
        let open = |schedule, connections: &u32| Mode::OpenLoop {
            schedule,
            poisson_seed: None,
            connections: *connections as usize,
        };
        let (request, mode) = match load {
            Load::Closed { request, connections } => (
                request,
                Mode::ClosedLoop {
                    connections: *connections as usize,
                    think_time: Duration::ZERO,
                    duration: Some(trial),
                },
            ),
            Load::Open { request, rate, connections } => {
                (request, open(Schedule::Constant { rate: *rate, duration: Some(trial) }, connections))
            }
            Load::RateSteps { request, rates, step, connections } => {
                let steps = rates.iter().map(|&rate| RateStep { rate, duration: *step }).collect();
                (request, open(Schedule::Stepped(steps), connections))
            }
            Load::Mixed { .. } | Load::ColdStart => return Err(failure("internal: this load has no single plan")),
        };
        let mut plan = Plan::new(url, mode).map_err(failure)?;
        plan.templates = vec![self.template(request)?];
        plan.warmup = warmup;
        plan.timeout = Duration::from_secs(10);
        plan.validate_every = 50;
        plan.runtime = RuntimeChoice::Pinned { core: self.split.generator[0] };
        Ok(plan)
    }

    fn run_plan(plan: &Plan, cancel: &AtomicBool) -> Result<LoadResult, LabFailure> {
        claimbench_engine::run(plan, cancel, &|_| {}).map_err(failure)
    }
}

impl Lab for RealLab {
    fn retain(&mut self, keep: &[Instance]) {
        self.running.retain(|instance, _| keep.contains(instance));
    }

    fn ensure(&mut self, instance: &Instance) -> Result<(), LabFailure> {
        if let Some(stack) = self.running.get(instance) {
            match stack.check_alive() {
                Ok(()) => return Ok(()),
                Err(_) => {
                    self.running.remove(instance);
                }
            }
        }
        let stack = self.supervisor.start(&self.config(instance)).map_err(app_failure)?;
        // Warm up (V8's JIT, Python's caches) on the cheapest endpoint before any trial.
        let url = format!("{}/json", stack.url());
        let warm = Load::Closed {
            request: Request { method: "GET".into(), path: "/json".into(), body_file: None },
            connections: 8,
        };
        let plan = self.plan(&url, &warm, self.stack_warmup, Duration::ZERO)?;
        self.running.insert(instance.clone(), stack);
        Self::run_plan(&plan, shutdown::flag())?;
        Ok(())
    }

    fn measure(
        &mut self,
        instance: &Instance,
        load: &Load,
        trial: Duration,
        warmup: Duration,
    ) -> Result<Measured, LabFailure> {
        let url = self
            .running
            .get(instance)
            .map(|s| s.url().to_string())
            .ok_or_else(|| failure("internal: instance not started"))?;
        let (probe, background) = match load {
            Load::Mixed { probe, background } => (probe.as_ref(), Some(background.as_ref())),
            other => (other, None),
        };
        let probe_plan = self.plan(&url, probe, trial, warmup)?;
        let background_plan = match background {
            // The background runs a little longer than the probe on both ends, and is stopped.
            Some(bg) => Some(self.plan(&url, bg, trial + warmup + Duration::from_secs(5), Duration::ZERO)?),
            None => None,
        };
        let stack = &self.running[instance];
        let before = stack.sample_now();
        let window_start = before.t_s;
        let started = Instant::now();
        let stop_background = AtomicBool::new(false);
        let result = std::thread::scope(|scope| {
            let handle = background_plan.as_ref().map(|plan| {
                let stop = &stop_background;
                scope.spawn(move || {
                    let either = AtomicBool::new(false);
                    // Stop on the user's Ctrl-C or when the probe is done.
                    std::thread::scope(|inner| {
                        inner.spawn(|| {
                            while !stop.load(Ordering::Relaxed) && !shutdown::interrupted() {
                                std::thread::sleep(Duration::from_millis(10));
                            }
                            either.store(true, Ordering::Relaxed);
                        });
                        Self::run_plan(plan, &either)
                    })
                })
            });
            if handle.is_some() {
                // Let the background load reach its steady state before probing.
                std::thread::sleep(Duration::from_millis(300));
            }
            let probe_result = Self::run_plan(&probe_plan, shutdown::flag());
            stop_background.store(true, Ordering::Relaxed);
            let background_result =
                handle.map(|h| h.join().unwrap_or_else(|_| Err(failure("the background load panicked"))));
            (probe_result, background_result)
        });
        let stack = &self.running[instance];
        let after = stack.sample_now();
        stack.check_alive().map_err(app_failure)?;
        let (probe_result, background_result) = result;
        let load_result = probe_result?;
        let peak = stack
            .samples()
            .iter()
            .filter(|s| s.t_s >= window_start)
            .map(|s| s.rss_bytes)
            .chain([before.rss_bytes, after.rss_bytes])
            .max()
            .unwrap_or(0);
        let mut scalars = BTreeMap::new();
        if let Some(bg) = background_result {
            let bg = bg?;
            scalars.insert(Scalar::BackgroundRate, bg.achieved_rate);
            scalars.insert(Scalar::BackgroundP99Ms, bg.latency.p99_us / 1000.0);
        }
        scalars.insert(Scalar::WallS, started.elapsed().as_secs_f64());
        Ok(Measured {
            load: Some(load_result),
            app_cpu_s: (after.user_s + after.sys_s) - (before.user_s + before.sys_s),
            app_peak_rss_bytes: peak,
            app_rss_before_bytes: before.rss_bytes,
            scalars,
        })
    }

    fn cold_start(&mut self, stack: &str) -> Result<Measured, LabFailure> {
        let instance = Instance { stack: stack.to_string(), workers: 1, wide: false };
        let running = self.supervisor.start(&self.config(&instance)).map_err(app_failure)?;
        // Idle RSS once start-up allocations have settled.
        std::thread::sleep(Duration::from_millis(300));
        let idle = running.sample_now();
        let mut scalars = BTreeMap::new();
        scalars.insert(Scalar::ColdStartMs, running.cold_start().as_secs_f64() * 1000.0);
        scalars.insert(Scalar::IdleRssBytes, idle.rss_bytes as f64);
        running.stop();
        Ok(Measured {
            app_peak_rss_bytes: idle.rss_bytes,
            app_cpu_s: idle.user_s + idle.sys_s,
            scalars,
            ..Measured::default()
        })
    }

    fn canary_ms(&mut self) -> Option<f64> {
        canary_on(&self.split.app)
    }

    fn interrupted(&self) -> bool {
        shutdown::interrupted()
    }
}

/// Times a fixed integer workload on `cpus` (this thread is moved there and back).
pub fn canary_on(cpus: &[usize]) -> Option<f64> {
    // SAFETY: cpu_set_t is plain data; the affinity calls act on this thread only, and the
    // original mask is restored before returning.
    unsafe {
        let size = std::mem::size_of::<libc::cpu_set_t>();
        let mut original: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, size, &mut original) != 0 {
            return None;
        }
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &cpu in cpus {
            libc::CPU_SET(cpu, &mut set);
        }
        let pinned = libc::sched_setaffinity(0, size, &set) == 0;
        // The fastest of several short runs: a run that was preempted says nothing about the
        // machine's speed, only about who else was on the core at that moment.
        let mut best = f64::INFINITY;
        for _ in 0..7 {
            let started = Instant::now();
            let mut x: u64 = std::hint::black_box(0x9E37_79B9_7F4A_7C15);
            for _ in 0..300_000u32 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
            }
            std::hint::black_box(x);
            best = best.min(started.elapsed().as_secs_f64() * 1000.0);
        }
        let ms = best;
        if pinned {
            libc::sched_setaffinity(0, size, &original);
        }
        Some(ms)
    }
}
