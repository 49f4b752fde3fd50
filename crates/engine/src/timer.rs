//! A precise sleep for pacing: a Linux timerfd per connection, awaited on the event loop.
//!
//! Tokio's timers tick in whole milliseconds, so a request meant for 0.3 ms from now would
//! leave up to a millisecond late; at thousands of requests per second that lateness would be
//! both a pacing error and a false "send lag". A timerfd fires with the kernel's high-resolution
//! timers instead (the descriptor is `claimbench_platform::HighResTimer`; this file awaits it on
//! tokio's reactor). Per-request timeouts, which need no precision, stay on tokio's timer.

use std::io;
use std::time::Duration;

use claimbench_platform::HighResTimer;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// One re-armable timer: a high-resolution timerfd, or tokio's millisecond timer where the
/// pool is too large for a descriptor each (see [`crate::worker`]).
pub(crate) struct PaceTimer {
    fd: Option<AsyncFd<HighResTimer>>,
}

impl PaceTimer {
    /// A disarmed timerfd registered with the current runtime.
    pub fn new() -> io::Result<PaceTimer> {
        let timer = HighResTimer::new().map_err(io::Error::other)?;
        // SAFETY (tokio's I/O-safety contract): the AsyncFd owns the timer, whose descriptor is
        // neither replaced nor closed while it is registered.
        let fd = unsafe { AsyncFd::register_with_interest(timer, Interest::READABLE)? };
        Ok(PaceTimer { fd: Some(fd) })
    }

    /// A timer on tokio's wheel: no descriptor, up to about a millisecond late.
    pub fn coarse() -> PaceTimer {
        PaceTimer { fd: None }
    }

    /// Sleeps for `d`, to within the kernel's timer resolution (a coarse timer: tokio's).
    pub async fn sleep(&self, d: Duration) -> io::Result<()> {
        if d.is_zero() {
            return Ok(());
        }
        let Some(fd) = &self.fd else {
            tokio::time::sleep(d).await;
            return Ok(());
        };
        fd.get_ref().arm(d)?;
        loop {
            let mut guard = fd.readable().await?;
            match guard.try_io(|fd| fd.get_ref().read_expiry()) {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }
}

#[cfg(test)]
#[path = "../../../tests/support/load_lock.rs"]
mod load_lock;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    const SLEEP: Duration = Duration::from_micros(300);

    #[test]
    fn sleeps_end_well_under_a_millisecond_late_and_sooner_than_tokios() {
        let _load = super::load_lock::load_lock();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let timer = PaceTimer::new().unwrap();
            let (mut ours, mut tokios) = (Vec::new(), Vec::new());
            // Interleaved, so a noisy neighbour delays both kinds of sleep alike.
            for _ in 0..50 {
                let start = Instant::now();
                timer.sleep(SLEEP).await.unwrap();
                let took = start.elapsed();
                assert!(took >= SLEEP, "{took:?}");
                ours.push(took - SLEEP);
                let start = Instant::now();
                tokio::time::sleep(SLEEP).await;
                tokios.push(start.elapsed().saturating_sub(SLEEP));
            }
            ours.sort();
            tokios.sort();
            // Medians, so a few preempted sleeps cannot fail the test. tokio's timer rounds up to
            // its 1 ms wheel (about 0.7 ms late here); ours is about 0.1 ms late when idle, and
            // 1 ms leaves room for a machine twice as slow.
            let (ours, tokios) = (ours[25], tokios[25]);
            assert!(ours < Duration::from_millis(1), "median {ours:?} late");
            assert!(ours < tokios, "median {ours:?} late, tokio's sleep {tokios:?}");
        });
    }
}
