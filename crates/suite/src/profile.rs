//! Profiles: how long and how often each experiment runs. `smoke` is for tests, `quick` (the
//! default) fits in five minutes on a 2-core machine, `standard` repeats more, `nightly` runs
//! longer within 45 minutes.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::SuiteError;

/// The knobs a profile sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub name: String,
    /// Trials per stack and setting; trials of the two stacks alternate A B B A …
    pub reps: u32,
    /// Length of one measured trial.
    pub trial: Duration,
    /// Engine warm-up before each trial (kept out of the results).
    pub trial_warmup: Duration,
    /// Warm-up load on each freshly started stack (V8's JIT needs it).
    pub stack_warmup: Duration,
    /// Length of one open-loop rate step in the SLO search.
    pub slo_step: Duration,
    /// Spawns per stack in E-coldstart.
    pub cold_starts: u32,
    /// Connection counts scale down in smoke runs so tests stay light.
    pub connection_scale: f64,
}

impl Profile {
    /// The profile called `name`.
    pub fn named(name: &str) -> Result<Profile, SuiteError> {
        let ms = Duration::from_millis;
        let profile = match name {
            "smoke" => Profile {
                name: name.into(),
                reps: 2,
                trial: ms(300),
                trial_warmup: ms(100),
                stack_warmup: ms(300),
                slo_step: ms(250),
                cold_starts: 2,
                connection_scale: 0.1,
            },
            "quick" => Profile {
                name: name.into(),
                reps: 3,
                trial: ms(800),
                trial_warmup: ms(200),
                stack_warmup: ms(1000),
                slo_step: ms(600),
                cold_starts: 5,
                connection_scale: 1.0,
            },
            "standard" => Profile {
                name: name.into(),
                reps: 5,
                trial: ms(2000),
                trial_warmup: ms(500),
                stack_warmup: ms(3000),
                slo_step: ms(1000),
                cold_starts: 10,
                connection_scale: 1.0,
            },
            "nightly" => Profile {
                name: name.into(),
                reps: 8,
                trial: ms(3000),
                trial_warmup: ms(1000),
                stack_warmup: ms(5000),
                slo_step: ms(2000),
                cold_starts: 10,
                connection_scale: 1.0,
            },
            other => {
                return Err(SuiteError::UnknownProfile(other.to_string()));
            }
        };
        Ok(profile)
    }

    /// Every profile name, shortest first.
    pub const NAMES: [&'static str; 4] = ["smoke", "quick", "standard", "nightly"];

    /// `connections` scaled for this profile, at least 1.
    pub fn connections(&self, connections: u32) -> u32 {
        ((connections as f64 * self.connection_scale).round() as u32).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_grow_from_smoke_to_nightly() {
        let p: Vec<Profile> = Profile::NAMES.iter().map(|n| Profile::named(n).unwrap()).collect();
        for pair in p.windows(2) {
            assert!(
                pair[0].reps <= pair[1].reps && pair[0].trial < pair[1].trial,
                "{} then {}",
                pair[0].name,
                pair[1].name
            );
        }
    }

    #[test]
    fn an_unknown_profile_names_the_known_ones() {
        let err = Profile::named("fast").unwrap_err().to_string();
        assert!(err.contains("fast") && err.contains("quick") && err.contains("nightly"), "{err}");
    }
}
