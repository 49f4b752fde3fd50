//! `claimbench report DIR`: renders a run folder without running anything: its `results.json`
//! when the run finished, or its header and measurement lines when it was interrupted, with the
//! machine's newest calibration beside it (`claimbench calibrate`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use claimbench_suite::{assemble, catalogue, load_claims, Profile};

use claimbench_lab::RunDir;

use crate::lab;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A run folder, e.g. reports/latest.
    dir: PathBuf,
}

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let dir = RunDir::open(&args.dir)?;
    let results = if dir.is_finished() {
        dir.read_results()?
    } else {
        let (mut header, measurements) = dir.read_partial()?;
        header.complete = false;
        let profile = Profile::named(&header.profile).unwrap_or(Profile::named("quick")?);
        let root = lab::supervisor()?.root().to_path_buf();
        let claims = load_claims(&root.join("fixtures/claims.toml"))?;
        eprintln!(
            "{} has no results.json (interrupted run): rendering its {} measurement(s)",
            args.dir.display(),
            measurements.len()
        );
        assemble(header, measurements, &catalogue(&profile), &claims)
    };
    // A calibration's own folder holds its calibration; any other run shows the machine's newest.
    let calibration = dir
        .calibration_paths()
        .iter()
        .find_map(|path| crate::calibrate_cmd::newest_of_machine(path, &results.environment));
    let written = claimbench_report::write_report_with(&results, calibration.as_ref(), &args.dir)
        .with_context(|| format!("rendering {}", args.dir.display()))?;
    println!("report: {}", written.html.display());
    Ok(ExitCode::SUCCESS)
}
