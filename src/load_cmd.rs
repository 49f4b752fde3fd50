//! `claimbench load URL`: one load run against any HTTP server on loopback, from the command line.
//!
//! This file only turns flags into an engine `Plan` (rejecting bad input with a message that
//! names it), runs it with Ctrl-C as the cancel signal, prints the summary and writes the files
//! asked for. Sending, recording and formatting all live in `claimbench-engine`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use claimbench_engine::export::{self, Latency};
use claimbench_engine::{
    Expect, Mode, Plan, ProgressEvent, Protocol, RateStep, RuntimeChoice, Schedule, WsOptions, MAX_THREADS,
    WS_BROADCAST_MIN_BYTES, WS_MAX_MESSAGE_BYTES, WS_MIN_MESSAGE_BYTES,
};

use crate::args;

/// Connections when neither --rate nor --connections says otherwise (wrk's default).
const DEFAULT_CONNECTIONS: usize = 10;

/// The highest core id `--core` takes (a `cpu_set_t` holds 1024).
const MAX_CORE: u64 = 1023;

/// Send HTTP or WebSocket load to a server on this machine and report corrected and uncorrected latency.
///
/// With --rate (or --steps) it is an open loop: requests leave on a fixed schedule over a pool of
/// --connections keep-alive connections, and latency counts from when each request should have
/// left (corrected for coordinated omission). Without --rate it is a closed loop: each of
/// --connections connections sends its next request as soon as the last one is answered.
///
/// A ws:// URL upgrades every connection once and sends text messages for the server to echo
/// (one per request slot, --in-flight at a time per connection); each echo's round trip is a
/// request's latency, and lost, duplicated and reordered echoes are counted. --sse subscribes to
/// an event stream instead: every event received is one delivery.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("open_loop").args(["rate", "steps"])))]
pub struct LoadArgs {
    /// Target URL, on loopback only: http://127.0.0.1:PORT/path, http://localhost:PORT/, http://[::1]:PORT/ or ws://127.0.0.1:PORT/ws/echo
    pub url: String,

    /// Open loop at this many requests per second (otherwise closed loop).
    #[arg(long, value_parser = args::rate, conflicts_with = "steps")]
    pub rate: Option<f64>,

    /// Keep-alive connections: the closed-loop concurrency, or the open-loop pool size.
    #[arg(long, short = 'c', value_parser = args::bounded::<usize>(1, args::MAX_CONNECTIONS))]
    pub connections: Option<usize>,

    /// How long to measure, e.g. 30s, 500ms, 2m (with --steps, each step lasts --step-duration).
    #[arg(long, short = 'd', default_value = "10s", value_parser = args::duration, conflicts_with = "steps")]
    pub duration: Duration,

    /// Stop after this many measured requests (whichever of time and count comes first).
    #[arg(long, value_parser = args::bounded::<u64>(1, args::MAX_REQUESTS))]
    pub requests: Option<u64>,

    /// Load to send before measuring, recorded apart and left out of the results.
    #[arg(long, default_value = "0s", value_parser = args::duration)]
    pub warmup: Duration,

    /// HTTP method.
    #[arg(long, short = 'm', default_value = "GET")]
    pub method: String,

    /// Extra request header as `Name: value`; repeat for more.
    #[arg(long = "header", short = 'H', value_name = "NAME:VALUE", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,

    /// Request body: `@path` reads a file, anything else is sent as is.
    #[arg(long)]
    pub body: Option<String>,

    /// Open loop: Poisson arrivals from this seed instead of evenly spaced requests (any number:
    /// a seed is a name, not a quantity).
    #[arg(long, requires = "open_loop")]
    pub poisson_seed: Option<u64>,

    /// Open loop through these rates instead of one --rate (comma-separated), each for
    /// --step-duration.
    #[arg(long, value_delimiter = ',', value_parser = args::rate)]
    pub steps: Vec<f64>,

    /// Length of each rate step.
    #[arg(long, default_value = "10s", value_parser = args::duration, requires = "steps")]
    pub step_duration: Duration,

    /// Closed loop: pause between a response and the next request on a connection.
    #[arg(long, default_value = "0s", value_parser = args::duration, conflicts_with = "open_loop")]
    pub think_time: Duration,

    /// Per-request timeout, connecting included.
    #[arg(long, default_value = "10s", value_parser = args::duration)]
    pub timeout: Duration,

    /// Length of one interval of the time series and the interval log.
    #[arg(long, default_value = "1s", value_parser = args::duration)]
    pub interval: Duration,

    /// Generator threads, each with its own event loop.
    #[arg(long, default_value_t = 1, conflicts_with = "core",
          value_parser = args::bounded::<usize>(1, MAX_THREADS as u64))]
    pub threads: usize,

    /// Run the generator on one thread pinned to this core.
    #[arg(long, value_parser = args::bounded::<usize>(0, MAX_CORE))]
    pub core: Option<usize>,

    /// Check every Nth response against --expect-status (0 never checks).
    #[arg(long, default_value_t = 0, value_parser = args::bounded::<u64>(0, args::MAX_REQUESTS))]
    pub validate_every: u64,

    /// The status checked responses must have; other 4xx/5xx statuses count as errors anyway.
    #[arg(long, value_parser = args::bounded::<u16>(100, 999))]
    pub expect_status: Option<u16>,

    /// Write the full result as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,

    /// Write the corrected latency distribution in HdrHistogram's .hgrm format here.
    #[arg(long)]
    pub hgrm: Option<PathBuf>,

    /// Write the corrected interval histograms as an HdrHistogram interval log here.
    #[arg(long)]
    pub hlog: Option<PathBuf>,

    /// ws:// only: messages each connection keeps in flight (1 is HttpArena's echo test).
    #[arg(long, default_value_t = 1, value_parser = args::bounded::<usize>(1, 1024))]
    pub in_flight: usize,

    /// ws:// only: bytes per text message [default: 16, the sequence number; in a broadcast 128,
    /// its header].
    #[arg(long, value_parser = args::bounded::<usize>(WS_MIN_MESSAGE_BYTES as u64, WS_MAX_MESSAGE_BYTES as u64))]
    pub message_bytes: Option<usize>,

    /// ws:// only, for a room (/ws/room?name=R): make the run a broadcast. Every connection joins
    /// the room, this many of them send, --rate messages a second in all, and every member records
    /// every message it receives: latency is the fan-out latency over all receivers.
    #[arg(long, value_parser = args::bounded::<usize>(1, 100_000))]
    pub broadcast_senders: Option<usize>,

    /// Subscribe to the http:// URL as a server-sent-events stream (e.g. /sse/ticks?hz=20): each
    /// of --connections subscribers sends one GET and records every event the server pushes until
    /// --duration ends; an event's latency is its arrival minus the `sent_us` it carries, and ids
    /// skipped, repeated or reordered are counted. No --rate: the server paces.
    #[arg(long)]
    pub sse: bool,
}

/// Runs `claimbench load`; exit 0 when the run finished, 130 when Ctrl-C stopped it early.
pub fn run(args: LoadArgs) -> anyhow::Result<ExitCode> {
    let plan = plan(&args)?;
    // A connection holds a socket and, in a pool of up to FINE_TIMER_CONNECTIONS, a pacing
    // timer; the rest is margin.
    let connections = plan.connections() as u64;
    let timers = if plan.connections() <= claimbench_engine::FINE_TIMER_CONNECTIONS { connections } else { 0 };
    let wanted = connections + timers + 1024;
    match claimbench_platform::raise_open_file_limit(wanted) {
        Ok(limit) if limit < wanted => eprintln!(
            "warning: {} connections need about {wanted} open files and RLIMIT_NOFILE allows {limit}: raise it (`ulimit -n`) or expect connect errors",
            plan.connections()
        ),
        Ok(_) => {}
        Err(e) => eprintln!("warning: {e}; runs with many connections may fail"),
    }
    let cancel = crate::interrupt::install("finishing the requests in flight");
    let live = std::io::stderr().is_terminal();
    let result = claimbench_engine::run(&plan, &cancel, &|event| report(event, live))
        .with_context(|| format!("running load against {}", args.url))?;
    print!("{}", export::render_summary(&result));
    if let Some(path) = &args.json {
        export::write_json(&result, path)?;
    }
    if let Some(path) = &args.hgrm {
        export::write_hgrm(&result, Latency::Corrected, path)?;
    }
    if let Some(path) = &args.hlog {
        export::write_hlog(&result, path)?;
    }
    Ok(if result.cancelled { ExitCode::from(130) } else { ExitCode::SUCCESS })
}

/// The engine plan the flags describe.
fn plan(args: &LoadArgs) -> anyhow::Result<Plan> {
    let connections = args.connections.unwrap_or(DEFAULT_CONNECTIONS);
    let duration = Some(args.duration);
    let open = |schedule| Mode::OpenLoop { schedule, poisson_seed: args.poisson_seed, connections };
    // clap keeps --rate and --steps apart, so at most one of them is set.
    let mode = match (args.rate, args.steps.as_slice()) {
        (Some(rate), _) => open(Schedule::Constant { rate, duration }),
        (None, []) => Mode::ClosedLoop { connections, think_time: args.think_time, duration },
        (None, steps) => {
            open(Schedule::Stepped(steps.iter().map(|&rate| RateStep { rate, duration: args.step_duration }).collect()))
        }
    };
    let mut plan = Plan::new(&args.url, mode)?;
    let template = &mut plan.templates[0];
    template.method = args.method.to_ascii_uppercase();
    template.headers = args.headers.clone();
    if let Some(body) = &args.body {
        template.body = read_body(body)?;
    }
    if let Some(status) = args.expect_status {
        template.expect = Some(Expect { status: Some(status), body: None, json: None });
    }
    plan.warmup = args.warmup;
    plan.max_requests = args.requests;
    plan.interval = args.interval;
    plan.timeout = args.timeout;
    plan.validate_every = args.validate_every;
    plan.runtime = match args.core {
        Some(core) => RuntimeChoice::Pinned { core },
        None => RuntimeChoice::Threads { threads: args.threads },
    };
    let ws_flags = args.in_flight != 1 || args.message_bytes.is_some() || args.broadcast_senders.is_some();
    match plan.protocol {
        Protocol::WebSocket(_) => {
            if args.body.is_some()
                || !args.headers.is_empty()
                || !args.method.eq_ignore_ascii_case("GET")
                || args.expect_status.is_some()
            {
                anyhow::bail!(
                    "--body, --header, --method and --expect-status are HTTP flags and {} is a ws:// URL: leave them out (use --message-bytes)",
                    args.url
                );
            }
            let smallest = if args.broadcast_senders.is_some() { WS_BROADCAST_MIN_BYTES } else { WS_MIN_MESSAGE_BYTES };
            plan.protocol = Protocol::WebSocket(WsOptions {
                in_flight: args.in_flight,
                message_bytes: args.message_bytes.unwrap_or(smallest),
                broadcast: args.broadcast_senders,
            });
        }
        Protocol::Http if ws_flags => {
            anyhow::bail!(
                "--in-flight, --message-bytes and --broadcast-senders are for ws:// URLs and {} is not one",
                args.url
            )
        }
        Protocol::Http | Protocol::Sse => {}
    }
    if args.sse {
        if matches!(plan.protocol, Protocol::WebSocket(_)) {
            anyhow::bail!(
                "--sse subscribes over http://, and {} is a ws:// URL: give the http:// URL of the stream",
                args.url
            );
        }
        if args.rate.is_some() || !args.steps.is_empty() || args.requests.is_some() || args.body.is_some() {
            anyhow::bail!("--sse takes no --rate, --steps, --requests or --body: the server paces the stream, and --duration ends it");
        }
        plan.protocol = Protocol::Sse;
    }
    Ok(plan)
}

fn read_body(arg: &str) -> anyhow::Result<Bytes> {
    match arg.strip_prefix('@') {
        Some(path) => std::fs::read(path).map(Bytes::from).with_context(|| {
            format!("cannot read the body file `{path}` given as --body @{path}: check the path (it is relative to the current folder)")
        }),
        None => Ok(Bytes::from(arg.to_string())),
    }
}

fn report(event: ProgressEvent, live: bool) {
    match event {
        ProgressEvent::PhaseStarted { name, duration } => match duration {
            Some(d) => eprintln!("{name} for {:.1}s...", d.as_secs_f64()),
            None => eprintln!("{name}..."),
        },
        ProgressEvent::Tick { elapsed, requests, errors } if live => {
            eprintln!("  {:>6.1}s {requests:>10} requests {errors:>8} errors", elapsed.as_secs_f64());
        }
        ProgressEvent::Tick { .. } => {}
        ProgressEvent::Stopping => eprintln!("stopping: waiting for requests in flight..."),
    }
}

/// A header written `Name: value`.
fn parse_header(text: &str) -> Result<(String, String), String> {
    match text.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().to_string(), value.trim().to_string())),
        _ => Err(format!("`{text}` is not a header: write it as `Name: value`, such as `accept: application/json`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_need_a_colon_and_a_name() {
        assert_eq!(parse_header("accept: text/plain"), Ok(("accept".into(), "text/plain".into())));
        assert!(parse_header("no-colon").unwrap_err().contains("Name: value"));
        assert!(parse_header(": value").is_err());
    }

    #[test]
    fn a_missing_body_file_names_the_file_and_the_fix() {
        let err = read_body("@/no/such/body.json").unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("/no/such/body.json") && text.contains("check the path"), "{text}");
        assert_eq!(read_body("{}").unwrap(), Bytes::from_static(b"{}"));
    }
}
