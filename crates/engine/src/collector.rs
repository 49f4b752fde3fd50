//! Recording what happened to each request, and adding the workers' records into one result.
//!
//! Each worker owns one `Collector` (no lock: only its own event loop touches it). Per phase it
//! keeps HdrHistograms of corrected and uncorrected latency, of latency with every failure counted
//! at the request timeout (so failures never leave the tail), and of send lag, counts by status
//! and error class, bytes and connections; for the measurement it also keeps one histogram per
//! interval, closed and compacted as soon as the interval ends, so memory does not grow with
//! the number of requests. `assemble` adds the workers' collectors together into the model's
//! `LoadResult`; deciding whether the generator was saturated is `selfcheck`'s job.

use std::collections::BTreeMap;
use std::time::Duration;

pub(crate) use claimbench_model::load::ErrorClass;
use claimbench_model::load::{self as model, IntervalPoint, LoadResult, StepResult};
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;

use crate::histogram::{distribution, encode, new_histogram, summarize};
use crate::plan::{Phase, PhaseKind, WsOptions};

/// Per-class counters, indexed by [`ErrorClass::index`].
const ERROR_CLASS_COUNT: usize = ErrorClass::ALL.len();

/// What happened to one request; times are offsets from the run's start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outcome {
    pub phase: usize,
    pub intended: Duration,
    /// When the request was handed to the connection; `None` if it never was (connect failed).
    pub sent: Option<Duration>,
    pub ended: Duration,
    /// The response status, if a complete response arrived.
    pub status: Option<u16>,
    pub error: Option<ErrorClass>,
    /// Open loop, connection free at the intended time: how late the generator sent it.
    pub lag: Option<Duration>,
    /// Open loop: the request's time came while no connection was free.
    pub late: bool,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub connections_opened: u64,
    /// HTTP: from the actual send to the response's headers (time to first byte).
    pub first_byte: Option<Duration>,
}

/// The statuses a tally counts one by one; anything above lands in the last slot.
const STATUS_SLOTS: usize = 1000;

/// Everything recorded for one phase by one worker (or, after `add`, by all of them).
#[derive(Debug, Clone)]
pub(crate) struct PhaseTally {
    pub corrected: Histogram<u64>,
    pub uncorrected: Histogram<u64>,
    /// Failed requests that still got a response (a 5xx, a wrong body), at their corrected
    /// latency: taken back out of `corrected` when the latency with failures is assembled, so
    /// the per-request path of a successful request records nothing extra.
    pub failed_responses: Histogram<u64>,
    pub send_lag: Histogram<u64>,
    /// HTTP: time to first byte of every response.
    pub first_byte: Histogram<u64>,
    /// HTTP: every gap between two body chunks of one response (streams; a response in one
    /// chunk records none).
    pub chunk_gaps: Histogram<u64>,
    statuses: Vec<u64>,
    errors: [u64; ERROR_CLASS_COUNT],
    pub requests: u64,
    pub responses: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub connections_opened: u64,
    pub late_sends: u64,
    /// The latest actual send of the phase.
    pub last_send: Option<Duration>,
}

impl PhaseTally {
    fn new() -> PhaseTally {
        PhaseTally {
            corrected: new_histogram(),
            uncorrected: new_histogram(),
            failed_responses: new_histogram(),
            send_lag: new_histogram(),
            first_byte: new_histogram(),
            chunk_gaps: new_histogram(),
            statuses: vec![0; STATUS_SLOTS],
            errors: [0; ERROR_CLASS_COUNT],
            requests: 0,
            responses: 0,
            bytes_in: 0,
            bytes_out: 0,
            connections_opened: 0,
            late_sends: 0,
            last_send: None,
        }
    }

    fn record(&mut self, o: &Outcome) {
        self.requests += 1;
        self.bytes_in += o.bytes_in;
        self.bytes_out += o.bytes_out;
        self.connections_opened += o.connections_opened;
        self.late_sends += u64::from(o.late);
        if let Some(e) = o.error {
            self.errors[e.index()] += 1;
        }
        if let Some(lag) = o.lag {
            self.send_lag.saturating_record(micros(lag));
        }
        if let Some(sent) = o.sent {
            self.last_send = self.last_send.max(Some(sent));
        }
        if let Some(first_byte) = o.first_byte {
            self.first_byte.saturating_record(micros(first_byte));
        }
        if let (Some(status), Some(sent)) = (o.status, o.sent) {
            self.responses += 1;
            self.statuses[usize::from(status).min(STATUS_SLOTS - 1)] += 1;
            self.corrected.saturating_record(micros(o.ended.saturating_sub(o.intended)));
            self.uncorrected.saturating_record(micros(o.ended.saturating_sub(sent)));
            if o.error.is_some() {
                self.failed_responses.saturating_record(micros(o.ended.saturating_sub(o.intended)));
            }
        }
    }

    fn add(&mut self, other: &PhaseTally) {
        for (h, o) in [
            (&mut self.corrected, &other.corrected),
            (&mut self.uncorrected, &other.uncorrected),
            (&mut self.failed_responses, &other.failed_responses),
            (&mut self.send_lag, &other.send_lag),
            (&mut self.first_byte, &other.first_byte),
            (&mut self.chunk_gaps, &other.chunk_gaps),
        ] {
            h.add(o).expect("histograms of one configuration add up");
        }
        for (a, b) in self.statuses.iter_mut().zip(&other.statuses) {
            *a += b;
        }
        for (a, b) in self.errors.iter_mut().zip(&other.errors) {
            *a += b;
        }
        self.requests += other.requests;
        self.responses += other.responses;
        self.bytes_in += other.bytes_in;
        self.bytes_out += other.bytes_out;
        self.connections_opened += other.connections_opened;
        self.late_sends += other.late_sends;
        self.last_send = self.last_send.max(other.last_send);
    }

    /// Successful requests at their corrected latency and every failed one at `timeout`.
    pub fn with_failures(&self, timeout: Duration) -> Histogram<u64> {
        let mut h = self.corrected.clone();
        h.subtract(&self.failed_responses).expect("failed responses were recorded in corrected too");
        h.saturating_record_n(micros(timeout), self.errors_total());
        h
    }

    fn errors_total(&self) -> u64 {
        self.errors.iter().sum()
    }

    fn error_map(&self) -> BTreeMap<String, u64> {
        ErrorClass::ALL.iter().zip(self.errors).map(|(class, n)| (class.as_str().to_string(), n)).collect()
    }

    fn status_map(&self) -> BTreeMap<u16, u64> {
        self.statuses.iter().enumerate().filter(|(_, n)| **n > 0).map(|(s, n)| (s as u16, *n)).collect()
    }
}

/// One closed interval, compacted: counts plus the V2 encoding of its corrected histogram.
#[derive(Debug, Clone)]
struct IntervalChunk {
    index: u64,
    requests: u64,
    errors: u64,
    encoded: Vec<u8>,
}

/// The measurement's time series, by completion time; only the open interval is a full
/// histogram.
#[derive(Debug)]
struct IntervalSeries {
    origin: Duration,
    length: Duration,
    current: u64,
    /// The span of the current interval, so most records skip the division.
    window: (Duration, Duration),
    open: Histogram<u64>,
    requests: u64,
    errors: u64,
    closed: Vec<IntervalChunk>,
}

impl IntervalSeries {
    fn record(&mut self, ended: Duration, latency: Option<Duration>, failed: bool) {
        if ended < self.window.0 || ended >= self.window.1 {
            let index = (ended.saturating_sub(self.origin).as_nanos() / self.length.as_nanos()) as u64;
            if index != self.current {
                self.close();
                self.current = index;
            }
            let start = self.origin + self.length * index as u32;
            self.window = (start, start + self.length);
        }
        self.requests += 1;
        self.errors += u64::from(failed);
        if let Some(l) = latency {
            self.open.saturating_record(micros(l));
        }
    }

    fn close(&mut self) {
        if self.requests == 0 {
            return;
        }
        let mut encoded = Vec::new();
        V2Serializer::new().serialize(&self.open, &mut encoded).expect("serializing into memory cannot fail");
        self.closed.push(IntervalChunk { index: self.current, requests: self.requests, errors: self.errors, encoded });
        self.open.reset();
        self.requests = 0;
        self.errors = 0;
    }
}

/// What the sequence numbers of a WebSocket run's echoes showed, and its handshakes; over the
/// whole run, warm-up included.
#[derive(Debug, Clone)]
pub(crate) struct WsTally {
    pub connect: Histogram<u64>,
    pub connect_failures: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    pub unexpected: u64,
    /// Broadcast runs: messages the senders sent.
    pub sent: u64,
}

/// One thing a WebSocket connection noticed about the echoes it got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SequenceEvent {
    Lost,
    Duplicated,
    OutOfOrder,
    Unexpected,
}

impl WsTally {
    fn new() -> WsTally {
        WsTally {
            connect: new_histogram(),
            connect_failures: 0,
            lost: 0,
            duplicated: 0,
            out_of_order: 0,
            unexpected: 0,
            sent: 0,
        }
    }

    fn add(&mut self, other: &WsTally) {
        self.connect.add(&other.connect).expect("histograms of one configuration add up");
        self.connect_failures += other.connect_failures;
        self.lost += other.lost;
        self.duplicated += other.duplicated;
        self.out_of_order += other.out_of_order;
        self.unexpected += other.unexpected;
        self.sent += other.sent;
    }

    /// The result's summary, for a run with these options over `connections`.
    /// What the ids of an SSE run's events showed, over its `subscribers`.
    pub fn sse_summary(&self, subscribers: usize) -> model::SseSummary {
        model::SseSummary {
            subscribers: subscribers as u32,
            lost: self.lost,
            duplicated: self.duplicated,
            out_of_order: self.out_of_order,
            unexpected: self.unexpected,
        }
    }

    pub fn summary(&self, options: &WsOptions, connections: usize) -> model::WebSocketSummary {
        model::WebSocketSummary {
            in_flight: options.in_flight as u32,
            message_bytes: options.message_bytes as u64,
            broadcast: options.broadcast.map(|senders| model::BroadcastSummary {
                members: connections as u32,
                senders: senders as u32,
                sent: self.sent,
            }),
            connect: summarize(&self.connect),
            connect_failures: self.connect_failures,
            lost: self.lost,
            duplicated: self.duplicated,
            out_of_order: self.out_of_order,
            unexpected: self.unexpected,
        }
    }
}

/// One worker's records of a whole run.
#[derive(Debug)]
pub(crate) struct Collector {
    phases: Vec<PhaseKind>,
    tallies: Vec<PhaseTally>,
    intervals: IntervalSeries,
    /// The latest completion of a measured request.
    last_end: Option<Duration>,
    /// WebSocket runs only.
    pub ws: WsTally,
}

impl Collector {
    /// A collector for the plan's phases; intervals start with the first measured phase.
    pub fn new(phases: &[Phase], interval: Duration) -> Collector {
        let origin = measurement_origin(phases);
        Collector {
            phases: phases.iter().map(|p| p.kind).collect(),
            tallies: phases.iter().map(|_| PhaseTally::new()).collect(),
            intervals: IntervalSeries {
                origin,
                length: interval,
                current: 0,
                window: (origin, origin + interval),
                open: new_histogram(),
                requests: 0,
                errors: 0,
                closed: Vec::new(),
            },
            last_end: None,
            ws: WsTally::new(),
        }
    }

    /// Records one connect (an HTTP connection's TCP connect and handshake, or a WebSocket's
    /// upgrade too): its time, or `None` when it failed.
    pub fn record_connect(&mut self, took: Option<Duration>) {
        match took {
            Some(d) => self.ws.connect.saturating_record(micros(d)),
            None => self.ws.connect_failures += 1,
        }
    }

    /// Counts what a WebSocket connection noticed about its echoes.
    pub fn record_sequence(&mut self, event: SequenceEvent, n: u64) {
        let counter = match event {
            SequenceEvent::Lost => &mut self.ws.lost,
            SequenceEvent::Duplicated => &mut self.ws.duplicated,
            SequenceEvent::OutOfOrder => &mut self.ws.out_of_order,
            SequenceEvent::Unexpected => &mut self.ws.unexpected,
        };
        *counter += n;
    }

    /// Records one finished request.
    pub fn record(&mut self, o: &Outcome) {
        self.tallies[o.phase].record(o);
        if self.phases[o.phase] != PhaseKind::Warmup {
            let latency = o.status.and(o.sent).map(|_| o.ended.saturating_sub(o.intended));
            self.intervals.record(o.ended, latency, o.error.is_some());
            self.last_end = self.last_end.max(Some(o.ended));
        }
    }

    /// Records the gap between two body chunks of one response of `phase`.
    pub fn record_chunk_gap(&mut self, phase: usize, gap: Duration) {
        self.tallies[phase].chunk_gaps.saturating_record(micros(gap));
    }

    /// Closes the open interval; call once the worker has finished.
    pub fn finish(&mut self) {
        self.intervals.close();
    }
}

fn measurement_origin(phases: &[Phase]) -> Duration {
    phases.iter().find(|p| p.kind != PhaseKind::Warmup).map_or(Duration::ZERO, |p| p.start)
}

fn micros(d: Duration) -> u64 {
    d.as_micros().min(u128::from(u64::MAX)) as u64
}

/// The parts of a result that come from the collectors; the runner adds the plan, the clock
/// and the self-check.
pub(crate) struct Assembled {
    pub totals: PhaseTally,
    pub duration: Duration,
    pub target_rate: Option<f64>,
    pub steps: Vec<StepResult>,
    pub warmup: Option<model::WarmupSummary>,
    pub intervals: Vec<IntervalPoint>,
    pub ws: WsTally,
}

/// Adds the workers' collectors together.
pub(crate) fn assemble(collectors: Vec<Collector>, phases: &[Phase], interval: Duration, cancelled: bool) -> Assembled {
    let mut tallies: Vec<PhaseTally> = phases.iter().map(|_| PhaseTally::new()).collect();
    let mut chunks: BTreeMap<u64, (u64, u64, Histogram<u64>)> = BTreeMap::new();
    let mut last_end = None;
    let mut ws = WsTally::new();
    for c in collectors {
        ws.add(&c.ws);
        for (total, t) in tallies.iter_mut().zip(&c.tallies) {
            total.add(t);
        }
        for chunk in c.intervals.closed {
            let h: Histogram<u64> = Deserializer::new()
                .deserialize(&mut chunk.encoded.as_slice())
                .expect("an interval encoded by this process decodes");
            let entry = chunks.entry(chunk.index).or_insert_with(|| (0, 0, new_histogram()));
            entry.0 += chunk.requests;
            entry.1 += chunk.errors;
            entry.2.add(&h).expect("histograms of one configuration add up");
        }
        last_end = last_end.max(c.last_end);
    }

    let mut totals = PhaseTally::new();
    let mut duration = Duration::ZERO;
    let mut offered = 0.0;
    let mut steps = Vec::new();
    let mut warmup = None;
    for (phase, tally) in phases.iter().zip(&tallies) {
        let span = phase_span(phase, tally, cancelled);
        let secs = span.as_secs_f64();
        let rate = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
        match phase.kind {
            PhaseKind::Warmup => {
                warmup = Some(model::WarmupSummary {
                    duration_s: secs,
                    requests: tally.requests,
                    responses: tally.responses,
                    errors: tally.errors_total(),
                    achieved_rate: rate(tally.responses),
                    connections_opened: tally.connections_opened,
                    latency: summarize(&tally.corrected),
                });
            }
            PhaseKind::Measure { .. } => {
                totals.add(tally);
                duration += span;
                offered += phase.rate.unwrap_or(0.0) * secs;
                steps.push(StepResult {
                    target_rate: phase.rate.unwrap_or(0.0),
                    members: None,
                    duration_s: secs,
                    achieved_rate: rate(tally.responses),
                    requests: tally.requests,
                    responses: tally.responses,
                    errors: tally.error_map(),
                    late_sends: tally.late_sends,
                    latency: summarize(&tally.corrected),
                    latency_uncorrected: summarize(&tally.uncorrected),
                    send_lag: phase.rate.map(|_| summarize(&tally.send_lag)),
                    histograms: encode_tally(tally, phase.rate.is_some()),
                    first_attempt_spoiled: None,
                });
            }
        }
    }
    let open = phases.iter().any(|p| p.rate.is_some());
    let target_rate = open.then(|| {
        if duration.is_zero() {
            phases.iter().find_map(|p| p.rate).unwrap_or(0.0)
        } else {
            offered / duration.as_secs_f64()
        }
    });

    let origin = measurement_origin(phases);
    let end = last_end.map(|e| e.saturating_sub(origin));
    let intervals = match end {
        None => Vec::new(),
        Some(end) => {
            let len = interval.as_secs_f64();
            let end_s = end.as_secs_f64();
            let last = chunks.keys().next_back().copied().unwrap_or(0);
            (0..=last)
                .map(|i| {
                    let (requests, errors, h) = chunks.remove(&i).unwrap_or_else(|| (0, 0, new_histogram()));
                    let s = summarize(&h);
                    IntervalPoint {
                        start_s: i as f64 * len,
                        t_s: ((i + 1) as f64 * len).min(end_s.max(i as f64 * len)),
                        requests,
                        errors,
                        p50_us: s.p50_us,
                        p99_us: s.p99_us,
                        max_us: s.max_us,
                        histogram: encode(&h),
                    }
                })
                .collect()
        }
    };

    Assembled { totals, duration, target_rate, steps, warmup, intervals, ws }
}

/// How long a phase lasted: its scheduled span, stretched if sends ran past its end, cut
/// short at the last send when the run was cancelled or was bounded by count only.
fn phase_span(phase: &Phase, tally: &PhaseTally, cancelled: bool) -> Duration {
    let last = tally.last_send.map(|s| s.saturating_sub(phase.start));
    let scheduled = phase.end.map(|e| e - phase.start);
    match (scheduled, last) {
        (Some(s), Some(l)) if cancelled => s.min(l),
        (Some(s), Some(l)) => s.max(l),
        (Some(s), None) if !cancelled => s,
        (None, Some(l)) => l,
        _ => Duration::ZERO,
    }
}

pub(crate) fn encode_tally(t: &PhaseTally, open_loop: bool) -> model::EncodedHistograms {
    model::EncodedHistograms {
        corrected: encode(&t.corrected),
        uncorrected: encode(&t.uncorrected),
        send_lag: open_loop.then(|| encode(&t.send_lag)),
    }
}

/// The pieces of `LoadResult` that come straight from the totals.
pub(crate) fn fill_totals(r: &mut LoadResult, t: &PhaseTally, open_loop: bool, timeout: Duration) {
    r.requests = t.requests;
    r.responses = t.responses;
    r.status_counts = t.status_map();
    r.errors = t.error_map();
    r.bytes_in = t.bytes_in;
    r.bytes_out = t.bytes_out;
    r.connections_opened = t.connections_opened;
    r.late_sends = t.late_sends;
    r.latency = summarize(&t.corrected);
    r.latency_uncorrected = summarize(&t.uncorrected);
    r.latency_with_failures = summarize(&t.with_failures(timeout));
    r.send_lag = open_loop.then(|| summarize(&t.send_lag));
    r.distribution = distribution(&t.corrected);
    r.distribution_uncorrected = distribution(&t.uncorrected);
    r.histograms = encode_tally(t, open_loop);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn phases() -> Vec<Phase> {
        vec![
            Phase { kind: PhaseKind::Warmup, start: ms(0), end: Some(ms(1000)), rate: Some(100.0) },
            Phase { kind: PhaseKind::Measure { step: 0 }, start: ms(1000), end: Some(ms(3000)), rate: Some(100.0) },
        ]
    }

    fn ok(phase: usize, intended: u64, sent: u64, ended: u64) -> Outcome {
        Outcome {
            phase,
            intended: ms(intended),
            sent: Some(ms(sent)),
            ended: ms(ended),
            status: Some(200),
            error: None,
            lag: Some(Duration::from_micros(20)),
            late: sent > intended,
            bytes_in: 100,
            bytes_out: 50,
            connections_opened: 0,
            first_byte: Some(ms(ended - sent) / 2),
        }
    }

    #[test]
    fn corrected_latency_counts_from_the_intended_time() {
        let mut c = Collector::new(&phases(), Duration::from_secs(1));
        c.record(&ok(1, 1000, 1400, 1410));
        c.finish();
        let a = assemble(vec![c], &phases(), Duration::from_secs(1), false);
        assert_eq!(a.totals.corrected.max(), a.totals.corrected.highest_equivalent(410_000));
        assert_eq!(a.totals.uncorrected.max(), a.totals.uncorrected.highest_equivalent(10_000));
        assert_eq!(a.totals.late_sends, 1);
    }

    #[test]
    fn the_warmup_is_kept_out_of_totals_and_intervals() {
        let mut c = Collector::new(&phases(), Duration::from_secs(1));
        c.record(&ok(0, 10, 10, 15));
        c.record(&ok(1, 1000, 1000, 1005));
        c.finish();
        let a = assemble(vec![c], &phases(), Duration::from_secs(1), false);
        assert_eq!(a.totals.requests, 1);
        assert_eq!(a.warmup.unwrap().requests, 1);
        assert_eq!(a.intervals.iter().map(|i| i.requests).sum::<u64>(), 1);
    }

    #[test]
    fn two_workers_add_up_to_one_and_empty_intervals_are_kept() {
        let mut a = Collector::new(&phases(), Duration::from_secs(1));
        let mut b = Collector::new(&phases(), Duration::from_secs(1));
        a.record(&ok(1, 1000, 1000, 1005));
        b.record(&ok(1, 1001, 1001, 1007));
        b.record(&ok(1, 2900, 2900, 3500));
        let mut failed = ok(1, 2950, 2950, 2960);
        failed.status = Some(500);
        failed.error = Some(ErrorClass::Status5xx);
        a.record(&failed);
        a.finish();
        b.finish();
        let r = assemble(vec![a, b], &phases(), Duration::from_secs(1), false);
        assert_eq!(r.totals.requests, 4);
        assert_eq!(r.totals.status_map(), BTreeMap::from([(200, 3), (500, 1)]));
        assert_eq!(r.totals.error_map()["status_5xx"], 1);
        let counts: Vec<_> = r.intervals.iter().map(|i| (i.requests, i.errors)).collect();
        assert_eq!(counts, vec![(2, 0), (1, 1), (1, 0)]);
        assert_eq!(r.intervals[2].t_s, 2.5, "the last interval ends at the last response");
        assert_eq!(r.duration, ms(2000));
        assert_eq!(r.target_rate, Some(100.0));
    }

    #[test]
    fn failures_count_at_the_timeout_in_the_latency_with_failures_and_nowhere_else() {
        let mut c = Collector::new(&phases(), Duration::from_secs(1));
        for i in 0..97 {
            c.record(&ok(1, 1000 + i, 1000 + i, 1002 + i));
        }
        let mut timed_out = ok(1, 1200, 1200, 6200);
        (timed_out.status, timed_out.error) = (None, Some(ErrorClass::Timeout));
        let mut refused = ok(1, 1300, 1300, 1300);
        (refused.sent, refused.status, refused.error) = (None, None, Some(ErrorClass::Connect));
        let mut server_error = ok(1, 1400, 1400, 1401);
        (server_error.status, server_error.error) = (Some(500), Some(ErrorClass::Status5xx));
        for o in [timed_out, refused, server_error] {
            c.record(&o);
        }
        c.finish();
        let t = assemble(vec![c], &phases(), Duration::from_secs(1), false).totals;
        let with_failures = t.with_failures(ms(5000));
        assert_eq!(with_failures.len(), 100, "97 successes and 3 failures, each once");
        assert_eq!(with_failures.count_between(5_000_000, 5_000_000), 3, "every failure sits at the timeout");
        assert_eq!(with_failures.count_between(0, 3_000), 97, "the successes keep their latency");
        assert_eq!(with_failures.value_at_quantile(0.99), with_failures.highest_equivalent(5_000_000));
        assert!(t.corrected.value_at_quantile(0.99) < 10_000, "the successes' own p99 stays at their latency");
        assert_eq!(t.corrected.len(), 98, "the 500 has a response time; the timeout and the refusal have none");
    }

    #[test]
    fn a_request_that_never_connected_has_no_latency() {
        let mut c = Collector::new(&phases(), Duration::from_secs(1));
        let mut o = ok(1, 1000, 1000, 1001);
        o.sent = None;
        o.status = None;
        o.error = Some(ErrorClass::Connect);
        c.record(&o);
        c.finish();
        let r = assemble(vec![c], &phases(), Duration::from_secs(1), false);
        assert_eq!(r.totals.corrected.len(), 0);
        assert_eq!(r.totals.error_map()["connect"], 1);
        assert_eq!(r.totals.requests, 1);
    }
}
