//! The Linux calls claimbench needs, behind safe functions: which CPUs a thread may use and
//! pinning it there ([`affinity`]), the open-file limit ([`limits`]), and what `/proc` and
//! `/etc/os-release` say about processes and the machine ([`procfs`]), what two readings of
//! the CPUs say about a trial: saturated generator side, contended app cores ([`cpuload`]), and
//! a high-resolution one-shot timer for pacing ([`timer`]).
//!
//! The system calls come from `nix`; this crate only decides their shape for claimbench and
//! turns failures into errors that say what was asked. It knows nothing of stacks, plans or
//! results: the supervisor, the engine, the upstream and the lab call it.

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod affinity;
pub mod cpuload;
pub mod limits;
pub mod procfs;
pub mod timer;

pub use affinity::{
    allowed_cpus, cpu_list, pin_current_thread, pinning_works, run_this_thread_first, run_this_thread_when_idle,
    CpuMask, PinGuard,
};
pub use limits::raise_open_file_limit;
pub use timer::HighResTimer;

/// What went wrong in a platform call.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("CPU {cpu} is beyond the {max} CPUs a CPU set can hold: pick a CPU number below {max}")]
    CpuOutOfRange { cpu: usize, max: usize },

    #[error("an empty CPU list cannot be pinned to: give at least one CPU")]
    NoCpus,

    #[error("pinning to CPUs {cpus} was refused ({source}): the container or cgroup may forbid them; pick CPUs from `taskset -p $$`")]
    Pin { cpus: String, source: nix::Error },

    #[error("reading this thread's allowed CPUs failed: {0}")]
    Affinity(nix::Error),

    #[error("the open-file limit could not be read or raised: {0}")]
    Rlimit(nix::Error),

    #[error("moving this thread to another scheduling class failed: {0}")]
    Scheduler(nix::Error),

    #[error("creating a high-resolution timer (timerfd) failed ({0}): claimbench needs Linux 2.6.25 or later, with file descriptors to spare")]
    Timer(nix::Error),
}
