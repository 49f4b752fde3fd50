//! Glue shared by the commands that start apps: the supervisor, the upstream service, and which
//! cores the apps and the generator get.

use std::net::SocketAddr;

use anyhow::Context;
use claimbench_supervisor::{parse_cpu_list, Supervisor, Upstream};

/// Which CPUs the app and the generator side (load generator + upstream) get.
#[derive(Debug, Clone)]
pub struct CoreSplit {
    pub app: Vec<usize>,
    pub generator: Vec<usize>,
}

/// The default split: the last core for the app, the rest for the generator and upstream; on a
/// single core both share it.
pub fn core_split(app_cpus: Option<&str>) -> anyhow::Result<CoreSplit> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let app = match app_cpus {
        Some(list) => parse_cpu_list(list).map_err(anyhow::Error::msg).context("--cpus")?,
        None if cores >= 2 => vec![cores - 1],
        None => vec![0],
    };
    if let Some(bad) = app.iter().find(|&&c| c >= cores) {
        anyhow::bail!("--cpus names CPU {bad}, but this machine has CPUs 0-{}; pick CPUs in that range", cores - 1);
    }
    let mut generator: Vec<usize> = (0..cores).filter(|c| !app.contains(c)).collect();
    if generator.is_empty() {
        generator = app.clone();
    }
    Ok(CoreSplit { app, generator })
}

/// The supervisor for this checkout.
pub fn supervisor() -> anyhow::Result<Supervisor> {
    Ok(Supervisor::discover()?)
}

/// Starts the upstream service on a free loopback port, pinned to `cpus`.
pub fn start_upstream(cpus: &[usize]) -> anyhow::Result<Upstream> {
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("a literal socket address parses");
    Upstream::start(addr, Some(cpus)).context("starting the upstream service")
}
