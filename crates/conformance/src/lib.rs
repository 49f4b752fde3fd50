//! The conformance check: proves a running stack answers every example of the endpoint contract
//! (`fixtures/contract/contract.json`) before any load is applied.
//!
//! It checks status, media type, the `Server`/`Date`/length headers, bodies (JSON compared
//! canonically, byte-exact where the contract says so), each error case, minimum latencies and the
//! upstream hit counts, for the database examples the answer's shape and the database's own
//! statement counters, and for WebSocket endpoints HttpArena's list: the 101 and its
//! `Sec-WebSocket-Accept`, echoes in order, close codes, and a health check afterwards; for the
//! event streams their framing, consecutive ids, sizes and freshness; for the streamed bodies
//! their length and SHA-256. Starting
//! the stacks is the supervisor's job; this crate only talks HTTP
//! to a base URL it is given.

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod check;
mod compare;
mod database;
mod sse;
mod table;
mod websocket;

pub use check::{check_stack, load_contract, CheckResult, ConformanceError};
pub use compare::{json_equal, substitute_stack};
pub use database::{fortune_rows, unescape, CountersProbe};
pub use table::render_table;
