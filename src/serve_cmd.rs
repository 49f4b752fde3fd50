//! `claimbench serve STACK`: one stack plus the upstream service and the database in the
//! foreground until Ctrl-C.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use claimbench_lab::{start_database, start_upstream};
use claimbench_supervisor::StackConfig;

use crate::interrupt;
use crate::lab::{self, STOPPING_APPS};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The stack to run, e.g. express or fastapi (see fixtures/stacks.toml).
    stack: String,
    /// Worker processes.
    #[arg(long, default_value_t = 1, value_parser = crate::args::workers())]
    workers: u32,
    /// Port to listen on (default: a free one).
    #[arg(long)]
    port: Option<u16>,
    /// CPUs to pin the app to, e.g. 1 or 0-1 (default: the last core).
    #[arg(long)]
    cpus: Option<String>,
    #[command(flatten)]
    database: crate::args::DatabaseArgs,
    #[command(flatten)]
    runtimes: crate::args::RuntimeArgs,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    args.runtimes.apply()?;
    let cancel = interrupt::install(STOPPING_APPS);
    let supervisor = lab::supervisor()?;
    supervisor.spec(&args.stack)?;
    let topology = lab::topology(args.cpus.as_deref())?;
    let upstream = start_upstream(&topology).context("starting the upstream service")?;
    let database = start_database(supervisor.root(), &topology, args.database.database_url.as_deref())?;
    let config = StackConfig {
        port: args.port,
        workers: args.workers,
        cpus: Some(topology.app.clone()),
        upstream_url: Some(upstream.url()),
        env: database.app_env(),
        ..StackConfig::new(&args.stack)
    };
    let stack = supervisor.start(&config)?;
    println!(
        "{} is ready at {} (cold start {:.0} ms)",
        stack.name(),
        stack.url(),
        stack.cold_start().as_secs_f64() * 1e3
    );
    println!(
        "  workers {}, pinned to CPUs {} (asked {})",
        stack.workers(),
        stack.pinning().actual,
        stack.pinning().requested.as_deref().unwrap_or("-")
    );
    println!("  upstream at {}", upstream.url());
    println!("  database {} at {}", database.info().version, database.url());
    println!("  try: curl {}/json", stack.url());
    println!("press Ctrl-C to stop");
    loop {
        if cancel.is_cancelled() {
            stack.stop();
            eprintln!("stopped");
            return Ok(ExitCode::SUCCESS);
        }
        if let Err(e) = stack.check_alive() {
            return Err(e.into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
