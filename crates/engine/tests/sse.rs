//! Server-sent-events load against Rust test servers on loopback: a correct ticker, whose every
//! event reaches every subscriber once and in order, and a deliberately faulty one that drops,
//! reorders and repeats events, which the engine must count rather than hide.

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use claimbench_engine::{run, Cancel, Mode, Plan, Protocol};
use support::{load_lock, run_to_end, LoopbackServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the test server does with the events of each subscriber, counted from its first.
#[derive(Clone, Copy, PartialEq)]
enum Fault {
    /// Sends every event once, in order.
    None,
    /// In every five events: sends 0; holds 1 and sends it after 2 (a reorder); sends 3 twice
    /// (a duplicate); never sends 4 (a loss). A keep-alive comment goes out after every group.
    DropReorderRepeat,
}

/// Ticks every 5 ms: 200 events a second per subscriber.
const TICK: Duration = Duration::from_millis(5);

/// An SSE test server on its own thread and event loop, stopped when dropped.
struct SseServer(LoopbackServer);

impl SseServer {
    fn start(fault: Fault) -> SseServer {
        SseServer(LoopbackServer::start(move |stream| subscriber(stream, fault)))
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/sse/ticks", self.0.port)
    }
}

/// The contract's event `seq`, stamped now.
fn event(seq: u64) -> String {
    let sent_us = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros();
    format!("id: {seq}\ndata: {{\"seq\":{seq},\"sent_us\":{sent_us},\"pad\":\"xxxxxxxx\"}}\n\n")
}

/// Reads the request head, answers with an event stream (ended by closing), and ticks until the
/// client goes away. Ids start at 1000, as a subscriber joining a running ticker would see them.
async fn subscriber(mut stream: tokio::net::TcpStream, fault: Fault) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&byte[..n]),
        }
    }
    let answer =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n";
    if stream.write_all(answer.as_bytes()).await.is_err() {
        return;
    }
    let mut tick = tokio::time::interval(TICK);
    let mut held = None;
    for n in 0u64.. {
        tick.tick().await;
        let seq = 1000 + n;
        let out = match (fault, n % 5) {
            (Fault::None, _) | (Fault::DropReorderRepeat, 0) => event(seq),
            (Fault::DropReorderRepeat, 1) => {
                held = Some(event(seq));
                String::new()
            }
            (Fault::DropReorderRepeat, 2) => event(seq) + &held.take().unwrap_or_default(),
            (Fault::DropReorderRepeat, 3) => event(seq).repeat(2),
            (Fault::DropReorderRepeat, _) => ": keep-alive\n\n".to_string(),
        };
        if !out.is_empty() && stream.write_all(out.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn sse_plan(url: &str, subscribers: usize, seconds: f64) -> Plan {
    let mode = Mode::ClosedLoop {
        connections: subscribers,
        think_time: Duration::ZERO,
        duration: Some(Duration::from_secs_f64(seconds)),
    };
    let mut plan = Plan::new(url, mode).unwrap();
    plan.protocol = Protocol::Sse;
    plan.interval = Duration::from_millis(250);
    plan
}

#[test]
fn every_event_of_a_correct_ticker_is_one_delivery_and_none_is_lost() {
    let _load = load_lock();
    let server = SseServer::start(Fault::None);
    let subscribers = 8;
    let r = run_to_end(&sse_plan(&server.url(), subscribers, 0.6));
    let sse = r.sse.as_ref().expect("an SSE run says what the ids showed");
    assert_eq!(sse.subscribers, subscribers as u32);
    assert_eq!((sse.lost, sse.duplicated, sse.out_of_order, sse.unexpected), (0, 0, 0, 0), "{sse:?}");
    assert_eq!(r.errors.values().sum::<u64>(), 0, "{:?}", r.errors);
    assert_eq!(r.status_counts.get(&200).copied(), Some(r.responses), "every delivery counts under 200");
    // 0.6 s at 200 events a second: at least a third of them, whatever the machine's speed.
    assert!(r.responses >= subscribers as u64 * 40, "{} deliveries", r.responses);
    assert_eq!(r.latency.count, r.responses, "each delivery has a latency");
    assert!(r.latency.max_us < 10_000_000.0, "no delivery took the whole timeout: {:?}", r.latency);
    assert_eq!(r.connect.as_ref().map(|c| c.count), Some(subscribers as u64), "one subscription each");
}

#[test]
fn a_faulty_ticker_s_losses_repeats_and_reorders_are_counted_not_hidden() {
    let _load = load_lock();
    let server = SseServer::start(Fault::DropReorderRepeat);
    let subscribers = 8;
    let r = run_to_end(&sse_plan(&server.url(), subscribers, 0.6));
    let sse = r.sse.as_ref().expect("an SSE run says what the ids showed");
    let slack = 2 * subscribers as u64;
    // One of each per group of five, give or take the groups cut by the start and the end.
    assert!(sse.lost >= 5 * subscribers as u64, "{sse:?}");
    assert!(sse.lost.abs_diff(sse.duplicated) <= slack && sse.lost.abs_diff(sse.out_of_order) <= slack, "{sse:?}");
    assert_eq!(sse.unexpected, 0, "a keep-alive comment is no event: {sse:?}");
    assert_eq!(r.errors.get("timeout").copied(), Some(sse.lost), "every lost event is a failed delivery");
    // Three of every five events arrive in order and one late: four deliveries per loss.
    let delivered = r.status_counts.get(&200).copied().unwrap_or(0);
    assert!(delivered.abs_diff(4 * sse.lost) <= 4 * slack, "{delivered} deliveries, {} lost", sse.lost);
}

#[test]
fn a_subscription_plan_refuses_a_rate_a_ws_url_and_no_duration() {
    let mut open = Plan::new(
        "http://127.0.0.1:9/sse/ticks",
        Mode::OpenLoop {
            schedule: claimbench_engine::Schedule::Constant { rate: 10.0, duration: Some(Duration::from_secs(1)) },
            poisson_seed: None,
            connections: 1,
        },
    )
    .unwrap();
    open.protocol = Protocol::Sse;
    let mut ws = sse_plan("ws://127.0.0.1:9/sse/ticks", 1, 1.0);
    ws.protocol = Protocol::Sse;
    let mut unbounded = Plan::new(
        "http://127.0.0.1:9/sse/ticks",
        Mode::ClosedLoop { connections: 1, think_time: Duration::ZERO, duration: None },
    )
    .unwrap();
    unbounded.protocol = Protocol::Sse;
    unbounded.max_requests = Some(10);
    for (plan, wanted) in [(open, "not a rate"), (ws, "ws:// URL"), (unbounded, "give a duration")] {
        let error = run(&plan, &Cancel::new(), &|_| {}).unwrap_err().to_string();
        assert!(error.contains("server-sent-events plan") && error.contains(wanted), "{error}");
    }
}
