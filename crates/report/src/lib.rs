//! Everything claimbench shows a reader: the run report (`index.html` and `summary.md`), the
//! compare page and its markdown twin, and the history index with its trend charts.
//!
//! The crate reads only plain model data ([`RunResults`], the suite's
//! [`Comparison`](claimbench_model::compare::Comparison), the history's
//! [`HistoryEntry`](claimbench_model::history::HistoryEntry)); it runs nothing and decides
//! nothing, so an old or interrupted run re-renders as it was. It depends on the model only,
//! not on the suite or the history. `view`, `compare` and `index` build the already-formatted
//! view structs (numbers through `claimbench_model::format`), `charts` picks the run report's
//! charts and `plot/` draws them as inline SVG, one chart per file with shared looks in
//! `plot/style`; `render` holds the one template environment and stylesheet under `templates/`.

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod charts;
mod compare;
mod error;
mod index;
mod measure;
mod plot;
mod render;
mod view;

use std::path::{Path, PathBuf};

use claimbench_model::calibration::Calibration;
use claimbench_model::run::RunResults;

pub use compare::{render_html as render_compare_html, render_markdown as render_compare_markdown, CompareView};
pub use error::ReportError;
pub use index::{render_index, write_index, INDEX_FILE};
pub use view::Report;

/// The file names [`write_report`] writes into the report folder.
pub const HTML_FILE: &str = "index.html";
/// The markdown summary's file name.
pub const SUMMARY_FILE: &str = "summary.md";

/// Renders the whole report as one HTML document with inline CSS and SVG, and no scripts.
pub fn render_html(results: &RunResults) -> Result<String, ReportError> {
    render_html_with(results, None)
}

/// [`render_html`], showing `calibration`: the newest A/A calibration of the machine the run
/// ran on, or `None` when the machine has none.
pub fn render_html_with(results: &RunResults, calibration: Option<&Calibration>) -> Result<String, ReportError> {
    let mut report = view::Report::build_with(results, calibration);
    charts::attach(&mut report, results)?;
    render::render("report.html.j2", &report)
}

/// Renders the short markdown summary (claims and verdicts) meant for CI job summaries.
pub fn render_markdown(results: &RunResults) -> String {
    render::render("summary.md.j2", &view::Report::build(results))
        .expect("the embedded summary template renders any view")
}

/// The files [`write_report`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub html: PathBuf,
    pub summary: PathBuf,
}

/// Writes `index.html` and `summary.md` into `dir`, creating it if needed.
pub fn write_report(results: &RunResults, dir: &Path) -> Result<Written, ReportError> {
    write_report_with(results, None, dir)
}

/// [`write_report`], with the machine's newest calibration in the page (see [`render_html_with`]).
pub fn write_report_with(
    results: &RunResults,
    calibration: Option<&Calibration>,
    dir: &Path,
) -> Result<Written, ReportError> {
    let html = render_html_with(results, calibration)?;
    let summary = render_markdown(results);
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write { path: dir.to_path_buf(), source })?;
    let written = Written { html: dir.join(HTML_FILE), summary: dir.join(SUMMARY_FILE) };
    for (path, text) in [(&written.html, &html), (&written.summary, &summary)] {
        std::fs::write(path, text).map_err(|source| ReportError::Write { path: path.clone(), source })?;
    }
    Ok(written)
}
