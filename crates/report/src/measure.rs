//! The one place that reads the engine's `LoadResult`: plain numbers for the views and charts.
//!
//! Keeping every field access here means a change in the load-result schema touches one file.
//! Nothing is estimated here: these are lookups and unit conversions, never statistics.

use std::collections::BTreeMap;

use claimbench_model::run::Measurement;

/// One point of a latency distribution: percentile rank as a fraction in [0, 1] and its value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantile {
    pub fraction: f64,
    pub value_us: f64,
}

/// One interval of a trial's time series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntervalPoint {
    /// Seconds since the trial started, at the end of the interval.
    pub t_s: f64,
    /// Requests completed per second during the interval.
    pub rate: f64,
    /// p99 latency during the interval.
    pub p99_us: f64,
}

/// One open-loop rate step: what was asked, what came back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatePoint {
    pub offered: f64,
    pub achieved: f64,
    pub p99_us: f64,
}

/// The headline numbers of a load run, corrected for coordinated omission.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Headline {
    pub throughput: f64,
    pub requests: u64,
    pub errors: u64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
}

/// Headline numbers, if the measurement ran load.
pub fn headline(m: &Measurement) -> Option<Headline> {
    let load = m.load.as_ref()?;
    Some(Headline {
        throughput: load.achieved_rate,
        requests: load.requests,
        errors: load.errors.values().sum(),
        p50_us: load.latency.p50_us,
        p99_us: load.latency.p99_us,
        p999_us: load.latency.p999_us,
        max_us: load.latency.max_us,
    })
}

/// The corrected latency distribution, lowest percentile first.
pub fn distribution(m: &Measurement) -> Vec<Quantile> {
    let Some(load) = m.load.as_ref() else {
        return Vec::new();
    };
    load.distribution.iter().map(|p| Quantile { fraction: p.percentile / 100.0, value_us: p.value_us }).collect()
}

/// The per-interval series, in time order.
pub fn intervals(m: &Measurement) -> Vec<IntervalPoint> {
    let Some(load) = m.load.as_ref() else {
        return Vec::new();
    };
    load.intervals
        .iter()
        .map(|i| {
            let width = (i.t_s - i.start_s).max(1e-3);
            IntervalPoint { t_s: i.t_s, rate: i.requests as f64 / width, p99_us: i.p99_us }
        })
        .collect()
}

/// Open-loop rate steps; a single-rate trial is one step.
pub fn rate_points(m: &Measurement) -> Vec<RatePoint> {
    let Some(load) = m.load.as_ref() else {
        return Vec::new();
    };
    if load.steps.iter().any(|s| s.members.is_some()) {
        return Vec::new();
    }
    if !load.steps.is_empty() {
        return load
            .steps
            .iter()
            .map(|s| RatePoint { offered: s.target_rate, achieved: s.achieved_rate, p99_us: s.latency.p99_us })
            .collect();
    }
    match m.offered_rate.or(load.target_rate) {
        Some(offered) => vec![RatePoint { offered, achieved: load.achieved_rate, p99_us: load.latency.p99_us }],
        None => Vec::new(),
    }
}

/// A room search's steps as `(members, fan-out p99 µs)`, fewest members first; empty for any
/// other measurement.
pub fn room_points(m: &Measurement) -> Vec<(f64, f64)> {
    let Some(load) = m.load.as_ref() else {
        return Vec::new();
    };
    let mut points: Vec<(f64, f64)> =
        load.steps.iter().filter_map(|s| Some((f64::from(s.members?), s.latency.p99_us))).collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
}

/// Failed requests by error class (timeouts, resets, HTTP 5xx, ...).
pub fn errors_by_class(m: &Measurement) -> BTreeMap<String, u64> {
    m.load
        .as_ref()
        .map(|l| l.errors.iter().filter(|(_, n)| **n > 0).map(|(k, n)| (k.clone(), *n)).collect())
        .unwrap_or_default()
}

/// Why the load generator could not keep up, if it could not.
pub fn generator_saturation(m: &Measurement) -> Option<Vec<String>> {
    let load = m.load.as_ref()?;
    load.generator_saturated.then(|| load.saturation_reasons.clone())
}

/// The share of its cores the generator used, if the measurement ran load.
pub fn generator_cpu_fraction(m: &Measurement) -> Option<f64> {
    m.load.as_ref().map(|l| l.self_check.cpu_fraction)
}
