//! A run's footprint: memory stays flat however many requests it sends, nothing outlives it,
//! and its histograms can be merged with another run's.

mod support;

use std::cell::RefCell;
use std::time::{Duration, Instant};

use claimbench_engine::export::render_summary;
use claimbench_engine::histogram::{decode, merge};
use claimbench_engine::{run, Cancel, ProgressEvent};
use support::{closed_loop, load_lock, rss_bytes, threads_and_fds, Behaviour, TestServer};

#[test]
fn memory_stays_flat_over_a_long_fast_run() {
    let _guard = load_lock();
    let server = TestServer::start(Behaviour::Fast);
    let plan = closed_loop(&server.url(), 8, 8.0);
    let samples = RefCell::new(Vec::new());
    let r = run(&plan, &Cancel::new(), &|event| {
        if let ProgressEvent::Tick { requests, .. } = event {
            samples.borrow_mut().push((requests, rss_bytes()));
        }
    })
    .unwrap();
    eprintln!("{}", render_summary(&r));
    let samples = samples.into_inner();
    eprintln!("(requests, rss) per second: {samples:?}");

    // Every response is in the histograms and in the time series; nothing was dropped.
    assert_eq!(r.latency.count, r.responses);
    assert_eq!(decode(&r.histograms.corrected).unwrap().len(), r.responses);
    assert_eq!(r.intervals.iter().map(|i| i.requests).sum::<u64>(), r.requests);
    assert_eq!(r.errors.values().sum::<u64>(), 0);

    // From the second second to the end, RSS may grow by an interval record a second (a few
    // KiB) and allocator noise, but not with the requests: keeping even 8 bytes per request
    // would pass 1 MiB at the usual 100,000+ requests.
    let (first_requests, first_rss) = samples[1];
    let (last_requests, last_rss) = *samples.last().unwrap();
    let requests = last_requests - first_requests;
    let growth = last_rss.saturating_sub(first_rss);
    assert!(requests >= 20_000, "too few requests to judge: {requests}");
    assert!(growth < 1 << 20, "RSS grew {growth} bytes over {requests} requests");
}

#[test]
fn repeated_runs_leave_no_threads_or_sockets_behind() {
    let _guard = load_lock();
    let server = TestServer::start(Behaviour::Fast);
    let plan = closed_loop(&server.url(), 16, 0.3);
    run(&plan, &Cancel::new(), &|_| {}).unwrap();
    // The server's connection threads end a moment after the engine hangs up: wait for the
    // counts to hold still, or to come back to where they were.
    let settle = |target: Option<(usize, usize)>| {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut last = threads_and_fds();
        let mut still_since = Instant::now();
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            let now = threads_and_fds();
            if Some(now) == target {
                return now;
            }
            if now != last {
                (last, still_since) = (now, Instant::now());
            } else if target.is_none() && still_since.elapsed() > Duration::from_millis(300) {
                break;
            }
        }
        last
    };
    let before = settle(None);
    for _ in 0..3 {
        run(&plan, &Cancel::new(), &|_| {}).unwrap();
    }
    let after = settle(Some(before));
    assert_eq!(after, before, "(threads, fds) after three more runs");
}

#[test]
fn histograms_of_two_runs_merge_to_the_counts_of_both() {
    let _guard = load_lock();
    let server = TestServer::start(Behaviour::Fast);
    let mut plan = closed_loop(&server.url(), 2, 0.5);
    plan.runtime = claimbench_engine::RuntimeChoice::Threads { threads: 2 };
    let a = run(&plan, &Cancel::new(), &|_| {}).unwrap();
    let b = run(&plan, &Cancel::new(), &|_| {}).unwrap();
    let (ha, hb) = (decode(&a.histograms.corrected).unwrap(), decode(&b.histograms.corrected).unwrap());
    let merged = merge([&ha, &hb]).unwrap();
    assert_eq!(merged.len(), a.responses + b.responses);
    for v in ha.iter_recorded().chain(hb.iter_recorded()) {
        let value = v.value_iterated_to();
        assert_eq!(merged.count_at(value), ha.count_at(value) + hb.count_at(value));
    }
    assert_eq!(merged.max(), ha.max().max(hb.max()));
    // The interval histograms of a run add up to its whole-run histogram.
    let intervals: Vec<_> = a.intervals.iter().map(|i| decode(&i.histogram).unwrap()).collect();
    assert_eq!(merge(&intervals).unwrap(), ha);
}

#[test]
fn cancelling_stops_a_run_early_with_what_it_measured() {
    let _guard = load_lock();
    let server = TestServer::start(Behaviour::Fast);
    let plan = closed_loop(&server.url(), 4, 30.0);
    let cancel = Cancel::new();
    let cancelled_at = std::cell::Cell::new(None);
    let started = Instant::now();
    let r = run(&plan, &cancel, &|event| {
        if let ProgressEvent::Tick { .. } = event {
            cancel.cancel();
            cancelled_at.set(cancelled_at.get().or(Some(Instant::now())));
        }
    })
    .unwrap();
    let ended = Instant::now();
    let cancelled_at = cancelled_at.get().expect("the run reported a tick before it ended");
    // Measured from the cancel, not from the start: the first tick's time is the machine's.
    // Stopping means closing 4 connections, milliseconds; 2 s is far from the run's 30.
    assert!(ended - cancelled_at < Duration::from_secs(2), "stopped {:?} after the cancel", ended - cancelled_at);
    assert!(r.cancelled);
    assert!(r.responses > 0);
    let measured = Duration::from_secs_f64(r.duration_s);
    assert!(measured <= ended - started, "{measured:?} measured within the {:?} the run took", ended - started);
    // The first tick comes a second into the measurement, so the run measured at least that.
    assert!(r.duration_s > 0.5, "{}", r.duration_s);
}
