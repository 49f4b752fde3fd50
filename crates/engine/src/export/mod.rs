//! Writing a `LoadResult` out: one file per format behind one private `Exporter` trait.
//!
//! Each format lives in its own file and turns a finished result into bytes; this module only
//! adds the file handling and the public entry points the CLI and the suite call. Exporters
//! read nothing but the result, so an old result can be re-exported without running anything.

mod hgrm;
mod hlog;
mod json;
mod summary;

use std::path::Path;

use claimbench_model::load::LoadResult;

use crate::error::ExportError;

/// Which of a result's two latency distributions to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latency {
    /// From intended send time (coordinated omission corrected).
    Corrected,
    /// From actual send time.
    Uncorrected,
}

/// One output format.
trait Exporter {
    /// The format's name, for messages.
    fn name(&self) -> &'static str;
    /// The whole file's content.
    fn render(&self, result: &LoadResult) -> Result<Vec<u8>, ExportError>;
}

fn write_with(exporter: &dyn Exporter, result: &LoadResult, path: &Path) -> Result<(), ExportError> {
    let bytes = exporter.render(result)?;
    std::fs::write(path, bytes).map_err(|source| ExportError::Write { path: path.to_path_buf(), source })
}

fn render_text(exporter: &dyn Exporter, result: &LoadResult) -> Result<String, ExportError> {
    let bytes = exporter.render(result)?;
    String::from_utf8(bytes).map_err(|e| ExportError::Encode { format: exporter.name(), reason: e.to_string() })
}

/// Writes the result as pretty-printed, versioned JSON.
pub fn write_json(result: &LoadResult, path: &Path) -> Result<(), ExportError> {
    write_with(&json::Json, result, path)
}

/// Writes one latency distribution in HdrHistogram's `.hgrm` percentile format (milliseconds).
pub fn write_hgrm(result: &LoadResult, latency: Latency, path: &Path) -> Result<(), ExportError> {
    write_with(&hgrm::Hgrm { latency }, result, path)
}

/// Writes the measurement's corrected interval histograms as an HdrHistogram interval log.
pub fn write_hlog(result: &LoadResult, path: &Path) -> Result<(), ExportError> {
    write_with(&hlog::Hlog, result, path)
}

/// The `.hgrm` text of one latency distribution.
pub fn render_hgrm(result: &LoadResult, latency: Latency) -> Result<String, ExportError> {
    render_text(&hgrm::Hgrm { latency }, result)
}

/// The interval log text.
pub fn render_hlog(result: &LoadResult) -> Result<String, ExportError> {
    render_text(&hlog::Hlog, result)
}

/// The terminal summary: percentiles to p99.99 corrected and uncorrected, rates, errors and
/// the self-check, with a loud warning when the generator was saturated.
pub fn render_summary(result: &LoadResult) -> String {
    render_text(&summary::Summary, result).expect("the summary is always UTF-8")
}
