//! The history file in a temporary reports folder: append and read back, runs listed twice,
//! torn and foreign lines.

use std::io::Write;

use claimbench_history::{append, read, Appended, HistoryWarning};
use claimbench_model::run::RunResults;

fn fixture() -> RunResults {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/results/scripted-run.json");
    let text = std::fs::read_to_string(path).expect("the results fixture is readable");
    serde_json::from_str(&text).expect("the results fixture parses")
}

/// The fixture as if run on `day` (of March 2026), with its ratios scaled by `factor`.
fn run_on(day: u32, factor: f64) -> RunResults {
    let mut run = fixture();
    run.run_id = format!("2026-03-{day:02}T10-22-05Z-quick");
    run.started_at = format!("2026-03-{day:02}T10:22:05Z");
    for claim in &mut run.claims {
        if let Some(e) = claim.verdict.estimate.as_mut() {
            e.ratio_median *= factor;
            e.ci_low *= factor;
            e.ci_high *= factor;
        }
    }
    run
}

#[test]
fn appended_runs_read_back_oldest_first_with_their_claims() {
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), &run_on(15, 1.0)).unwrap();
    append(dir.path(), &run_on(14, 0.9)).unwrap();

    let history = read(dir.path()).unwrap();

    assert!(history.warnings.is_empty(), "{:?}", history.warnings);
    let ids: Vec<&str> = history.entries.iter().map(|e| e.run_id.as_str()).collect();
    assert_eq!(ids, ["2026-03-14T10-22-05Z-quick", "2026-03-15T10-22-05Z-quick"]);
    let first = &history.entries[0];
    assert_eq!(first.profile, "quick");
    let recorded = fixture();
    assert_eq!(first.git_commit, recorded.environment.git_commit);
    assert!(first.git_commit.is_some());
    assert_eq!(first.runtimes["express"], "node 20.20.2");
    let io = first.claims.iter().find(|c| c.id == "io-throughput").unwrap();
    assert_eq!(io.ratio.as_deref(), Some("express/fastapi throughput"));
    let measured = recorded.claims.iter().find(|c| c.id == "io-throughput").unwrap();
    assert!((io.ratio_median.unwrap() - measured.verdict.estimate.as_ref().unwrap().ratio_median * 0.9).abs() < 1e-9);
    assert!(io.ci_low.is_some() && io.ci_high.is_some());
    let modules = first.claims.iter().find(|c| c.id == "es-modules").unwrap();
    assert_eq!(modules.ratio_median, None, "a claim not measured has no ratio");
}

#[test]
fn a_run_appended_twice_is_kept_once() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(append(dir.path(), &run_on(14, 1.0)).unwrap(), Appended::Written(_)));
    assert!(matches!(append(dir.path(), &run_on(14, 1.0)).unwrap(), Appended::AlreadyThere(_)));
    assert_eq!(read(dir.path()).unwrap().entries.len(), 1);
}

#[test]
fn a_missing_history_reads_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    let history = read(dir.path()).unwrap();
    assert!(history.entries.is_empty() && history.warnings.is_empty());
}

#[test]
fn a_torn_last_line_is_skipped_with_a_warning_and_the_next_append_starts_fresh() {
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), &run_on(14, 1.0)).unwrap();
    let path = dir.path().join("history.jsonl");
    let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(br#"{"v":1,"run_id":"2026-03-15T1"#).unwrap();
    drop(file);

    let history = read(dir.path()).unwrap();
    assert_eq!(history.entries.len(), 1);
    assert!(matches!(&history.warnings[..], [HistoryWarning::TornLastLine { line: 2, .. }]), "{:?}", history.warnings);
    assert!(history.warnings[0].to_string().contains("history.jsonl line 2 is incomplete"));

    append(dir.path(), &run_on(16, 1.0)).unwrap();
    let history = read(dir.path()).unwrap();
    assert_eq!(history.entries.len(), 2, "the new line did not join the torn one");
    assert!(matches!(&history.warnings[..], [HistoryWarning::BadLine { line: 2, .. }]), "{:?}", history.warnings);
}
