//! Ctrl-C for the whole binary: SIGINT, SIGTERM or SIGHUP cancel the process-wide [`Cancel`]
//! token and ask every running stack to stop, so the command can write what it has and return
//! normally; a second signal kills the stacks and exits with 130 at once. The libraries only see
//! the token; the process groups to signal are the supervisor's registry.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use claimbench_engine::Cancel;
use claimbench_supervisor::shutdown;

static CANCEL: OnceLock<Cancel> = OnceLock::new();
static SIGNALS: AtomicUsize = AtomicUsize::new(0);

/// How long the stacks get after the first signal before they are killed.
const GRACE: Duration = Duration::from_secs(3);

/// Installs the handlers (once per process) and returns the token they cancel; `stopping` says
/// what a first Ctrl-C does, e.g. "stopping the apps".
pub fn install(stopping: &'static str) -> Cancel {
    CANCEL
        .get_or_init(|| {
            let cancel = Cancel::new();
            use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
            match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
                Ok(mut signals) => {
                    let token = cancel.clone();
                    let spawned = std::thread::Builder::new().name("claimbench-signals".into()).spawn(move || {
                        for _ in signals.forever() {
                            on_signal(&token, stopping);
                        }
                    });
                    if spawned.is_err() {
                        eprintln!("warning: could not watch for Ctrl-C; it may leave app processes behind");
                    }
                }
                Err(_) => {
                    eprintln!("warning: could not install signal handlers; Ctrl-C may leave app processes behind")
                }
            }
            cancel
        })
        .clone()
}

fn on_signal(cancel: &Cancel, stopping: &str) {
    cancel.cancel();
    if SIGNALS.fetch_add(1, Ordering::SeqCst) == 0 {
        eprintln!("\ninterrupted: {stopping} (press Ctrl-C again to quit at once)");
        shutdown::terminate_all();
        std::thread::spawn(|| {
            std::thread::sleep(GRACE);
            shutdown::kill_all();
        });
    } else {
        shutdown::kill_all();
        std::process::exit(130);
    }
}
