//! Resource sampling of a whole process tree from `/proc`: CPU time (user, sys) and RSS of every
//! process in the app's process group, five times a second, plus on-demand samples.
//!
//! The sampler thread also notices when the group leader exits, so a crashed app is detected
//! within one sampling period rather than at the next request.
//!
//! [`group_cpu`] is the fine-grained reading of the same tree's CPU time (nanoseconds from the
//! kernel's per-process CPU clocks), which the lab takes at the edges of a trial's measured window.

use std::process::{Child, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use claimbench_model::stack::ResourceSample;
use claimbench_platform::procfs;

/// Time between samples: 5 per second.
pub const PERIOD: Duration = Duration::from_millis(200);
/// Samples kept; at 5 per second this is over an hour, after which the oldest half is thinned.
const MAX_SAMPLES: usize = 20_000;

/// State shared by the sampler thread and the owner.
#[derive(Debug)]
pub struct Shared {
    pub samples: Mutex<Vec<ResourceSample>>,
    pub exit: Mutex<Option<ExitStatus>>,
    pub stop: AtomicBool,
}

/// The sampler thread; stops when dropped.
pub struct Sampler {
    pub shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Sampler {
    /// Samples process group `pgid` and watches `child` until stopped.
    pub fn start(pgid: i32, spawned_at: Instant, child: Arc<Mutex<Child>>) -> Sampler {
        let shared =
            Arc::new(Shared { samples: Mutex::new(Vec::new()), exit: Mutex::new(None), stop: AtomicBool::new(false) });
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("sampler-{pgid}"))
            .spawn(move || {
                // The sampler shares the load generator's CPU: in the idle class it reads /proc
                // only when the generator has nothing to send, instead of holding a send up by a
                // scheduler slice (1-2 ms of p99 send lag at 1,500 req/s, measured).
                let _ = claimbench_platform::run_this_thread_when_idle();
                loop {
                    if thread_shared.stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let status = child.lock().unwrap_or_else(|e| e.into_inner()).try_wait().ok().flatten();
                    if let Some(status) = status {
                        *thread_shared.exit.lock().unwrap_or_else(|e| e.into_inner()) = Some(status);
                    }
                    let sample = sample_group(pgid, spawned_at);
                    {
                        let mut samples = thread_shared.samples.lock().unwrap_or_else(|e| e.into_inner());
                        if samples.len() >= MAX_SAMPLES {
                            // Keep memory flat on very long runs: drop every other old sample.
                            let keep: Vec<_> = samples.iter().step_by(2).copied().collect();
                            *samples = keep;
                        }
                        samples.push(sample);
                    }
                    if status.is_some() {
                        return;
                    }
                    std::thread::sleep(PERIOD);
                }
            })
            .ok();
        Sampler { shared, thread }
    }

    /// The exit status, once the leader has exited.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        *self.shared.exit.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One sample of every process whose process group is `pgid`.
pub fn sample_group(pgid: i32, since: Instant) -> ResourceSample {
    let ticks = procfs::clock_ticks();
    let page = procfs::page_size();
    let mut sample = ResourceSample { t_s: since.elapsed().as_secs_f64(), ..ResourceSample::default() };
    for (pid, fields) in procfs::processes() {
        if fields.pgrp != pgid {
            continue;
        }
        sample.processes += 1;
        sample.user_s += fields.utime as f64 / ticks;
        sample.sys_s += fields.stime as f64 / ticks;
        if pid == pgid {
            // Reaped children (short-lived helpers, dead workers) are accounted in the leader.
            sample.user_s += fields.cutime as f64 / ticks;
            sample.sys_s += fields.cstime as f64 / ticks;
        }
        sample.rss_bytes += fields.rss_pages.max(0) as u64 * page;
    }
    sample
}

/// The proportional set size of every process whose process group is `pgid` together; `None`
/// when the kernel gives no PSS for one of them (then RSS is what there is).
pub fn group_pss(pgid: i32) -> Option<u64> {
    let mut total = 0;
    let mut any = false;
    for (pid, fields) in procfs::processes() {
        if fields.pgrp == pgid {
            total += procfs::process_pss(pid)?;
            any = true;
        }
    }
    any.then_some(total)
}

/// The app tree's CPU time, from the finest source the kernel gives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupCpu {
    /// CPU seconds so far: every thread (exited ones included) of the group's live processes,
    /// plus reaped children as the leader accounts them.
    pub cpu_s: f64,
    /// The reading's resolution in seconds: 1e-9 from the CPU clocks or schedstat, a clock tick (0.01) when the
    /// kernel has no schedstat and `/proc/PID/stat` was read instead.
    pub resolution_s: f64,
}

/// CPU time of every process whose process group is `pgid`, in nanoseconds from each process's
/// CPU clock (threads that exited included, so a thread pool that shrinks does not turn the
/// clock back), else from `/proc/PID/task/*/schedstat` (live threads only). Children that were
/// reaped count through the leader's `cutime + cstime`, in clock ticks: workers that die
/// mid-trial are rare and then flagged by the supervisor anyway.
pub fn group_cpu(pgid: i32) -> GroupCpu {
    let ticks = procfs::clock_ticks();
    let mut ns = 0u64;
    let mut ticks_used = 0.0;
    let mut fine = true;
    for (pid, fields) in procfs::processes() {
        if fields.pgrp != pgid {
            continue;
        }
        match procfs::process_cpu_ns(pid).or_else(|| procfs::process_run_ns(pid)) {
            Some(run) => ns += run,
            None => {
                fine = false;
                ticks_used += (fields.utime + fields.stime) as f64;
            }
        }
        if pid == pgid {
            ticks_used += (fields.cutime + fields.cstime).max(0) as f64;
        }
    }
    GroupCpu { cpu_s: ns as f64 / 1e9 + ticks_used / ticks, resolution_s: if fine { 1e-9 } else { 1.0 / ticks } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_our_own_group_sees_this_process() {
        let pgid = nix::unistd::getpgrp().as_raw();
        let sample = sample_group(pgid, Instant::now());
        assert!(sample.processes >= 1);
        assert!(sample.rss_bytes > 0);
    }

    #[test]
    fn the_group_clock_is_in_nanoseconds_and_advances_with_work() {
        // A busy child in a process group of its own: this test binary's group also holds other
        // tests' short-lived children, whose time leaves the group when they are reaped.
        use std::os::unix::process::CommandExt;
        let mut child =
            std::process::Command::new("sh").args(["-c", "while :; do :; done"]).process_group(0).spawn().expect("sh");
        let pgid = child.id() as i32;
        let first = group_cpu(pgid);
        let deadline = Instant::now() + Duration::from_secs(30);
        let (mut last, mut went_back) = (first, None);
        while last.cpu_s < first.cpu_s + 0.05 && Instant::now() < deadline {
            let now = group_cpu(pgid);
            if now.cpu_s < last.cpu_s {
                went_back.get_or_insert((last, now));
            }
            last = now;
        }
        child.kill().expect("kill");
        child.wait().expect("wait");
        assert_eq!(went_back, None, "the clock went back");
        assert_eq!(first.resolution_s, 1e-9);
        assert!(last.cpu_s >= first.cpu_s + 0.05, "50 ms of work in 30 s: {first:?} -> {last:?}");
        assert_eq!(group_cpu(pgid).cpu_s, 0.0, "a group with no processes has used nothing");
    }
}
