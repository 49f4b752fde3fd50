//! The `claimbench` command line: argument parsing and glue only; the work lives in `crates/`.
//!
//! Exit codes: 0 success, 1 a check failed (conformance, regression), 2 an error.

mod args;
mod calibrate_cmd;
mod compare_cmd;
mod doctor_cmd;
mod history_cmd;
mod interrupt;
mod lab;
mod load_cmd;
mod report_cmd;
mod run_cmd;
mod serve_cmd;
mod verify_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Evidence, not opinions, about backend runtimes: tests an article's Node.js vs Python claims.
#[derive(Debug, Parser)]
#[command(name = "claimbench", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Test the article's claims: run the experiments and write the report (the main job).
    Run(Box<run_cmd::RunArgs>),
    /// A/A calibration: one stack on both sides; counts the verdicts that came out anyway.
    Calibrate(Box<calibrate_cmd::CalibrateArgs>),
    /// Render the report of a run folder (also an interrupted one) without running anything.
    Report(report_cmd::ReportArgs),
    /// Compare two runs per claim; exits 1 on a regression beyond the threshold.
    Compare(Box<compare_cmd::CompareArgs>),
    /// Bring reports/history.jsonl up to date with the run folders and re-render reports/index.html.
    History(history_cmd::HistoryArgs),
    /// Apply open- or closed-loop load to any HTTP server on loopback and report latency.
    Load(Box<load_cmd::LoadArgs>),
    /// Run one stack plus the upstream service in the foreground until Ctrl-C.
    Serve(Box<serve_cmd::ServeArgs>),
    /// Check every stack against the endpoint contract; exits 1 if anything differs.
    Verify(Box<verify_cmd::VerifyArgs>),
    /// Show runtimes, packages, CPU and pinning, and what is missing.
    Doctor,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run_cmd::run(*args),
        Command::Calibrate(args) => calibrate_cmd::run(*args),
        Command::Report(args) => report_cmd::run(args),
        Command::Compare(args) => compare_cmd::run(*args),
        Command::History(args) => history_cmd::run(args),
        Command::Load(args) => load_cmd::run(*args),
        Command::Serve(args) => serve_cmd::run(*args),
        Command::Verify(args) => verify_cmd::run(*args),
        Command::Doctor => doctor_cmd::run(),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
