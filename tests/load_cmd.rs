//! `claimbench load` end to end: bad input gets a clear error and exit 2 (never a panic), and a
//! run against a local server prints both latency columns and writes JSON, .hgrm and .hlog.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use predicates::prelude::*;

// The run below applies load: never beside another test's.
#[path = "support/load_lock.rs"]
mod load_lock;

fn claimbench() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("claimbench").unwrap()
}

fn refused_with(args: &[&str], needles: &[&str]) {
    let assert = claimbench().arg("load").args(args).assert().code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "`{needle}` missing from: {stderr}");
    }
}

#[test]
fn a_remote_or_malformed_url_is_refused_by_name() {
    refused_with(&["http://example.com/"], &["example.com", "not a loopback address"]);
    refused_with(&["not a url"], &["not a usable target URL", "http://127.0.0.1:8080/path"]);
    refused_with(&["https://127.0.0.1:1/"], &["https is not supported"]);
}

#[test]
fn a_bad_rate_duration_or_header_is_refused_with_an_example() {
    refused_with(&["http://127.0.0.1:1/", "--rate", "fast"], &["`fast` is not a rate", "such as 1000"]);
    refused_with(&["http://127.0.0.1:1/", "--rate", "0"], &["`0` is not a rate"]);
    refused_with(&["http://127.0.0.1:1/", "--duration", "30x"], &["`30x` is not a duration", "30s"]);
    refused_with(&["http://127.0.0.1:1/", "--header", "no-colon"], &["`no-colon` is not a header", "Name: value"]);
}

#[test]
fn a_missing_body_file_is_named_with_the_fix() {
    refused_with(&["http://127.0.0.1:1/", "--body", "@/no/such/body.json"], &["/no/such/body.json", "check the path"]);
}

/// A tiny keep-alive HTTP server on a thread: enough for the CLI to have something to load.
fn serve_hello(stop: Arc<AtomicBool>) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        let mut workers = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    let stop = stop.clone();
                    workers.push(std::thread::spawn(move || {
                        stream.set_nonblocking(false).unwrap();
                        stream.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
                        let mut buf = [0u8; 4096];
                        let mut pending = Vec::new();
                        while !stop.load(Ordering::Relaxed) {
                            match stream.read(&mut buf) {
                                Ok(0) => break,
                                Ok(n) => pending.extend_from_slice(&buf[..n]),
                                Err(_) => continue,
                            }
                            while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                                pending.drain(..end + 4);
                                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello");
                            }
                        }
                    }));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        for w in workers {
            let _ = w.join();
        }
    });
    (url, handle)
}

#[test]
fn a_run_prints_both_latencies_and_writes_every_file() {
    let _load = load_lock::load_lock();
    let stop = Arc::new(AtomicBool::new(false));
    let (url, server) = serve_hello(stop.clone());
    let dir = tempfile::tempdir().unwrap();
    let (json, hgrm, hlog) = (dir.path().join("r.json"), dir.path().join("r.hgrm"), dir.path().join("r.hlog"));
    claimbench()
        .args(["load", &url, "--rate", "200", "--connections", "4", "--duration", "1s"])
        .arg("--json")
        .arg(&json)
        .arg("--hgrm")
        .arg(&hgrm)
        .arg("--hlog")
        .arg(&hlog)
        .assert()
        .code(0)
        .stdout(
            predicate::str::contains("corrected")
                .and(predicate::str::contains("uncorrected"))
                .and(predicate::str::contains("p99.99")),
        );
    stop.store(true, Ordering::Relaxed);
    server.join().unwrap();
    let result: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(result["schema_version"], 1);
    assert_eq!(result["requests"], 200);
    assert!(std::fs::read_to_string(&hgrm).unwrap().contains("Percentile"));
    assert!(std::fs::read_to_string(&hlog).unwrap().contains("#[StartTime: "));
}

#[test]
fn websocket_flags_and_urls_are_checked_by_name() {
    refused_with(&["wss://127.0.0.1:1/ws/echo"], &["wss is not supported"]);
    refused_with(
        &["http://127.0.0.1:1/", "--in-flight", "2"],
        &["--in-flight, --message-bytes and --broadcast-senders are for ws:// URLs"],
    );
    refused_with(&["ws://127.0.0.1:1/ws/echo", "--body", "x"], &["are HTTP flags", "ws:// URL"]);
    refused_with(&["ws://127.0.0.1:1/ws/echo", "--message-bytes", "8"], &["8"]);
}

/// `claimbench load ws://…` against the Express stack's /ws/echo (the supervisor starts it):
/// every output is written and the summary shows the WebSocket counts.
#[test]
fn a_websocket_run_against_express_echo_writes_every_file() {
    let _load = load_lock::load_lock();
    let supervisor = claimbench_supervisor::Supervisor::new(env!("CARGO_MANIFEST_DIR")).unwrap();
    let running = supervisor.start(&claimbench_supervisor::StackConfig::new("express")).unwrap();
    let url = format!("{}/ws/echo", running.url().replacen("http://", "ws://", 1));
    let dir = tempfile::tempdir().unwrap();
    let (json, hgrm, hlog) = (dir.path().join("w.json"), dir.path().join("w.hgrm"), dir.path().join("w.hlog"));
    let assert = claimbench()
        .args(["load", &url, "--rate", "400", "--connections", "4", "--in-flight", "2", "--duration", "1s"])
        .args(["--message-bytes", "64"])
        .arg("--json")
        .arg(&json)
        .arg("--hgrm")
        .arg(&hgrm)
        .arg("--hlog")
        .arg(&hlog)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("WebSocket 4 handshakes").and(predicate::str::contains("0 lost")));
    running.check_alive().unwrap();
    running.stop();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    let result: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(result["requests"], 400, "{stdout}");
    assert_eq!(result["status_counts"]["101"], 400, "every message echoed: {stdout}");
    assert_eq!(result["websocket"]["message_bytes"], 64);
    assert_eq!(result["websocket"]["in_flight"], 2);
    assert!(std::fs::read_to_string(&hgrm).unwrap().contains("Percentile"));
    assert!(std::fs::read_to_string(&hlog).unwrap().contains("#[StartTime: "));
}
