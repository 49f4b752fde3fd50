//! Plain data shared by every claimbench crate: serde types and nothing that does I/O.
//!
//! The end crates (engine, supervisor, conformance, suite, report, history) depend on this
//! crate and not on each other, so a report can be re-rendered from serialized results without
//! running anything.

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod calibration;
pub mod compare;
pub mod contract;
pub mod database;
pub mod format;
pub mod history;
pub mod jsonl;
pub mod load;
pub mod run;
pub mod schema;
pub mod stack;
pub mod stats;
