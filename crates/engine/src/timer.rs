//! A precise sleep for pacing: a Linux timerfd per connection, awaited on the event loop.
//!
//! Tokio's timers tick in whole milliseconds, so a request meant for 0.3 ms from now would
//! leave up to a millisecond late; at thousands of requests per second that lateness would be
//! both a pacing error and a false "send lag". A timerfd fires with the kernel's high-resolution
//! timers instead. Per-request timeouts, which need no precision, stay on tokio's timer.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// One re-armable high-resolution timer.
pub(crate) struct PaceTimer {
    fd: AsyncFd<OwnedFd>,
}

impl PaceTimer {
    /// A disarmed timer registered with the current runtime.
    pub fn new() -> io::Result<PaceTimer> {
        // SAFETY: plain syscall with constant arguments; the result is checked below.
        let raw = unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: the AsyncFd owns the descriptor, which is neither replaced nor closed while
        // it is registered.
        let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE)? };
        Ok(PaceTimer { fd })
    }

    /// Sleeps for `d`, to within the kernel's timer resolution.
    pub async fn sleep(&self, d: Duration) -> io::Result<()> {
        if d.is_zero() {
            return Ok(());
        }
        let spec = libc::itimerspec {
            it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: libc::timespec { tv_sec: d.as_secs() as libc::time_t, tv_nsec: d.subsec_nanos() as libc::c_long },
        };
        // Arming resets any expiry that was never read, so a stale wake-up cannot end this sleep.
        // SAFETY: the descriptor is a live timerfd and `spec` a valid itimerspec.
        let rc = unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        loop {
            let mut guard = self.fd.readable().await?;
            let read = guard.try_io(|fd| {
                let mut expirations = [0u8; 8];
                // SAFETY: reading 8 bytes into an 8-byte buffer from a live descriptor.
                let n = unsafe { libc::read(fd.as_raw_fd(), expirations.as_mut_ptr().cast(), expirations.len()) };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(())
                }
            });
            match read {
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
