//! The history file and its index page, in a temporary reports folder: append and read back,
//! torn lines, and the rendered index with its links and trend charts.

use std::io::Write;

use claimbench_history::{append, read, record_run, render_index, Appended, HistoryWarning};
use claimbench_model::run::RunResults;

fn fixture() -> RunResults {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/results/quick-run.json");
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
    assert_eq!(first.git_commit.as_deref(), Some("3f9c2e1"));
    assert_eq!(first.runtimes["express"], "node v20.19.2");
    let io = first.claims.iter().find(|c| c.id == "io-throughput").unwrap();
    assert_eq!(io.ratio.as_deref(), Some("express/fastapi throughput"));
    assert!((io.ratio_median.unwrap() - 1.52 * 0.9).abs() < 1e-9);
    assert!(io.ci_low.is_some() && io.ci_high.is_some());
    let concurrency = first.claims.iter().find(|c| c.id == "concurrency").unwrap();
    assert_eq!(concurrency.ratio_median, None, "an invalid claim has no ratio");
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

#[test]
fn the_index_links_each_kept_run_and_draws_a_trend_per_claim() {
    let dir = tempfile::tempdir().unwrap();
    for (day, factor) in [(14, 1.0), (15, 0.95), (16, 1.05)] {
        let run = run_on(day, factor);
        if day != 15 {
            // Only some run folders are kept; the index must not link the others.
            let folder = dir.path().join(&run.run_id);
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join("index.html"), "<html></html>").unwrap();
        }
        record_run(dir.path(), &run).unwrap();
    }

    let written = render_index(dir.path()).unwrap();

    assert_eq!(written.path, dir.path().join("index.html"));
    assert_eq!(written.runs, 3);
    let html = std::fs::read_to_string(&written.path).unwrap();
    assert!(html.contains(r#"<a href="2026-03-16T10-22-05Z-quick/index.html">"#));
    assert!(html.contains(r#"<a href="2026-03-14T10-22-05Z-quick/index.html">"#));
    assert!(html.contains("2026-03-15T10-22-05Z-quick <span class=\"muted\">(report not kept)</span>"));
    let newest = html.find("2026-03-16T10-22-05Z-quick").unwrap();
    let oldest = html.rfind("2026-03-14T10-22-05Z-quick").unwrap();
    assert!(newest < oldest, "the newest run is listed first");

    let start = html.find(r#"data-claim="io-throughput""#).expect("a trend chart for io-throughput");
    let svg = &html[html[..start].rfind("<svg").unwrap()..];
    let svg = &svg[..svg.find("</svg>").unwrap()];
    assert!(svg.contains("<polygon"), "the confidence band is drawn");
    assert!(svg.contains("<polyline"), "the ratio line is drawn");
    assert_eq!(svg.matches("<circle").count(), 3, "one point per run");
    assert!(svg.contains("quick · node 20 · python 3.11"), "the series is named in the legend");
    assert!(html.contains(r#"data-claim="cpu-strength""#));
    assert!(!html.contains(r#"data-claim="scalability""#), "no chart without a ratio");
    assert!(html.contains("No run has measured a ratio for this claim yet."));
    assert!(!html.contains("<script") && !html.contains("https://"), "self-contained");
}

#[test]
fn an_empty_history_renders_an_index_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let written = render_index(dir.path()).unwrap();
    let html = std::fs::read_to_string(written.path).unwrap();
    assert!(html.contains("No runs yet"));
}
