//! `reports/history.jsonl`: one summary line per run, appended after each run, read back to draw
//! the trends.
//!
//! A line is the model's [`HistoryEntry`] (run id, time, profile, commit, runtimes, and per
//! claim the outcome and ratio with its interval), so the index renders even after old run
//! folders are deleted. Appending writes one whole line with one `write`; a line torn by a crash
//! is skipped on reading with a warning, and the next append starts on a fresh line. Drawing the
//! index page is the report crate's business.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub use claimbench_model::history::{ClaimPoint, HistoryEntry, HISTORY_VERSION};
use claimbench_model::jsonl::{parse_lines, SkippedLine};
use claimbench_model::run::RunResults;

use crate::error::{HistoryError, HistoryWarning};

/// The file name under the reports folder.
pub const HISTORY_FILE: &str = "history.jsonl";

/// The history as read back, oldest run first.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub entries: Vec<HistoryEntry>,
    /// Lines that were skipped, and why.
    pub warnings: Vec<HistoryWarning>,
}

/// What [`append`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// The line was written to this file.
    Written(PathBuf),
    /// The run was already in the history (e.g. a re-rendered run); nothing was written.
    AlreadyThere(PathBuf),
}

/// Appends the run's summary line to `<reports_dir>/history.jsonl`, creating it if needed; a
/// run already in the history is not appended twice.
pub fn append(reports_dir: &Path, results: &RunResults) -> Result<Appended, HistoryError> {
    let path = reports_dir.join(HISTORY_FILE);
    let write_error = |source| HistoryError::Write { path: path.clone(), source };
    if read(reports_dir)?.entries.iter().any(|e| e.run_id == results.run_id) {
        return Ok(Appended::AlreadyThere(path));
    }
    std::fs::create_dir_all(reports_dir)
        .map_err(|source| HistoryError::Write { path: reports_dir.to_path_buf(), source })?;
    let mut line =
        serde_json::to_string(&HistoryEntry::from_results(results)).expect("a history entry always serializes");
    line.push('\n');
    let mut file = OpenOptions::new().create(true).append(true).read(true).open(&path).map_err(write_error)?;
    // A torn last line (a crash mid-write) must not swallow this one.
    if ends_without_newline(&mut file).map_err(write_error)? {
        line.insert(0, '\n');
    }
    file.write_all(line.as_bytes()).map_err(write_error)?;
    file.sync_data().map_err(write_error)?;
    Ok(Appended::Written(path))
}

fn ends_without_newline(file: &mut std::fs::File) -> std::io::Result<bool> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// Reads `<reports_dir>/history.jsonl`, oldest run first (by start time); an absent file is an
/// empty history. Unreadable lines are skipped with a warning; for a run listed twice the last
/// line wins.
pub fn read(reports_dir: &Path) -> Result<History, HistoryError> {
    let path = reports_dir.join(HISTORY_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(History::default()),
        Err(source) => return Err(HistoryError::Read { path, source }),
    };
    let mut history = History::default();
    for parsed in parse_lines::<HistoryEntry>(&text) {
        match parsed {
            Ok((_, entry)) if entry.v == HISTORY_VERSION => {
                history.entries.retain(|e| e.run_id != entry.run_id);
                history.entries.push(entry);
            }
            Ok((line, entry)) => {
                history.warnings.push(HistoryWarning::Version { path: path.clone(), line, found: entry.v })
            }
            Err(SkippedLine { line, torn: true, reason }) => {
                history.warnings.push(HistoryWarning::TornLastLine { path: path.clone(), line, reason })
            }
            Err(SkippedLine { line, reason, .. }) => {
                history.warnings.push(HistoryWarning::BadLine { path: path.clone(), line, reason })
            }
        }
    }
    history.entries.sort_by(|a, b| a.started_at.cmp(&b.started_at));
    Ok(history)
}
