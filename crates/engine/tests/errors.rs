//! Failures are counted in their class and never stop a run: refused connections, servers
//! that hang up, 500s and timeouts.

mod support;

use std::time::{Duration, Instant};

use claimbench_engine::{Expect, Mode, Plan};
use claimbench_model::load::LoadResult;
use support::{load_lock, open_loop, refused_url, run_to_end, Behaviour, TestServer};

fn only_errors_are(r: &LoadResult, class: &str) {
    for (name, n) in &r.errors {
        if name == class {
            assert_eq!(*n, r.requests, "every request fails with {class}: {:?}", r.errors);
        } else {
            assert_eq!(*n, 0, "no {name} errors expected: {:?}", r.errors);
        }
    }
}

#[test]
fn refused_connections_are_counted_as_connect_errors() {
    let _guard = load_lock();
    let r = run_to_end(&open_loop(&refused_url(), 200.0, 4, 1.0));
    assert_eq!(r.requests, 200);
    only_errors_are(&r, "connect");
    assert_eq!(r.responses, 0);
    assert_eq!(r.connections_opened, 0);
    assert_eq!(r.latency.count, 0, "failed requests have no latency");
}

#[test]
fn refused_connections_do_not_spin_a_closed_loop() {
    let _guard = load_lock();
    let duration = Some(Duration::from_millis(500));
    let plan =
        Plan::new(&refused_url(), Mode::ClosedLoop { connections: 2, think_time: Duration::ZERO, duration }).unwrap();
    let r = run_to_end(&plan);
    only_errors_are(&r, "connect");
    // Two connections backing off 10 ms after each refusal: about 100 attempts, never thousands.
    assert!((20..=120).contains(&r.requests), "{}", r.requests);
}

#[test]
fn a_server_that_hangs_up_is_counted_as_reset_and_reconnected() {
    let _guard = load_lock();
    let server = TestServer::start(Behaviour::CloseWithoutAnswer);
    let r = run_to_end(&open_loop(&server.url(), 200.0, 4, 1.0));
    assert_eq!(r.requests, 200);
    only_errors_are(&r, "reset");
    assert!(r.connections_opened >= 150, "{}", r.connections_opened);
    let connect = r.connect.as_ref().expect("reconnections are timed too");
    assert_eq!(connect.count, r.connections_opened, "every connection opened has its connect time");
}

#[test]
fn server_errors_are_counted_as_5xx_with_their_latency() {
    let _guard = load_lock();
    let server = TestServer::start(Behaviour::Status(500));
    let r = run_to_end(&open_loop(&server.url(), 200.0, 4, 1.0));
    assert_eq!(r.requests, 200);
    only_errors_are(&r, "status_5xx");
    assert_eq!(r.status_counts.get(&500), Some(&200));
    assert_eq!(r.latency.count, 200, "a 500 is still a response");
}

#[test]
fn an_expected_error_status_is_not_an_error_but_a_wrong_body_is() {
    let _guard = load_lock();
    let server = TestServer::start(Behaviour::Status(404));
    let mut plan = open_loop(&server.url(), 200.0, 4, 0.5);
    plan.validate_every = 10;
    plan.templates[0].expect = Some(Expect { status: Some(404), body: Some("not hello".into()), json: None });
    let r = run_to_end(&plan);
    assert_eq!(r.requests, 100);
    assert_eq!(r.errors["status_4xx"], 0);
    assert_eq!(r.errors["body_mismatch"], 10, "every 10th response is checked");
}

#[test]
fn a_response_unlike_the_expected_json_document_is_a_body_mismatch() {
    let _guard = load_lock();
    let server = TestServer::start(Behaviour::Fast);
    let mut plan = open_loop(&server.url(), 200.0, 4, 0.5);
    plan.validate_every = 5;
    let json = Some(serde_json::json!({"message": "hello"}));
    plan.templates[0].expect = Some(Expect { status: Some(200), body: None, json });
    let r = run_to_end(&plan);
    assert_eq!(r.requests, 100);
    assert_eq!(r.errors["body_mismatch"], 20, "every 5th `hello` is checked and is not that document");
    assert_eq!(r.status_counts.get(&200), Some(&100));
}

#[test]
fn requests_without_an_answer_time_out_and_the_run_still_ends() {
    let _guard = load_lock();
    let server = TestServer::start(Behaviour::Hang);
    let mut plan = open_loop(&server.url(), 50.0, 5, 1.0);
    plan.timeout = Duration::from_millis(200);
    let started = Instant::now();
    let r = run_to_end(&plan);
    assert_eq!(r.requests, 50);
    only_errors_are(&r, "timeout");
    // 50 requests, 10 after each other on each of 5 connections, 200 ms each: about 2 s. Twice
    // that, plus the run's second, still tells "times out" from "waits forever".
    let queued = plan.timeout * (50 / 5);
    assert!(started.elapsed() < 2 * queued + Duration::from_secs(1), "{:?}", started.elapsed());
    assert!(r.connections_opened >= 45, "a timed-out connection is replaced");
}
