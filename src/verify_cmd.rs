//! `claimbench verify`: starts the database and each stack and checks the stack against the
//! contract; exit 1 on any difference.

use std::process::ExitCode;

use anyhow::Context;
use claimbench_conformance::{render_table, CheckResult};
use claimbench_lab::{start_database, start_upstream, verify_stacks};

use crate::interrupt;
use crate::lab::{self, STOPPING_APPS};

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Stacks to check, comma-separated; `all` (the default) is every stack in the registry.
    #[arg(long, value_delimiter = ',')]
    stacks: Vec<String>,
    /// Worker counts to check each stack with, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1", value_parser = crate::args::workers())]
    workers: Vec<u32>,
    #[command(flatten)]
    database: crate::args::DatabaseArgs,
    #[command(flatten)]
    runtimes: crate::args::RuntimeArgs,
}

pub fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    args.runtimes.apply()?;
    interrupt::install(STOPPING_APPS);
    let supervisor = lab::supervisor()?;
    let stacks: Vec<String> = if args.stacks.is_empty() || args.stacks == ["all"] {
        supervisor.registry().names().into_iter().map(String::from).collect()
    } else {
        args.stacks.clone()
    };
    for name in &stacks {
        supervisor.spec(name)?;
    }
    let topology = lab::topology(None)?;
    let upstream = start_upstream(&topology).context("starting the upstream service")?;
    // A broken contract is bad input: say so before a database is started for nothing.
    claimbench_conformance::load_contract(&supervisor.root().join("fixtures/contract/contract.json"))?;
    let database = start_database(supervisor.root(), &topology, args.database.database_url.as_deref())?;
    let verified = verify_stacks(
        &supervisor,
        &upstream,
        &database,
        &topology,
        &stacks,
        &args.workers,
        &mut |name, workers, url| {
            eprintln!("checking {name}/w{workers} at {url} ...");
        },
    )?;
    let results: Vec<CheckResult> = verified
        .checks
        .into_iter()
        .flat_map(|c| {
            let label = format!("{}/w{}", c.stack, c.workers);
            c.results.into_iter().map(move |r| CheckResult { stack: label.clone(), ..r })
        })
        .collect();
    print!("{}", render_table(&results));
    let all_passed = results.iter().all(|r| r.passed());
    Ok(if all_passed { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
