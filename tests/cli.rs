//! The `claimbench` binary end to end: bad input gets a clear error and exit 2, `doctor` reports
//! the machine, and Ctrl-C on `serve` leaves no app process behind.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use predicates::prelude::*;

// Commands here start apps on the same two cores: one at a time, and never beside another test
// binary's load.
#[path = "support/load_lock.rs"]
mod load_lock;

fn claimbench() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("claimbench").unwrap()
}

#[test]
fn an_unknown_stack_is_a_clear_error_with_exit_code_2() {
    claimbench()
        .args(["verify", "--stacks", "rails"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown stack 'rails'").and(predicate::str::contains("express")));
}

#[test]
fn a_cpu_outside_the_machine_is_a_clear_error() {
    claimbench()
        .args(["serve", "express", "--cpus", "999"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("CPU 999").and(predicate::str::contains("pick CPUs")));
}

#[test]
fn doctor_reports_runtimes_cores_and_pinning() {
    claimbench().arg("doctor").assert().success().stdout(
        predicate::str::contains("node")
            .and(predicate::str::contains("cores"))
            .and(predicate::str::contains("cpu pinning")),
    );
}

/// Live processes whose working directory is inside `dir` (the app folders).
fn processes_under(dir: &std::path::Path) -> Vec<(i32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        let Ok(cwd) = std::fs::read_link(format!("/proc/{pid}/cwd")) else { continue };
        if cwd.starts_with(dir) {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            found.push((pid, String::from_utf8_lossy(&cmd).replace('\0', " ")));
        }
    }
    found
}

fn serve_then_interrupt(stack: &str, workers: &str) {
    let _load = load_lock::load_lock();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let app_dir = root.join(if stack == "express" { "node-app" } else { "python-app" });
    let mut child = Command::cargo_bin("claimbench")
        .unwrap()
        .args(["serve", stack, "--workers", workers])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (ready_tx, ready) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("is ready at http://127.0.0.1:") {
                let _ = ready_tx.send(());
            }
            out.push_str(&line);
            out.push('\n');
        }
        out
    });
    // serve prints its URL once the stack has passed its readiness check: the interrupt lands
    // while serving. The first use installs the apps, hence the long deadline.
    let became_ready = ready.recv_timeout(Duration::from_secs(300)).is_ok();
    let expected = workers.parse::<usize>().unwrap() + 1;
    let deadline = Instant::now() + Duration::from_secs(10);
    while became_ready && processes_under(&app_dir).len() < expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let started = processes_under(&app_dir);
    if !became_ready || started.len() < expected {
        // SIGINT to the claimbench process this test started, so it stops its apps.
        let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGINT);
        let _ = child.wait();
        panic!("{stack} did not become ready with {expected} processes: {started:?}\n{}", reader.join().unwrap());
    }
    // SIGINT (Ctrl-C) to the claimbench process this test started.
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    let out = reader.join().unwrap();
    assert!(out.contains("is ready at http://127.0.0.1:"), "serve printed its URL: {out}");
    assert!(status.success(), "Ctrl-C is a clean stop: {status}");
    let left = processes_under(&app_dir);
    assert!(left.is_empty(), "processes survived Ctrl-C: {left:?}");
}

#[test]
fn ctrl_c_on_serve_express_with_two_workers_leaves_no_process() {
    serve_then_interrupt("express", "2");
}

#[test]
fn ctrl_c_on_serve_fastapi_with_two_workers_leaves_no_process() {
    serve_then_interrupt("fastapi", "2");
}
