//! Waiting for a freshly spawned app: poll `/health` until it answers 200, the app exits, or the
//! timeout passes. The time from spawn to the first 200 is the cold start.

use std::time::{Duration, Instant};

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

/// Polls `url` every few milliseconds; `exited` is checked between polls.
pub fn wait_ready(url: &str, spawned_at: Instant, timeout: Duration, exited: impl Fn() -> bool) -> Readiness {
    let client = match reqwest::blocking::Client::builder().timeout(Duration::from_secs(2)).no_proxy().build() {
        Ok(client) => client,
        Err(_) => return Readiness::TimedOut,
    };
    let mut pause = Duration::from_millis(2);
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
        pause = (pause * 2).min(Duration::from_millis(25));
    }
}
