//! `claimbench report DIR`: renders a run folder without running anything: its `results.json`
//! when the run finished, or its header and measurement lines when it was interrupted.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use claimbench_suite::{assemble, catalogue, load_claims, Profile};

use crate::lab;
use crate::results_dir::{read_partial, RESULTS};

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A run folder, e.g. reports/latest.
    dir: PathBuf,
}

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let results_path = args.dir.join(RESULTS);
    let results = if results_path.is_file() {
        claimbench_report::read_results(&results_path)?
    } else {
        let (mut header, measurements) = read_partial(&args.dir)?;
        header.complete = false;
        let profile = Profile::named(&header.profile).unwrap_or(Profile::named("quick")?);
        let root = lab::supervisor()?.root().to_path_buf();
        let claims = load_claims(&root.join("fixtures/claims.toml"))?;
        eprintln!(
            "{} has no {RESULTS} (interrupted run): rendering its {} measurement(s)",
            args.dir.display(),
            measurements.len()
        );
        assemble(header, measurements, &catalogue(&profile), &claims)
    };
    let written = claimbench_report::write_report(&results, &args.dir)
        .with_context(|| format!("rendering {}", args.dir.display()))?;
    println!("report: {}", written.html.display());
    Ok(ExitCode::SUCCESS)
}
