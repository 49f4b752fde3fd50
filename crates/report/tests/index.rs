//! The history index page, rendered from history entries in a temporary reports folder: links
//! to the run folders that were kept, newest first, and one trend chart per claim.

use std::path::Path;

use claimbench_model::history::HistoryEntry;
use claimbench_model::run::RunResults;
use claimbench_report::{render_index, write_index, INDEX_FILE};

fn fixture() -> RunResults {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/results/scripted-run.json");
    let text = std::fs::read_to_string(path).expect("the results fixture is readable");
    serde_json::from_str(&text).expect("the results fixture parses")
}

/// The fixture's history line as if run on `day` (of March 2026), with its ratios scaled by
/// `factor`.
fn entry_on(day: u32, factor: f64) -> HistoryEntry {
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
    HistoryEntry::from_results(&run)
}

#[test]
fn the_index_links_each_kept_run_and_draws_a_trend_per_claim() {
    let dir = tempfile::tempdir().unwrap();
    let mut entries = Vec::new();
    for (day, factor) in [(14, 1.0), (15, 0.95), (16, 1.05)] {
        let entry = entry_on(day, factor);
        if day != 15 {
            // Only some run folders are kept; the index must not link the others.
            let folder = dir.path().join(&entry.run_id);
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join("index.html"), "<html></html>").unwrap();
        }
        entries.push(entry);
    }

    let path = write_index(dir.path(), &entries, &[]).unwrap();

    assert_eq!(path, dir.path().join(INDEX_FILE));
    let html = std::fs::read_to_string(&path).unwrap();
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
    assert!(!html.contains(r#"data-claim="es-modules""#), "no chart without a ratio");
    assert!(html.contains("No run has measured a ratio for this claim yet."));
    assert!(!html.contains("<script") && !html.contains("https://"), "self-contained");
}

#[test]
fn the_history_warnings_are_shown_at_the_top() {
    let html = render_index(Path::new("/nonexistent"), &[entry_on(14, 1.0)], &["line 3 was skipped".into()]).unwrap();
    assert!(html.contains("line 3 was skipped"), "{html}");
}

#[test]
fn an_empty_history_renders_an_index_that_says_so() {
    let html = render_index(Path::new("/nonexistent"), &[], &[]).unwrap();
    assert!(html.contains("No runs yet"));
}
