//! CPU affinity: the CPUs the calling thread may use, and pinning it (or a child between fork and
//! exec) to a set of them. Which CPUs each part of the lab gets is the lab's topology, not here.

use nix::sched::{sched_getaffinity, sched_setaffinity, CpuSet};
use nix::unistd::Pid;

use crate::PlatformError;

/// A CPU set built ahead of time, so that applying it allocates nothing (safe in `pre_exec`).
#[derive(Clone, Copy)]
pub struct CpuMask(CpuSet);

impl CpuMask {
    /// The set of `cpus`; fails on an empty list or a CPU beyond what a set can hold.
    pub fn new(cpus: &[usize]) -> Result<CpuMask, PlatformError> {
        if cpus.is_empty() {
            return Err(PlatformError::NoCpus);
        }
        let mut set = CpuSet::new();
        for &cpu in cpus {
            set.set(cpu).map_err(|_| PlatformError::CpuOutOfRange { cpu, max: CpuSet::count() })?;
        }
        Ok(CpuMask(set))
    }

    /// Moves the calling thread onto this set. Async-signal-safe: one system call, no allocation.
    pub fn apply(&self) -> nix::Result<()> {
        sched_setaffinity(Pid::from_raw(0), &self.0)
    }

    fn cpus(&self) -> Vec<usize> {
        (0..CpuSet::count()).filter(|&c| self.0.is_set(c).unwrap_or(false)).collect()
    }
}

impl std::fmt::Debug for CpuMask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CpuMask({})", cpu_list(&self.cpus()))
    }
}

/// The CPUs the calling thread may run on, ascending.
pub fn allowed_cpus() -> Result<Vec<usize>, PlatformError> {
    let set = sched_getaffinity(Pid::from_raw(0)).map_err(PlatformError::Affinity)?;
    Ok(CpuMask(set).cpus())
}

/// Moves the calling thread to the idle scheduling class (`SCHED_IDLE`): it runs only when its CPU
/// has nothing else to run, so a monitor that shares the load generator's CPU never holds a send
/// up. Measured on the 2-CPU machine (2026-12-07, open loop at 1,500 req/s): a `/proc` scan five
/// times a second on the generator's CPU took its p99 send lag from 0.08-0.58 ms to 1.24-2.08 ms;
/// the same scan in the idle class left it at 0.11-0.25 ms in three rounds of four. Needs no
/// privilege: a thread may always lower its own class.
pub fn run_this_thread_when_idle() -> Result<(), PlatformError> {
    set_own_policy(nix::libc::SCHED_IDLE, 0)
}

/// Moves the calling thread to the real-time FIFO class at its lowest priority: it runs as soon
/// as it wakes, ahead of every ordinary thread on its CPU, so a timer that fires is answered then
/// and not after the CPU's other threads have had their turn. Needs `CAP_SYS_NICE` (root); without
/// it the call fails with `EPERM` and the thread stays as it was. The kernel's real-time
/// throttling (`sched_rt_runtime_us`, 95% by default) keeps the CPU's other threads alive even if
/// such a thread never slept.
pub fn run_this_thread_first() -> Result<(), PlatformError> {
    set_own_policy(nix::libc::SCHED_FIFO, 1)
}

fn set_own_policy(policy: nix::libc::c_int, priority: nix::libc::c_int) -> Result<(), PlatformError> {
    let param = nix::libc::sched_param { sched_priority: priority };
    // SAFETY: `sched_setscheduler` reads `param` during the call only; PID 0 is the calling thread.
    let rc = unsafe { nix::libc::sched_setscheduler(0, policy, &param) };
    if rc == 0 {
        Ok(())
    } else {
        Err(PlatformError::Scheduler(nix::Error::last()))
    }
}

/// Pins the calling thread to `cpus`.
pub fn pin_current_thread(cpus: &[usize]) -> Result<(), PlatformError> {
    CpuMask::new(cpus)?.apply().map_err(|source| PlatformError::Pin { cpus: cpu_list(cpus), source })
}

/// Restores the thread's previous CPU set when dropped.
#[must_use = "the thread returns to its old CPUs when the guard is dropped"]
pub struct PinGuard {
    original: CpuMask,
}

impl PinGuard {
    /// Pins the calling thread to `cpus` until the guard is dropped.
    pub fn pin(cpus: &[usize]) -> Result<PinGuard, PlatformError> {
        let original = CpuMask(sched_getaffinity(Pid::from_raw(0)).map_err(PlatformError::Affinity)?);
        pin_current_thread(cpus)?;
        Ok(PinGuard { original })
    }
}

impl Drop for PinGuard {
    fn drop(&mut self) {
        // The original set was ours a moment ago; the kernel refuses it only if the cgroup shrank,
        // and then there is nothing better to go back to.
        let _ = self.original.apply();
    }
}

/// True if this thread may pin itself to one of its CPUs (containers sometimes forbid it).
pub fn pinning_works() -> bool {
    let Ok(allowed) = allowed_cpus() else { return false };
    let Some(&first) = allowed.first() else { return false };
    PinGuard::pin(&[first]).is_ok()
}

/// A CPU list in the kernel's compact form, e.g. `0-3,6`.
pub fn cpu_list(cpus: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let start = cpus[i];
        while i + 1 < cpus.len() && cpus[i + 1] == cpus[i] + 1 {
            i += 1;
        }
        parts.push(if cpus[i] == start { start.to_string() } else { format!("{start}-{}", cpus[i]) });
        i += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The policy field of /proc/thread-self/stat (field 41): 0 normal, 1 FIFO, 5 idle.
    fn policy() -> u32 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("this thread's stat");
        let after_name = &stat[stat.rfind(')').expect("a name in parentheses") + 2..];
        after_name.split_ascii_whitespace().nth(38).expect("field 41").parse::<u32>().expect("a number")
    }

    #[test]
    fn a_thread_moved_to_the_idle_class_is_in_it_and_its_siblings_are_not() {
        let idle = std::thread::spawn(move || {
            run_this_thread_when_idle().expect("lowering one's own class needs no privilege");
            policy()
        })
        .join()
        .expect("the idle thread");
        assert_eq!(idle, nix::libc::SCHED_IDLE as u32);
        assert_eq!(policy(), nix::libc::SCHED_OTHER as u32, "only the calling thread moves");
    }

    #[test]
    fn a_thread_put_first_is_in_the_fifo_class_or_told_why_not_and_left_as_it_was() {
        let (moved, after) = std::thread::spawn(|| (run_this_thread_first(), policy())).join().expect("the thread");
        match moved {
            Ok(()) => assert_eq!(after, nix::libc::SCHED_FIFO as u32),
            Err(PlatformError::Scheduler(errno)) => {
                assert_eq!(errno, nix::Error::EPERM, "only a missing privilege may refuse it");
                assert_eq!(after, nix::libc::SCHED_OTHER as u32, "a refused move leaves the thread as it was");
            }
            Err(other) => panic!("unexpected error: {other}"),
        }
        assert_eq!(policy(), nix::libc::SCHED_OTHER as u32, "only the calling thread moves");
    }

    #[test]
    fn cpu_lists_are_compact() {
        assert_eq!(cpu_list(&[0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
        assert_eq!(cpu_list(&[]), "");
    }

    #[test]
    fn masks_refuse_empty_lists_and_cpus_beyond_the_set() {
        assert!(matches!(CpuMask::new(&[]), Err(PlatformError::NoCpus)));
        let err = CpuMask::new(&[1 << 20]).unwrap_err();
        assert!(err.to_string().contains("beyond"), "{err}");
        assert_eq!(format!("{:?}", CpuMask::new(&[0, 1, 3]).unwrap()), "CpuMask(0-1,3)");
    }

    #[test]
    fn a_guard_pins_the_thread_and_puts_it_back() {
        let before = allowed_cpus().unwrap();
        assert!(!before.is_empty());
        {
            let _guard = PinGuard::pin(&before[..1]).unwrap();
            assert_eq!(allowed_cpus().unwrap(), before[..1]);
        }
        assert_eq!(allowed_cpus().unwrap(), before);
    }
}
