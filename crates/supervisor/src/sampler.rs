//! Resource sampling of a whole process tree from `/proc`: CPU time (user, sys) and RSS of every
//! process in the app's process group, five times a second, plus on-demand samples.
//!
//! The sampler thread also notices when the group leader exits, so a crashed app is detected
//! within one sampling period rather than at the next request.

use std::process::{Child, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use claimbench_model::stack::ResourceSample;

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
            .spawn(move || loop {
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
    let ticks = clock_ticks();
    let page = page_size();
    let mut sample = ResourceSample { t_s: since.elapsed().as_secs_f64(), ..ResourceSample::default() };
    let Ok(entries) = std::fs::read_dir("/proc") else { return sample };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let Some(fields) = parse_stat(&stat) else { continue };
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

/// The fields of `/proc/PID/stat` the sampler needs.
#[derive(Debug, PartialEq)]
pub struct StatFields {
    pub state: char,
    pub pgrp: i32,
    pub utime: u64,
    pub stime: u64,
    pub cutime: i64,
    pub cstime: i64,
    pub rss_pages: i64,
}

/// Parses `/proc/PID/stat`; the command name may contain spaces and parentheses, so fields are
/// counted from the last `)`.
pub fn parse_stat(stat: &str) -> Option<StatFields> {
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_ascii_whitespace().collect();
    // rest starts at field 3 (state); field N of proc(5) is f[N - 3].
    Some(StatFields {
        state: f.first()?.chars().next()?,
        pgrp: f.get(2)?.parse().ok()?,
        utime: f.get(11)?.parse().ok()?,
        stime: f.get(12)?.parse().ok()?,
        cutime: f.get(13)?.parse().ok()?,
        cstime: f.get(14)?.parse().ok()?,
        rss_pages: f.get(21)?.parse().ok()?,
    })
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 {
        size as u64
    } else {
        4096
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parsing_survives_spaces_and_parens_in_the_command_name() {
        let line = "4242 (node (worker) 1) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 30 7 3 20 0 11 0 100 123456789 5000 18446744073709551615";
        let fields = parse_stat(line).unwrap();
        assert_eq!(fields.state, 'S');
        assert_eq!(fields.pgrp, 4242);
        assert_eq!((fields.utime, fields.stime, fields.cutime, fields.cstime), (250, 30, 7, 3));
        assert_eq!(fields.rss_pages, 5000);
    }

    #[test]
    fn sampling_our_own_group_sees_this_process() {
        // SAFETY: getpgrp has no preconditions.
        let pgid = unsafe { libc::getpgrp() };
        let sample = sample_group(pgid, Instant::now());
        assert!(sample.processes >= 1);
        assert!(sample.rss_bytes > 0);
    }
}
