//! No orphans on any exit path: every started process group is registered here, so that whoever
//! handles SIGINT, SIGTERM or SIGHUP (the binary's `interrupt` module) can stop them all at once.
//!
//! Normal ends and panics are covered by `RunningStack`'s `Drop`; this registry is for the signal
//! path, where no destructor runs. Catching the signal and deciding what to do is not here.

use std::sync::Mutex;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

static GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

pub(crate) fn register(pgid: i32) {
    GROUPS.lock().unwrap_or_else(|e| e.into_inner()).push(pgid);
}

pub(crate) fn unregister(pgid: i32) {
    GROUPS.lock().unwrap_or_else(|e| e.into_inner()).retain(|g| *g != pgid);
}

/// Asks every running stack to stop (SIGTERM to each registered process group).
pub fn terminate_all() {
    signal_all(Signal::SIGTERM);
}

/// Kills every running stack at once (SIGKILL to each registered process group).
pub fn kill_all() {
    signal_all(Signal::SIGKILL);
}

fn signal_all(signal: Signal) {
    let groups = GROUPS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for pgid in groups {
        // A group that has just exited answers ESRCH; there is nothing left to stop.
        let _ = killpg(Pid::from_raw(pgid), signal);
    }
}
