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
    // Cold starts (E-coldstart's two units) send no load, so they have no histogram.
    let loads = results.experiments.iter().flat_map(|e| &e.measurements).filter(|m| m.load.is_some()).count();
    assert!(loads >= measured - 2 * 2 * 2, "only cold starts lack a load: {loads} of {measured}");
    assert!(hgrms >= loads, "a .hgrm per load measurement: {hgrms} of {loads}");
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

#[test]
fn a_smoke_run_of_two_pairs_judges_each_pair_and_writes_the_runtime_or_framework_section() {
    let _load = load_lock::load_lock();
    let out = tempfile::tempdir().unwrap();
    let output = claimbench()
        .args([
            "run",
            "--profile",
            "smoke",
            "--pairs",
            "express:fastapi,node-http:starlette",
            "--claims",
            "non-blocking",
        ])
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "run failed: {stdout}\n{stderr}");
    let dir = only_run_folder(out.path());
    let results = read_results(&dir);
    let labels: Vec<String> = results.pairs.iter().map(|p| p.label()).collect();
    assert_eq!(labels, ["express:fastapi", "node-http:starlette"]);
    assert!(
        results.filters.contains(&"--pairs express:fastapi,node-http:starlette".to_string()),
        "{:?}",
        results.filters
    );
    assert!(results.claims.iter().all(|c| c.pair.as_deref() == Some("express:fastapi")));
    let floor = &results.pairs[1];
    assert_eq!(floor.claims.len(), results.claims.len(), "the further pair has a row for every claim");
    assert!(floor.claims.iter().all(|c| c.pair.as_deref() == Some("node-http:starlette")));
    let io = floor.claims.iter().find(|c| c.id == "non-blocking").unwrap();
    // Measured on the floor pair's own stacks (a contended machine may make its trials invalid).
    match &io.verdict.estimate {
        Some(e) => assert_eq!((e.numerator.as_str(), e.denominator.as_str()), ("node-http", "starlette")),
        None => assert!(
            io.verdict.outcome == Outcome::Invalid
                && (io.verdict.reason.contains("node-http") || io.verdict.reason.contains("starlette")),
            "{:?}",
            io.verdict
        ),
    }
    // The further pair ran only the primary evidence's unit of E-hol (mixed-io), not alone or mixed-cpu.
    let io_runs = results.experiments.iter().find(|e| e.id == "E-hol").unwrap();
    let labels_of = |stack: &str| -> std::collections::BTreeSet<&str> {
        io_runs.measurements.iter().filter(|m| m.stack == stack).map(|m| m.label.as_str()).collect()
    };
    let (first, further) = (labels_of("express"), labels_of("node-http"));
    assert!(!further.is_empty() && further.is_subset(&first) && further.len() < first.len(), "{first:?} {further:?}");
    assert_eq!(further, labels_of("starlette"));
    assert!(
        results.environment.stacks.contains_key("node-http") && results.environment.stacks.contains_key("starlette")
    );
    assert!(results.framework_spreads.iter().any(|s| s.claim == "non-blocking" && s.stack == "node-http"));
    assert_eq!(results.runtime_verdicts.len(), results.claims.len());

    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(
        html.contains("Runtime or framework?") && html.contains("node-http:starlette"),
        "the section is in the page"
    );
    assert!(html.contains("node-http&#x2f;express"), "the spread within Node is in the page (HTML-escaped)");
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(summary.contains("### Runtime or framework?") && summary.contains("runtime floor"), "{summary}");
    assert!(app_processes().is_empty(), "no app outlives the run: {:?}", app_processes());
}
