//! `claimbench compare BASE NEW`: what changed between two runs, per claim and sub-verdict.
//!
//! Glue only: reads the two `results.json` (run folders are accepted), lets the suite compare
//! and the report crate render, prints the markdown, writes the optional files, and turns "any
//! regression" (a ratio that moved against its claim; never a verdict flip alone) into exit
//! code 1. Errors (unreadable input, a bad threshold) return `Err`, which
//! `main` turns into exit code 2.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use claimbench_model::format;
use claimbench_model::run::RunResults;
use claimbench_report::{render_compare_html, render_compare_markdown};
use claimbench_suite::{compare, CompareOptions};

#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The earlier run: a run folder (e.g. reports/<run-id>) or its results.json.
    base: PathBuf,
    /// The later run: a run folder or its results.json.
    new: PathBuf,
    /// Noise band as a fraction (0.05 = 5%): a change counts only when its whole interval (all
    /// rows together at 95%) lies beyond it.
    #[arg(long, default_value_t = 0.05, value_parser = crate::args::threshold)]
    threshold: f64,
    /// Also write the comparison as markdown to this file (e.g. for a CI job summary).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Also write the comparison as one self-contained HTML page to this file.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

pub fn run(args: CompareArgs) -> anyhow::Result<ExitCode> {
    let base = read_run(&args.base).context("reading BASE")?;
    let new = read_run(&args.new).context("reading NEW")?;
    let options = CompareOptions { threshold: args.threshold, ..CompareOptions::default() };
    let comparison = compare(&base, &new, &options);
    let markdown = render_compare_markdown(&comparison)?;
    print!("{markdown}");
    if let Some(path) = &args.markdown {
        std::fs::write(path, &markdown)
            .with_context(|| format!("writing the markdown comparison to {}", path.display()))?;
    }
    if let Some(path) = &args.html {
        let html = render_compare_html(&comparison)?;
        std::fs::write(path, html).with_context(|| format!("writing the HTML comparison to {}", path.display()))?;
    }
    let regressions = comparison.regressions().count();
    if regressions > 0 {
        eprintln!(
            "compare: {regressions} ratio(s) moved beyond {} against the claimed side: exit 1",
            format::band(args.threshold)
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads a run's results from a run folder or a `results.json`.
fn read_run(path: &Path) -> anyhow::Result<RunResults> {
    Ok(claimbench_lab::RunDir::open(path)?.read_results()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/results/scripted-standard.json");

    fn args(base: &Path, new: &Path) -> CompareArgs {
        CompareArgs { base: base.to_path_buf(), new: new.to_path_buf(), threshold: 0.05, markdown: None, html: None }
    }

    /// The fixture with io-throughput's ratios scaled by `factor`, written as `<dir>/results.json`.
    fn scaled_run(dir: &Path, factor: f64) -> PathBuf {
        let mut run: RunResults = serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
        run.run_id = "2026-03-15T10-22-05Z-quick".to_string();
        let claim = run.claims.iter_mut().find(|c| c.id == "io-throughput").unwrap();
        let verdicts = std::iter::once(&mut claim.verdict).chain(claim.sub_verdicts.iter_mut().map(|s| &mut s.verdict));
        for e in verdicts.filter_map(|v| v.estimate.as_mut()) {
            e.ratio_median *= factor;
            e.ci_low *= factor;
            e.ci_high *= factor;
            e.spread.iter_mut().for_each(|v| *v *= factor);
        }
        std::fs::write(dir.join("results.json"), serde_json::to_string(&run).unwrap()).unwrap();
        dir.to_path_buf()
    }

    #[test]
    fn a_run_folder_without_change_exits_0_and_writes_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let new = scaled_run(dir.path(), 1.0);
        let mut a = args(Path::new(FIXTURE), &new);
        a.markdown = Some(dir.path().join("summary.md"));
        a.html = Some(dir.path().join("compare.html"));
        assert_eq!(run(a).unwrap(), ExitCode::SUCCESS);
        assert!(std::fs::read_to_string(dir.path().join("summary.md")).unwrap().contains("no regression"));
        assert!(std::fs::read_to_string(dir.path().join("compare.html")).unwrap().starts_with("<!DOCTYPE html>"));
    }

    #[test]
    fn a_twenty_percent_regression_exits_1() {
        let dir = tempfile::tempdir().unwrap();
        let new = scaled_run(dir.path(), 0.8);
        assert_eq!(run(args(Path::new(FIXTURE), &new)).unwrap(), ExitCode::from(1));
    }

    #[test]
    fn a_missing_input_or_a_folder_without_results_is_an_error_that_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = run(args(Path::new(FIXTURE), dir.path())).unwrap_err();
        assert!(format!("{err:#}").contains("has no results.json"), "{err:#}");
        let err = run(args(&dir.path().join("nope"), Path::new(FIXTURE))).unwrap_err();
        assert!(format!("{err:#}").contains("does not exist"), "{err:#}");
    }
}
