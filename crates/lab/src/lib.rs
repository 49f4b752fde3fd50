//! The real lab: what it takes to run a stack for a measurement.
//!
//! [`Topology`] decides which of the CPUs this process may use go to the apps, the load
//! generator and the upstream; [`RealLab`] is the suite's `Lab` made of supervisor, engine and
//! upstream; [`verify_stacks`] is the one loop that checks stacks against the contract before any
//! load; [`capture_environment`] records the machine; [`RunDir`] is the only code that knows the
//! run folder's file names. What to measure is the suite's business, and drawing progress or
//! results is the binary's: this crate prints nothing and reports through return values and
//! callbacks.

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod environment;
mod real_lab;
mod run_dir;
mod topology;
mod verify;

pub use claimbench_platform::cpuload::ProcessCpu;
pub use environment::{capture_environment, run_id, timestamp};
pub use real_lab::{busy_elsewhere, canary_on, upstream_late, RealLab, UPSTREAM_LATE_MAX};
pub use run_dir::{finished_runs, latest_calibration, read_calibration, RunDir, RunDirError, RunWriter};
pub use topology::{Topology, TopologyError};
pub use verify::{stack_contract, verify_stacks, StackCheck, Verified, VerifyError};

use std::net::SocketAddr;

use claimbench_upstream::{Upstream, UpstreamError};

/// Starts the upstream service on a free loopback port, pinned to the topology's upstream CPUs.
pub fn start_upstream(topology: &Topology) -> Result<Upstream, UpstreamError> {
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    Upstream::start(addr, Some(&topology.upstream))
}
