//! The one worker loop: a thread with a single-threaded event loop driving its share of the
//! connection pool.
//!
//! Every connection runs the same loop whatever the mode: ask the pacer for the next slot (the
//! stop condition lives there and in the stop flag), wait for the slot's intended time, send a
//! request picked by weight, wait for the whole response or the timeout, and hand the outcome
//! to the worker's collector. Open and closed loop differ only in the pacer they get. A free
//! connection takes the earliest slot nobody has taken, so a slot that finds every connection
//! busy waits, and that wait is in its corrected latency. Nothing on the request path locks:
//! all of a worker's connections are polled by its one task, which owns the pacer and collector.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::stream::{FuturesUnordered, StreamExt, TryStreamExt};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use tokio::runtime::Runtime;

use crate::broadcast::{self, Board};
use crate::collector::{Collector, ErrorClass, Outcome};
use crate::connection::{self, classify, Connection, IoCounters};
use crate::error::EngineError;
use crate::pacer::Pacer;
use crate::plan::{Expect, Phase, PreparedTemplate, Protocol};
use crate::selfcheck::{allowed_cpus, pin_current_thread, thread_cpu_time};
use crate::timer::PaceTimer;
use crate::{sse, websocket};

/// Waits at least this long listen for the stop signal; shorter ones end before a stop could
/// matter.
const LISTEN_FOR_STOP: Duration = Duration::from_millis(20);

/// A run's stop request: a flag every loop reads, and a notification that ends every wait for a
/// slot at once. (Waits used to nap 100 ms at a time to look at the flag: 10,000 connections
/// waiting for their slots then woke 100,000 times a second, and the connection whose slot was
/// due queued behind them, hundreds of milliseconds late.)
#[derive(Debug, Default)]
pub(crate) struct StopSignal {
    flag: AtomicBool,
    wake: tokio::sync::Notify,
}

impl StopSignal {
    pub fn stop(&self) {
        self.flag.store(true, Ordering::Relaxed);
        self.wake.notify_waiters();
    }

    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// Returns once a stop is requested.
    pub(crate) async fn requested(&self) {
        // A Notified future hears notify_waiters from its creation on, so a stop between the
        // check and the await is not missed.
        let notified = self.wake.notified();
        if self.is_set() {
            return;
        }
        notified.await;
    }
}
/// Closed loop: pause after a failed connect, so a refusing server is not spun against.
pub(crate) const CONNECT_BACKOFF: Duration = Duration::from_millis(10);
/// The largest pool whose connections each get a timerfd for pacing. A bigger one (10,000
/// connections) would need a descriptor per timer beside each socket, twice the descriptors, over
/// a 20,000 `RLIMIT_NOFILE`; its connections wait on tokio's millisecond timer instead, so a send
/// may leave up to about a millisecond late, which the send lag shows.
pub const FINE_TIMER_CONNECTIONS: usize = 8192;
/// Broadcast members that connect at the same time, below every stack's accept backlog.
const ROOM_JOINS_AT_ONCE: usize = 128;

/// Where all workers line up so their schedules share one start instant.
pub(crate) struct StartLine {
    workers: usize,
    /// Workers arrived, and whether the start was abandoned.
    arrived: Mutex<(usize, bool)>,
    all_there: Condvar,
    t0: OnceLock<Instant>,
}

impl StartLine {
    pub fn new(workers: usize) -> StartLine {
        StartLine { workers, arrived: Mutex::new((0, false)), all_there: Condvar::new(), t0: OnceLock::new() }
    }

    /// Blocks until every worker has arrived (or the start was abandoned), then gives the start.
    fn wait(&self) -> Instant {
        let mut state = self.arrived.lock().unwrap_or_else(|e| e.into_inner());
        state.0 += 1;
        self.all_there.notify_all();
        while state.0 < self.workers && !state.1 {
            state = self.all_there.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        *self.t0.get_or_init(Instant::now)
    }

    /// Lets waiting workers go when one of them will never arrive.
    pub fn abandon(&self) {
        self.arrived.lock().unwrap_or_else(|e| e.into_inner()).1 = true;
        self.all_there.notify_all();
    }

    /// The run's start, once the workers have passed the line.
    pub fn t0(&self) -> Option<Instant> {
        self.t0.get().copied()
    }
}

/// Counts a worker publishes for progress reports.
#[derive(Debug, Default)]
pub(crate) struct WorkerProgress {
    pub requests: AtomicU64,
    pub errors: AtomicU64,
}

/// What one worker thread needs to know.
pub(crate) struct WorkerSpec<'a> {
    pub connections: usize,
    pub pacer: Pacer,
    pub pin: Option<usize>,
    pub phases: &'a [Phase],
    pub templates: &'a [PreparedTemplate],
    pub addr: SocketAddr,
    pub protocol: Protocol,
    /// The target's `Host` and request target, for WebSocket handshakes.
    pub authority: &'a str,
    pub path: &'a str,
    pub timeout: Duration,
    pub interval: Duration,
    pub validate_every: u64,
    pub start: &'a StartLine,
    pub stop: Arc<StopSignal>,
    pub progress: Arc<WorkerProgress>,
}

/// What one worker thread brings back.
pub(crate) struct WorkerOutput {
    pub collector: Collector,
    pub cpu: Duration,
    pub wall: Duration,
    pub allowed_cpus: Vec<usize>,
}

/// State shared by the connection tasks of one worker (one thread, so no locks).
pub(crate) struct Ctx {
    pub t0: Instant,
    pub open_loop: bool,
    pub addr: SocketAddr,
    pub protocol: Protocol,
    pub authority: String,
    pub path: String,
    pub timeout: Duration,
    validate_every: u64,
    templates: Vec<PreparedTemplate>,
    picker: Picker,
    pub pacer: RefCell<Pacer>,
    pub collector: RefCell<Collector>,
    pub stop: Arc<StopSignal>,
    progress: Arc<WorkerProgress>,
    requests: Cell<u64>,
    errors: Cell<u64>,
    phases: usize,
    /// A broadcast's senders' totals (empty otherwise).
    pub board: RefCell<Board>,
}

impl Ctx {
    /// The plan's first request template (an SSE subscription's GET).
    pub fn first_template(&self) -> &PreparedTemplate {
        &self.templates[0]
    }

    /// The plan's phases, warm-up included.
    pub fn phase_count(&self) -> usize {
        self.phases
    }

    pub fn elapsed(&self) -> Duration {
        self.t0.elapsed()
    }

    pub fn stopped(&self) -> bool {
        self.stop.is_set()
    }

    /// Records a finished request (or WebSocket message) and publishes the counts.
    pub fn record(&self, outcome: &Outcome) {
        self.collector.borrow_mut().record(outcome);
        self.requests.set(self.requests.get() + 1);
        self.progress.requests.store(self.requests.get(), Ordering::Relaxed);
        if outcome.error.is_some() {
            self.errors.set(self.errors.get() + 1);
            self.progress.errors.store(self.errors.get(), Ordering::Relaxed);
        }
    }
}

/// One slot of the pool: its current connection, if any, and what survives reconnections.
pub(crate) struct VirtualConnection {
    pub conn: Option<Connection>,
    /// A WebSocket run's connection, in place of `conn`.
    pub ws: Option<websocket::WsConnection>,
    pub counters: Rc<IoCounters>,
    pub timer: PaceTimer,
    /// Connections opened before the first request, recorded with it.
    pub unrecorded_opens: u64,
    /// A connect (TCP and HTTP handshake, or a WebSocket's upgrade too) done before the start,
    /// recorded when the loop begins.
    pub unrecorded_connect: Option<Option<Duration>>,
}

/// Runs one worker thread to the end of the plan (or the stop flag).
pub(crate) fn run(spec: WorkerSpec<'_>) -> Result<WorkerOutput, EngineError> {
    let wall_start = Instant::now();
    let cpu_start = thread_cpu_time();
    // Every worker must reach the start line, even one whose setup failed, or the others wait
    // forever.
    let setup = prepare(&spec);
    if setup.is_err() {
        spec.stop.stop();
    }
    let t0 = spec.start.wait();
    let (rt, pool) = setup?;
    let ctx = Rc::new(Ctx {
        t0,
        open_loop: spec.pacer.is_open(),
        addr: spec.addr,
        protocol: spec.protocol,
        authority: spec.authority.to_string(),
        path: spec.path.to_string(),
        timeout: spec.timeout,
        validate_every: spec.validate_every,
        templates: spec.templates.to_vec(),
        picker: Picker::new(spec.templates.iter().map(|t| t.weight)),
        pacer: RefCell::new(spec.pacer.clone()),
        collector: RefCell::new(Collector::new(spec.phases, spec.interval)),
        stop: spec.stop.clone(),
        progress: spec.progress.clone(),
        requests: Cell::new(0),
        errors: Cell::new(0),
        phases: spec.phases.len(),
        board: RefCell::new(Board::new(match spec.protocol {
            Protocol::WebSocket(ws) => ws.broadcast.unwrap_or(0),
            Protocol::Http | Protocol::Sse => 0,
        })),
    });
    // The connections' loops are polled together by the worker's one task, not spawned: no
    // scheduler between a socket's wake-up and the loop that waits on it.
    let mut loops: FuturesUnordered<_> = pool
        .into_iter()
        .enumerate()
        .map(|(index, vc)| {
            let ctx = ctx.clone();
            async move {
                match ctx.protocol {
                    Protocol::Http => connection_loop(ctx, vc).await,
                    Protocol::WebSocket(ws) if ws.broadcast.is_some() => {
                        broadcast::member_loop(ctx, vc, ws, index).await
                    }
                    Protocol::WebSocket(ws) => websocket::connection_loop(ctx, vc, ws).await,
                    Protocol::Sse => sse::subscriber_loop(ctx, vc).await,
                }
            }
        })
        .collect();
    rt.block_on(async { while loops.next().await.is_some() {} });
    drop(loops);
    // Dropping the event loop closes every socket and timer of this run.
    drop(rt);
    let ctx = Rc::try_unwrap(ctx).ok().expect("every task holding the worker state has ended");
    let mut collector = ctx.collector.into_inner();
    collector.ws.sent = ctx.board.into_inner().sent.iter().sum();
    collector.finish();
    Ok(WorkerOutput {
        collector,
        cpu: thread_cpu_time().saturating_sub(cpu_start),
        wall: wall_start.elapsed(),
        allowed_cpus: allowed_cpus(),
    })
}

/// Pins the thread, builds its event loop and opens the pool's connections ahead of the start.
fn prepare(spec: &WorkerSpec<'_>) -> Result<(Runtime, Vec<VirtualConnection>), EngineError> {
    if let Some(core) = spec.pin {
        pin_current_thread(core).map_err(|source| EngineError::Pin { core, source })?;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|source| EngineError::Runtime { what: "event loop", source })?;
    let (addr, timeout, protocol) = (spec.addr, spec.timeout, spec.protocol);
    let (authority, path) = (spec.authority, spec.path);
    let pool = rt.block_on(async move {
        // A room's members join a few hundred at a time: thousands of simultaneous connects
        // overflow the app's accept backlog, and a dropped SYN is retried only a second later.
        let fine_timers = spec.connections <= FINE_TIMER_CONNECTIONS;
        let at_once = match protocol {
            Protocol::WebSocket(ws) if ws.broadcast.is_some() => ROOM_JOINS_AT_ONCE,
            _ => spec.connections.max(1),
        };
        let opening = futures_util::stream::iter(0..spec.connections)
            .map(|_| async move {
                let counters = Rc::new(IoCounters::default());
                let timer = if fine_timers {
                    PaceTimer::new().map_err(|source| EngineError::Runtime { what: "pacing timer", source })?
                } else {
                    PaceTimer::coarse()
                };
                let mut vc = VirtualConnection {
                    conn: None,
                    ws: None,
                    counters: counters.clone(),
                    timer,
                    unrecorded_opens: 0,
                    unrecorded_connect: None,
                };
                match protocol {
                    Protocol::Http | Protocol::Sse => {
                        // A failure here is not counted: the first request will retry and count it.
                        let started = Instant::now();
                        vc.conn = tokio::time::timeout(timeout, connection::open(addr, counters))
                            .await
                            .ok()
                            .and_then(Result::ok);
                        vc.unrecorded_opens = u64::from(vc.conn.is_some());
                        vc.unrecorded_connect = vc.conn.is_some().then(|| Some(started.elapsed()));
                    }
                    Protocol::WebSocket(_) => {
                        // Upgrades happen ahead of the start like HTTP connects; their times are
                        // kept, a failure is retried (and counted) by the loop.
                        let started = Instant::now();
                        if let Ok(Ok(ws)) =
                            tokio::time::timeout(timeout, websocket::open(addr, authority, path, counters)).await
                        {
                            vc.ws = Some(ws);
                            vc.unrecorded_opens = 1;
                            vc.unrecorded_connect = Some(Some(started.elapsed()));
                        }
                    }
                }
                Ok(vc)
            })
            .buffer_unordered(at_once);
        opening.try_collect::<Vec<_>>().await
    })?;
    Ok((rt, pool))
}

/// The worker loop of one connection.
async fn connection_loop(ctx: Rc<Ctx>, mut vc: VirtualConnection) {
    if let Some(took) = vc.unrecorded_connect.take() {
        ctx.collector.borrow_mut().record_connect(took);
    }
    let deadline = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(deadline);
    let (mut seen_in, mut seen_out) = (0, 0);
    // When this connection last became free; it has been free since the start.
    let mut free_since = Duration::ZERO;
    loop {
        if ctx.stopped() {
            break;
        }
        let now = ctx.elapsed();
        let Some(slot) = ctx.pacer.borrow_mut().next(now) else {
            break;
        };
        let waits = slot.intended > now;
        if waits && !wait_until(&ctx, &vc.timer, slot.intended).await {
            break;
        }
        // The earliest free connection takes the earliest open slot, so a slot whose connection
        // was still busy at its time found no connection free. Otherwise any delay past the
        // intended time is the generator's own: its send lag.
        let late = ctx.open_loop && free_since > slot.intended;
        let lag = (ctx.open_loop && !late).then(|| ctx.elapsed().saturating_sub(slot.intended));

        let template = &ctx.templates[ctx.picker.pick()];
        let validate = ctx.validate_every > 0 && slot.seq % ctx.validate_every == 0 && template.expect.is_some();
        let mut sent = None;
        let mut first_byte = None;
        let mut opened = std::mem::take(&mut vc.unrecorded_opens);
        // Without a wait, `now` is recent enough to start the timeout from: one clock read less.
        let started = if waits { Instant::now() } else { ctx.t0 + now };
        deadline.as_mut().reset(tokio::time::Instant::from_std(started + ctx.timeout));
        let result = tokio::select! {
            biased;
            r = exchange(&ctx, &mut vc, template, validate, slot.phase, &mut sent, &mut first_byte, &mut opened) => r,
            () = &mut deadline => Err(ErrorClass::Timeout),
        };
        let ended = ctx.elapsed();
        free_since = ended;
        let (status, error) = match result {
            Ok((status, error)) => (Some(status), error),
            Err(class) => {
                if class != ErrorClass::Connect {
                    // Whatever state the connection is in, it cannot carry the next request.
                    vc.conn = None;
                }
                (None, Some(class))
            }
        };
        let (read, written) = (vc.counters.read.get(), vc.counters.written.get());
        let outcome = Outcome {
            phase: slot.phase,
            intended: slot.intended,
            sent,
            ended,
            status,
            error,
            lag,
            late,
            bytes_in: read - seen_in,
            bytes_out: written - seen_out,
            connections_opened: opened,
            first_byte,
        };
        (seen_in, seen_out) = (read, written);
        ctx.record(&outcome);
        if error == Some(ErrorClass::Connect) && !ctx.open_loop {
            tokio::time::sleep(CONNECT_BACKOFF).await;
        }
    }
}

/// Waits until `intended` (an offset from the start); false if the run was stopped meanwhile.
pub(crate) async fn wait_until(ctx: &Ctx, timer: &PaceTimer, intended: Duration) -> bool {
    loop {
        let now = ctx.elapsed();
        if now >= intended {
            return true;
        }
        if ctx.stopped() {
            return false;
        }
        let nap = intended - now;
        // A short wait (the usual one, between requests) just sleeps: registering with the stop
        // signal takes its lock, which the request path must not. Only a long wait listens.
        let slept = if nap < LISTEN_FOR_STOP {
            timer.sleep(nap).await
        } else {
            tokio::select! {
                biased;
                () = ctx.stop.requested() => return false,
                slept = timer.sleep(nap) => slept,
            }
        };
        if slept.is_err() {
            tokio::time::sleep(nap).await;
        }
    }
}

/// Sends one request and reads its whole response: `(status, error)` when a response came,
/// the error class when none did. `sent`, `first_byte` and `opened` are filled in as it goes, so
/// a timeout that abandons it still knows them. A response that comes in several body chunks
/// has every gap between two of them recorded in `phase` (a sampled one, read whole to be
/// compared, records none).
#[allow(clippy::too_many_arguments)]
async fn exchange(
    ctx: &Ctx,
    vc: &mut VirtualConnection,
    template: &PreparedTemplate,
    validate: bool,
    phase: usize,
    sent: &mut Option<Duration>,
    first_byte: &mut Option<Duration>,
    opened: &mut u64,
) -> Result<(u16, Option<ErrorClass>), ErrorClass> {
    // A kept-alive connection the server has closed is replaced; that is not an error.
    if let Some(Connection { sender, driver }) = &mut vc.conn {
        if !matches!(driver.run(sender.ready()).await, Ok(Ok(()))) {
            vc.conn = None;
        }
    }
    let Connection { sender, driver } = match &mut vc.conn {
        Some(c) => c,
        None => {
            let started = Instant::now();
            let c = connection::open(ctx.addr, vc.counters.clone()).await.map_err(|_| ErrorClass::Connect)?;
            ctx.collector.borrow_mut().record_connect(Some(started.elapsed()));
            *opened += 1;
            vc.conn.insert(c)
        }
    };
    let exchange = async {
        sender.ready().await.map_err(|e| classify(&e))?;
        let sent_at = ctx.elapsed();
        *sent = Some(sent_at);
        let response = sender.send_request(build(template)).await.map_err(|e| classify(&e))?;
        *first_byte = Some(ctx.elapsed().saturating_sub(sent_at));
        let status = response.status().as_u16();
        let expected = template.expect.as_ref();
        let mut error = status_error(status, expected.and_then(|e| e.status));
        let mut body = response.into_body();
        if validate {
            let bytes = body.collect().await.map_err(|e| classify(&e))?.to_bytes();
            if error.is_none() && !matches_expectation(expected, status, &bytes) {
                error = Some(ErrorClass::BodyMismatch);
            }
        } else {
            // One clock read per chunk: a response in one chunk (nearly every one but a
            // stream's) reads it once and records nothing.
            let mut last_chunk: Option<Duration> = None;
            while let Some(frame) = body.frame().await {
                frame.map_err(|e| classify(&e))?;
                let now = ctx.elapsed();
                if let Some(previous) = last_chunk {
                    ctx.collector.borrow_mut().record_chunk_gap(phase, now.saturating_sub(previous));
                }
                last_chunk = Some(now);
            }
        }
        Ok((status, error))
    };
    driver.run(exchange).await.unwrap_or(Err(ErrorClass::Reset))
}

/// A request from a template: cheap clones of prepared parts (the body and URI are shared).
pub(crate) fn build(t: &PreparedTemplate) -> Request<Full<Bytes>> {
    let mut request = Request::new(Full::new(t.body.clone()));
    *request.method_mut() = t.method.clone();
    *request.uri_mut() = t.uri.clone();
    *request.headers_mut() = t.headers.clone();
    request
}

/// The error class of a status: 4xx and 5xx count as errors unless the template expected them.
pub(crate) fn status_error(status: u16, expected: Option<u16>) -> Option<ErrorClass> {
    if expected == Some(status) {
        None
    } else if status >= 500 {
        Some(ErrorClass::Status5xx)
    } else if status >= 400 {
        Some(ErrorClass::Status4xx)
    } else {
        None
    }
}

pub(crate) fn matches_expectation(expect: Option<&Expect>, status: u16, body: &Bytes) -> bool {
    let Some(expect) = expect else {
        return true;
    };
    expect.status.is_none_or(|s| s == status)
        && expect.body.as_ref().is_none_or(|b| b == body)
        && expect.json.as_ref().is_none_or(|want| {
            serde_json::from_slice::<serde_json::Value>(body)
                .is_ok_and(|got| claimbench_model::contract::json_equal(want, &got))
        })
}

/// Picks templates in proportion to their weights, evenly interleaved (smooth weighted
/// round-robin), with no randomness and no allocation per pick.
struct Picker {
    weights: Vec<i64>,
    total: i64,
    current: RefCell<Vec<i64>>,
}

impl Picker {
    fn new(weights: impl IntoIterator<Item = u32>) -> Picker {
        let weights: Vec<i64> = weights.into_iter().map(i64::from).collect();
        Picker { total: weights.iter().sum(), current: RefCell::new(vec![0; weights.len()]), weights }
    }

    fn pick(&self) -> usize {
        if self.weights.len() == 1 {
            return 0;
        }
        let mut current = self.current.borrow_mut();
        let mut best = 0;
        for i in 0..current.len() {
            current[i] += self.weights[i];
            if current[i] > current[best] {
                best = i;
            }
        }
        current[best] -= self.total;
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_picked_in_proportion_to_their_weights_and_interleaved() {
        let p = Picker::new([3, 1]);
        let picks: Vec<usize> = (0..8).map(|_| p.pick()).collect();
        assert_eq!(picks.iter().filter(|&&i| i == 0).count(), 6);
        assert!(picks.windows(2).all(|w| w != [1, 1]), "the light template never comes twice in a row: {picks:?}");
    }

    #[test]
    fn statuses_are_errors_unless_expected() {
        assert_eq!(status_error(200, None), None);
        assert_eq!(status_error(404, None), Some(ErrorClass::Status4xx));
        assert_eq!(status_error(404, Some(404)), None);
        assert_eq!(status_error(503, None), Some(ErrorClass::Status5xx));
    }

    #[test]
    fn a_sampled_response_must_match_status_and_body() {
        let expect = Expect { status: Some(200), body: Some(Bytes::from_static(b"ok")), json: None };
        assert!(matches_expectation(Some(&expect), 200, &Bytes::from_static(b"ok")));
        assert!(!matches_expectation(Some(&expect), 200, &Bytes::from_static(b"no")));
        assert!(!matches_expectation(Some(&expect), 201, &Bytes::from_static(b"ok")));
        assert!(matches_expectation(None, 500, &Bytes::new()));
    }
    #[test]
    fn a_json_expectation_ignores_key_order_but_not_values() {
        let json = Some(serde_json::json!({"n": 22, "value": 17711}));
        let expect = Expect { status: Some(200), body: None, json };
        assert!(matches_expectation(Some(&expect), 200, &Bytes::from_static(br#"{"value":17711,"n":22}"#)));
        assert!(!matches_expectation(Some(&expect), 200, &Bytes::from_static(br#"{"n":22,"value":17712}"#)));
        assert!(!matches_expectation(Some(&expect), 200, &Bytes::from_static(b"hello")));
    }
}
