//! The run folder `reports/<run-id>/`: `run.json` (the header, written first), one JSONL line and
//! one `.hgrm` per measurement as it finishes, then `results.json`, `index.html` and `summary.md`;
//! and `reports/latest` pointing at the newest run.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use claimbench_engine::export::{write_hgrm, Latency};
use claimbench_model::run::{Measurement, RunResults};

pub const HEADER: &str = "run.json";
pub const MEASUREMENTS: &str = "measurements.jsonl";
pub const RESULTS: &str = "results.json";

/// An open run folder.
pub struct RunDir {
    pub path: PathBuf,
    jsonl: File,
}

impl RunDir {
    /// Creates `reports/<run_id>/`, writes the header and points `reports/latest` at it.
    pub fn create(reports: &Path, run_id: &str, header: &RunResults) -> anyhow::Result<RunDir> {
        let path = reports.join(run_id);
        std::fs::create_dir_all(&path).with_context(|| format!("creating the run folder {}", path.display()))?;
        write_json(&path.join(HEADER), header)?;
        let jsonl = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path.join(MEASUREMENTS))
            .with_context(|| format!("opening {}", path.join(MEASUREMENTS).display()))?;
        let latest = reports.join("latest");
        let _ = std::fs::remove_file(&latest);
        #[cfg(unix)]
        std::os::unix::fs::symlink(run_id, &latest)
            .with_context(|| format!("pointing {} at {run_id}", latest.display()))?;
        Ok(RunDir { path, jsonl })
    }

    /// Appends one finished measurement (and its `.hgrm`) and flushes, so a crash keeps it.
    pub fn append(&mut self, m: &Measurement) -> anyhow::Result<()> {
        let line = serde_json::to_string(m).context("serializing a measurement")?;
        writeln!(self.jsonl, "{line}")
            .and_then(|_| self.jsonl.sync_data())
            .context("appending to measurements.jsonl")?;
        if let Some(load) = &m.load {
            let name: String =
                m.id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect();
            write_hgrm(load, Latency::Corrected, &self.path.join(format!("{name}.hgrm")))
                .with_context(|| format!("writing the .hgrm of {}", m.id))?;
        }
        Ok(())
    }
}

/// Writes `value` as pretty JSON.
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value).context("serializing results")?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Reads the header and every complete measurement line of a run folder; a torn last line (the
/// run was killed mid-write) is skipped with a warning.
pub fn read_partial(dir: &Path) -> anyhow::Result<(RunResults, Vec<Measurement>)> {
    let header_path = dir.join(HEADER);
    let text = std::fs::read_to_string(&header_path)
        .with_context(|| format!("{} has no {HEADER}: is it a claimbench run folder?", dir.display()))?;
    let mut header: RunResults =
        serde_json::from_str(&text).with_context(|| format!("{} is not a valid run header", header_path.display()))?;
    let mut measurements = Vec::new();
    if let Ok(file) = File::open(dir.join(MEASUREMENTS)) {
        for (n, line) in BufReader::new(file).lines().enumerate() {
            let line = line.context("reading measurements.jsonl")?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Measurement>(&line) {
                Ok(m) => measurements.push(m),
                Err(e) => header
                    .warnings
                    .push(format!("measurements.jsonl line {} is unreadable and was skipped: {e}", n + 1)),
            }
        }
    }
    Ok((header, measurements))
}
