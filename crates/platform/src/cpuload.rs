//! What two readings of the machine's threads (and of `/proc/stat`, for steal) say about a
//! trial's CPUs: how busy the generator side was, how much of the app's cores went to someone
//! else, how much a hypervisor stole, and which processes are busy on the machine right now. The
//! judgments ([`saturated`], [`contended`]) are pure functions with their thresholds here, so they
//! are tested on recorded and synthetic samples; the lab takes the readings, and the suite's
//! runner only copies the reasons into the measurement.
//!
//! Busy time comes from every thread's scheduler clock (`schedstat`, nanoseconds), added up by the
//! CPU the thread last ran on, and not from `/proc/stat`'s per-CPU ticks. On this kernel
//! (NO_HZ_IDLE with tick accounting, under Firecracker) the per-CPU ticks are not a measure of a
//! window shorter than a few seconds when the CPU is busy in bursts. Measured 2026-12-06 on the
//! 2-CPU machine (`claimbench serve fastapi|express` on CPU 1, `claimbench load` at 1,000 req/s of
//! `/io/upstream?ms=20` over 1,000 connections from CPU 0, 2 s windows): CPU 1's user+system ticks
//! read 85, 145, 199 and 40 where the app's own threads ran 155.7, 135.3, 116.8 and 99.5 ticks'
//! worth (schedstat), and the window's total ticks read 145 to 303 for 200 ticks of wall time.
//! Read as "others", that was -49% to +27% of the core: every open-loop trial of E-hol, E-cost and
//! E-concurrency could be thrown out as "contended" by nobody (a thread listing taken at the same
//! time showed no other process above 4 ticks on CPU 1).

use std::time::Duration;

use crate::procfs::{self, CpuTimes, ThreadRun};

/// Above this fraction of busy time on the generator-side cores, a trial measures the
/// generator and the upstream, not the app.
pub const GENERATOR_BUSY_MAX: f64 = 0.90;

/// Above this fraction of the app cores' time used by other processes plus steal, a trial is
/// contended.
///
/// The verdict band is 5%: a co-tenant taking 5% of the app core can move a ratio by the whole
/// band, so the threshold is the band. The scheduler clock has no sampling noise to allow for;
/// what it misses is a thread that started and ended inside the window, and a thread not pinned
/// that ran on the app's CPU but was last seen on another (both are system threads that run for
/// microseconds). `claimbench run` prints what is busy at the start.
pub const CONTENTION_MAX: f64 = 0.05;

/// The ticks of some CPUs between two readings of `/proc/stat`; used for steal, which the
/// hypervisor counts itself.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CoreWindow {
    /// Busy ticks, steal excluded (what ran on these CPUs in this guest).
    pub busy: u64,
    /// Ticks a hypervisor gave to someone else.
    pub steal: u64,
    /// Every tick of these CPUs in the window.
    pub total: u64,
}

/// The ticks of `cpus` from `before` to `after`; `None` when a CPU is missing from either reading
/// or no tick passed (a window too short to say anything).
pub fn window(before: &[CpuTimes], after: &[CpuTimes], cpus: &[usize]) -> Option<CoreWindow> {
    let mut w = CoreWindow::default();
    for &cpu in cpus {
        let b = before.iter().find(|c| c.cpu == cpu)?;
        let a = after.iter().find(|c| c.cpu == cpu)?;
        w.busy += (a.busy() - a.steal).saturating_sub(b.busy() - b.steal);
        w.steal += a.steal.saturating_sub(b.steal);
        w.total += a.total().saturating_sub(b.total());
    }
    (w.total > 0).then_some(w)
}

impl CoreWindow {
    /// Busy fraction by the ticks, steal included (only where ticks are to be trusted: a core
    /// kept busy, or a window of many seconds).
    pub fn busy_fraction(&self) -> f64 {
        (self.busy + self.steal) as f64 / self.total as f64
    }

    /// Stolen fraction.
    pub fn steal_fraction(&self) -> f64 {
        self.steal as f64 / self.total as f64
    }
}

/// CPU time that threads ran on some CPUs between two thread listings, to the nanosecond, split
/// into the own threads' (the app's process group on the app side, claimbench's process on the
/// generator side) and everyone else's.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ThreadWindow {
    /// Seconds the own threads ran there.
    pub own_s: f64,
    /// Seconds every other thread ran there.
    pub others_s: f64,
    /// Wall seconds between the listings, times the number of CPUs.
    pub capacity_s: f64,
}

/// What ran on `cpus` between `before` and `after`, listings `wall_s` apart. A thread counts where
/// it last ran; one not in `before` started in the window and counts all its time; one gone from
/// `after` is lost (its last moments are not known). `None` for an empty window or no CPUs.
pub fn threads_window(
    before: &[ThreadRun],
    after: &[ThreadRun],
    wall_s: f64,
    cpus: &[usize],
    own_pgrp: Option<i32>,
) -> Option<ThreadWindow> {
    if wall_s <= 0.0 || cpus.is_empty() {
        return None;
    }
    let was: std::collections::HashMap<i32, u64> = before.iter().map(|t| (t.tid, t.run_ns)).collect();
    let mut w = ThreadWindow { capacity_s: wall_s * cpus.len() as f64, ..ThreadWindow::default() };
    for t in after.iter().filter(|t| cpus.contains(&t.cpu)) {
        let ran = t.run_ns.saturating_sub(was.get(&t.tid).copied().unwrap_or(0)) as f64 / 1e9;
        if Some(t.pgrp) == own_pgrp {
            w.own_s += ran;
        } else {
            w.others_s += ran;
        }
    }
    Some(w)
}

/// What ran on the generator side's `cpus` between `before` and `after`, listings `wall_s` apart:
/// every other process's threads as [`threads_window`] counts them, and claimbench's own process
/// (`own_pid`) whole, from its process CPU clock read with each listing (`own_ns`, before and
/// after), which keeps the time of threads that have ended. The load generator's workers are
/// threads of one trial that end before the closing listing, so by the listings alone the side
/// lost all of their time: a 1,000-member fan-out trial read 1.6% busy while its worker had used
/// 8% of the core (2026-12-08). claimbench pins itself to the generator side before the run's
/// threads start (only its signal thread, asleep, is older), so its time is that side's.
pub fn generator_window(
    before: &[ThreadRun],
    after: &[ThreadRun],
    wall_s: f64,
    cpus: &[usize],
    own_pid: i32,
    own_ns: (u64, u64),
) -> Option<ThreadWindow> {
    let others = |listing: &[ThreadRun]| listing.iter().copied().filter(|t| t.pid != own_pid).collect::<Vec<_>>();
    let mut w = threads_window(&others(before), &others(after), wall_s, cpus, None)?;
    w.own_s = own_ns.1.saturating_sub(own_ns.0) as f64 / 1e9;
    Some(w)
}

impl ThreadWindow {
    /// Fraction of the CPUs' time that anything ran.
    pub fn busy_fraction(&self) -> f64 {
        (self.own_s + self.others_s) / self.capacity_s
    }

    /// Fraction of the CPUs' time that threads outside the own group ran, less `excused_s` of it
    /// (a database on the app's CPU is part of the server measured there); never below 0.
    pub fn others_fraction(&self, excused_s: f64) -> f64 {
        ((self.others_s - excused_s) / self.capacity_s).max(0.0)
    }
}

/// Why the generator side counts as saturated (`busy`, a fraction of its CPUs, steal included),
/// or `None` when it was at most `max` busy.
pub fn saturated(busy: f64, max: f64) -> Option<String> {
    (busy > max).then(|| {
        format!(
            "the generator-side CPUs (load generator, upstream and anything else there) were {:.0}% busy, above {:.0}%: the numbers may measure claimbench, not the app",
            busy * 100.0,
            max * 100.0
        )
    })
}

/// Why the app's cores count as contended (others' share plus steal above `max`), or `None`.
pub fn contended(others: f64, steal: f64, max: f64) -> Option<String> {
    (others + steal > max).then(|| {
        format!(
            "other processes used {:.1}% of the app's CPUs and the hypervisor stole {:.1}%, above {:.0}% together: the app did not have its cores to itself",
            others * 100.0,
            steal * 100.0,
            max * 100.0
        )
    })
}

/// A process and the CPU it used over a short window.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessCpu {
    pub pid: i32,
    pub name: String,
    /// CPU used over the window, as a fraction of one CPU.
    pub cpu_fraction: f64,
}

/// The `top` processes that used more than `min_fraction` of a CPU between two listings of
/// `(pid, name, utime + stime ticks)`, busiest first; processes in only one listing are skipped.
pub fn busiest(
    before: &[(i32, String, u64)],
    after: &[(i32, String, u64)],
    window_s: f64,
    ticks_per_s: f64,
    min_fraction: f64,
    top: usize,
) -> Vec<ProcessCpu> {
    let mut used: Vec<ProcessCpu> = after
        .iter()
        .filter_map(|(pid, name, ticks)| {
            let (_, _, was) = before.iter().find(|(p, n, _)| p == pid && n == name)?;
            let cpu_fraction = ticks.saturating_sub(*was) as f64 / ticks_per_s / window_s;
            (cpu_fraction > min_fraction).then(|| ProcessCpu { pid: *pid, name: name.clone(), cpu_fraction })
        })
        .collect();
    used.sort_by(|a, b| b.cpu_fraction.total_cmp(&a.cpu_fraction));
    used.truncate(top);
    used
}

fn listing(except: i32) -> Vec<(i32, String, u64)> {
    procfs::processes()
        .filter(|(pid, _)| *pid != except)
        .filter_map(|(pid, f)| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            Some((pid, procfs::parse_comm(&stat)?.to_string(), f.utime + f.stime))
        })
        .collect()
}

/// The up to `top` processes (other than this one) that used more than 5% of a CPU over
/// `window`, busiest first. It waits `window` between its two listings.
pub fn busy_processes(window: Duration, top: usize) -> Vec<ProcessCpu> {
    let me = std::process::id() as i32;
    let before = listing(me);
    let started = std::time::Instant::now();
    std::thread::sleep(window);
    let after = listing(me);
    busiest(&before, &after, started.elapsed().as_secs_f64(), procfs::clock_ticks(), 0.05, top)
}

/// How much of each of `cpus` a thread can have right now, in order: a thread pinned to each spins
/// for `window` and reports the share of that wall time it ran, by its own CPU clock (which leaves
/// out what other threads and the hypervisor took). 1.0 is a CPU to itself; a CPU that cannot be
/// pinned to reads 1.0, judging nothing.
///
/// This and not `/proc/stat`'s steal is how to ask whether a steal storm is on: a virtual CPU that
/// is idle is not running, so nothing is stolen from it. Measured on the 2-CPU machine
/// (2026-12-07, a storm, 250 ms windows of `/proc/stat`): CPU 1 read 3.2% stolen on average in
/// windows where it was under 10% busy, 13.2% in windows 50-90% busy. A thread spinning on CPU 1
/// in 0.5 s windows lost 5.5%, 7.0%, 3.7%, 1.4% of its time while `/proc/stat` read 6.0%, 6.1%,
/// 3.9%, 2.0% stolen there.
pub fn available_share(cpus: &[usize], window: Duration) -> Vec<f64> {
    use nix::time::{clock_gettime, ClockId};
    let thread_ns = || clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).map(|t| Duration::from(t).as_nanos() as f64);
    std::thread::scope(|scope| {
        let spinners: Vec<_> = cpus
            .iter()
            .map(|&cpu| {
                scope.spawn(move || {
                    if crate::pin_current_thread(&[cpu]).is_err() {
                        return 1.0;
                    }
                    let (Ok(ran_before), started) = (thread_ns(), std::time::Instant::now()) else { return 1.0 };
                    while started.elapsed() < window {
                        std::hint::spin_loop();
                    }
                    let wall_ns = started.elapsed().as_nanos() as f64;
                    thread_ns().map_or(1.0, |ran_after| ((ran_after - ran_before) / wall_ns).clamp(0.0, 1.0))
                })
            })
            .collect();
        spinners.into_iter().map(|s| s.join().unwrap_or(1.0)).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cpu_shared_with_a_busy_thread_offers_a_spinner_about_half_of_itself() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Barrier;
        let cpu = crate::allowed_cpus().expect("the allowed CPUs")[0];
        let (running, stop) = (Barrier::new(2), AtomicBool::new(false));
        let shared = std::thread::scope(|scope| {
            scope.spawn(|| {
                crate::pin_current_thread(&[cpu]).expect("pinning to an allowed CPU");
                running.wait();
                while !stop.load(Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            });
            running.wait();
            let shared = available_share(&[cpu], Duration::from_millis(300));
            stop.store(true, Ordering::Relaxed);
            shared
        });
        assert_eq!(shared.len(), 1);
        // The scheduler splits the CPU between two busy threads; a hypervisor can only take more.
        assert!(shared[0] > 0.0 && shared[0] < 0.8, "a shared CPU offered {:.2} of itself", shared[0]);
        let alone = available_share(&[cpu], Duration::from_millis(100));
        assert!(alone.len() == 1 && alone[0] > 0.0 && alone[0] <= 1.0, "{alone:?}");
    }
    use crate::procfs::cpu_times;

    fn fixture(name: &str) -> String {
        let path = format!("{}/../../fixtures/proc/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn recorded(name: &str, cpus: &[usize]) -> CoreWindow {
        let before = cpu_times(&fixture(&format!("stat-{name}-before")));
        let after = cpu_times(&fixture(&format!("stat-{name}-after")));
        window(&before, &after, cpus).expect("both CPUs are in the samples")
    }

    #[test]
    fn a_busy_loop_on_the_generator_core_reads_as_saturated() {
        // Recorded: a busy loop on CPU 0 for 1 s (a core kept busy, where the ticks hold).
        let w = recorded("busy", &[0]);
        assert_eq!((w.busy, w.steal, w.total), (101, 0, 101));
        let why = saturated(w.busy_fraction(), GENERATOR_BUSY_MAX).expect("100% busy is saturated");
        assert!(why.contains("100% busy, above 90%"), "{why}");
    }

    fn run(tid: i32, pgrp: i32, cpu: usize, ms: u64) -> ThreadRun {
        ThreadRun { tid, pid: pgrp, pgrp, cpu, run_ns: ms * 1_000_000 }
    }

    #[test]
    fn the_generator_side_counts_the_load_generators_workers_that_ended_within_the_window() {
        // 1 s on CPU 0. claimbench (process 50): the upstream's thread ran 200 ms there, and the
        // engine's worker (thread 51) 550 ms before it ended, so the closing listing lacks it. A
        // co-tenant (process 60) ran 180 ms on CPU 0; the app (70) 900 ms on CPU 1.
        let own = |tid: i32, ms: u64| ThreadRun { pid: 50, ..run(tid, 50, 0, ms) };
        let before = [own(50, 2_000), own(51, 100), own(52, 400), run(60, 60, 0, 0), run(70, 70, 1, 0)];
        let after = [own(50, 2_000), own(52, 600), run(60, 60, 0, 180), run(70, 70, 1, 900)];
        // Its process clock kept the ended worker's time: 750 ms in all.
        let w = generator_window(&before, &after, 1.0, &[0], 50, (3_000_000_000, 3_750_000_000)).unwrap();
        assert!((w.own_s - 0.75).abs() < 1e-9 && (w.others_s - 0.18).abs() < 1e-9, "{w:?}");
        assert!((w.busy_fraction() - 0.93).abs() < 1e-9);
        assert!(saturated(w.busy_fraction(), GENERATOR_BUSY_MAX).is_some());
        // By the listings alone the worker is lost, and the side reads a quiet 38%.
        let listed = threads_window(&before, &after, 1.0, &[0], None).unwrap();
        assert!((listed.busy_fraction() - 0.38).abs() < 1e-9, "{listed:?}");
        assert_eq!(saturated(listed.busy_fraction(), GENERATOR_BUSY_MAX), None);
    }

    #[test]
    fn the_generator_side_is_busy_by_what_its_threads_ran_not_by_ticks() {
        // 1 s on CPU 0: the generator thread ran 600 ms, the upstream 350 ms, a thread on CPU 1
        // 900 ms (the app's business, not the generator side's).
        let before = [run(10, 10, 0, 1_000), run(11, 11, 0, 500), run(20, 20, 1, 0)];
        let after = [run(10, 10, 0, 1_600), run(11, 11, 0, 850), run(20, 20, 1, 900)];
        let w = threads_window(&before, &after, 1.0, &[0], None).unwrap();
        assert!((w.busy_fraction() - 0.95).abs() < 1e-9);
        assert!(saturated(w.busy_fraction(), GENERATOR_BUSY_MAX).is_some());
        let quieter = [run(10, 10, 0, 1_300), run(11, 11, 0, 850), run(20, 20, 1, 900)];
        let w = threads_window(&before, &quieter, 1.0, &[0], None).unwrap();
        assert!((w.busy_fraction() - 0.65).abs() < 1e-9);
        assert_eq!(saturated(w.busy_fraction(), GENERATOR_BUSY_MAX), None);
    }

    #[test]
    fn a_co_tenant_on_the_app_cpu_is_contention_and_the_apps_own_threads_are_not() {
        // 0.7 s on CPU 1. The app (group 100) has two threads; a build (group 300) shares CPU 1;
        // the generator (group 200) on CPU 0 does not count there.
        let before = [run(101, 100, 1, 5_000), run(102, 100, 1, 40), run(300, 300, 1, 9_000), run(201, 200, 0, 0)];
        let after = [run(101, 100, 1, 5_400), run(102, 100, 1, 90), run(300, 300, 1, 9_140), run(201, 200, 0, 600)];
        let w = threads_window(&before, &after, 0.7, &[1], Some(100)).unwrap();
        assert!((w.own_s - 0.45).abs() < 1e-9 && (w.others_s - 0.14).abs() < 1e-9, "{w:?}");
        let others = w.others_fraction(0.0);
        assert!((others - 0.2).abs() < 1e-9);
        let why = contended(others, 0.0, CONTENTION_MAX).expect("20% is contention");
        assert!(why.contains("20.0% of the app's CPUs"), "{why}");
        // The same 140 ms by the app's database on its CPU is excused.
        assert_eq!(w.others_fraction(0.14), 0.0);
        assert_eq!(contended(w.others_fraction(0.14), 0.0, CONTENTION_MAX), None);
    }

    #[test]
    fn a_thread_born_in_the_window_counts_all_its_time_and_an_idle_core_reads_zero() {
        let before = [run(101, 100, 1, 5_000)];
        let after = [run(101, 100, 1, 5_000), run(400, 400, 1, 30)];
        let w = threads_window(&before, &after, 1.0, &[1], Some(100)).unwrap();
        assert_eq!(w.own_s, 0.0);
        assert!((w.others_fraction(0.0) - 0.03).abs() < 1e-9);
        assert_eq!(contended(w.others_fraction(0.0), 0.0, CONTENTION_MAX), None, "3% is within the band");
        assert_eq!(threads_window(&before, &after, 0.0, &[1], None), None);
        assert_eq!(threads_window(&before, &after, 1.0, &[], None), None);
    }

    #[test]
    fn steal_counts_as_contention() {
        let before = cpu_times("cpu1 1000 0 100 500 0 0 0 0\n");
        let stolen = cpu_times("cpu1 1138 0 150 500 0 0 0 12\n");
        let w = window(&before, &stolen, &[1]).unwrap();
        assert!((w.steal_fraction() - 0.06).abs() < 1e-9);
        assert!(contended(0.0, w.steal_fraction(), CONTENTION_MAX).unwrap().contains("stole 6.0%"));
    }

    #[test]
    fn a_missing_cpu_or_an_empty_window_reads_as_none() {
        let before = cpu_times(&fixture("stat-shared-before"));
        assert_eq!(window(&before, &before, &[0]), None);
        assert_eq!(window(&before, &cpu_times(&fixture("stat-shared-after")), &[7]), None);
    }

    #[test]
    fn the_busiest_processes_come_first_and_quiet_ones_are_left_out() {
        let before = vec![
            (1, "init".into(), 10),
            (20, "cc1plus".into(), 100),
            (30, "rustc".into(), 500),
            (40, "gone".into(), 1),
        ];
        let after = vec![
            (1, "init".into(), 11),
            (20, "cc1plus".into(), 140),
            (30, "rustc".into(), 549),
            (50, "new".into(), 90),
        ];
        let top = busiest(&before, &after, 0.5, 100.0, 0.05, 5);
        let names: Vec<_> = top.iter().map(|p| (p.name.as_str(), (p.cpu_fraction * 100.0).round())).collect();
        assert_eq!(names, [("rustc", 98.0), ("cc1plus", 80.0)]);
        assert_eq!(busiest(&before, &after, 0.5, 100.0, 0.05, 1).len(), 1);
    }
}
