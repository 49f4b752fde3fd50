//! The real lab: what it takes to run a stack for a measurement.
//!
//! [`Topology`] decides which of the CPUs this process may use go to the apps, the load
//! generator and the upstream; [`RealLab`] is the suite's `Lab` made of supervisor, engine and
//! upstream; [`start_database`] brings up the benchmark's PostgreSQL; [`verify_stacks`] is the one loop that checks stacks against the contract before any
//! load; [`capture_environment`] records the machine; [`RunDir`] is the only code that knows the
//! run folder's file names. What to measure is the suite's business, and drawing progress or
//! results is the binary's: this crate prints nothing and reports through return values and
//! callbacks.

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod environment;
mod expected;
mod real_lab;
mod run_dir;
mod topology;
mod verify;

pub use claimbench_platform::cpuload::ProcessCpu;
pub use environment::{capture_environment, run_id, timestamp};
pub use expected::{expected, Expected};
pub use real_lab::{
    busy_elsewhere, canary_limit, canary_on, cpus_given_away, upstream_late, RealLab, CANARY_IDLE_DRIFT,
    UPSTREAM_LATE_MAX,
};
pub use run_dir::{finished_runs, latest_calibration, read_calibration, RunDir, RunDirError, RunWriter};
pub use topology::{Topology, TopologyError};
pub use verify::{not_implemented_experiments, stack_contract, verify_stacks, StackCheck, Verified, VerifyError};

use std::net::SocketAddr;

use claimbench_supervisor::{Database, DatabaseConfig, SupervisorError};
use claimbench_upstream::{Upstream, UpstreamError};

/// Starts the upstream service on a free loopback port, pinned to the topology's upstream CPUs.
pub fn start_upstream(topology: &Topology) -> Result<Upstream, UpstreamError> {
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    Upstream::start(addr, Some(&topology.upstream))
}

/// Starts the benchmark database (or connects to `url`, an existing server) and seeds it; a
/// self-started one is pinned to the topology's database CPUs.
pub fn start_database(
    root: &std::path::Path,
    topology: &Topology,
    url: Option<&str>,
) -> Result<Database, SupervisorError> {
    let config = DatabaseConfig {
        url: url.map(str::to_string),
        cpus: Some(topology.database.clone()),
        cpu_note: topology.database_note(),
        pg_bin: None,
    };
    Database::start(root, &config)
}
