//! Installs, starts, pins, samples and stops the bundled app stacks.
//!
//! A [`Supervisor`] knows the repository layout and the stack registry; [`Supervisor::start`]
//! turns a [`StackConfig`] into a [`RunningStack`] that is ready (its `/health` answered 200), pinned
//! where asked, sampled from `/proc`, and killed as a whole process group when dropped. What the
//! apps answer is the conformance crate's business, and load is the engine's. It prints nothing:
//! installs are reported to an observer, failures come back as [`SupervisorError`]. The
//! benchmark's PostgreSQL ([`Database`]) is started and stopped here too, with the same guarantee.

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod database;
mod error;
mod install;
mod process;
mod readiness;
mod registry;
pub mod runtimes;
mod sampler;
pub mod shutdown;
mod stderr;
mod versions;

pub mod doctor;

pub use database::{Database, DatabaseConfig};
pub use error::SupervisorError;
pub use install::{InstallEvent, InstallObserver, Installer};
pub use process::{parse_cpu_list, RunningStack};
pub use readiness::{MAX_READY_TIMEOUT_S, READY_TIMEOUT_ENV};
pub use registry::{base_stack, find_root, Supervisor};
pub use sampler::{group_cpu, group_pss, GroupCpu};
pub use versions::{runtime_version, Toolchain, NODE_B_ENV, PYTHON_B_ENV};

use std::time::Duration;

/// Everything needed to start one stack.
#[derive(Debug, Clone)]
pub struct StackConfig {
    /// Registry name, e.g. `express`.
    pub stack: String,
    /// Port to listen on; `None` picks a free one.
    pub port: Option<u16>,
    /// Worker processes (node:cluster workers, uvicorn `--workers`).
    pub workers: u32,
    /// CPUs the app's whole process tree is pinned to; `None` leaves it unpinned.
    pub cpus: Option<Vec<usize>>,
    /// The upstream base URL handed over as `UPSTREAM_URL`.
    pub upstream_url: Option<String>,
    /// Extra environment variables, applied last.
    pub env: Vec<(String, String)>,
    /// How long `/health` may take to answer 200 after spawn (`CLAIMBENCH_READY_TIMEOUT` overrides it).
    pub ready_timeout: Duration,
    /// Run the stack's `minimal_entry` (the framework and `/health` alone) instead of its entry.
    pub minimal: bool,
}

impl StackConfig {
    /// A config with one worker, a free port, no pinning and a 30 s readiness timeout.
    pub fn new(stack: impl Into<String>) -> StackConfig {
        StackConfig {
            stack: stack.into(),
            port: None,
            workers: 1,
            cpus: None,
            upstream_url: None,
            env: Vec::new(),
            ready_timeout: Duration::from_secs(30),
            minimal: false,
        }
    }
}
