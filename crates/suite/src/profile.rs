//! Profiles: how long and how often each experiment runs. `smoke` is for tests, `quick` (the
//! default) fits in five minutes on a 2-core machine, `standard` repeats more, `nightly` runs
//! longer within 45 minutes.

use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::SuiteError;

/// The built-in profiles by name; with the `clap` feature, a `--profile` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum ProfileName {
    /// Seconds, for tests.
    Smoke,
    /// The default: fits in five minutes on a 2-core machine.
    Quick,
    /// Repeats more than quick.
    Standard,
    /// Runs longer, within 45 minutes.
    Nightly,
}

impl ProfileName {
    /// Every profile, shortest first.
    pub const ALL: [ProfileName; 4] =
        [ProfileName::Smoke, ProfileName::Quick, ProfileName::Standard, ProfileName::Nightly];

    /// The name as written on the command line and in results, e.g. `quick`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileName::Smoke => "smoke",
            ProfileName::Quick => "quick",
            ProfileName::Standard => "standard",
            ProfileName::Nightly => "nightly",
        }
    }
}

impl FromStr for ProfileName {
    type Err = SuiteError;

    fn from_str(name: &str) -> Result<ProfileName, SuiteError> {
        ProfileName::ALL
            .into_iter()
            .find(|p| p.as_str() == name)
            .ok_or_else(|| SuiteError::UnknownProfile(name.to_string()))
    }
}

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
    /// The profile called `name`, e.g. as recorded in an old run's results.
    pub fn named(name: &str) -> Result<Profile, SuiteError> {
        Ok(Profile::of(name.parse()?))
    }

    /// The knobs of a built-in profile.
    pub fn of(which: ProfileName) -> Profile {
        let ms = Duration::from_millis;
        let name = which.as_str();
        match which {
            ProfileName::Smoke => Profile {
                name: name.into(),
                reps: 2,
                trial: ms(300),
                trial_warmup: ms(100),
                stack_warmup: ms(300),
                slo_step: ms(250),
                cold_starts: 2,
                connection_scale: 0.1,
            },
            ProfileName::Quick => Profile {
                name: name.into(),
                reps: 3,
                trial: ms(800),
                trial_warmup: ms(200),
                stack_warmup: ms(1000),
                slo_step: ms(600),
                cold_starts: 5,
                connection_scale: 1.0,
            },
            ProfileName::Standard => Profile {
                name: name.into(),
                reps: 5,
                trial: ms(2000),
                trial_warmup: ms(500),
                stack_warmup: ms(3000),
                slo_step: ms(1000),
                cold_starts: 10,
                connection_scale: 1.0,
            },
            ProfileName::Nightly => Profile {
                name: name.into(),
                reps: 8,
                trial: ms(3000),
                trial_warmup: ms(1000),
                stack_warmup: ms(5000),
                slo_step: ms(2000),
                cold_starts: 10,
                connection_scale: 1.0,
            },
        }
    }

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
        let p: Vec<Profile> = ProfileName::ALL.into_iter().map(Profile::of).collect();
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
