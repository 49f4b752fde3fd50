//! The article's claims as experiments: which trials to run ([`experiments`]) on which pairs of
//! stacks ([`pairs`]), in what order and
//! with which checks ([`runner`], through the [`Lab`] seam), what they conclude ([`evaluate`],
//! [`interval`], [`stats`], [`verdict`]), and what changed between two runs ([`compare`], which
//! reuses the same statistics and noise band).
//!
//! The suite never starts a process or opens a socket itself: the CLI implements [`Lab`] with the
//! supervisor and the engine, and tests and fixture generators use [`scripted::ScriptedLab`].
//! Results and comparisons are the model crate's plain types (`run`, `compare`), so the report
//! renders them without this crate.

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod assemble;
pub mod claims;
pub mod compare;
pub mod evaluate;
pub mod experiments;
pub mod interval;
pub mod pairs;
pub mod profile;
pub mod runner;
pub mod scripted;
pub mod slo;
pub mod stats;
pub mod verdict;

pub use assemble::{assemble, sides_of};
pub use claims::{load_claims, ClaimSpec, ClaimsFile};
pub use compare::{compare, CompareOptions, Comparison};
pub use evaluate::evaluate;
pub use experiments::{catalogue, Experiment, Instance, Load, Unit};
pub use pairs::{Pair, PairError};
pub use profile::{Profile, ProfileName};
pub use runner::{ExtraStacks, Lab, LabFailure, Measured, Progress, RunOptions, Runner};

use std::path::PathBuf;

/// Errors of the suite itself (not of a measurement, which is recorded as invalid instead).
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("cannot use the claims file {path}: {message}")]
    Claims { path: PathBuf, message: String },
    #[error("unknown profile '{0}': use one of smoke, quick, standard, nightly")]
    UnknownProfile(String),
    #[error("unknown claim '{name}': the claims are {known}")]
    UnknownClaim { name: String, known: String },
}
