//! The typed plan of a load run, and its validation into phases the workers follow.
//!
//! A `Plan` is what callers build (the CLI from its flags, the suite from its experiments); it
//! holds plain values so it can be built without touching hyper. `Plan::validate` checks it once
//! and turns it into a list of phases (warm-up, then one phase per rate step or one measurement
//! phase) plus prepared request templates. Pacing lives in `pacer`, sending in `worker`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use claimbench_model::load as model;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE, HOST};
use hyper::{HeaderMap, Method, Uri};

use crate::error::EngineError;

/// The most generator threads a plan may ask for.
pub const MAX_THREADS: usize = 256;

/// A load run: where, what, how hard, for how long.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The server under test; loopback only.
    pub target: Target,
    /// Requests to send, picked by weight; at least one.
    pub templates: Vec<RequestTemplate>,
    /// Open or closed loop, the connection pool and how long the measurement lasts.
    pub mode: Mode,
    /// Load sent before the measurement and recorded apart from it.
    pub warmup: Duration,
    /// Stop after this many measured requests, whichever of time and count comes first.
    pub max_requests: Option<u64>,
    /// Length of one interval of the time series and the interval log.
    pub interval: Duration,
    /// How long one request (connecting included) may take before it counts as a timeout.
    pub timeout: Duration,
    /// Which threads and cores the generator runs on.
    pub runtime: RuntimeChoice,
    /// Check every Nth response against its template's expectations; 0 never checks.
    pub validate_every: u64,
    /// What the connections speak: HTTP requests, or WebSocket messages (from a `ws://` URL).
    pub protocol: Protocol,
}

/// The protocol of a run's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// One HTTP/1.1 request per slot on keep-alive connections.
    Http,
    /// One WebSocket message per slot, echoed back by the server: each connection upgrades once
    /// and keeps `in_flight` messages outstanding at most.
    WebSocket(WsOptions),
    /// Server-sent events: each connection sends one GET of the (single) template and records
    /// every event the server pushes as one delivery, its latency from the event's embedded send
    /// time (see `sse`). The server paces; the plan is a closed loop with a duration.
    Sse,
}

/// How a WebSocket run sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WsOptions {
    /// Messages a connection may have sent and not yet seen echoed; at least 1.
    pub in_flight: usize,
    /// Bytes per text message; at least [`WS_MIN_MESSAGE_BYTES`], for the sequence number
    /// ([`WS_BROADCAST_MIN_BYTES`] in a broadcast, for its header).
    pub message_bytes: usize,
    /// `Some(senders)`: a broadcast room (`/ws/room`) instead of an echo. Every connection joins
    /// the room, the first `senders` of them send one message per pacer slot, and every member
    /// records every message it receives as one delivery, its latency counted from the message's
    /// intended send time (see `broadcast`).
    pub broadcast: Option<usize>,
}

/// The shortest WebSocket message: its sequence number in 16 hex digits.
pub const WS_MIN_MESSAGE_BYTES: usize = 16;
/// The longest WebSocket message a plan may send (the contract's echo limit).
pub const WS_MAX_MESSAGE_BYTES: usize = 1 << 20;
/// The shortest broadcast message: its JSON header with every number at its widest.
pub const WS_BROADCAST_MIN_BYTES: usize = 128;
/// The longest broadcast message (the contract's limit for `/ws/room`).
pub const WS_BROADCAST_MAX_BYTES: usize = 4096;

impl Default for WsOptions {
    /// HttpArena's echo test: one message in flight; 16 bytes carry the sequence number.
    fn default() -> WsOptions {
        WsOptions { in_flight: 1, message_bytes: WS_MIN_MESSAGE_BYTES, broadcast: None }
    }
}

/// Open loop (requests at intended times) or closed loop (each connection sends when free).
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Requests at the rates of `schedule` over a pool of `connections` keep-alive connections.
    OpenLoop {
        schedule: Schedule,
        /// `Some(seed)`: Poisson arrivals from that seed; `None`: evenly spaced.
        poisson_seed: Option<u64>,
        connections: usize,
    },
    /// `connections` connections, each sending its next request `think_time` after the last
    /// response, for `duration` (`None`: until the plan's request count).
    ClosedLoop { connections: usize, think_time: Duration, duration: Option<Duration> },
}

/// The rates of an open-loop run: one rate for one duration, or a staircase of steps.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// `rate` requests per second for `duration` (`None`: until the plan's request count).
    Constant { rate: f64, duration: Option<Duration> },
    /// Each step's rate for the step's duration, in order; at least one step.
    Stepped(Vec<RateStep>),
}

/// One step of an open-loop rate staircase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateStep {
    /// Requests per second.
    pub rate: f64,
    /// How long the step lasts.
    pub duration: Duration,
}

/// The generator's threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeChoice {
    /// One thread with a single-threaded event loop, pinned to this core.
    Pinned { core: usize },
    /// This many threads, each with its own single-threaded event loop, not pinned.
    Threads { threads: usize },
}

/// One kind of request, picked in proportion to its weight.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestTemplate {
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// Path and query, e.g. `/io/upstream?ms=20`.
    pub path: String,
    /// Extra headers; `Host` is added from the target.
    pub headers: Vec<(String, String)>,
    /// Request body, sent as is.
    pub body: Bytes,
    /// Relative weight; at least 1.
    pub weight: u32,
    /// What sampled responses must look like, if they are checked.
    pub expect: Option<Expect>,
}

/// The expected response of a template, checked on every Nth response.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expect {
    /// Exact status; a response with this status never counts as a 4xx/5xx error.
    pub status: Option<u16>,
    /// Exact body, byte for byte.
    pub body: Option<Bytes>,
    /// A JSON document the body must equal up to key order and number spelling
    /// ([`claimbench_model::contract::json_equal`]), as the contract states bodies.
    pub json: Option<serde_json::Value>,
}

/// A parsed target URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The URL as given.
    pub url: String,
    /// Where to connect.
    pub addr: SocketAddr,
    /// The `Host` header value.
    pub authority: String,
    /// Path and query of the URL, `/` when it has none.
    pub path: String,
    /// The URL is `ws://`.
    pub websocket: bool,
}

impl Target {
    /// Parses an `http://` or `ws://` URL whose host is a loopback address or `localhost`.
    pub fn parse(url: &str) -> Result<Target, EngineError> {
        let invalid = |reason: &str| EngineError::InvalidUrl { url: url.to_string(), reason: reason.to_string() };
        let uri: Uri = url.parse().map_err(|e: hyper::http::uri::InvalidUri| invalid(&e.to_string()))?;
        match uri.scheme_str() {
            Some("http" | "ws") => {}
            Some(tls @ ("https" | "wss")) => {
                return Err(invalid(&format!(
                    "{tls} is not supported, the engine speaks plain HTTP/1.1 and WebSocket on loopback"
                )))
            }
            Some(other) => return Err(invalid(&format!("scheme `{other}` is neither http nor ws"))),
            None => return Err(invalid("it has no scheme (start it with http://)")),
        }
        let authority = uri.authority().ok_or_else(|| invalid("it has no host"))?.clone();
        if authority.as_str().contains('@') {
            return Err(invalid("credentials in the URL are not supported"));
        }
        let host = authority.host();
        let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            bare.parse().map_err(|_| EngineError::NotLoopback { url: url.to_string(), host: host.to_string() })?
        };
        if !ip.is_loopback() {
            return Err(EngineError::NotLoopback { url: url.to_string(), host: host.to_string() });
        }
        let port = authority.port_u16().unwrap_or(80);
        let websocket = uri.scheme_str() == Some("ws");
        if port == 0 {
            return Err(invalid("port 0 cannot be connected to"));
        }
        let path = uri.path_and_query().map(|p| p.as_str()).filter(|p| !p.is_empty()).unwrap_or("/").to_string();
        Ok(Target {
            url: url.to_string(),
            addr: SocketAddr::new(ip, port),
            authority: authority.as_str().to_string(),
            path,
            websocket,
        })
    }
}

impl RequestTemplate {
    /// A plain `GET` of `path`, weight 1, unchecked.
    pub fn get(path: &str) -> RequestTemplate {
        RequestTemplate {
            method: "GET".to_string(),
            path: path.to_string(),
            headers: Vec::new(),
            body: Bytes::new(),
            weight: 1,
            expect: None,
        }
    }
}

impl Plan {
    /// A plan with one `GET` of the URL's path and the defaults: no warm-up, 1 s intervals,
    /// 10 s timeout, one unpinned thread, no validation; `mode` says how long it measures. A
    /// `ws://` URL makes it a WebSocket echo run with [`WsOptions::default`].
    pub fn new(url: &str, mode: Mode) -> Result<Plan, EngineError> {
        let target = Target::parse(url)?;
        let templates = vec![RequestTemplate::get(&target.path)];
        Ok(Plan {
            templates,
            mode,
            warmup: Duration::ZERO,
            max_requests: None,
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            runtime: RuntimeChoice::Threads { threads: 1 },
            validate_every: 0,
            protocol: if target.websocket { Protocol::WebSocket(WsOptions::default()) } else { Protocol::Http },
            target,
        })
    }

    /// Keep-alive connections in the pool.
    pub fn connections(&self) -> usize {
        match self.mode {
            Mode::OpenLoop { connections, .. } | Mode::ClosedLoop { connections, .. } => connections,
        }
    }

    /// Generator threads.
    pub fn threads(&self) -> usize {
        match self.runtime {
            RuntimeChoice::Pinned { .. } => 1,
            RuntimeChoice::Threads { threads } => threads,
        }
    }

    /// A broadcast's own rules: an open loop (members never wait for an answer, so only a
    /// schedule can pace the senders), one generator thread (every member counts its losses
    /// against the senders' totals, which that thread holds), and a message with room for its
    /// header within the room's limit.
    fn validate_broadcast(&self, senders: usize, message_bytes: usize) -> Result<(), EngineError> {
        let invalid = |reason: String| Err(EngineError::InvalidWebSocket { reason });
        if !matches!(self.mode, Mode::OpenLoop { .. }) {
            return invalid("a broadcast needs a rate (--rate): its senders are paced by the schedule".into());
        }
        if self.threads() != 1 {
            return invalid(format!("a broadcast runs on one generator thread, not {}", self.threads()));
        }
        if senders == 0 || senders > self.connections() {
            return invalid(format!(
                "{senders} senders in a room of {} members: give 1 to the member count",
                self.connections()
            ));
        }
        if !(WS_BROADCAST_MIN_BYTES..=WS_BROADCAST_MAX_BYTES).contains(&message_bytes) {
            return invalid(format!(
                "a broadcast message of {message_bytes} bytes is outside {WS_BROADCAST_MIN_BYTES}..={WS_BROADCAST_MAX_BYTES} (its header takes up to {WS_BROADCAST_MIN_BYTES})"
            ));
        }
        Ok(())
    }

    /// A subscription's own rules: an `http://` URL, one GET template, no rate or think time
    /// (the server sends when it will), and a duration (a subscriber reads until the run ends).
    fn validate_sse(&self) -> Result<(), EngineError> {
        let invalid = |reason: String| Err(EngineError::InvalidSse { reason });
        if self.target.websocket {
            return invalid(format!("{} is a ws:// URL: server-sent events come over http://", self.target.url));
        }
        let Mode::ClosedLoop { think_time, duration, .. } = self.mode else {
            return invalid("the server paces an event stream: give connections (subscribers), not a rate".into());
        };
        if !think_time.is_zero() {
            return invalid("the server paces an event stream: a subscriber has no think time".into());
        }
        if duration.is_none() {
            return invalid("a subscriber reads until the run ends: give a duration".into());
        }
        if self.templates.len() != 1 || !self.templates[0].method.eq_ignore_ascii_case("GET") {
            return invalid("a subscription is one GET of the URL".into());
        }
        Ok(())
    }

    /// Checks the plan and lays it out as phases; every error names the field at fault.
    pub(crate) fn validate(&self) -> Result<Validated, EngineError> {
        let threads = self.threads();
        if threads == 0 || threads > MAX_THREADS {
            return Err(EngineError::InvalidThreads { threads, max: MAX_THREADS });
        }
        let connections = self.connections();
        if connections == 0 || connections < threads {
            return Err(EngineError::InvalidConnections { connections, threads });
        }
        for (d, what) in [(self.interval, "the interval"), (self.timeout, "the timeout")] {
            if d.is_zero() {
                return Err(EngineError::ZeroDuration { what });
            }
        }
        if self.max_requests == Some(0) {
            return Err(EngineError::Unbounded);
        }
        if let Protocol::WebSocket(ws) = self.protocol {
            if !self.target.websocket {
                return Err(EngineError::InvalidWebSocket {
                    reason: format!("{} is not a ws:// URL", self.target.url),
                });
            }
            if ws.in_flight == 0 {
                return Err(EngineError::InvalidWebSocket { reason: "messages in flight must be at least 1".into() });
            }
            if let Some(senders) = ws.broadcast {
                self.validate_broadcast(senders, ws.message_bytes)?;
            } else if !(WS_MIN_MESSAGE_BYTES..=WS_MAX_MESSAGE_BYTES).contains(&ws.message_bytes) {
                return Err(EngineError::InvalidWebSocket {
                    reason: format!(
                        "a message of {} bytes is outside {WS_MIN_MESSAGE_BYTES}..={WS_MAX_MESSAGE_BYTES} (16 bytes carry the sequence number)",
                        ws.message_bytes
                    ),
                });
            }
        } else if self.protocol == Protocol::Sse {
            self.validate_sse()?;
        } else if self.target.websocket {
            return Err(EngineError::InvalidWebSocket {
                reason: format!("{} is a ws:// URL in an HTTP plan", self.target.url),
            });
        }
        let templates = self.prepare_templates()?;
        // Every run is a list of steps, each with its rate (open loop) and length: the rate
        // steps, or one measurement.
        let single = |rate: Option<f64>, duration: Option<Duration>| {
            if duration.is_some_and(|d| d.is_zero()) {
                return Err(EngineError::ZeroDuration { what: "the duration" });
            }
            if duration.is_none() && self.max_requests.is_none() {
                return Err(EngineError::Unbounded);
            }
            Ok(vec![(rate, duration)])
        };
        let steps: Vec<(Option<f64>, Option<Duration>)> = match &self.mode {
            Mode::OpenLoop { schedule: Schedule::Constant { rate, duration }, .. } => {
                check_rate(*rate)?;
                single(Some(*rate), *duration)?
            }
            Mode::OpenLoop { schedule: Schedule::Stepped(steps), .. } => {
                if steps.is_empty() {
                    return Err(EngineError::NoRateSteps);
                }
                steps
                    .iter()
                    .map(|step| {
                        check_rate(step.rate)?;
                        if step.duration.is_zero() {
                            return Err(EngineError::ZeroDuration { what: "a rate step" });
                        }
                        Ok((Some(step.rate), Some(step.duration)))
                    })
                    .collect::<Result<_, _>>()?
            }
            Mode::ClosedLoop { duration, .. } => single(None, *duration)?,
        };
        let mut phases = Vec::new();
        let mut start = Duration::ZERO;
        if !self.warmup.is_zero() {
            phases.push(Phase { kind: PhaseKind::Warmup, start, end: Some(self.warmup), rate: steps[0].0 });
            start = self.warmup;
        }
        for (step, (rate, duration)) in steps.into_iter().enumerate() {
            let end = duration.and_then(|d| start.checked_add(d));
            phases.push(Phase { kind: PhaseKind::Measure { step }, start, end, rate });
            start = end.unwrap_or(Duration::MAX);
        }
        let stepped = matches!(self.mode, Mode::OpenLoop { schedule: Schedule::Stepped(_), .. });
        Ok(Validated { phases, templates, stepped })
    }

    fn prepare_templates(&self) -> Result<Vec<PreparedTemplate>, EngineError> {
        if self.templates.is_empty() {
            return Err(EngineError::NoTemplates);
        }
        let host = HeaderValue::from_str(&self.target.authority).map_err(|e| EngineError::InvalidUrl {
            url: self.target.url.clone(),
            reason: format!("its host cannot be a Host header ({e})"),
        })?;
        self.templates
            .iter()
            .enumerate()
            .map(|(index, t)| {
                let bad = |reason: String| EngineError::InvalidTemplate {
                    index,
                    method: t.method.clone(),
                    path: t.path.clone(),
                    reason,
                };
                let method = Method::from_bytes(t.method.as_bytes())
                    .map_err(|_| bad("the method is not a valid HTTP token".into()))?;
                if !t.path.starts_with('/') {
                    return Err(bad("the path must start with `/`".into()));
                }
                let uri: Uri =
                    t.path.parse().map_err(|e| bad(format!("the path is not a valid request target ({e})")))?;
                if t.weight == 0 {
                    return Err(bad("its weight is 0; give it at least 1 or remove it".into()));
                }
                let mut headers = HeaderMap::new();
                headers.insert(HOST, host.clone());
                for (name, value) in &t.headers {
                    let name = HeaderName::from_bytes(name.trim().as_bytes())
                        .map_err(|_| bad(format!("`{name}` is not a valid header name")))?;
                    let value = HeaderValue::from_str(value.trim())
                        .map_err(|_| bad(format!("the value of header `{name}` is not valid")))?;
                    headers.append(name, value);
                }
                if !t.body.is_empty() && !headers.contains_key(CONTENT_TYPE) {
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                }
                if let Some(status) = t.expect.as_ref().and_then(|e| e.status) {
                    if !(100..=999).contains(&status) {
                        return Err(bad(format!("expected status {status} is not an HTTP status")));
                    }
                }
                Ok(PreparedTemplate {
                    method,
                    uri,
                    headers,
                    body: t.body.clone(),
                    weight: t.weight,
                    expect: t.expect.clone(),
                })
            })
            .collect()
    }

    /// The plan as recorded in the result.
    pub(crate) fn summary(&self) -> model::PlanSummary {
        let (mode, target_rate, arrivals, poisson_seed, think) = match &self.mode {
            Mode::OpenLoop { schedule, poisson_seed, .. } => (
                model::LoadMode::OpenLoop,
                schedule.first_rate(),
                Some(if poisson_seed.is_some() { model::Arrivals::Poisson } else { model::Arrivals::Constant }),
                *poisson_seed,
                0.0,
            ),
            Mode::ClosedLoop { think_time, .. } => {
                (model::LoadMode::ClosedLoop, None, None, None, think_time.as_secs_f64())
            }
        };
        let (duration, steps): (Option<Duration>, &[RateStep]) = match &self.mode {
            Mode::OpenLoop { schedule: Schedule::Constant { duration, .. }, .. }
            | Mode::ClosedLoop { duration, .. } => (*duration, &[]),
            Mode::OpenLoop { schedule: Schedule::Stepped(steps), .. } => {
                (Some(steps.iter().map(|s| s.duration).sum()), steps)
            }
        };
        model::PlanSummary {
            url: self.target.url.clone(),
            mode,
            target_rate,
            arrivals,
            poisson_seed,
            connections: self.connections() as u32,
            think_time_s: think,
            warmup_s: self.warmup.as_secs_f64(),
            duration_s: duration.map(|d| d.as_secs_f64()),
            max_requests: self.max_requests,
            interval_s: self.interval.as_secs_f64(),
            timeout_s: self.timeout.as_secs_f64(),
            threads: self.threads() as u32,
            pinned_core: match self.runtime {
                RuntimeChoice::Pinned { core } => Some(core),
                RuntimeChoice::Threads { .. } => None,
            },
            validate_every: self.validate_every,
            rate_steps: steps
                .iter()
                .map(|s| model::RateStepSummary { rate: s.rate, duration_s: s.duration.as_secs_f64() })
                .collect(),
            templates: self
                .templates
                .iter()
                .map(|t| model::TemplateSummary {
                    method: t.method.clone(),
                    path: t.path.clone(),
                    headers: t.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect(),
                    body_bytes: t.body.len() as u64,
                    weight: t.weight,
                    expect_status: t.expect.as_ref().and_then(|e| e.status),
                    expect_body_bytes: t.expect.as_ref().and_then(|e| e.body.as_ref()).map(|b| b.len() as u64),
                })
                .collect(),
        }
    }
}

impl Schedule {
    /// The rate asked for first: the constant rate, or the first step's.
    fn first_rate(&self) -> Option<f64> {
        match self {
            Schedule::Constant { rate, .. } => Some(*rate),
            Schedule::Stepped(steps) => steps.first().map(|s| s.rate),
        }
    }
}

fn check_rate(rate: f64) -> Result<(), EngineError> {
    if rate.is_finite() && rate > 0.0 {
        Ok(())
    } else {
        Err(EngineError::InvalidRate { rate })
    }
}

/// A checked plan: phases in time order and ready-to-send templates.
#[derive(Debug, Clone)]
pub(crate) struct Validated {
    pub phases: Vec<Phase>,
    pub templates: Vec<PreparedTemplate>,
    /// The plan listed rate steps, so the result reports each step.
    pub stepped: bool,
}

/// A stretch of the run with one purpose and, in open loop, one rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Phase {
    pub kind: PhaseKind,
    /// Offset from the run's start.
    pub start: Duration,
    /// Offset from the run's start; `None` when only a request count bounds it.
    pub end: Option<Duration>,
    /// Open loop: requests per second for the whole generator.
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PhaseKind {
    Warmup,
    Measure { step: usize },
}

/// A template turned into hyper types once, so each request only clones cheap handles.
#[derive(Debug, Clone)]
pub(crate) struct PreparedTemplate {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub weight: u32,
    pub expect: Option<Expect>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loopback_url_parses_into_address_host_and_path() {
        let t = Target::parse("http://127.0.0.1:8080/io?ms=5").unwrap();
        assert_eq!(t.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(t.authority, "127.0.0.1:8080");
        assert_eq!(t.path, "/io?ms=5");
        let t = Target::parse("http://localhost:9000").unwrap();
        assert_eq!(t.path, "/");
        let t = Target::parse("http://[::1]:9000/x").unwrap();
        assert!(t.addr.ip().is_loopback());
    }

    #[test]
    fn a_remote_host_is_refused_by_name() {
        let err = Target::parse("http://example.com/").unwrap_err();
        assert!(err.to_string().contains("not a loopback address"), "{err}");
        let err = Target::parse("http://10.0.0.1:80/").unwrap_err();
        assert!(matches!(err, EngineError::NotLoopback { .. }));
    }

    #[test]
    fn https_and_garbage_urls_are_refused_with_an_example() {
        for url in ["https://127.0.0.1/", "wss://127.0.0.1/", "127.0.0.1:80", "http://", "ht tp://x"] {
            let err = Target::parse(url).unwrap_err();
            assert!(err.to_string().contains("http://127.0.0.1:8080/path"), "{err}");
        }
    }

    #[test]
    fn a_ws_url_makes_a_websocket_plan_with_checked_options() {
        let mode =
            Mode::ClosedLoop { connections: 2, think_time: Duration::ZERO, duration: Some(Duration::from_secs(1)) };
        let mut plan = Plan::new("ws://127.0.0.1:9/ws/echo", mode.clone()).unwrap();
        assert_eq!(plan.protocol, Protocol::WebSocket(WsOptions::default()));
        assert_eq!(plan.target.path, "/ws/echo");
        assert!(plan.validate().is_ok());
        plan.protocol = Protocol::WebSocket(WsOptions { in_flight: 0, message_bytes: 16, broadcast: None });
        assert!(plan.validate().unwrap_err().to_string().contains("in flight"));
        plan.protocol = Protocol::WebSocket(WsOptions { in_flight: 1, message_bytes: 8, broadcast: None });
        assert!(plan.validate().unwrap_err().to_string().contains("16 bytes"));
        let mut http = Plan::new("http://127.0.0.1:9/", mode).unwrap();
        assert_eq!(http.protocol, Protocol::Http);
        http.protocol = Protocol::WebSocket(WsOptions::default());
        assert!(http.validate().unwrap_err().to_string().contains("not a ws:// URL"));
    }

    fn open_with(schedule: Schedule) -> Plan {
        Plan::new("http://127.0.0.1:1/", Mode::OpenLoop { schedule, poisson_seed: None, connections: 4 }).unwrap()
    }

    fn open(rate: f64) -> Plan {
        open_with(Schedule::Constant { rate, duration: Some(Duration::from_secs(10)) })
    }

    #[test]
    fn warmup_and_steps_become_consecutive_phases() {
        let mut plan = open_with(Schedule::Stepped(vec![
            RateStep { rate: 100.0, duration: Duration::from_secs(3) },
            RateStep { rate: 200.0, duration: Duration::from_secs(4) },
        ]));
        plan.warmup = Duration::from_secs(2);
        let v = plan.validate().unwrap();
        let spans: Vec<_> = v.phases.iter().map(|p| (p.start, p.end, p.rate)).collect();
        let s = Duration::from_secs;
        assert_eq!(
            spans,
            vec![(s(0), Some(s(2)), Some(100.0)), (s(2), Some(s(5)), Some(100.0)), (s(5), Some(s(9)), Some(200.0)),]
        );
        assert_eq!(v.phases[0].kind, PhaseKind::Warmup);
        assert!(v.stepped);
        let summary = plan.summary();
        assert_eq!((summary.target_rate, summary.duration_s, summary.rate_steps.len()), (Some(100.0), Some(7.0), 2));
    }

    #[test]
    fn bad_numbers_are_refused_before_anything_runs() {
        assert!(matches!(open(0.0).validate(), Err(EngineError::InvalidRate { .. })));
        assert!(matches!(open(f64::NAN).validate(), Err(EngineError::InvalidRate { .. })));
        let p = open_with(Schedule::Constant { rate: 10.0, duration: None });
        assert!(matches!(p.validate(), Err(EngineError::Unbounded)));
        assert!(matches!(open_with(Schedule::Stepped(Vec::new())).validate(), Err(EngineError::NoRateSteps)));
        let mut p = open(10.0);
        p.runtime = RuntimeChoice::Threads { threads: 8 };
        assert!(matches!(p.validate(), Err(EngineError::InvalidConnections { .. })));
        let mut p = open(10.0);
        p.templates[0].headers.push(("bad header".into(), "x".into()));
        let err = p.validate().unwrap_err();
        assert!(err.to_string().contains("`bad header` is not a valid header name"), "{err}");
    }
}
