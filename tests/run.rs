//! `claimbench run` and `claimbench report` end to end, on the real apps with the smoke profile.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use claimbench_model::run::{Outcome, RunResults};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

// Runs load both cores: one at a time, and never beside another test binary's load.
#[path = "support/load_lock.rs"]
mod load_lock;

fn claimbench() -> std::process::Command {
    std::process::Command::cargo_bin("claimbench").unwrap()
}

fn read_results(dir: &Path) -> RunResults {
    serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap()
}

fn only_run_folder(out: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> =
        std::fs::read_dir(out).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_dir() && !p.is_symlink()).collect();
    assert_eq!(dirs.len(), 1, "one run folder in {}: {dirs:?}", out.display());
    dirs.into_iter().next().unwrap()
}

fn app_processes() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        let Ok(cwd) = std::fs::read_link(format!("/proc/{pid}/cwd")) else { continue };
        if cwd.starts_with(root.join("node-app")) || cwd.starts_with(root.join("python-app")) {
            found.push(
                String::from_utf8_lossy(&std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default())
                    .replace('\0', " "),
            );
        }
    }
    found
}

#[test]
fn a_smoke_run_gives_every_claim_a_verdict_and_writes_the_report() {
    let _load = load_lock::load_lock();
    let out = tempfile::tempdir().unwrap();
    let output = claimbench().args(["run", "--profile", "smoke", "--out"]).arg(out.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "run failed: {stdout}\n{stderr}");
    let dir = only_run_folder(out.path());
    assert_eq!(std::fs::read_link(out.path().join("latest")).unwrap(), PathBuf::from(dir.file_name().unwrap()));
    let results = read_results(&dir);
    assert!(results.complete);
    let claims = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/claims.toml")).unwrap();
    assert_eq!(results.claims.len(), claims.matches("[[claim]]").count(), "every claim is in the results");
    for claim in &results.claims {
        assert!(!claim.verdict.key_number.is_empty(), "{} has a key number", claim.id);
        assert!(stdout.contains(&claim.id), "{} is in the terminal summary", claim.id);
        if claim.tested_by.is_empty() {
            // The claims file says why no experiment measures it yet.
            assert_eq!(claim.verdict.outcome, Outcome::NotMeasured, "{}", claim.id);
            assert!(!claim.verdict.reason.is_empty(), "{} says why it is not measured", claim.id);
        } else if results.not_measurable.contains_key("E-workers") && claim.id == "scalability" {
            // Fewer than 4 CPUs: E-workers is not run, and the claim says why.
            assert_eq!(claim.verdict.outcome, Outcome::NotMeasured);
            assert_eq!(claim.verdict.key_number, "not measurable on this machine");
            assert!(stderr.contains("E-workers: not measurable on this machine"), "{stderr}");
        } else {
            assert!(
                claim.verdict.estimate.is_some() || claim.verdict.outcome == Outcome::Invalid,
                "{} was measured: {:?}",
                claim.id,
                claim.verdict
            );
        }
    }
    let measured: usize = results.experiments.iter().map(|e| e.measurements.len()).sum();
    let lines = std::fs::read_to_string(dir.join("measurements.jsonl")).unwrap().lines().count();
    assert_eq!(lines, measured, "one JSONL line per measurement");
    let hgrms = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "hgrm"))
        .count();
    assert!(hgrms >= measured - 2 * 2, "a .hgrm per load measurement: {hgrms} of {measured}");
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("io-throughput"));
    assert!(std::fs::read_to_string(dir.join("summary.md")).unwrap().contains("io-throughput"));
    assert!(results.environment.stacks["express"].versions.packages.contains_key("express"));
    assert!(results.environment.stacks["fastapi"].versions.packages.keys().any(|k| k.eq_ignore_ascii_case("fastapi")));
    assert!(app_processes().is_empty(), "no app outlives the run: {:?}", app_processes());
}

#[test]
fn ctrl_c_keeps_what_was_measured_and_report_renders_the_partial_run() {
    let _load = load_lock::load_lock();
    let out = tempfile::tempdir().unwrap();
    let mut child = claimbench()
        .args(["run", "--profile", "smoke", "--claims", "io-throughput", "--out"])
        .arg(out.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(240);
    let jsonl = || {
        std::fs::read_dir(out.path())
            .ok()
            .and_then(|mut d| d.find_map(|e| e.ok().map(|e| e.path()).filter(|p| p.is_dir() && !p.is_symlink())))
            .map(|d| d.join("measurements.jsonl"))
    };
    while Instant::now() < deadline {
        if let Some(lines) = jsonl().and_then(|p| std::fs::read_to_string(p).ok()).map(|t| t.lines().count()) {
            if lines >= 4 {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // SIGINT (Ctrl-C) to the claimbench process this test started.
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "an interrupted run exits 130");
    let dir = only_run_folder(out.path());
    let partial = read_results(&dir);
    assert!(!partial.complete, "the results say the run is partial");
    let kept: usize = partial.experiments.iter().map(|e| e.measurements.len()).sum();
    assert!(kept >= 4, "kept the {kept} measurements taken before Ctrl-C");
    assert!(std::fs::read_to_string(dir.join("index.html")).unwrap().to_lowercase().contains("partial run"));
    assert!(app_processes().is_empty(), "no app outlives Ctrl-C: {:?}", app_processes());

    // As if the run had been killed before writing results.json: report rebuilds it from the JSONL.
    std::fs::remove_file(dir.join("results.json")).unwrap();
    std::fs::remove_file(dir.join("index.html")).unwrap();
    let report = claimbench().arg("report").arg(&dir).output().unwrap();
    assert!(report.status.success(), "{}", String::from_utf8_lossy(&report.stderr));
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.to_lowercase().contains("partial run") && html.contains("io-throughput"));
}

#[test]
fn a_bad_profile_or_claim_is_a_clear_error() {
    let out = claimbench().args(["run", "--profile", "fast"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid value 'fast' for '--profile") && err.contains("smoke, quick, standard, nightly"),
        "{err}"
    );
    let out = claimbench().args(["run", "--claims", "teleportation"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown claim 'teleportation'") && err.contains("io-throughput"), "{err}");
    let out = claimbench().args(["report", "/nonexistent/run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is it a claimbench run folder"));
}
