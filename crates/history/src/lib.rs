//! The run history: `reports/history.jsonl`, one summary line per run, appended after each run
//! and read back for the history index page.
//!
//! This crate is the journal and nothing else: it reads and appends the file, skipping torn or
//! foreign lines with a warning. The line's type is the model's
//! [`HistoryEntry`](claimbench_model::history::HistoryEntry); comparing runs is
//! `claimbench_suite::compare`, and drawing the index page and its trend charts is
//! `claimbench_report`'s.

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod error;
mod journal;

pub use error::{HistoryError, HistoryWarning};
pub use journal::{append, read, Appended, ClaimPoint, History, HistoryEntry, HISTORY_FILE, HISTORY_VERSION};
