//! Runs over time: `compare` tells what changed between two runs, and the history
//! (`reports/history.jsonl` plus `reports/index.html`) shows every claim's ratio run after run.
//!
//! The crate reads only serialized [`RunResults`]; it runs nothing, and it decides no verdicts
//! (the suite did). `change` holds the numbers (the change of a ratio with its bootstrap
//! interval, moved or not against a noise threshold), `claimed` which way favours a claim, and
//! `judgement` the rule that calls a row improved or regressed; `compare` applies them per
//! claim and sub-verdict. `journal` keeps the history file, `index` and `plot/` draw the page,
//! `view` and `render` format and fill the templates under `templates/`.

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod change;
mod claimed;
mod compare;
mod error;
mod index;
mod journal;
mod judgement;
mod plot;
mod render;
mod view;

pub use change::{bootstrap_ratio_of_medians, movement, Change, Method, Movement};
pub use claimed::Favoured;
pub use compare::{compare, CompareOptions, Comparison, Row, RunInfo, Side};
pub use error::{HistoryError, HistoryWarning};
pub use index::{render_index, IndexWritten, INDEX_FILE};
pub use journal::{append, read, Appended, ClaimPoint, History, HistoryEntry, HISTORY_FILE, HISTORY_VERSION};
pub use judgement::{FlipKind, Judgement};

use claimbench_model::run::RunResults;

/// The comparison as markdown: the table, the verdict flips and the notes (for `$GITHUB_STEP_SUMMARY`).
pub fn render_markdown(comparison: &Comparison) -> Result<String, HistoryError> {
    render::render("compare.md.j2", &view::CompareView::build(comparison))
}

/// The comparison as one self-contained HTML page: inline CSS, no scripts.
pub fn render_html(comparison: &Comparison) -> Result<String, HistoryError> {
    render::render("compare.html.j2", &view::CompareView::build(comparison))
}

/// Appends the run to the history and re-renders the index: what `claimbench run` calls after
/// writing a run's report. Returns the index written, with any history lines it skipped.
pub fn record_run(reports_dir: &std::path::Path, results: &RunResults) -> Result<IndexWritten, HistoryError> {
    append(reports_dir, results)?;
    render_index(reports_dir)
}
