//! `claimbench history [DIR]`: brings `DIR/history.jsonl` up to date with the finished run
//! folders in `DIR`, then re-renders `DIR/index.html` (the run list and the trend charts).
//!
//! Glue only: finding and reading the run folders is here, the history file is the history
//! crate's and the page the report crate's; [`record_run`] joins the two for `claimbench run`,
//! which records each run it makes. This command is for folders assembled by hand or by CI (the
//! nightly job merges its matrix cells with it).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use claimbench_history::{append, Appended, HistoryWarning};
use claimbench_model::run::RunResults;

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// The reports folder holding the run folders and history.jsonl.
    #[arg(default_value = "reports")]
    dir: PathBuf,
}

pub fn run(args: HistoryArgs) -> anyhow::Result<ExitCode> {
    if !args.dir.is_dir() {
        anyhow::bail!(
            "{} is not a folder: pass the reports folder that holds the run folders (default: reports)",
            args.dir.display()
        );
    }
    let mut runs = finished_runs(&args.dir)?;
    runs.sort_by(|a, b| a.started_at.cmp(&b.started_at));
    let mut added = 0;
    for run in &runs {
        if let Appended::Written(_) = append(&args.dir, run)? {
            added += 1;
        }
    }
    let written = render_index(&args.dir)?;
    for warning in &written.warnings {
        eprintln!("warning: {warning}");
    }
    println!("history: {} run(s), {added} added from run folders; index: {}", written.runs, written.path.display());
    Ok(ExitCode::SUCCESS)
}

/// What [`render_index`] wrote, and the history lines it had to skip.
pub struct IndexWritten {
    pub path: PathBuf,
    pub runs: usize,
    pub warnings: Vec<HistoryWarning>,
}

/// Appends the run to the history and re-renders the index: what `claimbench run` calls after
/// writing a run's report.
pub fn record_run(reports_dir: &Path, results: &RunResults) -> anyhow::Result<IndexWritten> {
    append(reports_dir, results)?;
    render_index(reports_dir)
}

/// Reads `<reports_dir>/history.jsonl` and writes `<reports_dir>/index.html` from it.
fn render_index(reports_dir: &Path) -> anyhow::Result<IndexWritten> {
    let history = claimbench_history::read(reports_dir)?;
    let warnings: Vec<String> = history.warnings.iter().map(ToString::to_string).collect();
    let path = claimbench_report::write_index(reports_dir, &history.entries, &warnings)?;
    Ok(IndexWritten { path, runs: history.entries.len(), warnings: history.warnings })
}

/// The results of every finished run folder under `dir`; unreadable ones are left out with a
/// warning, and so are A/A calibrations (their stacks stand in roles), which compare nothing.
fn finished_runs(dir: &Path) -> anyhow::Result<Vec<RunResults>> {
    let (runs, unreadable) = claimbench_lab::finished_runs(dir)?;
    for e in unreadable {
        eprintln!("warning: a run was left out of the history: {e}");
    }
    Ok(runs.into_iter().filter(|run| run.environment.roles.is_empty()).collect())
}
