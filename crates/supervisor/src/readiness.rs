//! Waiting for a freshly spawned app: poll `/health` every millisecond until it answers 200, the
//! app exits, or the timeout passes. The time from spawn to the first 200 is the cold start. The timeout can be
//! raised on slow machines with `CLAIMBENCH_READY_TIMEOUT` (seconds).

use std::time::{Duration, Instant};

use crate::SupervisorError;

/// The environment variable that overrides every stack's readiness timeout, in seconds.
pub const READY_TIMEOUT_ENV: &str = "CLAIMBENCH_READY_TIMEOUT";
/// The longest readiness timeout the variable may ask for.
pub const MAX_READY_TIMEOUT_S: u64 = 600;

/// The readiness timeout: `CLAIMBENCH_READY_TIMEOUT` when set, else `default`.
pub fn timeout_from_env(default: Duration) -> Result<Duration, SupervisorError> {
    match std::env::var(READY_TIMEOUT_ENV) {
        Ok(value) => parse_timeout(&value),
        Err(std::env::VarError::NotPresent) => Ok(default),
        Err(std::env::VarError::NotUnicode(raw)) => {
            Err(SupervisorError::BadReadyTimeout { value: raw.to_string_lossy().into_owned() })
        }
    }
}

fn parse_timeout(value: &str) -> Result<Duration, SupervisorError> {
    match value.trim().parse::<u64>() {
        Ok(s) if (1..=MAX_READY_TIMEOUT_S).contains(&s) => Ok(Duration::from_secs(s)),
        _ => Err(SupervisorError::BadReadyTimeout { value: value.to_string() }),
    }
}

/// How a readiness wait ended.
#[derive(Debug)]
pub enum Readiness {
    /// `/health` answered 200 this long after `spawned_at`.
    Ready(Duration),
    /// The process exited first.
    Exited,
    /// Nothing answered 200 in time.
    TimedOut,
}

/// Polls `url` every millisecond, so the cold start is measured to about a millisecond (a
/// refused connect on loopback costs microseconds); `exited` is checked between polls.
pub fn wait_ready(url: &str, spawned_at: Instant, timeout: Duration, exited: impl Fn() -> bool) -> Readiness {
    let client = match reqwest::blocking::Client::builder().timeout(Duration::from_secs(2)).no_proxy().build() {
        Ok(client) => client,
        Err(_) => return Readiness::TimedOut,
    };
    let pause = Duration::from_millis(1);
    loop {
        if exited() {
            return Readiness::Exited;
        }
        if let Ok(response) = client.get(url).send() {
            if response.status() == reqwest::StatusCode::OK {
                return Readiness::Ready(spawned_at.elapsed());
            }
        }
        if spawned_at.elapsed() >= timeout {
            return Readiness::TimedOut;
        }
        std::thread::sleep(pause);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_timeouts_are_whole_seconds_within_bounds() {
        assert_eq!(parse_timeout("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_timeout(" 1 ").unwrap(), Duration::from_secs(1));
        for bad in ["0", "601", "-3", "1.5", "ten", ""] {
            let message = parse_timeout(bad).unwrap_err().to_string();
            assert!(message.contains("CLAIMBENCH_READY_TIMEOUT") && message.contains("1 to 600"), "{bad}: {message}");
        }
    }

    #[test]
    fn the_not_ready_message_names_the_variable_that_raises_the_timeout() {
        let e = SupervisorError::NotReady {
            stack: "express".into(),
            url: "http://127.0.0.1:1/health".into(),
            timeout: Duration::from_secs(30),
            tail: crate::error::Tail::default(),
        };
        assert!(e.to_string().contains("CLAIMBENCH_READY_TIMEOUT=SECONDS"), "{e}");
    }
}
