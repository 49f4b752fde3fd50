//! What can go wrong while reading results or writing a report, worded for the user.

use std::path::PathBuf;

/// A report could not be read, rendered or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The results file could not be read.
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    /// The results file is not valid results JSON.
    #[error("{path} is not a claimbench results file: {source}")]
    Parse { path: PathBuf, source: serde_json::Error },
    /// The results were written by a claimbench with another schema.
    #[error(
        "{path} has results schema version {found}, this claimbench reads version {expected}: \
         re-render it with the claimbench version that wrote it, or re-run the measurements"
    )]
    Schema { path: PathBuf, found: u32, expected: u32 },
    /// A chart failed to draw.
    #[error("cannot draw the {chart} chart: {message}")]
    Chart { chart: &'static str, message: String },
    /// A template failed to render; a bug in claimbench, not in the results.
    #[error("cannot render a report template: {0:#}")]
    Template(#[from] minijinja::Error),
    /// The report folder or a file in it could not be written.
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}
