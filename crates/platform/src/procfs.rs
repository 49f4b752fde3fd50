//! What the kernel says about processes and the machine: `/proc/PID/stat`, `status` and
//! `task/*/schedstat`, the per-CPU lines of `/proc/stat`, `/proc/sys/kernel/osrelease`,
//! `/proc/cpuinfo`, `/etc/os-release`, and the calling thread's CPU clock. Parsing is plain, safe
//! and done by pure functions on the file's text (tested on recorded samples in
//! `fixtures/proc/`); a missing or odd file reads as `None` or is skipped, never a panic. What the
//! numbers mean for a trial (saturated? contended?) is [`crate::cpuload`]'s business.

use std::time::Duration;

use nix::time::{clock_gettime, ClockId};
use nix::unistd::{sysconf, SysconfVar};

/// The fields of `/proc/PID/stat` claimbench needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatFields {
    pub state: char,
    pub ppid: i32,
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
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split_ascii_whitespace().collect();
    // rest starts at field 3 (state); field N of proc(5) is f[N - 3].
    Some(StatFields {
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        pgrp: f.get(2)?.parse().ok()?,
        utime: f.get(11)?.parse().ok()?,
        stime: f.get(12)?.parse().ok()?,
        cutime: f.get(13)?.parse().ok()?,
        cstime: f.get(14)?.parse().ok()?,
        rss_pages: f.get(21)?.parse().ok()?,
    })
}

/// Every process now listed in `/proc`, with its parsed `stat` (processes that vanish are skipped).
pub fn processes() -> impl Iterator<Item = (i32, StatFields)> {
    std::fs::read_dir("/proc").into_iter().flatten().flatten().filter_map(|entry| {
        let pid = entry.file_name().to_str()?.parse::<i32>().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        Some((pid, parse_stat(&stat)?))
    })
}

/// The `Pss:` line of `/proc/PID/smaps_rollup` in bytes: the process's resident memory with
/// each page shared with other processes counted in proportion, so the PSS of a process group
/// adds up to what it really holds.
pub fn parse_pss(smaps_rollup: &str) -> Option<u64> {
    let line = smaps_rollup.lines().find(|l| l.starts_with("Pss:"))?;
    let kib: u64 = line.split_ascii_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The proportional set size of `pid`, from `/proc/PID/smaps_rollup` (Linux 4.14 and later);
/// `None` where the kernel has no such file or the process is gone.
pub fn process_pss(pid: i32) -> Option<u64> {
    parse_pss(&std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?)
}

/// The command name of `/proc/PID/stat` (between the first `(` and the last `)`).
pub fn parse_comm(stat: &str) -> Option<&str> {
    stat.get(stat.find('(')? + 1..stat.rfind(')')?)
}

/// One CPU's line of `/proc/stat` (`cpuN user nice system idle iowait irq softirq steal …`), in
/// clock ticks ([`clock_ticks`] per second, 10 ms on almost every kernel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuTimes {
    pub cpu: usize,
    /// Includes guest time, as the kernel counts it.
    pub user: u64,
    pub nice: u64,
    pub system: u64,
    pub idle: u64,
    pub iowait: u64,
    pub irq: u64,
    pub softirq: u64,
    /// Time a hypervisor gave this virtual CPU to someone else.
    pub steal: u64,
}

impl CpuTimes {
    /// Ticks the CPU ran something, here or (steal) for another guest.
    pub fn busy(&self) -> u64 {
        self.user + self.nice + self.system + self.irq + self.softirq + self.steal
    }

    /// Every tick of the CPU: busy, idle and waiting for I/O.
    pub fn total(&self) -> u64 {
        self.busy() + self.idle + self.iowait
    }
}

/// The per-CPU lines of `/proc/stat` (the `cpu ` total line is skipped); fields a kernel does not
/// print (old kernels stop before `steal`) read as 0.
pub fn cpu_times(text: &str) -> Vec<CpuTimes> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_ascii_whitespace();
            let cpu = fields.next()?.strip_prefix("cpu")?.parse().ok()?;
            let mut n = [0u64; 8];
            for (slot, value) in n.iter_mut().zip(fields) {
                *slot = value.parse().ok()?;
            }
            let [user, nice, system, idle, iowait, irq, softirq, steal] = n;
            Some(CpuTimes { cpu, user, nice, system, idle, iowait, irq, softirq, steal })
        })
        .collect()
}

/// `/proc/stat` now, one entry per online CPU; empty when it cannot be read.
pub fn read_cpu_times() -> Vec<CpuTimes> {
    std::fs::read_to_string("/proc/stat").map(|t| cpu_times(&t)).unwrap_or_default()
}

/// `/proc/PID/task/TID/schedstat`: time on a CPU and waiting for one, in nanoseconds, and how
/// many times the thread was scheduled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Schedstat {
    pub run_ns: u64,
    pub wait_ns: u64,
    pub timeslices: u64,
}

/// Parses one `schedstat` file (`run_ns wait_ns timeslices`).
pub fn schedstat(text: &str) -> Option<Schedstat> {
    let mut f = text.split_ascii_whitespace().map(str::parse::<u64>);
    Some(Schedstat { run_ns: f.next()?.ok()?, wait_ns: f.next()?.ok()?, timeslices: f.next()?.ok()? })
}

/// The largest PID Linux can give (`PID_MAX_LIMIT` on 64-bit kernels).
const PID_MAX_LIMIT: i32 = 1 << 22;

/// CPU nanoseconds process `pid` has used so far, from the kernel's process CPU clock
/// (`clock_getcpuclockid`): every thread, including those that already exited, so the reading never
/// goes back when a worker thread ends. `None` when the process is gone.
pub fn process_cpu_ns(pid: i32) -> Option<u64> {
    // The clock id packs the PID into its upper bits: outside Linux's PID range (1..=2^22) it
    // would wrap around to another process, PID 0 being this one.
    if !(1..=PID_MAX_LIMIT).contains(&pid) {
        return None;
    }
    let clock = nix::time::clock_getcpuclockid(nix::unistd::Pid::from_raw(pid)).ok()?;
    let t = clock.now().ok()?;
    Some(t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
}

/// CPU nanoseconds every live thread of process `pid` has run, summed over
/// `/proc/PID/task/*/schedstat` (`/proc/PID/schedstat` alone is the main thread's). Threads that
/// already exited are not in it; `None` when the process is gone or the kernel has no schedstat.
pub fn process_run_ns(pid: i32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = None;
    for task in tasks.flatten() {
        let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) else { continue };
        if let Some(s) = schedstat(&text) {
            *total.get_or_insert(0) += s.run_ns;
        }
    }
    total
}

/// One thread's CPU time so far and where it last ran, from `/proc/PID/task/TID/stat` and
/// `schedstat`: what [`crate::cpuload::ThreadWindow`] adds up per CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadRun {
    pub tid: i32,
    /// The process (thread group) it belongs to.
    pub pid: i32,
    /// The process group, which is how an app's processes are told apart from everyone else's.
    pub pgrp: i32,
    /// The CPU it ran on last (`processor`, field 39): a pinned thread never leaves its CPUs.
    pub cpu: usize,
    /// Nanoseconds on a CPU, as the scheduler counts them (not the 10 ms ticks of `/proc/stat`).
    pub run_ns: u64,
}

/// The process group and last CPU of a thread's `stat` (fields 5 and 39).
pub fn parse_thread_stat(stat: &str) -> Option<(i32, usize)> {
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split_ascii_whitespace().collect();
    Some((f.get(2)?.parse().ok()?, f.get(36)?.parse().ok()?))
}

/// Every thread on the machine now, with its CPU time and last CPU; threads that vanish while
/// they are read are skipped. Two files a thread (about 120 threads here); its cost was not timed.
pub fn threads() -> Vec<ThreadRun> {
    let mut all = Vec::with_capacity(256);
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        for task in std::fs::read_dir(entry.path().join("task")).into_iter().flatten().flatten() {
            let Some(tid) = task.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
            let path = task.path();
            let stat = std::fs::read_to_string(path.join("stat")).ok();
            let run = std::fs::read_to_string(path.join("schedstat")).ok();
            if let (Some((pgrp, cpu)), Some(run)) =
                (stat.as_deref().and_then(parse_thread_stat), run.as_deref().and_then(schedstat))
            {
                all.push(ThreadRun { tid, pid, pgrp, cpu, run_ns: run.run_ns });
            }
        }
    }
    all
}

/// `Cpus_allowed_list` of a process, as the kernel reports it.
pub fn cpus_allowed_list(pid: i32) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:")).map(|v| v.trim().to_string())
}

/// Clock ticks per second, the unit of `utime` and `stime` (100 when the kernel will not say).
pub fn clock_ticks() -> f64 {
    match sysconf(SysconfVar::CLK_TCK) {
        Ok(Some(ticks)) if ticks > 0 => ticks as f64,
        _ => 100.0,
    }
}

/// Bytes per page, the unit of `rss` (4096 when the kernel will not say).
pub fn page_size() -> u64 {
    match sysconf(SysconfVar::PAGE_SIZE) {
        Ok(Some(size)) if size > 0 => size as u64,
        _ => 4096,
    }
}

/// CPU time (user + system) the calling thread has used so far.
pub fn thread_cpu_time() -> Duration {
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).map(Duration::from).unwrap_or_default()
}

/// The kernel, e.g. `Linux 6.1.0-18-amd64`.
pub fn kernel() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/osrelease").ok().map(|s| format!("Linux {}", s.trim()))
}

/// `PRETTY_NAME` from `/etc/os-release`, e.g. `Debian GNU/Linux 12 (bookworm)`.
pub fn os_pretty_name() -> Option<String> {
    parse_os_release(&std::fs::read_to_string("/etc/os-release").ok()?)
}

fn parse_os_release(text: &str) -> Option<String> {
    text.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=")).map(|v| v.trim().trim_matches('"').to_string())
}

/// The first `model name` of `/proc/cpuinfo`.
pub fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
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
        assert_eq!(parse_stat("12 (x)"), None);
        assert_eq!(parse_stat("garbage"), None);
    }

    fn fixture(name: &str) -> String {
        let path = format!("{}/../../fixtures/proc/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn a_threads_stat_gives_its_process_group_and_last_cpu_whatever_its_name() {
        let recorded = fixture("thread-stat-sleep");
        assert_eq!(parse_thread_stat(&recorded), Some((17915, 1)));
        let odd_name = recorded.replace("(sleep)", "(V8 (worker) 2)");
        assert_eq!(parse_thread_stat(&odd_name), Some((17915, 1)));
        assert_eq!(parse_thread_stat("17917 (sleep) S 1 2"), None);
    }

    #[test]
    fn the_thread_listing_holds_this_thread_with_its_cpu_time() {
        let me = nix::unistd::gettid().as_raw();
        // The kernel adds a running thread's time to its schedstat when it is switched out: a
        // fresh test thread may not have been yet, so it works and then sleeps once.
        let mut x = 0u64;
        for i in 0..1_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        std::thread::sleep(std::time::Duration::from_millis(1));
        let listed = threads();
        let mine = listed.iter().find(|t| t.tid == me).expect("this thread is listed");
        assert_eq!(mine.pgrp, nix::unistd::getpgrp().as_raw());
        assert!(mine.run_ns > 0);
    }

    #[test]
    fn the_per_cpu_lines_of_a_recorded_proc_stat_parse_and_the_total_line_is_skipped() {
        let cpus = cpu_times(&fixture("stat-shared-before"));
        assert_eq!(cpus.len(), 2);
        assert_eq!(cpus[0].cpu, 0);
        assert_eq!(cpus[1].cpu, 1);
        let c = cpus[0];
        assert_eq!(
            (c.user, c.nice, c.system, c.idle, c.iowait, c.irq, c.softirq, c.steal),
            (386997, 0, 31998, 67793, 635, 0, 2103, 2904)
        );
        assert_eq!(c.busy(), 386997 + 31998 + 2103 + 2904);
        assert_eq!(c.total(), c.busy() + 67793 + 635);
        // An old kernel without steal, and junk, read as far as they go.
        assert_eq!(
            cpu_times("cpu3 1 2 3 4\nintr 5 6\ncpux 1\n")[0],
            CpuTimes { cpu: 3, user: 1, nice: 2, system: 3, idle: 4, ..CpuTimes::default() }
        );
        assert!(cpu_times("cpu0 1 two 3\n").is_empty());
    }

    #[test]
    fn schedstat_reads_nanoseconds_and_refuses_junk() {
        assert_eq!(
            schedstat(&fixture("schedstat-app-before")),
            Some(Schedstat { run_ns: 210_869_573, wait_ns: 92_872_464, timeslices: 42 })
        );
        assert_eq!(schedstat("1 2"), None);
        assert_eq!(schedstat("a b c"), None);
    }

    #[test]
    fn this_process_has_run_some_nanoseconds() {
        let me = std::process::id() as i32;
        let ns = process_run_ns(me).expect("this kernel has schedstat");
        assert!(ns > 0);
        assert_eq!(process_run_ns(i32::MAX), None);
    }

    #[test]
    fn the_process_clock_keeps_the_time_of_threads_that_exited() {
        let me = std::process::id() as i32;
        let before = process_cpu_ns(me).expect("this process has a CPU clock");
        let spent = std::thread::spawn(|| {
            let mut x = 0u64;
            for i in 0..20_000_000u64 {
                x = x.wrapping_mul(31).wrapping_add(i);
            }
            std::hint::black_box(x);
            let t = nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID.now().expect("thread clock");
            t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
        })
        .join()
        .expect("the worker thread");
        let after = process_cpu_ns(me).expect("this process has a CPU clock");
        assert!(after >= before + spent, "{before} + {spent} (exited thread) > {after}");
        assert_eq!(process_cpu_ns(i32::MAX), None, "out of the PID range");
        assert_eq!(process_cpu_ns(0), None, "0 is not a process");
        let mut gone = std::process::Command::new("true").spawn().expect("true");
        let gone_pid = gone.id() as i32;
        gone.wait().expect("wait");
        assert_eq!(process_cpu_ns(gone_pid), None, "a reaped child has no clock");
    }

    #[test]
    fn pss_is_read_in_bytes_from_smaps_rollup_and_this_process_has_some() {
        let text = "55d0c0000000-7ffc00000000 ---p 00000000 00:00 0 [rollup]\nRss:  12345 kB\nPss:  10240 kB\nPss_Anon: 9000 kB\n";
        assert_eq!(parse_pss(text), Some(10240 * 1024));
        assert_eq!(parse_pss("Rss: 1 kB\n"), None);
        if std::path::Path::new("/proc/self/smaps_rollup").exists() {
            assert!(process_pss(std::process::id() as i32).is_some_and(|b| b > 0));
        }
        assert_eq!(process_pss(i32::MAX), None);
    }

    #[test]
    fn comm_may_hold_parentheses() {
        assert_eq!(parse_comm("4242 (node (worker) 1) S 1"), Some("node (worker) 1"));
        assert_eq!(parse_comm("garbage"), None);
    }

    #[test]
    fn os_release_pretty_name_loses_its_quotes() {
        let text = "NAME=\"Debian\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n";
        assert_eq!(parse_os_release(text).as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
        assert_eq!(parse_os_release("ID=x\n"), None);
    }

    #[test]
    fn this_process_is_listed_and_its_thread_clock_advances() {
        let me = std::process::id() as i32;
        assert!(processes().any(|(pid, _)| pid == me));
        assert!(cpus_allowed_list(me).is_some());
        let before = thread_cpu_time();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(thread_cpu_time() > before);
    }
}
