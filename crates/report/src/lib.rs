//! Renders a claimbench run's results: one self-contained `index.html` and a `summary.md`.
//!
//! The crate reads only serialized [`RunResults`]; it runs nothing and computes no statistics,
//! so an old or interrupted run re-renders as it was. `view` formats everything a reader sees,
//! `charts` picks the charts and `plot/` draws them as inline SVG, one chart per file; the
//! templates under `templates/` hold only loops and ifs.

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod charts;
mod error;
mod format;
mod html;
mod markdown;
mod measure;
mod plot;
mod view;

use std::path::{Path, PathBuf};

use claimbench_model::run::{RunResults, SCHEMA_VERSION};

pub use error::ReportError;

/// The file names [`write_report`] writes into the report folder.
pub const HTML_FILE: &str = "index.html";
/// The markdown summary's file name.
pub const SUMMARY_FILE: &str = "summary.md";

/// Renders the whole report as one HTML document with inline CSS and SVG, and no scripts.
pub fn render_html(results: &RunResults) -> Result<String, ReportError> {
    let mut report = view::Report::build(results);
    charts::attach(&mut report, results)?;
    html::render(&report)
}

/// Renders the short markdown summary (claims and verdicts) meant for CI job summaries.
pub fn render_markdown(results: &RunResults) -> String {
    markdown::render(&view::Report::build(results))
}

/// The files [`write_report`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub html: PathBuf,
    pub summary: PathBuf,
}

/// Writes `index.html` and `summary.md` into `dir`, creating it if needed.
pub fn write_report(results: &RunResults, dir: &Path) -> Result<Written, ReportError> {
    let html = render_html(results)?;
    let summary = render_markdown(results);
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write { path: dir.to_path_buf(), source })?;
    let written = Written { html: dir.join(HTML_FILE), summary: dir.join(SUMMARY_FILE) };
    for (path, text) in [(&written.html, &html), (&written.summary, &summary)] {
        std::fs::write(path, text).map_err(|source| ReportError::Write { path: path.clone(), source })?;
    }
    Ok(written)
}

/// Reads a `results.json`, refusing a schema version this crate does not know.
pub fn read_results(path: &Path) -> Result<RunResults, ReportError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| ReportError::Read { path: path.to_path_buf(), source })?;
    // Check the version first, so an old file says "old version" rather than "missing field".
    let version = serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|v| v.get("schema_version")?.as_u64());
    if let Some(found) = version {
        if found != u64::from(SCHEMA_VERSION) {
            return Err(ReportError::Schema {
                path: path.to_path_buf(),
                found: found as u32,
                expected: SCHEMA_VERSION,
            });
        }
    }
    serde_json::from_str(&text).map_err(|source| ReportError::Parse { path: path.to_path_buf(), source })
}
