//! The engine's errors: every one names the input at fault and how to fix it.
//!
//! Failures of single requests are not errors here: they are counted by class in the result
//! (see `classify`). These are the reasons a whole run cannot start or its output cannot be
//! written.

use std::io;
use std::path::PathBuf;

/// Why a plan was refused or a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("`{url}` is not a usable target URL: {reason}; give one like http://127.0.0.1:8080/path or ws://127.0.0.1:8080/ws/echo")]
    InvalidUrl { url: String, reason: String },

    #[error(
        "`{host}` in `{url}` is not a loopback address: claimbench only sends load to 127.0.0.0/8, \
         localhost or [::1]; run the server on this machine and point at it there"
    )]
    NotLoopback { url: String, host: String },

    #[error("rate {rate} req/s is not usable: give a positive, finite number of requests per second")]
    InvalidRate { rate: f64 },

    #[error(
        "{connections} connections is not usable: give at least 1 (and at least one per thread, {threads} threads)"
    )]
    InvalidConnections { connections: usize, threads: usize },

    #[error("{what} must be longer than zero: give a positive duration such as `1s` or `500ms`")]
    ZeroDuration { what: &'static str },

    #[error("the plan has neither a measurement duration nor a request count: set one so the run stops by itself")]
    Unbounded,

    #[error("the open-loop schedule has no rate steps: give at least one step, or a constant rate")]
    NoRateSteps,

    #[error("the plan has no request template: add at least one (a GET of the URL's path will do)")]
    NoTemplates,

    #[error("request template {index} (`{method} {path}`) is not valid: {reason}")]
    InvalidTemplate { index: usize, method: String, path: String, reason: String },

    #[error("the WebSocket plan is not usable: {reason}")]
    InvalidWebSocket { reason: String },

    #[error("the server-sent-events plan is not usable: {reason}")]
    InvalidSse { reason: String },

    #[error("{threads} generator threads is not usable: give between 1 and {max}")]
    InvalidThreads { threads: usize, max: usize },

    #[error("core {core} is not available to this process (allowed: {allowed}): pick one of those")]
    CoreUnavailable { core: usize, allowed: String },

    #[error("could not pin the generator to core {core}: {source}; check the core number or run without pinning")]
    Pin { core: usize, source: io::Error },

    #[error("could not start the generator's {what}: {source}; the process may be out of threads or file descriptors (check `ulimit -n`)")]
    Runtime { what: &'static str, source: io::Error },

    #[error("a generator thread panicked: {0}; this is a bug in claimbench-engine, please report it")]
    WorkerPanicked(String),
}

/// Why an exporter could not write its file.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("could not write {path}: {source}; check that the folder exists and is writable")]
    Write { path: PathBuf, source: io::Error },

    #[error("could not serialize the result as {format}: {reason}; this is a bug in claimbench-engine")]
    Encode { format: &'static str, reason: String },
}

/// Why a histogram string from a result could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum HistogramError {
    #[error("`{prefix}...` is not base64: {reason}; pass the text of a `histograms` field of a load result unchanged")]
    Base64 { prefix: String, reason: String },

    #[error("the histogram `{prefix}...` does not decode as HdrHistogram V2: {reason}")]
    Decode { prefix: String, reason: String },

    #[error("could not merge histograms: {reason}; were they written by different engine versions?")]
    Merge { reason: String },
}
