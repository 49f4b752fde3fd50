//! What can go wrong while keeping the history or rendering a comparison, worded for the user,
//! and the warnings that let the work go on.

use std::path::PathBuf;

/// The history could not be read or written, or a page could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The history file could not be read.
    #[error("cannot read {path}: {source}; check its permissions, or move it away to start a new history")]
    Read { path: PathBuf, source: std::io::Error },
    /// The history file or the index page could not be written.
    #[error("cannot write {path}: {source}; check that the reports folder is writable (--out)")]
    Write { path: PathBuf, source: std::io::Error },
    /// A trend chart failed to draw.
    #[error("cannot draw the trend chart of {claim}: {message}")]
    Chart { claim: String, message: String },
    /// A template failed to render; a bug in claimbench, not in the results.
    #[error("cannot render the {template} template: {source:#}")]
    Template { template: &'static str, source: minijinja::Error },
}

/// Something was skipped, and the work went on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryWarning {
    /// The last line is incomplete: the writer was killed mid-line.
    #[error("{path} line {line} is incomplete (a run was killed while writing it) and was skipped: {reason}")]
    TornLastLine { path: PathBuf, line: usize, reason: String },
    /// A line in the middle is not a history entry.
    #[error("{path} line {line} is not a history entry and was skipped: {reason}; delete the line to silence this")]
    BadLine { path: PathBuf, line: usize, reason: String },
    /// A line written by a claimbench with another history format.
    #[error("{path} line {line} has history version {found}, this claimbench reads version {expected}; it was skipped", expected = crate::journal::HISTORY_VERSION)]
    Version { path: PathBuf, line: usize, found: u32 },
}
