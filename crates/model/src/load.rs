//! The results of one load run, as the engine returns them and `--json` writes them.
//!
//! These are plain serde types: the engine fills them, the suite carries them into a run's
//! results, and the report reads them, so neither needs the engine. Latencies are microseconds
//! as `f64` (the histograms record whole microseconds); rates are requests per second. The full
//! histograms travel along as base64 of HdrHistogram's compressed V2 encoding (the same text an
//! interval log holds), so runs can be merged and re-aggregated later. The JSON Schema of this
//! file, `fixtures/schema/load-result.schema.json`, is generated from these types (see `schema`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The `schema_version` this crate writes; a reader should refuse other versions by name.
pub const SCHEMA_VERSION: u32 = 1;

/// Why a request failed; [`ErrorClass::as_str`] names are the keys of [`LoadResult::errors`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Refused or failed to connect.
    Connect,
    /// No complete response within the per-request timeout.
    Timeout,
    /// The server closed or reset the connection mid-request.
    Reset,
    /// A 4xx status the template did not expect.
    #[serde(rename = "status_4xx")]
    Status4xx,
    /// A 5xx status the template did not expect.
    #[serde(rename = "status_5xx")]
    Status5xx,
    /// A sampled response that did not match the template's expected status or body.
    BodyMismatch,
    /// An unparsable response.
    Other,
}

impl ErrorClass {
    /// Every class, in the order summaries print them; every class is a key of
    /// [`LoadResult::errors`], zero or not.
    pub const ALL: [ErrorClass; 7] = [
        ErrorClass::Connect,
        ErrorClass::Timeout,
        ErrorClass::Reset,
        ErrorClass::Status4xx,
        ErrorClass::Status5xx,
        ErrorClass::BodyMismatch,
        ErrorClass::Other,
    ];

    /// The key of the class in [`LoadResult::errors`], e.g. `status_5xx`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Connect => "connect",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Reset => "reset",
            ErrorClass::Status4xx => "status_4xx",
            ErrorClass::Status5xx => "status_5xx",
            ErrorClass::BodyMismatch => "body_mismatch",
            ErrorClass::Other => "other",
        }
    }

    /// The class's position in [`ErrorClass::ALL`], for per-class counters.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Everything one load run measured; totals cover the measurement (every rate step), never the
/// warm-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoadResult {
    /// [`SCHEMA_VERSION`] at the time of writing.
    pub schema_version: u32,
    /// The engine that produced this result, e.g. `claimbench-engine 0.1.0`.
    pub engine_version: String,
    /// Wall-clock start of the measurement (after the warm-up), seconds since the Unix epoch.
    pub started_at_unix_s: f64,
    /// What was asked for.
    pub plan: PlanSummary,
    /// True when the run was stopped early (Ctrl-C); the totals cover what ran.
    pub cancelled: bool,
    /// Seconds the measurement lasted: from its start to the later of its scheduled end and the
    /// last request actually sent.
    pub duration_s: f64,
    /// Open loop: requests per second that were offered, averaged over every step; closed loop:
    /// `None`.
    pub target_rate: Option<f64>,
    /// Responses received (any status) per second of [`LoadResult::duration_s`].
    pub achieved_rate: f64,
    /// Requests that finished, with a response or with an error.
    pub requests: u64,
    /// Requests that got a complete response, whatever its status.
    pub responses: u64,
    /// Responses by HTTP status code.
    pub status_counts: BTreeMap<u16, u64>,
    /// Failed requests by class (see [`ErrorClass`]): `connect` (refused or failed to
    /// connect), `timeout` (no complete response within the per-request timeout), `reset` (the
    /// server closed or reset the connection mid-request), `status_4xx` and `status_5xx`
    /// (unless the template expected that status), `body_mismatch` (a sampled response that did
    /// not match the template's expected status or body), `other` (an unparsable response).
    pub errors: BTreeMap<String, u64>,
    /// Bytes read from the sockets.
    pub bytes_in: u64,
    /// Bytes written to the sockets.
    pub bytes_out: u64,
    /// TCP connections opened, first connections and reconnections alike.
    pub connections_opened: u64,
    /// Open loop: requests whose intended send time came while every connection was busy, so
    /// they waited for one (the wait is in the corrected latency).
    pub late_sends: u64,
    /// Latency corrected for coordinated omission: response end minus intended send time.
    pub latency: LatencySummary,
    /// Uncorrected latency: response end minus actual send time (what wrk reports).
    pub latency_uncorrected: LatencySummary,
    /// Corrected latency of the successful requests with every failed or timed-out request
    /// counted at the request timeout, so failures never leave the tail quietly: the p50 and
    /// p99 that verdicts judge. Equal to `latency` when nothing failed; all zero in results
    /// written before it existed.
    #[serde(default)]
    pub latency_with_failures: LatencySummary,
    /// Open loop: for requests that found a connection free at their intended time, how long
    /// after that time they actually left (the generator's own lateness); `None` in closed loop.
    pub send_lag: Option<LatencySummary>,
    /// Percentile distribution of the corrected latency, as in an `.hgrm` file.
    pub distribution: Vec<PercentilePoint>,
    /// Percentile distribution of the uncorrected latency.
    pub distribution_uncorrected: Vec<PercentilePoint>,
    /// Time series of the measurement, one point per interval, by response completion time.
    pub intervals: Vec<IntervalPoint>,
    /// One result per rate step, in order; empty when the plan had no rate steps.
    pub steps: Vec<StepResult>,
    /// The warm-up, recorded separately and left out of every total; `None` without warm-up.
    pub warmup: Option<WarmupSummary>,
    /// True when the generator itself may have been the bottleneck; the reasons say why.
    pub generator_saturated: bool,
    /// Why the generator counts as saturated, worded for the user; empty when it was not.
    pub saturation_reasons: Vec<String>,
    /// What the generator measured about itself.
    pub self_check: SelfCheck,
    /// The whole-measurement histograms, for merging runs.
    pub histograms: EncodedHistograms,
    /// WebSocket runs only: handshakes and what the sequence numbers of the echoes showed;
    /// `None` for HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub websocket: Option<WebSocketSummary>,
    /// Server-sent-events runs only: what the events' ids showed. Each event received by one
    /// subscriber is one request (a delivery), its latency from the event's embedded send time,
    /// so `latency` is the fan-out latency over every subscriber; the connect times are in
    /// `connect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse: Option<SseSummary>,
    /// HTTP runs: how long each connection took to open (TCP connect and the HTTP/1.1
    /// handshake), the pool's first connections and every reconnection, warm-up included; `None`
    /// when none opened, and in results written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<LatencySummary>,
    /// HTTP runs: time to first byte, from each request's actual send to its response's headers
    /// (what a client waits before a stream starts), measured phases only; `None` for WebSocket
    /// and SSE runs and in results written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_byte: Option<LatencySummary>,
    /// HTTP runs whose responses arrived in more than one piece (streams): every gap between two
    /// consecutive body pieces of one response, as hyper handed them over off the socket,
    /// measured phases only (sampled responses, read whole to be compared, are left out); `None`
    /// when every response came in one piece.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_gaps: Option<LatencySummary>,
}

/// What a WebSocket run adds to a result. A WebSocket run counts each echoed message as one
/// request: its latency is the echo's round trip, and it is counted under status 101 (the
/// connection's upgrade), so the HTTP totals read the same way. Counts cover the whole run,
/// warm-up included.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct WebSocketSummary {
    /// Messages each connection keeps in flight.
    pub in_flight: u32,
    /// Bytes of each message sent.
    pub message_bytes: u64,
    /// Time from starting to connect to the end of the upgrade handshake (TCP connect plus
    /// the 101), per successful handshake.
    pub connect: LatencySummary,
    /// Handshakes that failed (refused, not a 101, or timed out).
    pub connect_failures: u64,
    /// Messages sent and never echoed within the timeout, or cut off by a broken connection.
    pub lost: u64,
    /// Echoes of a message that had already been echoed.
    pub duplicated: u64,
    /// Echoes that came after the echo of a later message of the same connection.
    pub out_of_order: u64,
    /// Messages that were no echo of anything sent (a wrong sequence number or payload).
    pub unexpected: u64,
    /// Broadcast runs only (`/ws/room`): the room, and what its senders sent. A broadcast
    /// counts each delivery (one message received by one member) as one request, its latency
    /// from the message's intended send time, so `latency` is the fan-out latency over every
    /// receiver; `lost` counts deliveries that never came, `out_of_order` and `duplicated` are
    /// judged per sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broadcast: Option<BroadcastSummary>,
}

/// What the ids of a server-sent-events run's events showed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct SseSummary {
    /// Connections that subscribed.
    pub subscribers: u32,
    /// Events a subscriber never received: ids skipped after its first event and never filled
    /// in. Each also counts as a failed request.
    pub lost: u64,
    /// Events received a second time by the same subscriber.
    pub duplicated: u64,
    /// Events that came after a later event, at the same subscriber.
    pub out_of_order: u64,
    /// Events that were not the contract's (no id, unreadable data, an id that is not its seq).
    pub unexpected: u64,
}

/// A broadcast room's size and what was sent into it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct BroadcastSummary {
    /// Connections that joined the room (every one is a receiver).
    pub members: u32,
    /// Members that also sent.
    pub senders: u32,
    /// Messages the senders sent, warm-up included; each is due at every member.
    pub sent: u64,
}

/// The plan of a run, as recorded with its results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanSummary {
    /// The target URL as given.
    pub url: String,
    /// Open or closed loop.
    pub mode: LoadMode,
    /// Open loop: the rate asked for (the first step's rate when there are steps).
    pub target_rate: Option<f64>,
    /// Open loop: how arrivals are spaced.
    pub arrivals: Option<Arrivals>,
    /// Open loop with Poisson arrivals: the seed of the arrival sequence.
    pub poisson_seed: Option<u64>,
    /// Keep-alive connections in the pool.
    pub connections: u32,
    /// Closed loop: pause between a response and the next request on the same connection.
    pub think_time_s: f64,
    /// Warm-up seconds, excluded from the results.
    pub warmup_s: f64,
    /// Measurement seconds asked for, if the run was bounded by time.
    pub duration_s: Option<f64>,
    /// Measured requests asked for, if the run was bounded by count.
    pub max_requests: Option<u64>,
    /// Length of one interval of the time series.
    pub interval_s: f64,
    /// Per-request timeout.
    pub timeout_s: f64,
    /// Generator threads, each with its own single-threaded event loop.
    pub threads: u32,
    /// The core the generator was pinned to, if it was.
    pub pinned_core: Option<usize>,
    /// Every Nth response is checked against its template's expectations; 0 means never.
    pub validate_every: u64,
    /// Open-loop rate steps, in order; empty when the run had one rate.
    pub rate_steps: Vec<RateStepSummary>,
    /// The request templates, with their weights.
    pub templates: Vec<TemplateSummary>,
}

/// Open loop (a schedule of intended send times) or closed loop (send when the last finished).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LoadMode {
    OpenLoop,
    ClosedLoop,
}

/// How open-loop send times are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Arrivals {
    /// Evenly spaced, `1 / rate` apart.
    Constant,
    /// Exponentially distributed gaps with mean `1 / rate`, from a seed.
    Poisson,
}

/// One rate step of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RateStepSummary {
    /// Requests per second offered during the step.
    pub rate: f64,
    /// Seconds the step lasted.
    pub duration_s: f64,
}

/// One request template of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TemplateSummary {
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// Path and query, e.g. `/io/upstream?ms=20`.
    pub path: String,
    /// Extra request headers as `name: value`.
    pub headers: Vec<String>,
    /// Size of the request body.
    pub body_bytes: u64,
    /// Relative weight among the templates.
    pub weight: u32,
    /// The status sampled responses must have, if checked.
    pub expect_status: Option<u16>,
    /// Size of the body sampled responses must have byte for byte, if checked.
    pub expect_body_bytes: Option<u64>,
}

impl LoadResult {
    /// The latency a verdict judges: with failures at the timeout, or, for results written
    /// before the engine recorded that, the successful requests' own latency.
    pub fn judged_latency(&self) -> &LatencySummary {
        if self.latency_with_failures.count > 0 {
            &self.latency_with_failures
        } else {
            &self.latency
        }
    }
}

/// A latency distribution in a few numbers, all in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LatencySummary {
    /// Values recorded.
    pub count: u64,
    pub min_us: f64,
    pub mean_us: f64,
    pub stdev_us: f64,
    pub max_us: f64,
    pub p50_us: f64,
    pub p75_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    /// The 99.9th percentile.
    pub p999_us: f64,
    /// The 99.99th percentile.
    pub p9999_us: f64,
}

/// One line of a percentile distribution (`.hgrm`): `percentile`% of values are at most
/// `value_us`, and `total_count` values are.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PercentilePoint {
    pub value_us: f64,
    /// Percentile rank in [0, 100].
    pub percentile: f64,
    pub total_count: u64,
}

/// One interval of the measurement's time series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IntervalPoint {
    /// Start of the interval, seconds since the measurement started.
    pub start_s: f64,
    /// End of the interval, seconds since the measurement started.
    pub t_s: f64,
    /// Requests that finished during the interval.
    pub requests: u64,
    /// Of those, requests that failed.
    pub errors: u64,
    /// Corrected latency of the responses completed during the interval.
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    /// The interval's corrected histogram, base64 of HdrHistogram's compressed V2 encoding.
    pub histogram: String,
}

/// The results of one open-loop rate step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StepResult {
    /// Requests per second offered (for a step of a room search, deliveries per second).
    pub target_rate: f64,
    /// The broadcast room's members, for a step of a room search (which bisects the members at
    /// one message rate); absent for a rate step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<u32>,
    /// Seconds the step lasted, measured like [`LoadResult::duration_s`].
    pub duration_s: f64,
    /// Responses per second.
    pub achieved_rate: f64,
    /// Requests that finished, with a response or an error.
    pub requests: u64,
    /// Requests that got a response.
    pub responses: u64,
    /// Failed requests by class.
    pub errors: BTreeMap<String, u64>,
    /// Requests that waited for a free connection.
    pub late_sends: u64,
    /// Corrected latency.
    pub latency: LatencySummary,
    /// Uncorrected latency.
    pub latency_uncorrected: LatencySummary,
    /// Generator send lag.
    pub send_lag: Option<LatencySummary>,
    /// The step's histograms.
    pub histograms: EncodedHistograms,
    /// The harness fault (a late upstream, a late send, a contended core) that spoiled this
    /// step's first attempt; the step was then measured once more, and this is that repeat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_attempt_spoiled: Option<String>,
}

/// The warm-up, kept apart from the results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WarmupSummary {
    /// Seconds the warm-up lasted.
    pub duration_s: f64,
    /// Requests that finished.
    pub requests: u64,
    /// Requests that got a response.
    pub responses: u64,
    /// Failed requests, all classes together.
    pub errors: u64,
    /// Responses per second.
    pub achieved_rate: f64,
    /// Connections opened during the warm-up.
    pub connections_opened: u64,
    /// Corrected latency.
    pub latency: LatencySummary,
}

/// The fraction of its cores at which the generator counts as saturated.
pub const CPU_SATURATION: f64 = 0.90;
/// The open-loop p99 send lag, in microseconds, above which the generator counts as saturated.
pub const SEND_LAG_SATURATION_US: f64 = 1_000.0;

/// What the generator measured about itself, to tell whether it was the bottleneck.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SelfCheck {
    /// CPU seconds (user + system) the generator's threads used, warm-up included.
    pub cpu_s: f64,
    /// Wall-clock seconds the generator's threads ran.
    pub wall_s: f64,
    /// Cores the generator had: one per thread.
    pub cores: u32,
    /// `cpu_s / (cores * wall_s)`; saturation is flagged at 0.9.
    pub cpu_fraction: f64,
    /// CPUs the generator's threads were allowed to run on, as the kernel reported them.
    pub allowed_cpus: Vec<usize>,
    /// Open loop: p99 send lag of the measurement; saturation is flagged above 1 ms.
    pub send_lag_p99_us: Option<f64>,
}

impl SelfCheck {
    /// The generator's threads used [`CPU_SATURATION`] or more of their cores.
    pub fn cpu_saturated(&self) -> bool {
        self.cpu_fraction >= CPU_SATURATION
    }

    /// Open loop: the p99 send lag was above [`SEND_LAG_SATURATION_US`].
    pub fn sent_late(&self) -> bool {
        self.send_lag_p99_us.is_some_and(|lag| lag > SEND_LAG_SATURATION_US)
    }
}

/// Histograms as base64 of HdrHistogram's compressed V2 encoding (1 µs to 1 h, 3 significant
/// digits, values in microseconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EncodedHistograms {
    /// Corrected latency.
    pub corrected: String,
    /// Uncorrected latency.
    pub uncorrected: String,
    /// Send lag, open loop only.
    pub send_lag: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_classes_are_listed_in_index_order_with_their_serde_names() {
        for (i, class) in ErrorClass::ALL.into_iter().enumerate() {
            assert_eq!(class.index(), i);
            assert_eq!(serde_json::to_value(class).unwrap(), class.as_str());
        }
    }
}
