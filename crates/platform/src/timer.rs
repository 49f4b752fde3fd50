//! A one-shot high-resolution timer: a Linux timerfd on `CLOCK_MONOTONIC`, non-blocking, closed
//! on exec. It fires with the kernel's high-resolution timers rather than a millisecond wheel.
//!
//! This module only creates, arms and drains the descriptor; waiting for it to become readable
//! on an event loop is the caller's (the engine registers it with tokio's reactor).

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};

use crate::PlatformError;

/// One re-armable timerfd; readable once it has fired.
#[derive(Debug)]
pub struct HighResTimer {
    fd: TimerFd,
}

impl HighResTimer {
    /// A disarmed timer.
    pub fn new() -> Result<HighResTimer, PlatformError> {
        let fd = TimerFd::new(ClockId::CLOCK_MONOTONIC, TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC)
            .map_err(PlatformError::Timer)?;
        Ok(HighResTimer { fd })
    }

    /// Arms the timer to fire once, `after` from now. Arming resets an expiry that was never
    /// read, so a stale one cannot end the next wait. A zero `after` would disarm a timerfd, so
    /// it fires after a nanosecond instead.
    pub fn arm(&self, after: Duration) -> io::Result<()> {
        let after = after.max(Duration::from_nanos(1));
        self.fd.set(Expiration::OneShot(TimeSpec::from_duration(after)), TimerSetTimeFlags::empty())?;
        Ok(())
    }

    /// Reads the expiry without blocking: `Ok` once the timer has fired, an error of kind
    /// `WouldBlock` before.
    pub fn read_expiry(&self) -> io::Result<()> {
        self.fd.wait()?;
        Ok(())
    }
}

impl AsFd for HighResTimer {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for HighResTimer {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_fd().as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_timer_is_not_readable_before_it_fires_and_is_once_it_has() {
        let timer = HighResTimer::new().unwrap();
        assert_eq!(timer.read_expiry().unwrap_err().kind(), io::ErrorKind::WouldBlock, "disarmed");
        timer.arm(Duration::from_secs(60)).unwrap();
        assert_eq!(timer.read_expiry().unwrap_err().kind(), io::ErrorKind::WouldBlock, "armed, not fired");

        let after = Duration::from_millis(2);
        let start = Instant::now();
        timer.arm(after).unwrap();
        // Poll until it fires: no sleep decides the outcome, the kernel's expiry does.
        while timer.read_expiry().is_err() {
            std::hint::spin_loop();
        }
        assert!(start.elapsed() >= after, "fired after {:?}", start.elapsed());
        assert_eq!(timer.read_expiry().unwrap_err().kind(), io::ErrorKind::WouldBlock, "one expiry, read once");
    }

    #[test]
    fn rearming_drops_an_expiry_that_was_never_read() {
        let timer = HighResTimer::new().unwrap();
        timer.arm(Duration::from_nanos(1)).unwrap();
        while timer.fd.get().unwrap().is_some() {
            std::hint::spin_loop();
        }
        timer.arm(Duration::from_secs(60)).unwrap();
        assert_eq!(timer.read_expiry().unwrap_err().kind(), io::ErrorKind::WouldBlock);
    }
}
