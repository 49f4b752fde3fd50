//! What can go wrong while keeping the history, worded for the user, and the warnings that let
//! the work go on.

use std::path::PathBuf;

/// The history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The history file could not be read.
    #[error("cannot read {path}: {source}; check its permissions, or move it away to start a new history")]
    Read { path: PathBuf, source: std::io::Error },
    /// The history file could not be written.
    #[error("cannot write {path}: {source}; check that the reports folder is writable (--out)")]
    Write { path: PathBuf, source: std::io::Error },
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
    #[error("{path} line {line} has history version {found}, this claimbench reads version {expected}; it was skipped", expected = claimbench_model::history::HISTORY_VERSION)]
    Version { path: PathBuf, line: usize, found: u32 },
}
