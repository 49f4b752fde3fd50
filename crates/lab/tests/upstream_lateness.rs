//! How late the upstream answers `/delay?ms=20` while the load generator shares its core: the
//! experiment behind `claimbench_upstream::LATE_MARGIN`. It drives the upstream directly (no
//! app) with the engine pinned to the same CPU, closed loop at 100 connections for 3 s, and
//! prints the upstream's lateness buckets; run it with `--ignored --nocapture` on a quiet machine.

#[path = "../../../tests/support/load_lock.rs"]
mod load_lock;

use std::net::SocketAddr;
use std::time::Duration;

use claimbench_engine::{Cancel, Mode, Plan, RequestTemplate, RuntimeChoice};
use claimbench_upstream::{Upstream, LATENESS_BOUNDS_MS};

#[test]
#[ignore = "a measurement, not a check: run on a quiet machine with --ignored --nocapture"]
fn upstream_lateness_under_load_on_a_shared_core() {
    let _lock = load_lock::load_lock();
    let cpu = claimbench_platform::allowed_cpus().unwrap()[0];
    let upstream = Upstream::start(SocketAddr::from(([127, 0, 0, 1], 0)), Some(&[cpu])).unwrap();
    let mode =
        Mode::ClosedLoop { connections: 100, think_time: Duration::ZERO, duration: Some(Duration::from_secs(3)) };
    let mut plan = Plan::new(&format!("{}/delay?ms=20", upstream.url()), mode).unwrap();
    plan.templates = vec![RequestTemplate::get("/delay?ms=20")];
    plan.runtime = RuntimeChoice::Pinned { core: cpu };
    let before = upstream.lateness();
    let cpus_before = claimbench_platform::procfs::read_cpu_times();
    let result = claimbench_engine::run(&plan, &Cancel::new(), &|_| {}).unwrap();
    let cpus_after = claimbench_platform::procfs::read_cpu_times();
    let after = upstream.lateness();
    let counts: Vec<u64> = after.iter().zip(before).map(|(a, b)| a - b).collect();
    let total: u64 = counts.iter().sum();
    assert!(total >= result.responses, "every answer is in a bucket");
    let busy = claimbench_platform::cpuload::window(&cpus_before, &cpus_after, &[cpu]).unwrap().busy_fraction();
    let mut bounds: Vec<String> = LATENESS_BOUNDS_MS.iter().map(|b| format!("<{b} ms")).collect();
    bounds.push(format!(">={} ms", LATENESS_BOUNDS_MS[LATENESS_BOUNDS_MS.len() - 1]));
    println!("CPU {cpu} busy {:.1}%; {total} answers; lateness:", busy * 100.0);
    for (bound, n) in bounds.iter().zip(&counts) {
        println!("  {bound:>8}: {n:>6} ({:.2}%)", *n as f64 * 100.0 / total.max(1) as f64);
    }
    println!("engine p50 {:.2} ms p99 {:.2} ms", result.latency.p50_us / 1000.0, result.latency.p99_us / 1000.0);
}
