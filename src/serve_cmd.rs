//! `claimbench serve STACK`: one stack plus the upstream service in the foreground until Ctrl-C.

use std::process::ExitCode;
use std::time::Duration;

use claimbench_supervisor::{shutdown, StackConfig};

use crate::lab;

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
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    shutdown::install_handlers();
    let supervisor = lab::supervisor()?;
    supervisor.spec(&args.stack)?;
    let split = lab::core_split(args.cpus.as_deref())?;
    let upstream = lab::start_upstream(&split.generator)?;
    let config = StackConfig {
        port: args.port,
        workers: args.workers,
        cpus: Some(split.app.clone()),
        upstream_url: Some(upstream.url()),
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
    println!("  try: curl {}/json", stack.url());
    println!("press Ctrl-C to stop");
    loop {
        if shutdown::interrupted() {
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
