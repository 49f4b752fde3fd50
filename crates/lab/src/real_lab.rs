//! The real [`Lab`]: apps from the supervisor, load from the engine, the upstream in-process.
//! The suite decides what to run; this file only translates its requests into processes and
//! engine plans. Ctrl-C reaches it as the [`Cancel`] token it was given; a background load runs
//! on a child token, so "the probe is done" stops it without stopping the run.
//!
//! Each measurement reads the machine at the edges of the probe's measured window (the engine's
//! first measuring phase to the probe's end): the app tree's CPU time from schedstat, every CPU's
//! busy time from `/proc/stat`, and the upstream's late answers. The judgments on them are
//! `claimbench_platform::cpuload`'s and [`upstream_late`]; the runner copies the faults found
//! into the measurement's invalid reasons.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use claimbench_engine::{
    Cancel, Mode, Plan, ProgressEvent, Protocol, RequestTemplate, RuntimeChoice, Schedule, WsOptions,
};
use claimbench_model::contract::Contract;
use claimbench_model::database::{judge_world_snapshot, work_for_target, DbCounters};
use claimbench_model::load::LoadResult;
use claimbench_model::run::{Scalar, UpstreamLate};
use claimbench_platform::cpuload::{self, ProcessCpu};
use claimbench_platform::procfs::{self, CpuTimes, ThreadRun};
use claimbench_platform::PinGuard;
use claimbench_suite::experiments::{Request, SloSearch, WsRequest, BACKGROUND_LEAD};
use claimbench_suite::{Instance, Lab, LabFailure, Load, Measured};
use claimbench_supervisor::{
    base_stack, group_cpu, group_pss, Database, GroupCpu, RunningStack, StackConfig, Supervisor, SupervisorError,
};
use claimbench_upstream::{Upstream, LATE_MARGIN};

use crate::{expected, Topology};

/// Told how far the current measurement is, about once a second (time since its load began).
pub type TrialProgress = Box<dyn Fn(Duration) + Send + Sync>;

/// Supervisor + engine + upstream + database.
pub struct RealLab {
    supervisor: Supervisor,
    upstream: Upstream,
    database: Database,
    topology: Topology,
    stack_warmup: Duration,
    cancel: Cancel,
    on_progress: Option<TrialProgress>,
    running: BTreeMap<Instance, RunningStack>,
    bodies: HashMap<String, Bytes>,
    /// The endpoint contract, read on first use: every load's responses are checked against it.
    contract: Option<Contract>,
    /// Each running instance's memory at rest once warmed up (PSS, else RSS).
    baselines: BTreeMap<Instance, u64>,
    /// Stacks this lab has spawned so far: a stack's first spawn of the run may read its files
    /// from disk, a later one finds them in the page cache.
    spawned: std::collections::BTreeSet<String>,
    /// Where its clock starts (see [`RealLab::counting_from`]).
    made: Instant,
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
    /// A lab on `topology` that stops measuring once `cancel` fires.
    pub fn new(
        supervisor: Supervisor,
        upstream: Upstream,
        database: Database,
        topology: Topology,
        stack_warmup: Duration,
        cancel: Cancel,
    ) -> RealLab {
        RealLab {
            supervisor,
            upstream,
            database,
            topology,
            stack_warmup,
            cancel,
            on_progress: None,
            running: BTreeMap::new(),
            bodies: HashMap::new(),
            contract: None,
            baselines: BTreeMap::new(),
            spawned: Default::default(),
            made: Instant::now(),
        }
    }

    /// The same lab, its clock counting from `start` (the command's start, so that the profile's
    /// time budget covers the installs and the contract check before the lab was made).
    pub fn counting_from(self, start: Instant) -> RealLab {
        RealLab { made: start, ..self }
    }

    /// The same lab, knowing that `stacks` were spawned before it (by the contract check), so
    /// none of its cold starts counts as their first spawn of the run.
    pub fn spawned_before(mut self, stacks: &[String]) -> RealLab {
        self.spawned.extend(stacks.iter().cloned());
        self
    }

    /// The same lab, telling `on_progress` how far each measurement's probe load is.
    pub fn with_progress(self, on_progress: TrialProgress) -> RealLab {
        RealLab { on_progress: Some(on_progress), ..self }
    }

    fn config(&self, instance: &Instance) -> StackConfig {
        StackConfig {
            workers: instance.workers,
            cpus: Some(if instance.wide { self.topology.app_side.clone() } else { self.topology.app.clone() }),
            upstream_url: Some(self.upstream.url()),
            env: self.database.app_env(),
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

    /// The first `len` bytes of the stream pattern, generated once per length and shared.
    fn pattern(&mut self, len: u64) -> Result<Bytes, LabFailure> {
        let key = format!("pattern:{len}");
        if let Some(body) = self.bodies.get(&key) {
            return Ok(body.clone());
        }
        let bytes = crate::expected::pattern_body(len).map_err(failure)?;
        self.bodies.insert(key, bytes.clone());
        Ok(bytes)
    }

    /// The template of `request` with the contract's expectation for `stack`, and the upstream
    /// calls each successful response costs.
    fn template(&mut self, request: &Request, stack: &str) -> Result<(RequestTemplate, u64), LabFailure> {
        let mut template = RequestTemplate::get(&request.path);
        template.method = request.method.clone();
        if let Some(file) = &request.body_file {
            template.body = self.body(file)?;
            template.headers.push(("content-type".into(), "application/json".into()));
        }
        if let Some(len) = request.body_pattern_bytes {
            template.body = self.pattern(len)?;
            template.headers.push(("content-type".into(), "application/octet-stream".into()));
        }
        if self.contract.is_none() {
            let path = self.supervisor.root().join(CONTRACT);
            self.contract = Some(claimbench_conformance::load_contract(&path).map_err(failure)?);
        }
        let contract = self.contract.as_ref().expect("the contract was just read");
        let expected = expected(contract, self.supervisor.root(), base_stack(stack), request).map_err(failure)?;
        template.expect = Some(expected.expect);
        Ok((template, expected.upstream_calls))
    }

    /// The engine plan of one load on `stack` at `url`, and the upstream calls each successful
    /// response costs.
    fn plan(
        &mut self,
        url: &str,
        stack: &str,
        load: &Load,
        trial: Duration,
        warmup: Duration,
    ) -> Result<(Plan, u64), LabFailure> {
        let (request, mode) = match load {
            Load::Closed { request, connections } => (
                request,
                Mode::ClosedLoop {
                    connections: *connections as usize,
                    think_time: Duration::ZERO,
                    duration: Some(trial),
                },
            ),
            Load::Open { request, rate, connections, poisson_seed } => (
                request,
                Mode::OpenLoop {
                    schedule: Schedule::Constant { rate: *rate, duration: Some(trial) },
                    poisson_seed: *poisson_seed,
                    connections: *connections as usize,
                },
            ),
            Load::Mixed { .. } | Load::SloSearch(_) | Load::ColdStart | Load::ColdStartMinimal => {
                return Err(failure("internal: this load has no single plan"))
            }
        };
        if let Some(ws) = &request.websocket {
            return websocket_plan(url, &request.path, ws, mode, warmup, self.topology.generator[0]);
        }
        if request.sse {
            let mut plan =
                Plan::new(&format!("{}{}", url.trim_end_matches('/'), request.path), mode).map_err(failure)?;
            plan.protocol = Protocol::Sse;
            plan.warmup = warmup;
            plan.timeout = WS_TIMEOUT;
            plan.runtime = RuntimeChoice::Pinned { core: self.topology.generator[0] };
            return Ok((plan, 0));
        }
        let mut plan = Plan::new(url, mode).map_err(failure)?;
        let (template, calls) = self.template(request, stack)?;
        plan.templates = vec![template];
        plan.warmup = warmup;
        plan.timeout = Duration::from_secs(10);
        plan.validate_every = VALIDATE_EVERY;
        plan.runtime = RuntimeChoice::Pinned { core: self.topology.generator[0] };
        Ok((plan, calls))
    }

    fn run_plan(plan: &Plan, cancel: &Cancel) -> Result<LoadResult, LabFailure> {
        claimbench_engine::run(plan, cancel, &|_| {}).map_err(failure)
    }

    /// Runs the probe plan, forwarding the engine's ticks to the progress callback and calling
    /// `measuring` as each measuring phase (not the warm-up) begins.
    fn run_probe(&self, plan: &Plan, measuring: &(dyn Fn() + Sync)) -> Result<LoadResult, LabFailure> {
        let progress = |event: ProgressEvent| match event {
            ProgressEvent::PhaseStarted { name, .. } if name != "warmup" => measuring(),
            ProgressEvent::Tick { elapsed, .. } => {
                if let Some(tell) = &self.on_progress {
                    tell(elapsed);
                }
            }
            _ => {}
        };
        claimbench_engine::run(plan, &self.cancel, &progress).map_err(failure)
    }
}

impl Lab for RealLab {
    fn retain(&mut self, keep: &[Instance]) {
        self.running.retain(|instance, _| keep.contains(instance));
        self.baselines.retain(|instance, _| keep.contains(instance));
    }

    fn restart(&mut self, instance: &Instance) {
        // Dropping the handle stops the app's process group.
        self.running.remove(instance);
        self.baselines.remove(instance);
    }

    fn ensure(&mut self, instance: &Instance) -> Result<bool, LabFailure> {
        if let Some(stack) = self.running.get(instance) {
            match stack.check_alive() {
                Ok(()) => return Ok(false),
                Err(_) => {
                    self.running.remove(instance);
                }
            }
        }
        let stack = self.supervisor.start(&self.config(instance)).map_err(app_failure)?;
        self.spawned.insert(instance.stack.clone());
        // Warm up (V8's JIT, Python's caches) on the cheapest endpoint before any trial.
        let url = format!("{}/json", stack.url());
        let warm = Load::Closed { request: Request::get("/json"), connections: 8 };
        let (plan, _) = self.plan(&url, &instance.stack, &warm, self.stack_warmup, Duration::ZERO)?;
        let pgid = stack.pid();
        self.running.insert(instance.clone(), stack);
        Self::run_plan(&plan, &self.cancel)?;
        if let Some(stack) = self.running.get(instance) {
            self.baselines.insert(instance.clone(), memory_of(pgid, stack.sample_now().rss_bytes));
        }
        Ok(true)
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
        let (probe_plan, probe_calls) = self.plan(&url, &instance.stack, probe, trial, warmup)?;
        let (background_plan, background_calls) = match background {
            // The background runs a little longer than the probe on both ends, and is stopped.
            Some(bg) => {
                let length = trial + warmup + Duration::from_secs(5);
                let (plan, calls) = self.plan(&url, &instance.stack, bg, length, Duration::ZERO)?;
                (Some(plan), calls)
            }
            None => (None, 0),
        };
        // A database endpoint's trial is checked against the database's own counters, from before
        // the probe's warm-up to after its last answer (the closed and open loops both wait for
        // every request they sent, so the engine's counts cover the same requests).
        let db_work = request_target(probe).and_then(|target| work_for_target(&target));
        // A trial that writes is also checked against a snapshot of World: its writes must change
        // about as many rows as random writes would. The snapshot's own SELECT is read before the
        // counters are (and the one after, after), so the counters never count it.
        let world_before = db_work.filter(|w| w.world_updated_rows > 0).map(|_| self.database.world());
        let db_before = db_work.and_then(|_| self.database.counters().ok());
        let db_cpu_before = db_work.and_then(|_| self.database.cpu_seconds());
        let hits_before = self.upstream.delay_requests();
        let stack = &self.running[instance];
        let pgid = stack.pid();
        let before = stack.sample_now();
        let window_start = before.t_s;
        let started = Instant::now();
        let stop_background = self.cancel.child();
        // The measured window opens when the engine announces its first measuring phase (after
        // the warm-up) and closes when the probe returns; the background keeps running meanwhile.
        let opened: Mutex<Option<Mark>> = Mutex::new(None);
        // The database's CPU matters to the window only where it shares the app's CPU; reading it
        // scans every process, so it is read only then.
        let database_on_app = self.topology.database_on_app().then_some(&self.database);
        let result = std::thread::scope(|scope| {
            let handle = background_plan.as_ref().map(|plan| {
                let stop = &stop_background;
                scope.spawn(move || Self::run_plan(plan, stop))
            });
            if handle.is_some() {
                std::thread::sleep(BACKGROUND_LEAD);
            }
            let probe_result = self.run_probe(&probe_plan, &|| {
                let mut opened = opened.lock().unwrap_or_else(|e| e.into_inner());
                if opened.is_none() {
                    *opened = Some(Mark::now(pgid, &self.upstream, database_on_app));
                }
            });
            let closed = Mark::now(pgid, &self.upstream, database_on_app);
            stop_background.cancel();
            let background_result =
                handle.map(|h| h.join().unwrap_or_else(|_| Err(failure("the background load panicked"))));
            (probe_result, background_result, closed)
        });
        let stack = &self.running[instance];
        let after = stack.sample_now();
        stack.check_alive().map_err(app_failure)?;
        let (probe_result, background_result, closed) = result;
        let load_result = probe_result?;
        let opened = opened.into_inner().unwrap_or_else(|e| e.into_inner());
        let peak = stack
            .samples()
            .iter()
            .filter(|s| s.t_s >= window_start)
            .map(|s| s.rss_bytes)
            .chain([before.rss_bytes, after.rss_bytes])
            .max()
            .unwrap_or(0);
        let mut scalars = BTreeMap::new();
        let mut calls = vec![(&load_result, probe_calls)];
        let background_result = background_result.transpose()?;
        if let Some(bg) = &background_result {
            scalars.insert(Scalar::BackgroundRate, bg.achieved_rate);
            scalars.insert(Scalar::BackgroundP99Ms, bg.latency.p99_us / 1000.0);
            calls.push((bg, background_calls));
        }
        let wrong_answers = upstream_hits_wrong(self.upstream.delay_requests().saturating_sub(hits_before), &calls)
            .into_iter()
            .collect();
        scalars.insert(Scalar::WallS, started.elapsed().as_secs_f64());
        if let (Some(before), Some(after)) = (db_cpu_before, self.database.cpu_seconds()) {
            scalars.insert(Scalar::DatabaseCpuS, after - before);
        }
        let loaded = [opened.as_ref().and_then(|o| o.memory), closed.memory].into_iter().flatten().max();
        let mut measured = Measured {
            app_memory_baseline_bytes: self.baselines.get(instance).copied(),
            app_memory_loaded_bytes: Some(loaded.unwrap_or(peak)),
            app_cpu_s: (after.user_s + after.sys_s) - (before.user_s + before.sys_s),
            app_cpu_resolution_s: Some(1.0 / procfs::clock_ticks()),
            app_peak_rss_bytes: peak,
            app_rss_before_bytes: before.rss_bytes,
            scalars,
            wrong_answers,
            ..Measured::default()
        };
        if let Some(opened) = opened {
            judge_window(&self.topology, &mut measured, &opened, &closed, load_result.started_at_unix_s, instance.wide);
        }
        if let Some(work) = db_work {
            // What the counters or the snapshot contradict is the app's wrong answer; what could
            // not be read is the harness's, and makes the trial invalid.
            let mut judged = match db_before {
                Some(before) => judge_counters(&self.database, &before, &work, &load_result),
                None => Err(DbCheck::Unreadable(
                    "the database counters (pg_stat_statements) could not be read before the trial".into(),
                )),
            };
            if let (Ok(()), Some(before)) = (&judged, world_before) {
                judged = judge_snapshot(&self.database, before, &work, &load_result);
            }
            match judged {
                Ok(()) => {}
                Err(DbCheck::Wrong(why)) => measured.wrong_answers.push(why),
                Err(DbCheck::Unreadable(why)) => measured.machine_faults.push(why),
            }
        }
        measured.wrong_answers.extend(load_result.websocket.as_ref().and_then(messages_wrong));
        measured.wrong_answers.extend(load_result.sse.as_ref().and_then(events_wrong));
        measured.load = Some(load_result);
        Ok(measured)
    }

    fn drain(&mut self, instance: &Instance) {
        let Some(stack) = self.running.get(instance) else { return };
        // The engine has waited for every response it still wanted; what the app may still be
        // doing is work for requests the client gave up on. Idle means under 5% of a CPU over
        // 20 ms; a busy app is given up to two seconds.
        let pgid = stack.pid();
        let deadline = Instant::now() + DRAIN_LIMIT;
        let mut last = group_cpu(pgid).cpu_s;
        while Instant::now() < deadline && !self.cancel.is_cancelled() {
            std::thread::sleep(DRAIN_POLL);
            let now = group_cpu(pgid).cpu_s;
            if now - last < 0.05 * DRAIN_POLL.as_secs_f64() {
                return;
            }
            last = now;
        }
    }

    fn cold_start(&mut self, stack: &str, minimal: bool) -> Result<Measured, LabFailure> {
        let instance = Instance { stack: stack.to_string(), workers: 1, wide: false };
        // The page cache is cold for the first spawn of each entry's files.
        let first = self.spawned.insert(format!("{stack}{}", if minimal { " minimal" } else { "" }));
        let config = StackConfig { minimal, ..self.config(&instance) };
        let running = self.supervisor.start(&config).map_err(app_failure)?;
        // Idle RSS once start-up allocations have settled.
        std::thread::sleep(Duration::from_millis(300));
        let idle = running.sample_now();
        let mut scalars = BTreeMap::new();
        scalars.insert(Scalar::ColdStartMs, running.cold_start().as_secs_f64() * 1000.0);
        scalars.insert(Scalar::IdleRssBytes, idle.rss_bytes as f64);
        scalars.insert(Scalar::FirstSpawn, if first { 1.0 } else { 0.0 });
        running.stop();
        Ok(Measured {
            app_peak_rss_bytes: idle.rss_bytes,
            app_cpu_s: idle.user_s + idle.sys_s,
            app_cpu_resolution_s: Some(1.0 / procfs::clock_ticks()),
            scalars,
            ..Measured::default()
        })
    }

    fn canary_ms(&mut self) -> Option<f64> {
        canary_on(&self.topology.app)
    }

    fn settle(&mut self) -> Option<Duration> {
        let cpus: Vec<usize> = self.topology.allowed.clone();
        let started = Instant::now();
        let mut windows = 0u32;
        while started.elapsed() < SETTLE_LIMIT && !self.cancel.is_cancelled() {
            let before = procfs::read_cpu_times();
            std::thread::sleep(SETTLE_WINDOW);
            windows += 1;
            let after = procfs::read_cpu_times();
            let stolen = cpuload::window(&before, &after, &cpus).map_or(0.0, |w| w.steal_fraction());
            if stolen <= cpuload::CONTENTION_MAX {
                break;
            }
        }
        // One quiet window is the check itself, not a wait.
        (windows > 1).then(|| started.elapsed())
    }

    fn clock(&self) -> Option<Duration> {
        Some(self.made.elapsed())
    }

    fn interrupted(&self) -> bool {
        self.cancel.is_cancelled()
    }
}

/// Before a trial is repeated, [`Lab::settle`] reads the hypervisor's steal over the machine's
/// CPUs in windows of this length (`/proc/stat` counts in 10 ms ticks, so a window holds 25 per
/// CPU), until one is at most [`cpuload::CONTENTION_MAX`] stolen, for at most [`SETTLE_LIMIT`].
/// A steal storm on 2026-12-06 took 5-23% of the app's CPU for about 50 s, and the repeats inside
/// it were invalid again: 111 of a quick run's 256 measurements, and one unit of E-io kept 2 of
/// its 6 pairs. Waiting spends that time once instead of on trials that cannot count.
const SETTLE_WINDOW: Duration = Duration::from_millis(250);
const SETTLE_LIMIT: Duration = Duration::from_secs(60);

/// What the sequence numbers of a WebSocket load show against the app: a copy, a reorder within
/// one sender, or a message nobody sent is a wrong answer. (A lost message is a failed request,
/// already counted in the error ratio.)
fn messages_wrong(ws: &claimbench_model::load::WebSocketSummary) -> Option<String> {
    (ws.duplicated + ws.out_of_order + ws.unexpected > 0).then(|| {
        format!(
            "the WebSocket messages came back wrong: {} duplicated, {} out of order, {} that no client sent",
            ws.duplicated, ws.out_of_order, ws.unexpected
        )
    })
}

/// What the ids of an SSE load show against the app: a repeated, reordered or malformed event is
/// a wrong answer. (A lost event is a failed request, already counted in the error ratio.)
fn events_wrong(sse: &claimbench_model::load::SseSummary) -> Option<String> {
    (sse.duplicated + sse.out_of_order + sse.unexpected > 0).then(|| {
        format!(
            "the server-sent events came wrong: {} duplicated, {} out of order, {} not the contract's",
            sse.duplicated, sse.out_of_order, sse.unexpected
        )
    })
}

/// How long a WebSocket message may go unanswered (an echo) or undelivered (a broadcast) before
/// it counts as lost: eight times the broadcast's p99 target, and far above any echo's p99.
const WS_TIMEOUT: Duration = Duration::from_secs(2);

/// The engine plan of a WebSocket load on the stack at `url` (its `http://` address): every
/// connection upgrades on `path`; no upstream calls.
fn websocket_plan(
    url: &str,
    path: &str,
    ws: &WsRequest,
    mode: Mode,
    warmup: Duration,
    core: usize,
) -> Result<(Plan, u64), LabFailure> {
    let base = url.split_once("://").map_or(url, |(_, rest)| rest);
    let base = base.split_once('/').map_or(base, |(authority, _)| authority);
    let mut plan = Plan::new(&format!("ws://{base}{path}"), mode).map_err(failure)?;
    plan.protocol = Protocol::WebSocket(WsOptions {
        in_flight: ws.in_flight as usize,
        message_bytes: ws.message_bytes as usize,
        broadcast: ws.broadcast_senders.map(|s| s as usize),
    });
    plan.warmup = warmup;
    plan.timeout = WS_TIMEOUT;
    plan.runtime = RuntimeChoice::Pinned { core };
    Ok((plan, 0))
}

/// The path and query a load sends, when it sends one kind of request.
fn request_target(load: &Load) -> Option<String> {
    match load {
        Load::Closed { request, .. } | Load::Open { request, .. } | Load::SloSearch(SloSearch { request, .. }) => {
            Some(request.path.clone())
        }
        Load::Mixed { .. } | Load::ColdStart | Load::ColdStartMinimal => None,
    }
}

/// Why a database check of a trial failed.
enum DbCheck {
    /// The database contradicts the answers: the app's wrong answer.
    Wrong(String),
    /// The check could not be made: the harness's fault.
    Unreadable(String),
}

/// The successful answers of a load and every request it sent (warm-ups included): a failed
/// request may or may not have done its database work.
fn answered_and_sent(load: &LoadResult) -> (u64, u64) {
    let warmup = load.warmup.as_ref();
    let answered = load.status_counts.get(&200).copied().unwrap_or(0) + warmup.map_or(0, |w| w.responses);
    let sent = load.requests + warmup.map_or(0, |w| w.requests);
    (answered, sent)
}

/// Checks the database's counters since `before` against the 200s of a load (warm-up included):
/// a shortfall may be a statement still being recorded, so it is re-read a few times first.
fn judge_counters(
    database: &Database,
    before: &DbCounters,
    work: &claimbench_model::database::DbWork,
    load: &LoadResult,
) -> Result<(), DbCheck> {
    let (answered, sent) = answered_and_sent(load);
    let mut verdict = Err(DbCheck::Unreadable(
        "the database counters (pg_stat_statements) could not be read after the trial".to_string(),
    ));
    for _ in 0..20 {
        if let Ok(after) = database.counters() {
            verdict = after.since(before).judge_range(work, answered, sent).map_err(DbCheck::Wrong);
            if verdict.is_ok() {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    verdict
}

/// Checks World after a load that writes against its snapshot from before the load.
fn judge_snapshot(
    database: &Database,
    before: Result<Vec<(i64, i64)>, SupervisorError>,
    work: &claimbench_model::database::DbWork,
    load: &LoadResult,
) -> Result<(), DbCheck> {
    let unreadable = |e: SupervisorError| DbCheck::Unreadable(format!("World could not be read for its snapshot: {e}"));
    let before = before.map_err(unreadable)?;
    let after = database.world().map_err(unreadable)?;
    let (answered, sent) = answered_and_sent(load);
    let per = work.world_updated_rows;
    judge_world_snapshot(&before, &after, answered * per, sent * per).map_err(DbCheck::Wrong)
}

/// The engine checks every this many responses against the contract's expected body.
const VALIDATE_EVERY: u64 = 50;
/// Where the contract lives in the checkout.
const CONTRACT: &str = "fixtures/contract/contract.json";

/// The wrong answer in a trial's upstream hits, if any: `hits` upstream answers were served
/// while `loads` ran, each with the upstream calls one successful response of it costs. Every
/// successful response must have made its calls (fewer hits: a cached or skipped call), and no
/// request makes more than its calls (more hits: calls the responses do not account for).
/// Requests that failed or timed out may or may not have made theirs, and so may a request per
/// connection that was in flight when a load was stopped or had given up.
pub fn upstream_hits_wrong(hits: u64, loads: &[(&LoadResult, u64)]) -> Option<String> {
    let sent = |l: &LoadResult| l.requests + l.warmup.as_ref().map_or(0, |w| w.requests) + l.plan.connections as u64;
    let ok = |l: &LoadResult| {
        let warm = l.warmup.as_ref().map_or(0, |w| w.responses.saturating_sub(w.errors));
        claimbench_suite::runner::ok_responses(l) + warm
    };
    let least: u64 = loads.iter().map(|(l, calls)| ok(l) * calls).sum();
    let most: u64 = loads.iter().map(|(l, calls)| sent(l) * calls).sum();
    if hits < least {
        Some(format!(
            "the upstream served {hits} calls, but the successful responses needed at least {least} (a cached or skipped upstream call?)"
        ))
    } else if hits > most {
        Some(format!("the upstream served {hits} calls, more than the {most} that every request sent could have made"))
    } else {
        None
    }
}

/// How often [`Lab::drain`] reads the app's CPU time, and how long it waits at most.
const DRAIN_POLL: Duration = Duration::from_millis(20);
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

/// Fills the measured window's CPU figures and the machine's faults from its two marks.
/// `measure_started_unix_s` is the engine's own start of the measurement.
fn judge_window(
    topology: &Topology,
    m: &mut Measured,
    opened: &Mark,
    closed: &Mark,
    measure_started_unix_s: f64,
    wide: bool,
) {
    let app_cpu_s = closed.app.cpu_s - opened.app.cpu_s;
    // The engine announces a phase on its next 20 ms poll, so the window opened a little after
    // the measurement did: scale the app's CPU up to the whole measurement, at its mean rate.
    let since_open = closed.unix_s - opened.unix_s;
    let since_start = closed.unix_s - measure_started_unix_s;
    let stretch = if since_open > 0.0 { (since_start / since_open).clamp(1.0, 1.1) } else { 1.0 };
    m.app_cpu_s = app_cpu_s * stretch;
    m.app_cpu_resolution_s = Some(opened.app.resolution_s.max(closed.app.resolution_s));
    if topology.shared() {
        // One CPU for everyone: neither side has cores of its own to judge.
        return;
    }
    // Busy time is what the threads on those CPUs ran by the scheduler's clock; `/proc/stat`'s
    // per-CPU ticks misread bursty short windows here (see `cpuload`), and give only the steal.
    let wall_s = closed.unix_s - opened.unix_s;
    let steal = |cpus: &[usize]| cpuload::window(&opened.cpus, &closed.cpus, cpus).map_or(0.0, |w| w.steal_fraction());
    let own = (opened.own_cpu_ns, closed.own_cpu_ns);
    let generator =
        cpuload::generator_window(&opened.threads, &closed.threads, wall_s, &topology.generator, own_pid(), own);
    let generator_steal = steal(&topology.generator);
    if let Some(w) = generator {
        let busy = w.busy_fraction() + generator_steal;
        m.generator_side_busy = Some(busy);
        m.machine_faults.extend(cpuload::saturated(busy, cpuload::GENERATOR_BUSY_MAX));
    }
    // A multi-worker app runs on the whole app side, never on the generator's CPUs.
    let app_cpus = if wide { &topology.app_side } else { &topology.app };
    // A database on the app's CPU is part of the server measured there, not another process.
    let database_cpu_s = match (opened.database_cpu_s, closed.database_cpu_s) {
        (Some(before), Some(after)) => after - before,
        _ => 0.0,
    };
    if let Some(w) = cpuload::threads_window(&opened.threads, &closed.threads, wall_s, app_cpus, Some(opened.pgid)) {
        let others = w.others_fraction(database_cpu_s);
        let stolen = steal(app_cpus);
        m.app_core_contention = Some(others);
        m.steal = Some(stolen);
        m.machine_faults.extend(cpuload::contended(others, stolen, cpuload::CONTENTION_MAX));
    }
    let late = UpstreamLate {
        late: closed.upstream_late - opened.upstream_late,
        answered: closed.upstream_answered - opened.upstream_answered,
        margin_ms: LATE_MARGIN.as_millis() as u64,
    };
    if late.answered > 0 {
        let side = m.generator_side_busy.map(|busy| (busy, generator_steal));
        if let Some(why) = upstream_late(&late, UPSTREAM_LATE_MAX, side) {
            m.machine_faults.push(why);
        }
        m.upstream_late = Some(late);
    }
}

/// More than this fraction of a window's upstream answers late makes the trial invalid: the same
/// 1% that the error budget allows, so a stray late answer does not throw a trial away.
pub const UPSTREAM_LATE_MAX: f64 = 0.01;

/// Why the upstream counts as late in a window, or `None` when at most `max` of its answers were.
/// `side` is the generator side's busy share and the hypervisor's steal within it: the upstream's
/// thread shares those CPUs with the load generator, so a late answer waited there, for the
/// generator's threads or for a CPU the hypervisor had taken. The figures say which; neither is
/// the app's doing.
pub fn upstream_late(late: &UpstreamLate, max: f64, side: Option<(f64, f64)>) -> Option<String> {
    let fraction = late.late as f64 / late.answered.max(1) as f64;
    (fraction > max).then(|| {
        let cpus = side.map_or_else(String::new, |(busy, steal)| {
            format!(
                ", with the generator side's CPUs {:.0}% busy ({:.1}% of their time taken by the hypervisor)",
                busy * 100.0,
                steal * 100.0
            )
        });
        format!(
            "{} of {} upstream answers ({:.1}%) left more than {} ms after their delay, above {:.0}%{cpus}: \
             the upstream waited for the CPU it shares with the load generator, so the app waited on the harness",
            late.late,
            late.answered,
            fraction * 100.0,
            late.margin_ms,
            max * 100.0
        )
    })
}

/// The app's memory: its process group's PSS where the kernel gives it, else `rss`.
fn memory_of(pgid: i32, rss: u64) -> u64 {
    group_pss(pgid).unwrap_or(rss)
}

/// One edge of a measured window: the CPUs, the app's CPU time and memory, and the upstream's
/// counters.
struct Mark {
    unix_s: f64,
    cpus: Vec<CpuTimes>,
    /// Every thread's CPU time and last CPU, read right after `unix_s`.
    threads: Vec<ThreadRun>,
    /// claimbench's own CPU time, every thread of it, ended ones included, read right after.
    own_cpu_ns: u64,
    /// The app's process group.
    pgid: i32,
    app: GroupCpu,
    /// The app's PSS, where the kernel gives it.
    memory: Option<u64>,
    upstream_answered: u64,
    upstream_late: u64,
    /// The self-started database's CPU-seconds so far, read only when it shares the app's CPU.
    database_cpu_s: Option<f64>,
}

impl Mark {
    fn now(pgid: i32, upstream: &Upstream, database_on_app: Option<&Database>) -> Mark {
        let unix_s = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64();
        Mark {
            unix_s,
            cpus: procfs::read_cpu_times(),
            threads: procfs::threads(),
            own_cpu_ns: procfs::process_cpu_ns(own_pid()).unwrap_or(0),
            pgid,
            app: group_cpu(pgid),
            memory: group_pss(pgid),
            upstream_answered: upstream.delay_requests(),
            upstream_late: upstream.late_requests(),
            database_cpu_s: database_on_app.and_then(Database::cpu_seconds),
        }
    }
}

/// claimbench's own process id.
fn own_pid() -> i32 {
    std::process::id() as i32
}

/// Other processes that are busy on the machine now: the up to five that used more than 5% of a
/// CPU over half a second, busiest first. A run should start on a quiet machine.
pub fn busy_elsewhere() -> Vec<ProcessCpu> {
    cpuload::busy_processes(Duration::from_millis(500), 5)
}

/// The CPUs of `cpus` that a spinning thread could not have to itself over half a second now, each
/// with the share of its time that went elsewhere (to the hypervisor or another process), when
/// that is over [`cpuload::CONTENTION_MAX`]: a steal storm under way as a run starts. Trials in
/// one are thrown out as contended, and one on this machine (2026-12-07) took 5-12% of both CPUs
/// for over six minutes: a quick run in it (of a build whose settle check spun, since taken back)
/// had 145 of its 252 measurements invalid.
pub fn cpus_given_away(cpus: &[usize]) -> Vec<(usize, f64)> {
    let shares = cpuload::available_share(cpus, Duration::from_millis(500));
    cpus.iter()
        .zip(shares)
        .map(|(&cpu, share)| (cpu, 1.0 - share))
        .filter(|&(_, lost)| lost > cpuload::CONTENTION_MAX)
        .collect()
}

/// How far the speed canary moves on this idle machine between two readings a quick trial apart:
/// the 95th percentile of |after / before - 1| over 200 pairs 850 ms apart with nothing running
/// between them (`cargo run --release -p claimbench-lab --example canary_noise`, 2026-12-06:
/// p50 2.7%, p90 6.7%, p95 10.0%, p99 52.5%; 22% of the pairs moved more than 5%). Back to back,
/// the same readings move p50 0.6% and p95 4.3%, so the canary reads the machine's real drift, and
/// a limit below this flags the drift of an idle machine, not a trial.
pub const CANARY_IDLE_DRIFT: f64 = 0.10;

/// The speed canary's limit for a run whose verdict band is `band`: the band, or the idle
/// machine's own drift where that is larger. A limit at the band alone threw out 22% of the
/// trials of a machine doing nothing, and the pairs they cost left claims with too few pairs.
pub fn canary_limit(band: f64) -> f64 {
    band.max(CANARY_IDLE_DRIFT)
}

/// Times a fixed integer workload on `cpus` (this thread is moved there and back); `None` when
/// the thread may not move there, since a canary on the wrong core measures nothing useful.
pub fn canary_on(cpus: &[usize]) -> Option<f64> {
    let _pinned = PinGuard::pin(cpus).ok()?;
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
    Some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(requests: u64, ok: u64, connections: u32) -> LoadResult {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/results/recorded-smoke.json"))
                .unwrap();
        let run: claimbench_model::run::RunResults = serde_json::from_str(&text).unwrap();
        let mut load = run.experiments.iter().flat_map(|e| &e.measurements).find_map(|m| m.load.clone()).unwrap();
        (load.requests, load.responses, load.warmup, load.plan.connections) = (requests, ok, None, connections);
        load.status_counts = BTreeMap::from([(200, ok), (502, requests - ok)]);
        load
    }

    #[test]
    fn a_late_upstream_is_named_with_the_generator_side_s_busy_and_stolen_time() {
        let late = UpstreamLate { late: 30, answered: 1000, margin_ms: 5 };
        let why = upstream_late(&late, UPSTREAM_LATE_MAX, Some((0.16, 0.062))).unwrap();
        assert!(why.starts_with("30 of 1000 upstream answers (3.0%) left more than 5 ms"), "{why}");
        assert!(why.contains("CPUs 16% busy (6.2% of their time taken by the hypervisor)"), "{why}");
        assert!(upstream_late(&late, UPSTREAM_LATE_MAX, None).unwrap().contains("above 1%: the upstream waited"));
        let few = UpstreamLate { late: 10, ..late };
        assert_eq!(upstream_late(&few, UPSTREAM_LATE_MAX, None), None, "1% late is within the limit");
    }

    #[test]
    fn the_canary_limit_is_the_band_unless_the_idle_machine_drifts_further() {
        assert_eq!(canary_limit(0.05), CANARY_IDLE_DRIFT, "5% is inside this machine's idle drift");
        assert_eq!(canary_limit(0.2), 0.2, "a wider band is its own limit");
    }

    #[test]
    fn upstream_hits_must_cover_every_successful_call_and_no_more_than_every_request() {
        let fanout = load(100, 90, 4);
        assert_eq!(upstream_hits_wrong(8 * 90, &[(&fanout, 8)]), None, "failed requests may have made no call");
        assert_eq!(upstream_hits_wrong(8 * 104, &[(&fanout, 8)]), None, "or all of theirs, and one per connection");
        let cached = upstream_hits_wrong(8 * 90 - 1, &[(&fanout, 8)]).unwrap();
        assert!(cached.contains("cached or skipped"), "{cached}");
        let extra = upstream_hits_wrong(8 * 104 + 1, &[(&fanout, 8)]).unwrap();
        assert!(extra.contains("more than the 832"), "{extra}");
        let json = load(1000, 1000, 8);
        assert_eq!(upstream_hits_wrong(0, &[(&json, 0)]), None, "/json calls nothing");
        assert!(upstream_hits_wrong(1, &[(&json, 0), (&fanout, 0)]).is_some(), "a hit nobody asked for");
        assert_eq!(upstream_hits_wrong(95, &[(&json, 0), (&fanout, 1)]), None, "a background's calls count");
    }

    #[test]
    fn the_canary_runs_on_an_allowed_cpu_and_refuses_a_forbidden_one() {
        let allowed = claimbench_platform::allowed_cpus().unwrap();
        let before = allowed.clone();
        let ms = canary_on(&allowed[..1]).expect("pinning to an allowed CPU works");
        assert!(ms > 0.0 && ms.is_finite());
        assert_eq!(claimbench_platform::allowed_cpus().unwrap(), before, "the thread goes back");
        assert_eq!(canary_on(&[1 << 20]), None);
    }
}
