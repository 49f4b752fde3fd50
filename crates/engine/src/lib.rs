//! The claimbench load engine: open- and closed-loop HTTP/1.1 and WebSocket load on loopback,
//! recorded in HDR histograms corrected for coordinated omission.
//!
//! Build a [`Plan`], call [`run`], and get a [`claimbench_model::load::LoadResult`]; write it out
//! with the functions in [`export`]. The engine owns sending and recording; what to measure and
//! what the numbers mean for a claim belong to the suite, drawing them to the report.
//!
//! How it is built: `plan` checks the plan and lays it out as phases; `pacer` decides when each
//! request goes (the only thing that differs between open and closed loop); `worker` is the one
//! loop every connection runs (`websocket` is its exchange for `ws://` targets: one message per
//! slot, echoes matched by sequence number; `broadcast` is a room's: members that send on
//! the pacer's slots and record every message they receive; `sse` is a server-sent-events
//! subscriber's: one GET, every event a delivery timed from its embedded send time); `connection` and `timer` are its socket and its clock;
//! `collector` records outcomes per worker and adds them up; `selfcheck` watches the generator;
//! `runner` ties one run together.

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod broadcast;
mod cancel;
mod collector;
mod connection;
mod error;
pub mod export;
pub mod histogram;
#[doc(hidden)]
pub mod hotpath;
mod pacer;
mod plan;
mod runner;
mod selfcheck;
mod sse;
mod timer;
mod websocket;
mod worker;

pub use cancel::Cancel;
pub use error::{EngineError, ExportError, HistogramError};
pub use plan::{
    Expect, Mode, Plan, Protocol, RateStep, RequestTemplate, RuntimeChoice, Schedule, Target, WsOptions, MAX_THREADS,
    WS_BROADCAST_MAX_BYTES, WS_BROADCAST_MIN_BYTES, WS_MAX_MESSAGE_BYTES, WS_MIN_MESSAGE_BYTES,
};
pub use runner::{run, ProgressEvent};
pub use selfcheck::Warning;
pub use worker::FINE_TIMER_CONNECTIONS;
