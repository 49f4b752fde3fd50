//! The generator watching itself: its threads' CPU time, their cores, and whether it kept up.
//!
//! The load generator shares a small machine with the server under test, so a result is only
//! trustworthy if the generator had headroom. This module reads per-thread CPU time and CPU
//! affinity (through `claimbench-platform`), pins threads, and decides saturation in one pure function
//! (`judge`): CPU at 90% or more of the cores it had, or open-loop p99 send lag above 1 ms.

use std::io;
use std::time::Duration;

pub use claimbench_model::load::{CPU_SATURATION, SEND_LAG_SATURATION_US};

/// Something the user should know about a result, worded for them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Warning {
    #[error(
        "the load generator used {:.0}% of its {cores} core(s): results are flagged as generator-bound; \
         give it more threads or a lighter load", fraction * 100.0
    )]
    CpuBound { fraction: f64, cores: u32 },
    #[error(
        "the load generator sent requests late (p99 send lag {:.2} ms > 1 ms): results are flagged \
         as generator-bound; lower the rate or give it more threads", p99_us / 1000.0
    )]
    SendLag { p99_us: f64 },
}

/// The saturation warnings for a run, none when the generator kept up.
pub fn judge(cpu_fraction: f64, cores: u32, send_lag_p99_us: Option<f64>) -> Vec<Warning> {
    let mut warnings = Vec::new();
    if cpu_fraction >= CPU_SATURATION {
        warnings.push(Warning::CpuBound { fraction: cpu_fraction, cores });
    }
    if let Some(p99_us) = send_lag_p99_us.filter(|l| *l > SEND_LAG_SATURATION_US) {
        warnings.push(Warning::SendLag { p99_us });
    }
    warnings
}

/// CPU time (user + system) the calling thread has used so far.
pub(crate) fn thread_cpu_time() -> Duration {
    claimbench_platform::procfs::thread_cpu_time()
}

/// The CPUs the calling thread may run on (none when the kernel will not say).
pub(crate) fn allowed_cpus() -> Vec<usize> {
    claimbench_platform::allowed_cpus().unwrap_or_default()
}

/// Pins the calling thread to one CPU.
pub(crate) fn pin_current_thread(core: usize) -> io::Result<()> {
    let mask = claimbench_platform::CpuMask::new(&[core])
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    mask.apply().map_err(io::Error::from)
}

pub(crate) use claimbench_platform::cpu_list;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_generator_is_flagged_with_its_share_of_cpu() {
        let w = judge(0.95, 1, None);
        assert_eq!(w.len(), 1);
        assert!(w[0].to_string().contains("used 95% of its 1 core"), "{}", w[0]);
        assert!(judge(0.89, 1, Some(999.0)).is_empty());
    }

    #[test]
    fn late_sends_in_open_loop_are_flagged() {
        let w = judge(0.2, 2, Some(1_500.0));
        assert_eq!(w, vec![Warning::SendLag { p99_us: 1_500.0 }]);
        assert!(w[0].to_string().contains("1.50 ms"));
    }
}
