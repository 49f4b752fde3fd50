//! `claimbench verify`: starts each stack and checks it against the contract; exit 1 on any
//! difference.

use std::process::ExitCode;

use anyhow::Context;
use claimbench_conformance::{check_stack, load_contract, render_table, CheckResult};
use claimbench_supervisor::StackConfig;

use crate::lab;

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Stacks to check, comma-separated (default: every stack in the registry).
    #[arg(long, value_delimiter = ',')]
    stacks: Vec<String>,
    /// Worker counts to check each stack with, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1", value_parser = crate::args::workers())]
    workers: Vec<u32>,
}

pub fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let supervisor = lab::supervisor()?;
    let stacks: Vec<String> = if args.stacks.is_empty() {
        supervisor.registry().names().into_iter().map(String::from).collect()
    } else {
        args.stacks.clone()
    };
    for name in &stacks {
        supervisor.spec(name)?;
    }
    let contract_path = supervisor.root().join("fixtures/contract/contract.json");
    let contract = load_contract(&contract_path)?;
    let split = lab::core_split(None)?;
    let upstream = lab::start_upstream(&split.generator)?;
    let mut results = Vec::new();
    for name in &stacks {
        for &workers in &args.workers {
            let config = StackConfig {
                workers,
                cpus: Some(split.app.clone()),
                upstream_url: Some(upstream.url()),
                ..StackConfig::new(name)
            };
            let stack =
                supervisor.start(&config).with_context(|| format!("starting {name} with {workers} worker(s)"))?;
            let label = format!("{name}/w{workers}");
            eprintln!("checking {label} at {} ...", stack.url());
            let checked = check_stack(&contract, supervisor.root(), name, stack.url(), Some(&upstream.url()))?;
            results.extend(checked.into_iter().map(|r| CheckResult { stack: label.clone(), ..r }));
            stack.check_alive()?;
            stack.stop();
        }
    }
    print!("{}", render_table(&results));
    let all_passed = results.iter().all(|r| r.passed());
    Ok(if all_passed { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
