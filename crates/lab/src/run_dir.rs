//! The run folder `reports/<run-id>/`, and the only code that knows its file names: `run.json`
//! (the header, written first), one line of `measurements.jsonl` and one `<id>.hgrm` per
//! measurement as it finishes, then `results.json`; a calibration run's `calibration.json`; and,
//! beside the run folders, `reports/latest` pointing at the newest run and
//! `reports/calibration-latest.json`, the newest calibration. The report's own files
//! (`index.html`, `summary.md`) are the report crate's.
//!
//! Reading is tolerant of a killed run: a torn last line of `measurements.jsonl` is skipped with
//! a warning, as is any other unreadable line (named by number).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use claimbench_engine::export::{write_hgrm, Latency};
use claimbench_model::calibration::Calibration;
use claimbench_model::jsonl::{self, SkippedLine};
use claimbench_model::run::{Measurement, ParseResultsError, RunResults, SCHEMA_VERSION};
use serde::de::DeserializeOwned;

const HEADER: &str = "run.json";
const MEASUREMENTS: &str = "measurements.jsonl";
const RESULTS: &str = "results.json";
const LATEST: &str = "latest";
const CALIBRATION: &str = "calibration.json";
const LATEST_CALIBRATION: &str = "calibration-latest.json";

/// What went wrong with a run folder; each names the path and what to pass instead.
#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    #[error("{0} does not exist: is it a claimbench run folder? Pass one such as reports/latest, or its results.json")]
    Missing(PathBuf),
    #[error("{0} has no results.json: it is not a finished run's folder (an interrupted run writes none); pass a finished run's folder or its results.json")]
    NotFinished(PathBuf),
    #[error("{0} has no run.json: is it a claimbench run folder?")]
    NoHeader(PathBuf),
    #[error("{path} was written by results schema version {found}, this claimbench reads version {expected}: re-run it, or render it with the claimbench that made it")]
    Schema { path: PathBuf, found: u64, expected: u32 },
    #[error("{path} is not valid: {source}")]
    Parse { path: PathBuf, source: serde_json::Error },
    #[error("{path} is not a calibration ({source}): delete it, or run `claimbench calibrate` to write a new one")]
    NotCalibration { path: PathBuf, source: serde_json::Error },
    #[error("writing the .hgrm of {id}: {source}")]
    Hgrm { id: String, source: claimbench_engine::ExportError },
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: PathBuf, source: std::io::Error },
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> RunDirError + 'a {
    move |source| RunDirError::Io { what, path: path.to_path_buf(), source }
}

/// An existing run folder, finished or not.
#[derive(Debug, Clone)]
pub struct RunDir {
    path: PathBuf,
    /// Set when the folder was named by its `results.json` rather than by itself.
    results_file: Option<PathBuf>,
}

impl RunDir {
    /// Creates `reports/<run_id>/`, writes the header and points `reports/latest` at it.
    pub fn create(reports: &Path, run_id: &str, header: &RunResults) -> Result<RunWriter, RunDirError> {
        let path = reports.join(run_id);
        std::fs::create_dir_all(&path).map_err(io("creating the run folder", &path))?;
        write_json(&path.join(HEADER), header)?;
        let jsonl_path = path.join(MEASUREMENTS);
        let jsonl =
            OpenOptions::new().create(true).append(true).open(&jsonl_path).map_err(io("opening", &jsonl_path))?;
        let latest = reports.join(LATEST);
        // A stale link from an earlier run is replaced; there is none on the first run.
        let _ = std::fs::remove_file(&latest);
        std::os::unix::fs::symlink(run_id, &latest).map_err(io("pointing the latest link at the run", &latest))?;
        Ok(RunWriter { dir: RunDir { path, results_file: None }, jsonl })
    }

    /// A run folder, or a `results.json` file standing for its folder.
    pub fn open(path: &Path) -> Result<RunDir, RunDirError> {
        if path.is_dir() {
            Ok(RunDir { path: path.to_path_buf(), results_file: None })
        } else if path.exists() {
            let folder = path.parent().unwrap_or(Path::new(".")).to_path_buf();
            Ok(RunDir { path: folder, results_file: Some(path.to_path_buf()) })
        } else {
            Err(RunDirError::Missing(path.to_path_buf()))
        }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn results_path(&self) -> PathBuf {
        self.results_file.clone().unwrap_or_else(|| self.path.join(RESULTS))
    }

    /// True when the run finished and wrote its `results.json`.
    pub fn is_finished(&self) -> bool {
        self.results_path().is_file()
    }

    /// The finished run's results, refusing a schema version this claimbench does not know.
    pub fn read_results(&self) -> Result<RunResults, RunDirError> {
        let path = self.results_path();
        if !path.is_file() {
            return Err(RunDirError::NotFinished(self.path.clone()));
        }
        let text = std::fs::read_to_string(&path).map_err(io("reading", &path))?;
        RunResults::from_json(&text).map_err(|e| match e {
            ParseResultsError::Schema { found } => RunDirError::Schema { path, found, expected: SCHEMA_VERSION },
            ParseResultsError::Json(source) => RunDirError::Parse { path, source },
        })
    }

    /// Writes a calibration run's `calibration.json` into this folder and the same file as the
    /// newest calibration of `reports` (see [`latest_calibration`]); returns the latter's path.
    pub fn write_calibration(&self, calibration: &Calibration, reports: &Path) -> Result<PathBuf, RunDirError> {
        write_json(&self.path.join(CALIBRATION), calibration)?;
        let latest = latest_calibration(reports);
        write_json(&latest, calibration)?;
        Ok(latest)
    }

    /// Where this folder's report looks for a calibration, in order: its own (a calibration
    /// run's), then the newest one beside the folder.
    pub fn calibration_paths(&self) -> [PathBuf; 2] {
        // `..` rather than the parent, so `reports/latest` (a link) finds the real folder's reports.
        [self.path.join(CALIBRATION), latest_calibration(&self.path.join(".."))]
    }

    /// The header and every readable measurement line, for a run that may have been interrupted;
    /// lines that could not be read become warnings in the returned header.
    pub fn read_partial(&self) -> Result<(RunResults, Vec<Measurement>), RunDirError> {
        let header_path = self.path.join(HEADER);
        let text = std::fs::read_to_string(&header_path).map_err(|_| RunDirError::NoHeader(self.path.clone()))?;
        let mut header: RunResults =
            serde_json::from_str(&text).map_err(|source| RunDirError::Parse { path: header_path, source })?;
        let jsonl_path = self.path.join(MEASUREMENTS);
        let lines = match std::fs::read_to_string(&jsonl_path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(RunDirError::Io { what: "reading", path: jsonl_path, source }),
        };
        let (measurements, warnings) = parse_jsonl::<Measurement>(&lines);
        header.warnings.extend(warnings.into_iter().map(|w| format!("{MEASUREMENTS} {w}")));
        Ok((header, measurements))
    }
}

/// A run folder being written.
#[derive(Debug)]
pub struct RunWriter {
    dir: RunDir,
    jsonl: File,
}

impl RunWriter {
    /// The folder being written.
    pub fn dir(&self) -> &RunDir {
        &self.dir
    }

    /// Appends one finished measurement (and its `.hgrm`) and flushes, so a crash keeps it.
    pub fn append(&mut self, m: &Measurement) -> Result<(), RunDirError> {
        let path = self.dir.path.join(MEASUREMENTS);
        let line = serde_json::to_string(m).map_err(|source| RunDirError::Parse { path: path.clone(), source })?;
        writeln!(self.jsonl, "{line}").and_then(|_| self.jsonl.sync_data()).map_err(io("appending to", &path))?;
        if let Some(load) = &m.load {
            let name: String =
                m.id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect();
            write_hgrm(load, Latency::Corrected, &self.dir.path.join(format!("{name}.hgrm")))
                .map_err(|source| RunDirError::Hgrm { id: m.id.clone(), source })?;
        }
        Ok(())
    }

    /// Writes `results.json`, which marks the run as finished, and returns the folder.
    pub fn finish(self, results: &RunResults) -> Result<RunDir, RunDirError> {
        write_json(&self.dir.path.join(RESULTS), results)?;
        Ok(self.dir)
    }
}

/// The results of every finished run folder under `reports` (the `latest` link is skipped), and
/// a warning for each folder whose results could not be read.
pub fn finished_runs(reports: &Path) -> Result<(Vec<RunResults>, Vec<RunDirError>), RunDirError> {
    let entries = std::fs::read_dir(reports).map_err(io("listing", reports))?;
    let (mut runs, mut unreadable) = (Vec::new(), Vec::new());
    for entry in entries {
        let entry = entry.map_err(io("listing", reports))?;
        let is_link = entry.file_type().is_ok_and(|t| t.is_symlink());
        let dir = RunDir { path: entry.path(), results_file: None };
        if is_link || !dir.is_finished() {
            continue;
        }
        match dir.read_results() {
            Ok(run) => runs.push(run),
            Err(e) => unreadable.push(e),
        }
    }
    Ok((runs, unreadable))
}

/// The newest calibration of the reports folder `reports`, where `run` looks by default.
pub fn latest_calibration(reports: &Path) -> PathBuf {
    reports.join(LATEST_CALIBRATION)
}

/// The calibration in the file at `path`, or `None` when there is no such file.
pub fn read_calibration(path: &Path) -> Result<Option<Calibration>, RunDirError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(RunDirError::Io { what: "reading", path: path.to_path_buf(), source }),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| RunDirError::NotCalibration { path: path.to_path_buf(), source })
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), RunDirError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|source| RunDirError::Parse { path: path.to_path_buf(), source })?;
    std::fs::write(path, text).map_err(io("writing", path))
}

/// Parses JSON lines; returns the readable values and, for each line that is not, a warning
/// naming it (a torn last line, from a run killed mid-write, says so).
pub fn parse_jsonl<T: DeserializeOwned>(text: &str) -> (Vec<T>, Vec<String>) {
    let (mut values, mut warnings) = (Vec::new(), Vec::new());
    for parsed in jsonl::parse_lines(text) {
        match parsed {
            Ok((_, value)) => values.push(value),
            Err(SkippedLine { line, torn: true, reason }) => warnings
                .push(format!("line {line} was cut short (the run was stopped mid-write) and was skipped: {reason}")),
            Err(SkippedLine { line, reason, .. }) => {
                warnings.push(format!("line {line} is unreadable and was skipped: {reason}"))
            }
        }
    }
    (values, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_is_skipped_with_a_warning_that_says_so() {
        let (values, warnings) = parse_jsonl::<u32>("1\n2\n{\"x\":");
        assert_eq!(values, [1, 2]);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("line 3 was cut short"), "{}", warnings[0]);
    }

    #[test]
    fn a_bad_line_in_the_middle_is_named_and_skipped() {
        let (values, warnings) = parse_jsonl::<u32>("1\nnope\n\n3\n");
        assert_eq!(values, [1, 3]);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("line 2 is unreadable"), "{}", warnings[0]);
    }
}
