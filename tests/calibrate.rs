//! `claimbench calibrate` end to end, on the real apps with the smoke profile: two instances of
//! express, one per side, decided as `run` decides; its run folder, its report and its counts.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::CommandCargoExt;
use claimbench_model::calibration::Calibration;
use claimbench_model::run::{Outcome, RunResults};

// Runs load both cores: one at a time, and never beside another test binary's load.
#[path = "support/load_lock.rs"]
mod load_lock;

fn claimbench() -> std::process::Command {
    std::process::Command::cargo_bin("claimbench").unwrap()
}

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_smoke_calibration_runs_one_stack_on_both_sides_and_counts_its_verdicts() {
    let _load = load_lock::load_lock();
    let out = tempfile::tempdir().unwrap();
    let output = claimbench().args(["calibrate", "--profile", "smoke", "--out"]).arg(out.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "calibrate failed: {stdout}\n{stderr}");

    let dirs: Vec<PathBuf> = std::fs::read_dir(out.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !p.is_symlink())
        .collect();
    assert_eq!(dirs.len(), 1, "one run folder: {dirs:?}");
    let dir = &dirs[0];
    assert!(dir.file_name().unwrap().to_str().unwrap().ends_with("-smoke-calibrate"), "{}", dir.display());
    for file in ["results.json", "index.html", "summary.md", "calibration.json"] {
        assert!(dir.join(file).is_file(), "{file} is written");
    }

    // Both sides are express, each in one role, and every cross-stack evidence was decided.
    let results: RunResults = read(&dir.join("results.json"));
    assert!(results.complete);
    assert_eq!(results.environment.stacks.keys().collect::<Vec<_>>(), ["express@a", "express@b"]);
    assert!(results.environment.stacks.values().all(|s| s.framework == "express"));
    let sides = claimbench_suite::sides_of(&results);
    assert_eq!((sides.node.as_deref(), sides.python.as_deref()), (Some("express@a"), Some("express@b")));

    let calibration: Calibration = read(&dir.join("calibration.json"));
    let latest: Calibration = read(&out.path().join("calibration-latest.json"));
    assert_eq!(calibration, latest, "calibration-latest.json is the newest calibration");
    assert_eq!(calibration.stack, "express");
    assert_eq!(calibration.profile, "smoke");
    assert_eq!(calibration.run_id, results.run_id);
    assert_eq!(calibration.machine.cores, results.environment.cores);
    assert!(calibration.complete);

    // The counts add up and match the per-evidence outcomes.
    assert!(calibration.primary.evidences > 0, "{:?}", calibration.primary);
    assert!(calibration.primary.evidences <= calibration.cross_stack.evidences);
    assert_eq!(calibration.cross_stack.evidences as usize, calibration.evidences.len());
    assert_eq!(calibration.primary.evidences as usize, calibration.evidences.iter().filter(|e| e.primary).count());
    for counts in [&calibration.primary, &calibration.cross_stack] {
        assert_eq!(counts.inconclusive + counts.false_verdicts() + counts.undecided, counts.evidences, "{counts:?}");
    }
    let decided =
        calibration.evidences.iter().filter(|e| matches!(e.outcome, Outcome::Supported | Outcome::Refuted)).count();
    assert_eq!(calibration.cross_stack.false_verdicts() as usize, decided);
    for e in &calibration.evidences {
        let claim = results.claims.iter().find(|c| c.id == e.claim).expect("each evidence's claim is in the results");
        if e.primary {
            assert_eq!(claim.verdict.outcome, e.outcome, "{} decides its claim", e.label);
        }
        assert!(e.key_number.contains("express@") || e.outcome != Outcome::Inconclusive, "{e:?}");
    }

    // The report shows this calibration; re-rendering the folder keeps it.
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains(&format!("Calibrated on {}", calibration.date)), "the report shows the calibration");
    let report = claimbench().arg("report").arg(dir).output().unwrap();
    assert!(report.status.success(), "{}", String::from_utf8_lossy(&report.stderr));
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains(&format!("Calibrated on {}", calibration.date)), "the re-rendered report keeps it");
    assert!(stdout.contains("primary evidences:") && stdout.contains("cross-stack evidences:"), "{stdout}");
}

#[test]
fn a_role_alias_is_refused_as_the_calibrated_stack() {
    let output = claimbench().args(["calibrate", "--stack", "express@a", "--profile", "smoke"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("role alias"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
