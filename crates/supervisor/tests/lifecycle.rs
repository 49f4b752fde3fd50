//! The supervisor against small fake node apps: startup failures, readiness timeouts, crashes
//! mid-run, and no orphan process on any of these paths.
//!
//! Tests wait for events (a process gone, a sample taken) with a generous deadline, never for a
//! fixed time; the few bounds on how long something took leave room for a machine twice as slow.

use std::time::{Duration, Instant};

use claimbench_model::stack::{Runtime, StackSpec};
use claimbench_supervisor::{StackConfig, Supervisor, SupervisorError, Toolchain};

// These tests spawn processes and look for them in /proc, and time them: one at a time, and
// never beside another test binary's load.
#[path = "../../../tests/support/load_lock.rs"]
mod load_lock;
use load_lock::load_lock;

/// Polls `done` every 10 ms until it holds or `within` has passed; true if it held.
fn wait_for(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

fn supervisor() -> Supervisor {
    Supervisor::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).expect("the checkout's registry loads")
}

fn node() -> Toolchain {
    claimbench_supervisor::runtime_version(Runtime::Node).expect("node >= 20 is needed for these tests");
    Toolchain { interpreter: "node".into(), version: String::new() }
}

/// A fake stack running `script` under node, tagged with `marker` so its processes can be found.
fn fake(marker: &str, script: &str) -> StackSpec {
    StackSpec {
        name: "fake".into(),
        runtime: Runtime::Node,
        framework: "none".into(),
        dir: "crates".into(),
        argv: vec!["{node}".into(), "-e".into(), script.into(), marker.into()],
        groups: vec!["http".into()],
        entry: String::new(),
        minimal_entry: String::new(),
    }
}

/// Processes whose command line contains `marker` (zombies excluded).
fn processes_with(marker: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let zombie = stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z'));
        if !zombie && String::from_utf8_lossy(&cmdline).contains(marker) {
            found.push(pid);
        }
    }
    found
}

fn assert_no_orphans(marker: &str) {
    wait_for(Duration::from_secs(10), || processes_with(marker).is_empty());
    assert_eq!(processes_with(marker), Vec::<i32>::new(), "processes tagged {marker} survived");
}

/// A health server that also forks a grandchild, so the whole tree must be killed.
const SERVER: &str = r#"
const http = require('http');
const { spawn } = require('child_process');
spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', process.argv[1]], { stdio: 'ignore' });
http.createServer((req, res) => { res.end('{"status":"ok"}'); }).listen(Number(process.env.PORT), '127.0.0.1');
"#;

#[test]
fn an_app_that_exits_at_startup_is_a_clear_error_with_its_stderr_tail() {
    let _load = load_lock();
    let marker = "cb-test-exits-at-startup";
    let spec = fake(marker, "console.error('boom: cannot find module express'); process.exit(3)");
    let err = supervisor().start_prepared(&spec, &node(), &StackConfig::new("fake")).unwrap_err();
    assert!(matches!(err, SupervisorError::ExitedAtStartup { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("exited during startup"), "{text}");
    assert!(text.contains("boom: cannot find module express"), "{text}");
    assert!(text.contains("-----"), "the tail is shown between rulers: {text}");
    assert_no_orphans(marker);
}

#[test]
fn an_app_that_never_becomes_ready_times_out() {
    let _load = load_lock();
    let marker = "cb-test-never-ready";
    let spec = fake(marker, "console.error('warming up forever'); setInterval(() => {}, 1000)");
    let config = StackConfig { ready_timeout: Duration::from_millis(1500), ..StackConfig::new("fake") };
    let started = Instant::now();
    let err = supervisor().start_prepared(&spec, &node(), &config).unwrap_err();
    assert!(matches!(err, SupervisorError::NotReady { .. }), "{err:?}");
    // It gave up at its timeout, not at some later, fixed one.
    let took = started.elapsed();
    assert!(took >= config.ready_timeout && took < 4 * config.ready_timeout, "gave up after {took:?}");
    assert!(err.to_string().contains("warming up forever"), "{err}");
    assert_no_orphans(marker);
}

#[test]
fn an_app_killed_mid_run_is_detected_at_the_next_check() {
    let _load = load_lock();
    let marker = "cb-test-killed-mid-run";
    let stack = supervisor().start_prepared(&fake(marker, SERVER), &node(), &StackConfig::new("fake")).unwrap();
    assert!(stack.check_alive().is_ok());
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(stack.pid()), nix::sys::signal::Signal::SIGKILL).unwrap();
    let killed_at = Instant::now();
    wait_for(Duration::from_secs(10), || stack.check_alive().is_err());
    let detected_after = killed_at.elapsed();
    let err = stack.check_alive().unwrap_err();
    assert!(matches!(err, SupervisorError::Died { .. }), "{err:?}");
    // The kernel has the process dead within milliseconds and check_alive asks it directly:
    // the supervisor promises detection within a second, and a machine twice as slow gets two.
    assert!(detected_after <= Duration::from_secs(2), "detected after {detected_after:?}");
    drop(stack);
    assert_no_orphans(marker);
}

#[test]
fn stopping_kills_the_whole_process_tree_and_reports_resources() {
    let _load = load_lock();
    let marker = "cb-test-normal-stop";
    let stack = supervisor().start_prepared(&fake(marker, SERVER), &node(), &StackConfig::new("fake")).unwrap();
    let started = Instant::now();
    wait_for(Duration::from_secs(10), || processes_with(marker).len() >= 2);
    assert_eq!(processes_with(marker).len(), 2, "the app and its grandchild run");
    let sample = stack.sample_now();
    assert_eq!(sample.processes, 2, "the sampler sees the whole tree: {sample:?}");
    assert!(sample.rss_bytes > 10 << 20, "two node processes use more than 10 MiB: {sample:?}");
    assert!(wait_for(Duration::from_secs(10), || stack.samples().len() >= 3), "the sampler samples");
    // It samples 4 times a second; half that rate is still a sampler that runs on its own.
    let rate = stack.samples().len() as f64 / started.elapsed().as_secs_f64();
    assert!(rate >= 2.0, "{rate:.1} samples a second");
    assert!(stack.cold_start() > Duration::ZERO);
    stack.stop();
    assert_no_orphans(marker);
}

#[test]
fn pinning_is_applied_and_read_back_from_the_kernel() {
    let _load = load_lock();
    if !claimbench_platform::pinning_works() {
        eprintln!("SKIPPED: sched_setaffinity is not permitted here");
        return;
    }
    let marker = "cb-test-pinning";
    let config = StackConfig { cpus: Some(vec![0]), ..StackConfig::new("fake") };
    let stack = supervisor().start_prepared(&fake(marker, SERVER), &node(), &config).unwrap();
    assert_eq!(stack.pinning().requested.as_deref(), Some("0"));
    assert_eq!(stack.pinning().actual, "0");
    drop(stack);
    assert_no_orphans(marker);
}

#[test]
fn a_panic_while_a_stack_runs_leaves_no_orphans() {
    let _load = load_lock();
    let marker = "cb-test-panic";
    let spec = fake(marker, SERVER);
    let result = std::panic::catch_unwind(|| {
        let _stack = supervisor().start_prepared(&spec, &node(), &StackConfig::new("fake")).unwrap();
        panic!("a measurement went wrong");
    });
    assert!(result.is_err());
    assert_no_orphans(marker);
}

#[test]
fn an_unknown_stack_names_the_known_ones() {
    let err = supervisor().spec("rails").unwrap_err().to_string();
    assert!(err.contains("unknown stack 'rails'"), "{err}");
    assert!(err.contains("express") && err.contains("fastapi"), "{err}");
}
