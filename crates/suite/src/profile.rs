//! Profiles: how long and how often each experiment runs. `smoke` is for tests; `quick` (the
//! default) fits in five minutes on a 2-core machine by running only the units of the claims'
//! primary evidences, with the 6 pairs a 95% order-statistics interval needs; `standard` runs
//! every evidence with 12 pairs; `nightly` runs every evidence with 12 pairs of 3 s trials within
//! 45 minutes. A unit may ask for more pairs than its profile's (E-cost 16, E-hol 12 and
//! E-broadcast's room 10, whose per-pair ratios have tails that spoil a 6-pair interval). Trials
//! per stack are always even, so the A B, B A order comes in whole blocks.
//!
//! Which stacks: `smoke`, `quick` and `nightly` compare express with fastapi; `standard` adds
//! three more pairs (node-http:starlette, the runtime floor; nestjs:django, the full frameworks;
//! fastify:flask), but every pair after the first runs only the units of the claims' primary
//! evidences, as quick does, so the profile does not grow fourfold (standard plans about 93
//! minutes instead of 47; it has no budget). `nightly` keeps one pair: with four it would plan
//! about 96 minutes, over its 45-minute budget and the nightly workflow's 90-minute timeout.
//! `--pairs` or `--stacks` chooses other pairs
//! ([`crate::pairs`]).

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
    /// Runs longer: within 45 minutes for one pair, about 100 for its default four.
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
    /// Trials per stack and setting, even: trials of the two stacks run in whole A B, B A blocks.
    pub reps: u32,
    /// Length of one measured trial.
    pub trial: Duration,
    /// Engine warm-up before each trial (kept out of the results).
    pub trial_warmup: Duration,
    /// Warm-up load on each freshly started stack (V8's JIT needs it).
    pub stack_warmup: Duration,
    /// Unmeasured load of a unit's own shape on each app instance before that unit's first trial
    /// there (zero: none). The stack warm-up meets only `/json`; without this, the first trial of a
    /// unit met its code path and load level cold. Over nine quick runs on 2026-12-07, Express's
    /// first trial of a unit against the median of its later ones: fan-out p99 1.33×, CPU per
    /// request 1.14×, throughput at 500 connections 0.76× (FastAPI's: 0.96×, 1.04×, 0.99×), so
    /// one pair in six leaned against Express alone. A unit on a fresh app each block (memory per
    /// connection) is not primed: every one of its trials is a first one, alike in both stacks.
    #[serde(default)]
    pub priming: Duration,
    /// The shortest step of the SLO search; a step lasts longer when it needs the time for its
    /// 1,000 samples (a step at 1,000 req/s lasts 1.1 s).
    pub slo_step: Duration,
    /// Spawns per stack in E-coldstart.
    pub cold_starts: u32,
    /// Connection counts scale down in smoke runs so tests stay light.
    pub connection_scale: f64,
    /// Runs only the units the claims' primary (first) evidences read; the exploratory evidences
    /// then read "not measured in this profile".
    pub primary_only: bool,
    /// The pairs compared when neither `--pairs` nor `--stacks` is given, `node:python`, the
    /// first the main one; the others run only the units of the claims' primary evidences.
    pub pairs: Vec<String>,
    /// Runs E-broadcast's room-size search (a bisection per trial, 3-21 s each here): in
    /// `standard`, which has no budget, and in `smoke` at a tenth of the size, for the tests.
    /// `nightly`'s 45 minutes cannot hold it, and `quick` runs only primary evidences.
    #[serde(default)]
    pub room_search: bool,
    /// How long the whole command may take, from its start (first-use installs and the contract
    /// check included). A trial the harness spoiled is measured again, and a block short of pairs
    /// made up, only while the rest of the plan still fits; planned trials always run, so a steal
    /// storm costs pairs, reported, instead of the profile's time. `None`: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_budget: Option<Duration>,
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
        let pairs = |list: &[&str]| list.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        let (one, four) = (pairs(&crate::pairs::POPULAR[..]), pairs(&crate::pairs::FOUR[..]));
        match which {
            ProfileName::Smoke => Profile {
                name: name.into(),
                reps: 2,
                trial: ms(300),
                trial_warmup: ms(100),
                stack_warmup: ms(300),
                priming: ms(0),
                slo_step: ms(250),
                cold_starts: 2,
                connection_scale: 0.1,
                primary_only: false,
                pairs: one.clone(),
                room_search: true,
                time_budget: None,
            },
            ProfileName::Quick => Profile {
                name: name.into(),
                reps: 6,
                trial: ms(600),
                trial_warmup: ms(150),
                stack_warmup: ms(1000),
                priming: ms(400),
                slo_step: ms(600),
                cold_starts: 6,
                connection_scale: 1.0,
                primary_only: true,
                pairs: one.clone(),
                room_search: false,
                // Its 5 minutes, less 15 s for what the plan's estimate leaves out: the last
                // trials' overrun, the report, stopping the apps and the database.
                time_budget: Some(Duration::from_secs(285)),
            },
            ProfileName::Standard => Profile {
                name: name.into(),
                reps: 12,
                trial: ms(2000),
                trial_warmup: ms(500),
                stack_warmup: ms(3000),
                priming: ms(1000),
                slo_step: ms(500),
                cold_starts: 12,
                connection_scale: 1.0,
                primary_only: false,
                pairs: four,
                room_search: true,
                time_budget: None,
            },
            ProfileName::Nightly => Profile {
                name: name.into(),
                reps: 12,
                trial: ms(3000),
                trial_warmup: ms(250),
                stack_warmup: ms(4000),
                priming: ms(1000),
                slo_step: ms(700),
                cold_starts: 12,
                connection_scale: 1.0,
                primary_only: false,
                pairs: one,
                room_search: false,
                time_budget: None,
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
    fn every_profile_runs_whole_a_b_b_a_blocks_and_the_statistics_get_their_pairs() {
        for p in ProfileName::ALL.map(Profile::of) {
            assert!(p.reps % 2 == 0 && p.cold_starts % 2 == 0, "{}: odd trial counts break A B, B A blocks", p.name);
        }
        // A 95% order-statistics interval of the median needs 6 pairs (crate::interval); the
        // simulation test's PROFILES table assumes these counts.
        for (name, pairs) in [(ProfileName::Quick, 6), (ProfileName::Standard, 12), (ProfileName::Nightly, 12)] {
            let p = Profile::of(name);
            assert_eq!(p.reps, pairs, "{}", p.name);
            assert!(p.cold_starts >= 6, "{}", p.name);
        }
        assert!(Profile::of(ProfileName::Nightly).trial >= Duration::from_secs(3));
        assert!(Profile::of(ProfileName::Quick).primary_only);
        assert!(!Profile::of(ProfileName::Standard).primary_only && !Profile::of(ProfileName::Nightly).primary_only);
    }

    #[test]
    fn standard_compares_the_four_pairs_and_the_budgeted_profiles_the_popular_one() {
        for name in [ProfileName::Smoke, ProfileName::Quick, ProfileName::Nightly] {
            assert_eq!(Profile::of(name).pairs, ["express:fastapi"], "{name:?}");
        }
        let pairs = Profile::of(ProfileName::Standard).pairs;
        assert_eq!(pairs, ["express:fastapi", "node-http:starlette", "nestjs:django", "fastify:flask"]);
    }

    #[test]
    fn an_unknown_profile_names_the_known_ones() {
        let err = Profile::named("fast").unwrap_err().to_string();
        assert!(err.contains("fast") && err.contains("quick") && err.contains("nightly"), "{err}");
    }
}
