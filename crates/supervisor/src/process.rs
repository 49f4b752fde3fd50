//! Spawning a stack as its own process group, pinned to its CPU set, with its output captured;
//! and stopping it: SIGTERM to the whole group, SIGKILL after a grace period.
//!
//! A [`RunningStack`] owns its process group: dropping it (normal end, error, panic unwinding)
//! kills the group, and `shutdown` lets the binary's signal handler kill it. Readiness polling is
//! in `readiness`, resource sampling in `sampler`, the system calls in `claimbench-platform`.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use claimbench_model::stack::{Pinning, ResourceSample, StackSpec, Versions};
use claimbench_platform::{cpu_list, procfs, CpuMask};
use nix::sys::prctl::set_pdeathsig;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use crate::error::{SupervisorError, Tail};
use crate::readiness::{wait_ready, Readiness};
use crate::sampler::{sample_group, Sampler};
use crate::stderr::OutputTail;
use crate::versions::{versions, Toolchain};
use crate::{shutdown, StackConfig};

/// How long a stack gets between SIGTERM and SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(3);

/// A started, ready stack. Dropping it kills its whole process group.
pub struct RunningStack {
    name: String,
    url: String,
    port: u16,
    pgid: i32,
    workers: u32,
    child: Arc<Mutex<Child>>,
    tail: OutputTail,
    spawned_at: Instant,
    cold_start: Duration,
    pinning: Pinning,
    versions: Versions,
    sampler: Option<Sampler>,
    stopped: bool,
}

impl RunningStack {
    pub(crate) fn spawn(
        root: &Path,
        spec: &StackSpec,
        toolchain: &Toolchain,
        config: &StackConfig,
    ) -> Result<RunningStack, SupervisorError> {
        let ready_timeout = crate::readiness::timeout_from_env(config.ready_timeout)?;
        let port = match config.port {
            Some(port) => port,
            None => free_port()?,
        };
        let host = "127.0.0.1";
        let argv: Vec<String> = spec
            .argv
            .iter()
            .map(|arg| {
                arg.replace("{node}", &toolchain.interpreter.to_string_lossy())
                    .replace("{python}", &toolchain.interpreter.to_string_lossy())
                    .replace("{entry}", if config.minimal { &spec.minimal_entry } else { &spec.entry })
                    .replace("{host}", host)
                    .replace("{port}", &port.to_string())
                    .replace("{workers}", &config.workers.to_string())
            })
            .collect();
        let (program, args) = argv.split_first().ok_or_else(|| SupervisorError::Registry {
            path: root.join(crate::registry::REGISTRY_PATH),
            message: format!("stack {} has an empty argv", spec.name),
        })?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(root.join(&spec.dir))
            .env("NODE_ENV", "production")
            .env("PYTHONUNBUFFERED", "1")
            .env("HOST", host)
            .env("PORT", port.to_string())
            .env("WORKERS", config.workers.to_string())
            .env("STACK", &spec.name)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        if let Some(url) = &config.upstream_url {
            cmd.env("UPSTREAM_URL", url);
        }
        for (key, value) in &config.env {
            cmd.env(key, value);
        }
        // Built before the fork: applying it in the child allocates nothing.
        let mask = match &config.cpus {
            Some(cpus) => Some(CpuMask::new(cpus).map_err(|e| SupervisorError::Pin {
                stack: spec.name.clone(),
                cpus: cpu_list(cpus),
                message: e.to_string(),
            })?),
            None => None,
        };
        // SAFETY: the closure runs between fork and exec and only makes async-signal-safe system
        // calls (prctl, sched_setaffinity) on data prepared before the fork.
        unsafe {
            cmd.pre_exec(move || {
                // If claimbench dies without running its handlers, the app dies with it.
                set_pdeathsig(Signal::SIGKILL)?;
                if let Some(mask) = &mask {
                    mask.apply()?;
                }
                Ok(())
            });
        }
        let command_line = argv.join(" ");
        let spawned_at = Instant::now();
        let mut child = cmd.spawn().map_err(|source| SupervisorError::Spawn {
            stack: spec.name.clone(),
            command: command_line.clone(),
            source,
        })?;
        let pgid = child.id() as i32;
        shutdown::register(pgid);
        let tail = OutputTail::default();
        if let Some(out) = child.stdout.take() {
            tail.follow(out);
        }
        if let Some(err) = child.stderr.take() {
            tail.follow(err);
        }
        let child = Arc::new(Mutex::new(child));
        let sampler = Sampler::start(pgid, spawned_at, Arc::clone(&child));
        let mut stack = RunningStack {
            name: spec.name.clone(),
            url: format!("http://{host}:{port}"),
            port,
            pgid,
            workers: config.workers,
            child,
            tail,
            spawned_at,
            cold_start: Duration::ZERO,
            pinning: Pinning::default(),
            versions: Versions::default(),
            sampler: Some(sampler),
            stopped: false,
        };
        let health = format!("{}/health", stack.url);
        match wait_ready(&health, spawned_at, ready_timeout, || stack.exit_status().is_some()) {
            Readiness::Ready(cold_start) => stack.cold_start = cold_start,
            Readiness::Exited => {
                let status = stack.wait_exit(Duration::from_millis(500));
                // Let the reader threads drain the last lines before quoting them.
                std::thread::sleep(Duration::from_millis(50));
                return Err(SupervisorError::ExitedAtStartup {
                    stack: spec.name.clone(),
                    status,
                    tail: Tail(stack.tail.text()),
                });
            }
            Readiness::TimedOut => {
                return Err(SupervisorError::NotReady {
                    stack: spec.name.clone(),
                    url: health,
                    timeout: ready_timeout,
                    tail: Tail(stack.tail.text()),
                })
            }
        }
        stack.pinning = Pinning {
            requested: config.cpus.as_ref().map(|c| c.iter().map(usize::to_string).collect::<Vec<_>>().join(",")),
            actual: procfs::cpus_allowed_list(pgid).unwrap_or_else(|| "unknown".into()),
        };
        stack.versions = versions(root, spec, toolchain);
        Ok(stack)
    }

    /// Registry name of the stack.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process id of the group leader (also the process group id).
    pub fn pid(&self) -> i32 {
        self.pgid
    }

    /// Worker processes it was started with.
    pub fn workers(&self) -> u32 {
        self.workers
    }

    /// Time from spawn to the first 200 on `/health`.
    pub fn cold_start(&self) -> Duration {
        self.cold_start
    }

    /// The pinning asked for and the pinning the kernel reports.
    pub fn pinning(&self) -> &Pinning {
        &self.pinning
    }

    /// Runtime and package versions.
    pub fn versions(&self) -> &Versions {
        &self.versions
    }

    /// The last lines the app printed.
    pub fn output_tail(&self) -> String {
        self.tail.text()
    }

    /// The leader's exit status, once it has exited (noticed within one sampling period).
    pub fn exit_status(&self) -> Option<ExitStatus> {
        self.sampler.as_ref().and_then(Sampler::exit_status)
    }

    /// `Ok` while the app runs; a `Died` error with its output tail once it has exited.
    pub fn check_alive(&self) -> Result<(), SupervisorError> {
        match self.exit_status() {
            None => Ok(()),
            Some(status) => Err(SupervisorError::Died {
                stack: self.name.clone(),
                status: status.to_string(),
                tail: Tail(self.tail.text()),
            }),
        }
    }

    /// A fresh resource sample of the whole process group.
    pub fn sample_now(&self) -> ResourceSample {
        sample_group(self.pgid, self.spawned_at)
    }

    /// All periodic samples taken so far.
    pub fn samples(&self) -> Vec<ResourceSample> {
        self.sampler
            .as_ref()
            .map(|s| s.shared.samples.lock().unwrap_or_else(|e| e.into_inner()).clone())
            .unwrap_or_default()
    }

    /// Stops the stack: SIGTERM to the group, SIGKILL after [`STOP_GRACE`]; returns how it ended.
    pub fn stop(mut self) -> String {
        self.terminate()
    }

    fn terminate(&mut self) -> String {
        if self.stopped {
            return String::from("already stopped");
        }
        self.stopped = true;
        let _ = killpg(Pid::from_raw(self.pgid), Signal::SIGTERM);
        let status = self.wait_exit(STOP_GRACE);
        let deadline = Instant::now() + STOP_GRACE;
        while group_alive(self.pgid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if group_alive(self.pgid) {
            let _ = killpg(Pid::from_raw(self.pgid), Signal::SIGKILL);
            let _ = self.child.lock().unwrap_or_else(|e| e.into_inner()).wait();
            let deadline = Instant::now() + Duration::from_secs(2);
            while group_alive(self.pgid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        self.sampler.take();
        shutdown::unregister(self.pgid);
        status
    }

    /// Waits up to `grace` for the leader to exit; SIGKILLs the group if it does not.
    fn wait_exit(&self, grace: Duration) -> String {
        let deadline = Instant::now() + grace;
        loop {
            let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
            if let Ok(Some(status)) = child.try_wait() {
                return status.to_string();
            }
            if Instant::now() >= deadline {
                let _ = killpg(Pid::from_raw(self.pgid), Signal::SIGKILL);
                return child.wait().map(|s| format!("{s} after SIGKILL")).unwrap_or_else(|e| e.to_string());
            }
            drop(child);
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for RunningStack {
    fn drop(&mut self) {
        self.terminate();
    }
}

impl std::fmt::Debug for RunningStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningStack")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("pid", &self.pgid)
            .finish()
    }
}

/// True while any process of group `pgid` exists.
pub fn group_alive(pgid: i32) -> bool {
    // No signal only checks for existence.
    if killpg(Pid::from_raw(pgid), None).is_err() {
        return false;
    }
    // killpg(…, 0) also succeeds for zombies that nobody has reaped yet; count only live members.
    procfs::processes().any(|(_, f)| f.pgrp == pgid && f.state != 'Z')
}

/// A port that was free a moment ago, from the kernel's ephemeral range.
pub(crate) fn free_port() -> Result<u16, SupervisorError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| SupervisorError::io("finding a free port on 127.0.0.1", e))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| SupervisorError::io("finding a free port on 127.0.0.1", e))
}

/// Parses a CPU list such as `0`, `1,3` or `0-2,5`.
pub fn parse_cpu_list(text: &str) -> Result<Vec<usize>, String> {
    let mut cpus = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || format!("'{part}' in CPU list '{text}' is not a CPU number or range like 0-3");
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                if a > b {
                    return Err(bad());
                }
                // Bound before expanding: `0-99999999999` must not allocate the whole range.
                check_cpu(b, text)?;
                cpus.extend(a..=b);
            }
            None => {
                let cpu = part.parse().map_err(|_| bad())?;
                check_cpu(cpu, text)?;
                cpus.push(cpu);
            }
        }
    }
    if cpus.is_empty() {
        return Err(format!("CPU list '{text}' is empty; give CPUs like 1 or 0-1"));
    }
    Ok(cpus)
}

/// CPU ids a `cpu_set_t` can hold, so the highest one a process can be pinned to.
fn max_cpus() -> usize {
    nix::sched::CpuSet::count()
}

fn check_cpu(cpu: usize, text: &str) -> Result<(), String> {
    if cpu < max_cpus() {
        Ok(())
    } else {
        Err(format!(
            "CPU {cpu} in CPU list '{text}' is above the highest CPU id, {}; give CPUs like 1 or 0-1",
            max_cpus() - 1
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_parse_and_bad_ones_say_why() {
        assert_eq!(parse_cpu_list("1").unwrap(), vec![1]);
        assert_eq!(parse_cpu_list("0-2,5").unwrap(), vec![0, 1, 2, 5]);
        assert!(parse_cpu_list("2-1").unwrap_err().contains("not a CPU number"));
        assert!(parse_cpu_list("x").is_err());
        assert!(parse_cpu_list("").unwrap_err().contains("empty"));
        assert!(parse_cpu_list("0-99999999999").unwrap_err().contains("above the highest CPU id, 1023"));
        assert!(parse_cpu_list("4096").unwrap_err().contains("above the highest CPU id"));
    }
}
