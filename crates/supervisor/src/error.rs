//! The supervisor's errors: each names what went wrong and what to do about it, and a failing
//! child's stderr tail is shown between rulers.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong while installing, starting or watching a stack.
#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    #[error("unknown stack '{name}': the registry ({registry}) has {known}; add an entry there to bundle a new stack")]
    UnknownStack { name: String, known: String, registry: PathBuf },

    #[error("cannot read the stack registry {path}: {message}")]
    Registry { path: PathBuf, message: String },

    #[error("cannot find the claimbench repository root (a folder with fixtures/stacks.toml): run from inside the checkout or set CLAIMBENCH_ROOT")]
    NoRoot,

    #[error("{runtime} was not found ({tried}): install {runtime} {need} or newer with your package manager, or set {env_var} to its path")]
    RuntimeMissing { runtime: &'static str, tried: String, need: &'static str, env_var: &'static str },

    #[error("{runtime} {found} found, claimbench needs {runtime} >= {need}: install a newer one with your package manager or set {env_var}")]
    RuntimeTooOld { runtime: &'static str, found: String, need: &'static str, env_var: &'static str },

    #[error("{flag} {asked}: {why}")]
    RuntimeChoice { flag: &'static str, asked: String, why: String },

    #[error("installing {what} failed: `{command}` {status}{tail}")]
    InstallFailed { what: String, command: String, status: String, tail: Tail },

    #[error("could not start {stack} (`{command}`): {source}")]
    Spawn { stack: String, command: String, source: std::io::Error },

    #[error("{stack} exited during startup ({status}) before /health answered{tail}")]
    ExitedAtStartup { stack: String, status: String, tail: Tail },

    #[error("{stack} did not answer 200 on {url} within {timeout:?}: if the machine is slow, raise the readiness timeout with {env}=SECONDS{tail}", env = crate::readiness::READY_TIMEOUT_ENV)]
    NotReady { stack: String, url: String, timeout: Duration, tail: Tail },

    #[error("{var}={value:?} is not a readiness timeout: give whole seconds from 1 to {max}", var = crate::readiness::READY_TIMEOUT_ENV, max = crate::readiness::MAX_READY_TIMEOUT_S)]
    BadReadyTimeout { value: String },

    #[error("{stack} cannot be pinned to CPUs {cpus}: {message}")]
    Pin { stack: String, cpus: String, message: String },

    #[error("{stack} died ({status}){tail}")]
    Died { stack: String, status: String, tail: Tail },

    #[error("PostgreSQL's {tools} not found (looked in {tried}): install it with `apt-get install postgresql` (the Debian package puts them in /usr/lib/postgresql/VERSION/bin), set {env} to the folder holding them, or use a running server with --database-url postgres://…", env = crate::database::PG_BIN_ENV)]
    DatabaseMissing { tools: String, tried: String },

    #[error("the database failed while {step} ({status}){tail}")]
    DatabaseFailed { step: String, status: String, tail: Tail },

    #[error("--database-url {url:?} is not a PostgreSQL URL ({why}): give one like postgres://user:password@127.0.0.1:5432/dbname")]
    BadDatabaseUrl { url: String, why: String },

    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
}

/// A child's last stderr lines, displayed between rulers (or nothing when empty).
#[derive(Debug, Clone, Default)]
pub struct Tail(pub String);

impl std::fmt::Display for Tail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.0.trim_end();
        if text.is_empty() {
            return write!(f, " (it printed nothing on stderr)");
        }
        let ruler = "-".repeat(72);
        write!(f, "; its stderr ends with:\n{ruler}\n{text}\n{ruler}")
    }
}

impl SupervisorError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> SupervisorError {
        SupervisorError::Io { context: context.into(), source }
    }
}
