//! One run from start to result: spawn the workers, watch them, add up what they recorded.
//!
//! `run` blocks the calling thread. It splits the plan between worker threads (each with its own
//! pacer share and connections), stops them when the caller's [`Cancel`] fires, reports progress
//! from the calling thread, and joins every thread before returning, so nothing of a run
//! outlives it. The numbers come from `collector`, the saturation verdict from `selfcheck`.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use claimbench_model::load::{self as model, LoadResult, SelfCheck};

use crate::cancel::Cancel;
use crate::collector::{assemble, fill_totals};
use crate::error::EngineError;
use crate::histogram::summarize;
use crate::pacer::Pacer;
use crate::plan::{Mode, PhaseKind, Plan, Protocol, RuntimeChoice, WsOptions};
use crate::selfcheck::{allowed_cpus, cpu_list, judge};
use crate::worker::{self, StartLine, StopSignal, WorkerProgress, WorkerSpec};

/// How often the calling thread looks at the workers and the cancel token.
const POLL: Duration = Duration::from_millis(20);
/// How often a `Tick` progress event is sent.
const TICK: Duration = Duration::from_secs(1);

/// What a run reports while it goes, on the calling thread.
#[derive(Debug, Clone, PartialEq)]
pub enum ProgressEvent {
    /// A phase began: `warmup`, `measure`, or `step N at R req/s`.
    PhaseStarted { name: String, duration: Option<Duration> },
    /// About once a second: requests finished and failed so far, warm-up included.
    Tick { elapsed: Duration, requests: u64, errors: u64 },
    /// The cancel token fired; requests in flight are finishing.
    Stopping,
}

/// Runs a plan to its end (or until `cancel` fires) and returns what it measured.
pub fn run(plan: &Plan, cancel: &Cancel, progress: &dyn Fn(ProgressEvent)) -> Result<LoadResult, EngineError> {
    let validated = plan.validate()?;
    let threads = plan.threads();
    let pin = match plan.runtime {
        RuntimeChoice::Pinned { core } => {
            let allowed = allowed_cpus();
            if !allowed.contains(&core) {
                return Err(EngineError::CoreUnavailable { core, allowed: cpu_list(&allowed) });
            }
            Some(core)
        }
        RuntimeChoice::Threads { .. } => None,
    };
    let phases = &validated.phases;
    let stop = Arc::new(StopSignal::default());
    let start = StartLine::new(threads);
    let counters: Vec<Arc<WorkerProgress>> = (0..threads).map(|_| Arc::default()).collect();
    let connections = plan.connections();

    let mut stopping = false;
    let mut wall_at_t0 = None;
    let outputs = thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|index| {
                let pacer = match &plan.mode {
                    Mode::OpenLoop { poisson_seed, .. } => {
                        Pacer::open(phases.clone(), *poisson_seed, index, threads, plan.max_requests)
                    }
                    Mode::ClosedLoop { think_time, .. } => {
                        Pacer::closed(phases.clone(), *think_time, index, threads, plan.max_requests)
                    }
                };
                let spec = WorkerSpec {
                    connections: connections / threads + usize::from(index < connections % threads),
                    pacer,
                    pin,
                    phases,
                    templates: &validated.templates,
                    addr: plan.target.addr,
                    protocol: plan.protocol,
                    authority: &plan.target.authority,
                    path: &plan.target.path,
                    timeout: plan.timeout,
                    interval: plan.interval,
                    validate_every: plan.validate_every,
                    start: &start,
                    stop: stop.clone(),
                    progress: counters[index].clone(),
                };
                let spawned = thread::Builder::new()
                    .name(format!("claimbench-load-{index}"))
                    .spawn_scoped(scope, move || worker::run(spec));
                if spawned.is_err() {
                    // The workers already waiting at the start line would wait forever.
                    stop.stop();
                    start.abandon();
                }
                spawned.map_err(|source| EngineError::Runtime { what: "worker thread", source })
            })
            .collect();

        let mut announced = 0;
        let mut next_tick = TICK;
        while handles.iter().any(|h| h.as_ref().is_ok_and(|h| !h.is_finished())) {
            thread::sleep(POLL);
            if !stopping && cancel.is_cancelled() {
                stopping = true;
                stop.stop();
                progress(ProgressEvent::Stopping);
            }
            let Some(t0) = start.t0() else { continue };
            if wall_at_t0.is_none() {
                wall_at_t0 = Some(SystemTime::now() - t0.elapsed());
            }
            let elapsed = t0.elapsed();
            while !stopping && announced < phases.len() && phases[announced].start <= elapsed {
                let p = &phases[announced];
                let name = match (p.kind, p.rate) {
                    (PhaseKind::Warmup, _) => "warmup".to_string(),
                    (PhaseKind::Measure { step }, Some(rate)) if validated.stepped => {
                        format!("step {} at {rate} req/s", step + 1)
                    }
                    (PhaseKind::Measure { .. }, _) => "measure".to_string(),
                };
                progress(ProgressEvent::PhaseStarted { name, duration: p.end.map(|e| e - p.start) });
                announced += 1;
            }
            if elapsed >= next_tick {
                next_tick = elapsed + TICK;
                progress(ProgressEvent::Tick {
                    elapsed,
                    requests: counters.iter().map(|c| c.requests.load(Ordering::Relaxed)).sum(),
                    errors: counters.iter().map(|c| c.errors.load(Ordering::Relaxed)).sum(),
                });
            }
        }
        handles
            .into_iter()
            .map(|h| match h?.join() {
                Ok(output) => output,
                Err(panic) => Err(EngineError::WorkerPanicked(panic_message(&panic))),
            })
            .collect::<Result<Vec<_>, _>>()
    })?;

    let cancelled = stopping;
    let open_loop = matches!(plan.mode, Mode::OpenLoop { .. });
    let cpu: Duration = outputs.iter().map(|o| o.cpu).sum();
    let wall: Duration = outputs.iter().map(|o| o.wall).sum();
    let mut allowed: Vec<usize> = outputs.iter().flat_map(|o| o.allowed_cpus.iter().copied()).collect();
    allowed.sort_unstable();
    allowed.dedup();
    let collectors = outputs.into_iter().map(|o| o.collector).collect();
    let assembled = assemble(collectors, phases, plan.interval, cancelled);

    let cores = threads as u32;
    let cpu_fraction = if wall.is_zero() { 0.0 } else { cpu.as_secs_f64() / wall.as_secs_f64() };
    let send_lag_p99_us = open_loop
        .then(|| assembled.totals.send_lag.value_at_quantile(0.99) as f64)
        .filter(|_| !assembled.totals.send_lag.is_empty());
    let warnings = judge(cpu_fraction, cores, send_lag_p99_us);
    let measure_offset = phases.iter().find(|p| p.kind != PhaseKind::Warmup).map_or(Duration::ZERO, |p| p.start);
    let started = wall_at_t0.unwrap_or_else(SystemTime::now) + measure_offset;

    let duration_s = assembled.duration.as_secs_f64();
    let mut result = LoadResult {
        schema_version: model::SCHEMA_VERSION,
        engine_version: format!("claimbench-engine {}", env!("CARGO_PKG_VERSION")),
        started_at_unix_s: started.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64(),
        plan: plan.summary(),
        cancelled,
        duration_s,
        // A broadcast's rate is of messages sent; every member is due each of them.
        target_rate: match plan.protocol {
            Protocol::WebSocket(WsOptions { broadcast: Some(_), .. }) => {
                assembled.target_rate.map(|rate| rate * connections as f64)
            }
            _ => assembled.target_rate,
        },
        achieved_rate: if duration_s > 0.0 { assembled.totals.responses as f64 / duration_s } else { 0.0 },
        requests: 0,
        responses: 0,
        status_counts: Default::default(),
        errors: Default::default(),
        bytes_in: 0,
        bytes_out: 0,
        connections_opened: 0,
        late_sends: 0,
        latency: Default::default(),
        latency_uncorrected: Default::default(),
        latency_with_failures: Default::default(),
        send_lag: None,
        distribution: Vec::new(),
        distribution_uncorrected: Vec::new(),
        intervals: assembled.intervals,
        steps: if validated.stepped { assembled.steps } else { Vec::new() },
        warmup: assembled.warmup,
        generator_saturated: !warnings.is_empty(),
        saturation_reasons: warnings.iter().map(ToString::to_string).collect(),
        self_check: SelfCheck {
            cpu_s: cpu.as_secs_f64(),
            wall_s: wall.as_secs_f64() / f64::from(cores.max(1)),
            cores,
            cpu_fraction,
            allowed_cpus: allowed,
            send_lag_p99_us,
        },
        histograms: model::EncodedHistograms { corrected: String::new(), uncorrected: String::new(), send_lag: None },
        websocket: match plan.protocol {
            Protocol::WebSocket(ws) => Some(assembled.ws.summary(&ws, connections)),
            Protocol::Http | Protocol::Sse => None,
        },
        sse: (plan.protocol == Protocol::Sse).then(|| assembled.ws.sse_summary(connections)),
        connect: match plan.protocol {
            Protocol::Http | Protocol::Sse if !assembled.ws.connect.is_empty() => {
                Some(summarize(&assembled.ws.connect))
            }
            _ => None,
        },
        first_byte: (plan.protocol == Protocol::Http && !assembled.totals.first_byte.is_empty())
            .then(|| summarize(&assembled.totals.first_byte)),
        chunk_gaps: (plan.protocol == Protocol::Http && !assembled.totals.chunk_gaps.is_empty())
            .then(|| summarize(&assembled.totals.chunk_gaps)),
    };
    fill_totals(&mut result, &assembled.totals, open_loop, plan.timeout);
    Ok(result)
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}
