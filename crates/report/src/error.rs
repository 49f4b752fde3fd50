//! What can go wrong while rendering or writing a report, worded for the user. Reading results
//! is the caller's (`claimbench_lab::RunDir`, or `RunResults::from_json`): this crate is handed
//! parsed data.

use std::path::PathBuf;

/// A report could not be rendered or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
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
