//! `reports/index.html`: the runs in the history, newest first, each linked to its report, and
//! one trend chart per claim.
//!
//! Everything comes from the history's entries (`claimbench_history` reads `history.jsonl`), so
//! the page renders even when old run folders were deleted; a run whose folder is gone is
//! listed without a link. A series is one
//! profile on one pair of runtime release lines (node's major, python's major.minor), so the
//! nightly matrix draws one line per cell. The page is self-contained: inline CSS and SVG, no
//! scripts.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use claimbench_model::format;
use claimbench_model::history::HistoryEntry;
use claimbench_model::run::Outcome;
use serde::Serialize;

use crate::error::ReportError;
use crate::plot::style::series_color;
use crate::plot::trend;
use crate::render::render;
use crate::view::{badge, Badge};

/// The index page's file name under the reports folder.
pub const INDEX_FILE: &str = "index.html";

#[derive(Debug, Serialize)]
struct IndexView {
    summary: String,
    warnings: Vec<String>,
    claims: Vec<TrendView>,
    runs: Vec<RunRow>,
}

#[derive(Debug, Serialize)]
struct TrendView {
    id: String,
    anchor: String,
    ratio: String,
    latest: Badge,
    latest_number: Option<String>,
    svg: Option<String>,
    note: String,
}

#[derive(Debug, Serialize)]
struct RunRow {
    run_id: String,
    /// Percent-encoded: safe to insert unescaped.
    href: Option<String>,
    started_at: String,
    profile: String,
    runtimes: String,
    commit: String,
    partial: bool,
    outcomes: Vec<OutcomeDot>,
}

#[derive(Debug, Serialize)]
struct OutcomeDot {
    claim: String,
    class: &'static str,
    text: &'static str,
}

/// Writes `<reports_dir>/index.html` for the history `entries` (oldest first), listing the
/// history's `warnings` (lines it skipped) at the top. Returns the page's path.
pub fn write_index(reports_dir: &Path, entries: &[HistoryEntry], warnings: &[String]) -> Result<PathBuf, ReportError> {
    let html = render_index(reports_dir, entries, warnings)?;
    let path = reports_dir.join(INDEX_FILE);
    std::fs::create_dir_all(reports_dir)
        .and_then(|_| std::fs::write(&path, html))
        .map_err(|source| ReportError::Write { path: path.clone(), source })?;
    Ok(path)
}

/// The page for `entries` (oldest first); links point at run folders that exist under
/// `reports_dir`.
pub fn render_index(reports_dir: &Path, entries: &[HistoryEntry], warnings: &[String]) -> Result<String, ReportError> {
    let view = IndexView {
        summary: summary(entries),
        warnings: warnings.to_vec(),
        claims: trends(entries)?,
        runs: entries.iter().rev().map(|e| run_row(reports_dir, e)).collect(),
    };
    render("index.html.j2", &view)
}

fn summary(entries: &[HistoryEntry]) -> String {
    match (entries.first(), entries.last()) {
        (Some(first), Some(last)) if entries.len() > 1 => {
            format!("{} runs from {} to {}.", entries.len(), date(&first.started_at), date(&last.started_at))
        }
        (Some(only), _) => format!("1 run, on {}.", date(&only.started_at)),
        _ => "No runs yet.".to_string(),
    }
}

fn run_row(reports_dir: &Path, e: &HistoryEntry) -> RunRow {
    let report = reports_dir.join(&e.run_id).join(crate::HTML_FILE);
    RunRow {
        run_id: e.run_id.clone(),
        href: report.is_file().then(|| format!("{}/{}", url_segment(&e.run_id), crate::HTML_FILE)),
        started_at: e.started_at.clone(),
        profile: e.profile.clone(),
        runtimes: e.runtimes.values().cloned().collect::<Vec<_>>().join(" · "),
        commit: e.git_commit.clone().unwrap_or_else(|| "–".to_string()),
        partial: !e.complete,
        outcomes: e
            .claims
            .iter()
            .map(|c| {
                let badge = badge(c.outcome);
                OutcomeDot { claim: c.id.clone(), class: badge.class, text: badge.text }
            })
            .collect(),
    }
}

/// One trend per claim, in the order of the newest run (claims only in older runs after).
fn trends(entries: &[HistoryEntry]) -> Result<Vec<TrendView>, ReportError> {
    let mut ids: Vec<&str> = Vec::new();
    for e in entries.iter().rev() {
        for c in &e.claims {
            if !ids.contains(&c.id.as_str()) {
                ids.push(&c.id);
            }
        }
    }
    let keys: Vec<String> = entries.iter().map(series_key).collect();
    let mut names: Vec<&str> = Vec::new();
    for k in &keys {
        if !names.contains(&k.as_str()) {
            names.push(k);
        }
    }
    let x_labels: Vec<String> = entries.iter().map(|e| date(&e.started_at)).collect();
    ids.iter()
        .map(|&id| {
            let series: Vec<trend::Series> = names
                .iter()
                .enumerate()
                .map(|(i, name)| trend::Series {
                    name: name.to_string(),
                    color: series_color(i),
                    points: entries
                        .iter()
                        .enumerate()
                        .filter(|(x, _)| keys[*x] == *name)
                        .filter_map(|(x, e)| {
                            let c = e.claims.iter().find(|c| c.id == id)?;
                            Some(trend::Point { x, median: c.ratio_median?, low: c.ci_low?, high: c.ci_high? })
                        })
                        .collect(),
                })
                .filter(|s| !s.points.is_empty())
                .collect();
            let latest = entries.iter().rev().find_map(|e| e.claims.iter().find(|c| c.id == id));
            let ratio = entries
                .iter()
                .rev()
                .find_map(|e| e.claims.iter().find(|c| c.id == id)?.ratio.clone())
                .unwrap_or_default();
            let svg = if series.is_empty() {
                None
            } else {
                let y_desc = if ratio.is_empty() { "ratio".to_string() } else { ratio.clone() };
                Some(trend::render(id, &y_desc, &series, &x_labels)?.text)
            };
            Ok(TrendView {
                id: id.to_string(),
                anchor: format!("trend-{}", slug(id)),
                ratio,
                latest: badge(latest.map_or(Outcome::NotMeasured, |c| c.outcome)),
                latest_number: latest
                    .and_then(|c| Some(format::ratio_interval(c.ratio_median?, c.ci_low?, c.ci_high?))),
                svg,
                note: "No run has measured a ratio for this claim yet.".to_string(),
            })
        })
        .collect()
}

/// The series a run belongs to: its profile and runtime release lines, e.g.
/// "nightly · node 20 · python 3.11".
fn series_key(e: &HistoryEntry) -> String {
    let lines: BTreeSet<String> = e.runtimes.values().flat_map(|v| v.split(", ")).filter_map(release_line).collect();
    std::iter::once(e.profile.clone()).chain(lines).collect::<Vec<_>>().join(" · ")
}

/// "node v20.19.2" -> "node 20", "python 3.11.2" -> "python 3.11": the line a matrix pins.
fn release_line(runtime: &str) -> Option<String> {
    let (name, version) = runtime.split_once(' ')?;
    let parts: Vec<&str> = version.trim_start_matches('v').split('.').collect();
    let keep = if name == "node" { 1 } else { 2 };
    Some(format!("{name} {}", parts[..keep.min(parts.len())].join(".")))
}

/// A path segment with everything but unreserved URL characters percent-encoded, so the
/// template can insert it into `href` as is.
fn url_segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The date part of an RFC 3339 time.
fn date(rfc3339: &str) -> String {
    rfc3339.chars().take(10).collect()
}

fn slug(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_line_keeps_nodes_major_and_pythons_minor() {
        assert_eq!(release_line("node v20.19.2").as_deref(), Some("node 20"));
        assert_eq!(release_line("python 3.11.2").as_deref(), Some("python 3.11"));
        assert_eq!(release_line("python"), None);
    }

    #[test]
    fn a_run_id_becomes_a_url_segment_that_needs_no_escaping() {
        assert_eq!(url_segment("2026-03-14T10-22-05Z-quick"), "2026-03-14T10-22-05Z-quick");
        assert_eq!(url_segment("a b/\"<"), "a%20b%2F%22%3C");
    }
}
