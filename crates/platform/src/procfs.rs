//! What the kernel says about processes and the machine: `/proc/PID/stat` and `status`,
//! `/proc/sys/kernel/osrelease`, `/proc/cpuinfo`, `/etc/os-release`, and the calling thread's CPU
//! clock. Parsing is plain and safe; a missing or odd file reads as `None`, never a panic.

use std::time::Duration;

use nix::time::{clock_gettime, ClockId};
use nix::unistd::{sysconf, SysconfVar};

/// The fields of `/proc/PID/stat` claimbench needs.
#[derive(Debug, Clone, Copy, PartialEq)]
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
    let rest = stat.get(stat.rfind(')')? + 2..)?;
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

/// Every process now listed in `/proc`, with its parsed `stat` (processes that vanish are skipped).
pub fn processes() -> impl Iterator<Item = (i32, StatFields)> {
    std::fs::read_dir("/proc").into_iter().flatten().flatten().filter_map(|entry| {
        let pid = entry.file_name().to_str()?.parse::<i32>().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        Some((pid, parse_stat(&stat)?))
    })
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
