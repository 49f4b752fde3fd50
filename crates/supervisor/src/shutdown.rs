//! No orphans on any exit path: every started process group is registered here, and SIGINT,
//! SIGTERM or SIGHUP to claimbench kills them all.
//!
//! A first signal sets [`interrupted`] and terminates the registered groups, so the caller can stop
//! measuring, write what it has and return normally; a second signal kills everything and exits
//! with 130 at once. Normal ends and panics are covered by `RunningStack`'s `Drop`, not here.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, Once};
use std::time::Duration;

static GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static SIGNALS: AtomicUsize = AtomicUsize::new(0);
static INSTALL: Once = Once::new();

/// Starts the signal-handling thread (once per process).
pub fn install_handlers() {
    INSTALL.call_once(|| {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            eprintln!("warning: could not install signal handlers; Ctrl-C may leave app processes behind");
            return;
        };
        std::thread::Builder::new()
            .name("claimbench-signals".into())
            .spawn(move || {
                for _ in signals.forever() {
                    on_signal();
                }
            })
            .ok();
    });
}

fn on_signal() {
    INTERRUPTED.store(true, Ordering::SeqCst);
    if SIGNALS.fetch_add(1, Ordering::SeqCst) == 0 {
        eprintln!("\ninterrupted: stopping the apps (press Ctrl-C again to quit at once)");
        signal_all(libc::SIGTERM);
        std::thread::spawn(|| {
            std::thread::sleep(Duration::from_secs(3));
            signal_all(libc::SIGKILL);
        });
    } else {
        signal_all(libc::SIGKILL);
        std::process::exit(130);
    }
}

/// The flag a first SIGINT/SIGTERM/SIGHUP sets; long loops poll it to stop early.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// The same flag as an `AtomicBool`, for code that takes a cancel flag.
pub fn flag() -> &'static AtomicBool {
    &INTERRUPTED
}

pub(crate) fn register(pgid: i32) {
    GROUPS.lock().unwrap_or_else(|e| e.into_inner()).push(pgid);
}

pub(crate) fn unregister(pgid: i32) {
    GROUPS.lock().unwrap_or_else(|e| e.into_inner()).retain(|g| *g != pgid);
}

/// Sends `signal` to every registered process group.
pub fn signal_all(signal: i32) {
    let groups = GROUPS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for pgid in groups {
        // SAFETY: killpg only sends a signal; a stale group id yields ESRCH, which is ignored.
        unsafe {
            libc::killpg(pgid, signal);
        }
    }
}
