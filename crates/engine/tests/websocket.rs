//! WebSocket load against Rust test servers on loopback: a correct echo server, whose every
//! message comes back once and in order, and a deliberately faulty one that drops, reorders and
//! repeats messages, which the engine must count rather than hide.

mod support;

use std::sync::Arc;
use std::time::Duration;

use claimbench_engine::export::{render_hgrm, render_hlog, render_summary, Latency};
use claimbench_engine::{run, Cancel, Mode, Plan, Protocol, WsOptions};
use futures_util::{SinkExt, StreamExt};
use support::{load_lock, run_to_end, LoopbackServer};
use tokio_tungstenite::tungstenite::Message;

/// What the test server does with the messages of each connection, counted from 0.
#[derive(Clone, Copy)]
enum Fault {
    /// Echoes every message at once.
    None,
    /// In every five messages: echoes 0; holds 1 and echoes it after 2 (a reorder); echoes 3
    /// twice (a duplicate); never echoes 4 (a loss).
    DropReorderRepeat,
}

/// A WebSocket test server on its own thread and event loop (stopped when dropped), at `path`.
struct WsServer {
    server: LoopbackServer,
    path: &'static str,
}

impl WsServer {
    fn with<F, Fut>(path: &'static str, serve: F) -> WsServer
    where
        F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        WsServer { server: LoopbackServer::start(serve), path }
    }

    /// An echo server.
    fn start(fault: Fault) -> WsServer {
        WsServer::with("/ws/echo", move |stream| serve(stream, fault))
    }

    /// A broadcast room: every text message a member sends goes to every member, the sender
    /// included, each sender's messages passed through `fault` (counted per sender).
    fn room(fault: Fault) -> WsServer {
        let members = Members::default();
        WsServer::with("/ws/room?name=test", move |stream| member(stream, members.clone(), fault))
    }

    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}{}", self.server.port, self.path)
    }
}

async fn serve(stream: tokio::net::TcpStream, fault: Fault) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else { return };
    let mut held: Option<Message> = None;
    let mut n: u64 = 0;
    while let Some(Ok(message)) = ws.next().await {
        if !message.is_text() && !message.is_binary() {
            continue;
        }
        let replies = match (fault, n % 5) {
            (Fault::None, _) | (Fault::DropReorderRepeat, 0) => vec![message],
            (Fault::DropReorderRepeat, 1) => {
                held = Some(message);
                vec![]
            }
            (Fault::DropReorderRepeat, 2) => std::iter::once(message).chain(held.take()).collect(),
            (Fault::DropReorderRepeat, 3) => vec![message.clone(), message],
            (Fault::DropReorderRepeat, _) => vec![],
        };
        n += 1;
        for reply in replies {
            if ws.send(reply).await.is_err() {
                return;
            }
        }
    }
}

fn ws_plan(url: &str, connections: usize, in_flight: usize, seconds: f64) -> Plan {
    let mode =
        Mode::ClosedLoop { connections, think_time: Duration::ZERO, duration: Some(Duration::from_secs_f64(seconds)) };
    let mut plan = Plan::new(url, mode).unwrap();
    plan.protocol = Protocol::WebSocket(WsOptions { in_flight, message_bytes: 32, broadcast: None });
    plan.timeout = Duration::from_millis(200);
    plan.interval = Duration::from_millis(250);
    plan
}

#[test]
fn a_correct_echo_server_loses_and_reorders_nothing() {
    let _guard = load_lock();
    let server = WsServer::start(Fault::None);
    let r = run_to_end(&ws_plan(&server.url(), 4, 4, 1.0));
    let ws = r.websocket.as_ref().expect("a ws:// run reports its WebSocket counts");
    assert!(r.responses > 100, "echoes came back: {}", r.responses);
    assert_eq!(r.status_counts.get(&101), Some(&r.responses), "every echo counts under the upgrade's 101");
    assert_eq!(r.errors.values().sum::<u64>(), 0, "{:?}", r.errors);
    assert_eq!((ws.lost, ws.duplicated, ws.out_of_order, ws.unexpected), (0, 0, 0, 0));
    assert_eq!((ws.connect.count, ws.connect_failures), (4, 0), "one handshake per connection");
    assert_eq!(r.connections_opened, 4);
    assert!(ws.connect.p50_us > 0.0);
    assert!(r.latency.p50_us > 0.0 && r.latency.p99_us >= r.latency.p50_us);
    // 32-byte payloads both ways, plus framing (client frames carry a 4-byte mask).
    assert!(r.bytes_out >= r.responses * 32 && r.bytes_in >= r.responses * 32);
}

#[test]
fn a_faulty_server_is_reported_with_lost_duplicated_and_reordered_messages() {
    let _guard = load_lock();
    let server = WsServer::start(Fault::DropReorderRepeat);
    let r = run_to_end(&ws_plan(&server.url(), 2, 4, 1.5));
    let ws = r.websocket.as_ref().unwrap();
    // Each connection's messages go in groups of five: one lost, one reordered, one repeated.
    assert!(ws.lost >= 2, "dropped messages are lost: {ws:?}");
    assert!(ws.out_of_order >= 2, "the held message is overtaken: {ws:?}");
    assert!(ws.duplicated >= 2, "the repeated echo is a duplicate: {ws:?}");
    assert_eq!(ws.unexpected, 0, "{ws:?}");
    // Every lost message timed out; nothing else failed.
    assert_eq!(r.errors.get("timeout"), Some(&ws.lost), "{:?}", r.errors);
    assert_eq!(r.requests, r.responses + ws.lost);
    // About a fifth of what was sent is lost: neither hidden nor inflated.
    let sent = r.requests as f64;
    let share = ws.lost as f64 / sent;
    assert!((0.1..=0.3).contains(&share), "lost {} of {sent}", ws.lost);
}

#[test]
fn a_websocket_run_writes_every_output_format() {
    let _guard = load_lock();
    let server = WsServer::start(Fault::None);
    let r = run_to_end(&ws_plan(&server.url(), 2, 1, 0.6));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["websocket"]["in_flight"], 1);
    assert!(json["websocket"]["connect"]["count"].as_u64() == Some(2), "{}", json["websocket"]);
    let hgrm = render_hgrm(&r, Latency::Corrected).unwrap();
    assert!(hgrm.contains("#[Mean"), "{hgrm}");
    let hlog = render_hlog(&r).unwrap();
    assert!(hlog.lines().filter(|l| !l.starts_with('#') && !l.starts_with('"')).count() >= 2, "{hlog}");
    let summary = render_summary(&r);
    assert!(summary.contains("0 lost, 0 duplicated, 0 out of order"), "{summary}");
}

#[test]
fn a_refused_websocket_target_fails_each_slot_once_at_the_plan_s_pace() {
    let _guard = load_lock();
    let url = support::refused_url().replacen("http://", "ws://", 1);
    let mode = Mode::OpenLoop {
        schedule: claimbench_engine::Schedule::Constant { rate: 100.0, duration: Some(Duration::from_millis(500)) },
        poisson_seed: None,
        connections: 2,
    };
    let plan = Plan::new(&url, mode).unwrap();
    let started = std::time::Instant::now();
    let r = run_to_end(&plan);
    assert!(started.elapsed() >= Duration::from_millis(450), "the schedule was not burnt through at once");
    assert_eq!(r.requests, 50, "one failure per slot: {:?}", r.errors);
    assert_eq!(r.errors.get("connect"), Some(&50));
    let ws = r.websocket.unwrap();
    assert_eq!((ws.connect.count, ws.connect_failures), (0, 50), "one handshake tried per slot");
}

type Members = Arc<std::sync::Mutex<Vec<tokio::sync::mpsc::UnboundedSender<Message>>>>;

async fn member(stream: tokio::net::TcpStream, members: Members, fault: Fault) {
    let Ok(ws) = tokio_tungstenite::accept_async(stream).await else { return };
    let (mut sink, mut source) = ws.split();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Message>();
    members.lock().unwrap().push(tx);
    tokio::spawn(async move {
        while let Some(message) = rx.recv().await {
            if sink.send(message).await.is_err() {
                return;
            }
        }
    });
    let mut held: Option<Message> = None;
    let mut n: u64 = 0;
    while let Some(Ok(message)) = source.next().await {
        if !message.is_text() {
            continue;
        }
        let out = match (fault, n % 5) {
            (Fault::None, _) | (Fault::DropReorderRepeat, 0) => vec![message],
            (Fault::DropReorderRepeat, 1) => {
                held = Some(message);
                vec![]
            }
            (Fault::DropReorderRepeat, 2) => std::iter::once(message).chain(held.take()).collect(),
            (Fault::DropReorderRepeat, 3) => vec![message.clone(), message],
            (Fault::DropReorderRepeat, _) => vec![],
        };
        n += 1;
        let everyone = members.lock().unwrap().clone();
        for message in out {
            for to in &everyone {
                let _ = to.send(message.clone());
            }
        }
    }
}

fn room_plan(url: &str, members: usize, senders: usize, rate: f64) -> Plan {
    let mode = Mode::OpenLoop {
        schedule: claimbench_engine::Schedule::Constant { rate, duration: Some(Duration::from_millis(800)) },
        poisson_seed: None,
        connections: members,
    };
    let mut plan = Plan::new(url, mode).unwrap();
    plan.protocol = Protocol::WebSocket(WsOptions { in_flight: 1, message_bytes: 128, broadcast: Some(senders) });
    plan.timeout = Duration::from_millis(300);
    plan.interval = Duration::from_millis(250);
    plan
}

#[test]
fn every_member_of_a_correct_room_receives_every_message_once() {
    let _guard = load_lock();
    let server = WsServer::room(Fault::None);
    let r = run_to_end(&room_plan(&server.url(), 8, 2, 100.0));
    let ws = r.websocket.as_ref().unwrap();
    let room = ws.broadcast.as_ref().expect("a broadcast reports its room");
    assert_eq!((room.members, room.senders), (8, 2));
    assert!(room.sent >= 60, "about 80 messages were due in 0.8 s: {room:?}");
    assert_eq!(r.responses, room.sent * 8, "each message reached each member once");
    assert_eq!((ws.lost, ws.duplicated, ws.out_of_order, ws.unexpected), (0, 0, 0, 0));
    assert_eq!(r.errors.values().sum::<u64>(), 0, "{:?}", r.errors);
    assert_eq!(r.target_rate, Some(800.0), "the rate of deliveries due: 100 messages a second to 8 members");
    assert!(r.latency.p50_us > 0.0 && r.latency.p99_us < 300_000.0, "{:?}", r.latency);
    // Only a sender's own copy carries its send lag: one lag sample per message.
    assert!(r.send_lag.as_ref().is_some_and(|lag| lag.count == room.sent), "{:?}", r.send_lag);
}

#[test]
fn a_faulty_room_is_reported_with_lost_duplicated_and_reordered_deliveries() {
    let _guard = load_lock();
    let server = WsServer::room(Fault::DropReorderRepeat);
    let r = run_to_end(&room_plan(&server.url(), 6, 2, 100.0));
    let ws = r.websocket.as_ref().unwrap();
    let room = ws.broadcast.as_ref().unwrap();
    // Every message is either delivered once or lost, at every member: nothing vanishes.
    assert_eq!(r.responses + ws.lost, room.sent * 6, "{ws:?}");
    // In each sender's groups of five, one is dropped, one overtaken, one repeated, at all 6
    // (each of the 2 senders may end inside a group).
    let groups = room.sent / 5;
    assert!(groups >= 10, "{room:?}");
    assert!(ws.lost >= 6 * (groups - 2), "dropped deliveries are lost: {ws:?}");
    assert!(ws.out_of_order >= 6 * (groups - 2), "the held message is overtaken: {ws:?}");
    assert!(ws.duplicated >= 6 * (groups - 2), "the repeated message is a duplicate: {ws:?}");
    assert_eq!(ws.unexpected, 0, "{ws:?}");
    assert_eq!(r.errors.get("timeout"), Some(&ws.lost), "every lost delivery failed at the timeout: {:?}", r.errors);
}

#[test]
fn a_broadcast_plan_without_a_rate_or_room_for_its_header_is_refused() {
    let mut closed = ws_plan("ws://127.0.0.1:9/ws/room?name=r", 4, 1, 0.5);
    closed.protocol = Protocol::WebSocket(WsOptions { in_flight: 1, message_bytes: 128, broadcast: Some(1) });
    let e = run(&closed, &Cancel::new(), &|_| {}).unwrap_err().to_string();
    assert!(e.contains("needs a rate"), "{e}");
    let mut small = room_plan("ws://127.0.0.1:9/ws/room?name=r", 4, 1, 10.0);
    small.protocol = Protocol::WebSocket(WsOptions { in_flight: 1, message_bytes: 64, broadcast: Some(1) });
    let e = run(&small, &Cancel::new(), &|_| {}).unwrap_err().to_string();
    assert!(e.contains("outside 128..=4096"), "{e}");
    let too_many = room_plan("ws://127.0.0.1:9/ws/room?name=r", 4, 5, 10.0);
    let e = run(&too_many, &Cancel::new(), &|_| {}).unwrap_err().to_string();
    assert!(e.contains("5 senders in a room of 4 members"), "{e}");
}
