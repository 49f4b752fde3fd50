//! From measurements to verdicts: every piece of evidence becomes a paired ratio (trial k of the
//! numerator over trial k of the denominator), summarised by its median and an order-statistics
//! interval, and judged by [`decide_ratios`]. A side whose requests failed more often than the
//! evidence's error budget loses it outright. A claim's first evidence is primary and decides it;
//! the others are exploratory. Pure: no I/O, deterministic for the same input.

use std::collections::{BTreeMap, BTreeSet};

use claimbench_model::format;
use claimbench_model::run::{
    ClaimResult, Claimed, Estimate, ExperimentResult, LabeledVerdict, Measurement, Method, Outcome, Scalar, Verdict,
};

use crate::claims::{ClaimSpec, ClaimsFile, Evidence, Metric, Operand, Side, Units};
use crate::interval::order_interval;
use crate::runner::{error_ratio, ok_responses};
use crate::stats::geometric_mean;
use crate::verdict::{decide, decide_ratios};

/// The stack standing for each side in this run.
#[derive(Debug, Clone, Default)]
pub struct Sides {
    pub node: Option<String>,
    pub python: Option<String>,
}

impl Sides {
    /// `node:python`, when the run has a stack for each side.
    pub fn label(&self) -> Option<String> {
        Some(claimbench_model::run::pair_label(self.node.as_deref()?, self.python.as_deref()?))
    }

    fn stack(&self, side: Side) -> Option<&str> {
        match side {
            Side::Node => self.node.as_deref(),
            Side::Python => self.python.as_deref(),
        }
    }
}

/// A verdict for every claim, in file order.
pub fn evaluate(
    claims: &ClaimsFile,
    experiments: &[ExperimentResult],
    sides: &Sides,
    method: &Method,
) -> Vec<ClaimResult> {
    claims.claims.iter().map(|claim| evaluate_claim(claim, experiments, sides, method)).collect()
}

fn evaluate_claim(claim: &ClaimSpec, experiments: &[ExperimentResult], sides: &Sides, method: &Method) -> ClaimResult {
    let mut sub_verdicts: Vec<LabeledVerdict> = claim
        .evidence
        .iter()
        .enumerate()
        .map(|(i, e)| LabeledVerdict {
            label: e.label.clone(),
            experiment: Some(e.experiment.get_ref().clone()),
            primary: i == 0,
            verdict: evaluate_evidence(e, experiments, sides, method),
        })
        .collect();
    let verdict = match (&claim.not_measured, sub_verdicts.first()) {
        (Some(reason), _) => Verdict {
            outcome: Outcome::NotMeasured,
            estimate: None,
            key_number: Outcome::NotMeasured.label().into(),
            reason: reason.clone(),
        },
        (None, Some(first)) => first.verdict.clone(),
        (None, None) => Verdict {
            outcome: Outcome::NotMeasured,
            estimate: None,
            key_number: Outcome::NotMeasured.label().into(),
            reason: "no evidence is defined for this claim".into(),
        },
    };
    // The first evidence is the headline; listing it again below would repeat it.
    if sub_verdicts.len() == 1 {
        sub_verdicts.clear();
    }
    ClaimResult {
        id: claim.id.clone(),
        quote: claim.quote.clone(),
        section: claim.section.clone(),
        tested_by: claim.tested_by.clone(),
        metric: claim.metric.clone(),
        direction: claim.direction.clone(),
        verdict,
        sub_verdicts,
        pair: sides.label(),
    }
}

fn not_measured(reason: String) -> Verdict {
    Verdict { outcome: Outcome::NotMeasured, estimate: None, key_number: Outcome::NotMeasured.label().into(), reason }
}

/// The verdict of one piece of evidence.
pub fn evaluate_evidence(
    evidence: &Evidence,
    experiments: &[ExperimentResult],
    sides: &Sides,
    method: &Method,
) -> Verdict {
    let (Some(num_stack), Some(den_stack)) =
        (sides.stack(evidence.numerator.side), sides.stack(evidence.denominator.side))
    else {
        return not_measured(
            "this run has no stack for one side of the comparison (use --stacks with one node and one python stack)"
                .into(),
        );
    };
    let Some(experiment) = experiments.iter().find(|x| &x.id == evidence.experiment.get_ref()) else {
        return not_measured(format!("{} was not run (filtered out)", evidence.experiment.get_ref()));
    };
    if experiment.measurements.is_empty() {
        let why = experiment.skipped_reason.clone().unwrap_or_else(|| "it has no measurements".into());
        let mut verdict = not_measured(format!("{}: {why}", evidence.experiment.get_ref()));
        if why.starts_with("not measurable") {
            verdict.key_number = "not measurable on this machine".into();
        } else if why.starts_with("not implemented by this stack") {
            verdict.key_number = "not implemented by this stack".into();
        }
        return verdict;
    }
    let absent: Vec<&String> = [&evidence.numerator, &evidence.denominator]
        .iter()
        .flat_map(|op| op.units())
        .filter(|label| !experiment.measurements.iter().any(|m| &m.label == *label))
        .collect();
    if let Some(why) = absent.iter().find_map(|label| experiment.not_measurable_units.get(*label)) {
        let mut verdict = not_measured(format!("{}: {why}", evidence.experiment.get_ref()));
        verdict.key_number = "not measurable on this machine".into();
        return verdict;
    }
    if let Some(label) = absent.first() {
        return not_measured(if method.primary_only {
            format!(
                "not measured in this profile: it runs only the units of the claims' primary evidences, \
                 and '{label}' of {} is not one (run --profile standard)",
                evidence.experiment.get_ref()
            )
        } else {
            format!("'{label}' of {} was not measured in this run", evidence.experiment.get_ref())
        });
    }
    // Wrong answers first: a stack that answered wrongly under load loses whatever it measured.
    let wrong = |stack: &str, operand: &Operand| {
        let all: Vec<&String> = experiment
            .measurements
            .iter()
            .filter(|m| m.stack == stack && operand.units().contains(&m.label))
            .flat_map(|m| &m.wrong_answers)
            .collect();
        all.first().map(|first| Loss {
            key: "wrong answers under load".into(),
            reason: format!("{} wrong answer(s) under load, e.g. {first}", all.len()),
        })
    };
    let (wrong_num, wrong_den) = (wrong(num_stack, &evidence.numerator), wrong(den_stack, &evidence.denominator));
    if wrong_num.is_some() || wrong_den.is_some() {
        return lost(evidence, method, num_stack, den_stack, wrong_num, wrong_den, "answered wrongly under load");
    }
    // Failures next: a stack whose requests all failed has no throughput, yet it lost.
    let budget = evidence.max_error_ratio.unwrap_or(method.max_error_ratio);
    let over = |stack: &str, operand: &Operand| {
        let failed = failures(&experiment.measurements, stack, operand);
        (failed.ratio > budget).then(|| Loss {
            key: format!("over the error budget ({})", format::percent(failed.ratio)),
            reason: format!("failed more requests than the {} error budget: {failed}", format::percent(budget)),
        })
    };
    // An evidence on the error ratio itself compares the failures; the budget would pre-empt it.
    if evidence.metric != Metric::ErrorRatio {
        let (over_num, over_den) = (over(num_stack, &evidence.numerator), over(den_stack, &evidence.denominator));
        if over_num.is_some() || over_den.is_some() {
            return lost(evidence, method, num_stack, den_stack, over_num, over_den, "over the error budget");
        }
    }
    let num = operand_values(&experiment.measurements, num_stack, &evidence.numerator, evidence.metric);
    let den = operand_values(&experiment.measurements, den_stack, &evidence.denominator, evidence.metric);
    for (stack, side) in [(num_stack, &num), (den_stack, &den)] {
        if let Err(reason) = side {
            return Verdict {
                outcome: Outcome::Invalid,
                estimate: None,
                key_number: Outcome::Invalid.label().into(),
                reason: format!("{stack}: {reason}"),
            };
        }
    }
    let (num, den) = (num.expect("checked above"), den.expect("checked above"));
    let ratios = paired_ratios(&num, &den);
    let left_out = invalid_reasons(
        &experiment.measurements,
        &[(num_stack, &evidence.numerator), (den_stack, &evidence.denominator)],
    );
    if ratios.is_empty() {
        return Verdict {
            outcome: Outcome::Invalid,
            estimate: None,
            key_number: Outcome::Invalid.label().into(),
            reason: format!(
                "no valid trial of one side has a valid partner trial of the other; {} trial(s) were invalid{}",
                left_out.len(),
                left_out.first().map(|r| format!(", e.g. {r}")).unwrap_or_default()
            ),
        };
    }
    let mut decision = decide_ratios(&ratios, evidence.claimed, method.noise_threshold, method.confidence);
    if let Some(capped) = Capped::of(evidence, &experiment.measurements, num_stack, den_stack) {
        capped.judge(&mut decision, &num, &den, evidence, method);
    }
    // Too few pairs for the requested level still show their spread, at the level it really has.
    let shown = decision.interval.unwrap_or_else(|_| order_interval(&ratios, 1).expect("ratios is not empty"));
    let (m, low, high) = (shown.median, shown.low, shown.high);
    let quantity = evidence.metric.quantity();
    let names = if num_stack == den_stack {
        format!("{num_stack} {}/{}", short_unit(&evidence.numerator), short_unit(&evidence.denominator))
    } else {
        format!("{num_stack}/{den_stack}")
    };
    let key_number = format!(
        "{names} {quantity} {} ({} CI {}–{}, {} pair{})",
        format::ratio(m),
        format::level(shown.level),
        format::sig3(low),
        format::sig3(high),
        ratios.len(),
        if ratios.len() == 1 { "" } else { "s" }
    );
    let reason = decision.reason;
    let reason = if left_out.is_empty() {
        reason
    } else {
        format!("{reason} ({} invalid trial(s) left out: {})", left_out.len(), left_out[0])
    };
    Verdict {
        outcome: decision.outcome,
        estimate: Some(Estimate {
            numerator: num_stack.to_string(),
            denominator: den_stack.to_string(),
            quantity: quantity.to_string(),
            ratio_median: m,
            ci_low: low,
            ci_high: high,
            confidence: Some(shown.level),
            pairs: ratios.len() as u32,
            spread: ratios,
            claimed: Some(evidence.claimed),
        }),
        key_number,
        reason,
    }
}

/// The trials of each side whose search held its ceiling, the load generator's own limit: there
/// the value is a lower bound of what the stack holds, not a measurement of it (rule 1: a cap set
/// by the harness must not decide a verdict).
struct Capped {
    /// Per unit of each operand, the trial numbers that held the ceiling.
    num: Vec<BTreeSet<u32>>,
    den: Vec<BTreeSet<u32>>,
    note: String,
}

/// How far above its ceiling a capped value is taken to go at most, for the bound of a ratio:
/// far enough to pass every other value.
const PAST_THE_CEILING: f64 = 1e6;

impl Capped {
    /// `None` unless the metric is a search's answer and some valid trial held the ceiling.
    fn of(evidence: &Evidence, measurements: &[Measurement], num_stack: &str, den_stack: &str) -> Option<Capped> {
        if !matches!(evidence.metric, Metric::SloMaxRate | Metric::SloRatePerCore | Metric::RoomMaxMembers) {
            return None;
        }
        let per_unit = |stack: &str, operand: &Operand| -> (Vec<BTreeSet<u32>>, usize, usize) {
            let valid: Vec<Vec<&Measurement>> = operand
                .units()
                .iter()
                .map(|label| measurements.iter().filter(|m| m.valid && m.stack == stack && &m.label == label).collect())
                .collect();
            let capped: Vec<BTreeSet<u32>> = valid
                .iter()
                .map(|unit| {
                    unit.iter()
                        .filter(|m| m.scalars.get(&Scalar::SearchCeilingHeld).is_some_and(|held| *held >= 1.0))
                        .map(|m| m.trial)
                        .collect()
                })
                .collect();
            let trials = valid.iter().map(Vec::len).sum();
            let held = capped.iter().map(BTreeSet::len).sum();
            (capped, held, trials)
        };
        let (num, num_held, num_trials) = per_unit(num_stack, &evidence.numerator);
        let (den, den_held, den_trials) = per_unit(den_stack, &evidence.denominator);
        if num_held + den_held == 0 {
            return None;
        }
        let side = |stack: &str, other: &str, operand: &Operand, held: usize, trials: usize| {
            format!(
                "{} in {held} of {trials} trial{}",
                names_of(stack, other, operand),
                if trials == 1 { "" } else { "s" }
            )
        };
        let sides: Vec<String> = [
            (num_stack, den_stack, &evidence.numerator, num_held, num_trials),
            (den_stack, num_stack, &evidence.denominator, den_held, den_trials),
        ]
        .into_iter()
        .filter(|(.., held, _)| *held > 0)
        .map(|(stack, other, operand, held, trials)| side(stack, other, operand, held, trials))
        .collect();
        let note = format!(
            "the search held its ceiling (the load generator's own limit, so the stack may hold more) for {}",
            sides.join(" and ")
        );
        Some(Capped { num, den, note })
    }

    /// Keeps `decision` only if no value the capped trials could truly have would change it: the
    /// ratios are decided again with the capped values of one side, then of the other, taken far
    /// past the ceiling. The decision is monotone in every value, so the two extremes bound it.
    fn judge(
        &self,
        decision: &mut crate::verdict::Decision,
        num: &[BTreeMap<u32, f64>],
        den: &[BTreeMap<u32, f64>],
        evidence: &Evidence,
        method: &Method,
    ) {
        let past = |side: &[BTreeMap<u32, f64>], capped: &[BTreeSet<u32>]| -> Vec<BTreeMap<u32, f64>> {
            side.iter()
                .zip(capped)
                .map(|(values, capped)| {
                    values
                        .iter()
                        .map(|(t, v)| (*t, if capped.contains(t) { v * PAST_THE_CEILING } else { *v }))
                        .collect()
                })
                .collect()
        };
        let outcome = |ratios: Vec<f64>| {
            decide_ratios(&ratios, evidence.claimed, method.noise_threshold, method.confidence).outcome
        };
        let lowest = outcome(paired_ratios(num, &past(den, &self.den)));
        let highest = outcome(paired_ratios(&past(num, &self.num), den));
        let bounded = evidence.claimed != Claimed::Equal && lowest == highest;
        if bounded {
            decision.reason = format!("{}; {}, which cannot change the verdict", decision.reason, self.note);
        } else {
            decision.reason = format!(
                "{}, and the verdict turns on how far beyond it they would go (the measured values alone read {}: {})",
                self.note,
                decision.outcome.label(),
                decision.reason
            );
            decision.outcome = Outcome::Inconclusive;
        }
    }
}

/// Why one side of an evidence lost it outright, whatever its numbers: a short key for the key
/// number and the reason in full.
struct Loss {
    key: String,
    reason: String,
}

/// The verdict of an evidence one or both sides lost outright (`num`, `den`): the side that lost
/// counts as far on its bad side as a ratio goes; both losing decides nothing (`both` says how).
fn lost(
    evidence: &Evidence,
    method: &Method,
    num_stack: &str,
    den_stack: &str,
    num: Option<Loss>,
    den: Option<Loss>,
    both: &str,
) -> Verdict {
    let name = |stack: &str, other: &str, operand: &Operand| names_of(stack, other, operand);
    match (num, den) {
        (Some(n), Some(d)) => Verdict {
            outcome: Outcome::Inconclusive,
            estimate: None,
            key_number: format!("both sides {both}"),
            reason: format!(
                "both sides {both}: {} {}; {} {}",
                name(num_stack, den_stack, &evidence.numerator),
                n.reason,
                name(den_stack, num_stack, &evidence.denominator),
                d.reason
            ),
        },
        (n, d) => {
            let numerator_lost = n.is_some();
            let (loser, loss) = match (n, d) {
                (Some(n), _) => (name(num_stack, den_stack, &evidence.numerator), n),
                (_, Some(d)) => (name(den_stack, num_stack, &evidence.denominator), d),
                _ => unreachable!("lost is called with at least one loss"),
            };
            let ratio_above = numerator_lost != evidence.metric.higher_is_better();
            let (low, high) = if ratio_above { (f64::MAX, f64::MAX) } else { (f64::MIN_POSITIVE, f64::MIN_POSITIVE) };
            Verdict {
                outcome: decide(low, high, evidence.claimed, method.noise_threshold),
                estimate: None,
                key_number: format!("{loser} {}", loss.key),
                reason: format!("{loser} {}, so it loses this evidence", loss.reason),
            }
        }
    }
}

/// The requests one operand's valid trials sent and failed, by error class.
struct Failures {
    ratio: f64,
    requests: u64,
    by_class: BTreeMap<String, u64>,
}

impl std::fmt::Display for Failures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let classes: Vec<String> =
            self.by_class.iter().filter(|(_, n)| **n > 0).map(|(class, n)| format!("{class} {n}")).collect();
        let failed: u64 = self.by_class.values().sum();
        write!(
            f,
            "{failed} of {} requests failed ({}; {})",
            self.requests,
            format::percent(self.ratio),
            classes.join(", ")
        )
    }
}

fn failures(measurements: &[Measurement], stack: &str, operand: &Operand) -> Failures {
    let mut out = Failures { ratio: 0.0, requests: 0, by_class: BTreeMap::new() };
    let loads = measurements
        .iter()
        .filter(|m| m.valid && m.stack == stack && operand.units().contains(&m.label))
        .filter_map(|m| m.load.as_ref());
    for load in loads {
        out.requests += load.requests;
        for (class, n) in &load.errors {
            *out.by_class.entry(class.clone()).or_default() += n;
        }
    }
    let failed: u64 = out.by_class.values().sum();
    out.ratio = if out.requests == 0 { 0.0 } else { failed as f64 / out.requests as f64 };
    out
}

/// How one side is named in a reason: the stack, and for a ratio within one stack its unit too.
fn names_of(stack: &str, other: &str, operand: &Operand) -> String {
    if stack == other {
        format!("{stack} '{}'", operand.unit.get_ref())
    } else {
        stack.to_string()
    }
}

fn short_unit(operand: &Operand) -> String {
    match operand.unit.get_ref() {
        Units::Label(label) => label.clone(),
        Units::GeoMean(_) => "pooled".to_string(),
    }
}

/// The first reason of every invalid measurement feeding these operands.
fn invalid_reasons(measurements: &[Measurement], operands: &[(&str, &Operand)]) -> Vec<String> {
    measurements
        .iter()
        .filter(|m| !m.valid && operands.iter().any(|(stack, op)| m.stack == *stack && op.units().contains(&m.label)))
        .map(|m| format!("{}: {}", m.id, m.invalid_reasons.first().map(String::as_str).unwrap_or("invalid")))
        .collect()
}

/// Metric values of one operand, one map by trial number per unit, from valid measurements only;
/// an error names why nothing valid was found.
fn operand_values(
    measurements: &[Measurement],
    stack: &str,
    operand: &Operand,
    metric: Metric,
) -> Result<Vec<BTreeMap<u32, f64>>, String> {
    let units = operand.units();
    let mut per_unit: Vec<BTreeMap<u32, f64>> = Vec::new();
    for unit in units {
        let all: Vec<&Measurement> = measurements.iter().filter(|m| m.stack == stack && m.label == *unit).collect();
        if all.is_empty() {
            return Err(format!("'{unit}' was not measured"));
        }
        let valid: BTreeMap<u32, f64> =
            all.iter().filter(|m| m.valid).filter_map(|m| metric_value(m, metric).map(|v| (m.trial, v))).collect();
        if valid.is_empty() {
            let reason = all
                .iter()
                .flat_map(|m| m.invalid_reasons.first())
                .next()
                .cloned()
                .unwrap_or_else(|| "no usable value".into());
            return Err(format!("every '{unit}' measurement is invalid: {reason}"));
        }
        per_unit.push(valid);
    }
    Ok(per_unit)
}

/// The per-pair ratios of two operands, each given as its units' values by trial number.
///
/// One unit a side: trial k over trial k, the two trials that ran next to each other. Pooled
/// units (a geometric mean over the same number of units a side): each unit's own pairs first,
/// trial k over trial k, then the i-th pair of every unit pooled into the i-th ratio. The units
/// run in blocks minutes apart, so their trial numbers line up by order alone; pooling by order
/// keeps a pair that one unit lost from costing every other unit its pair of that number.
fn paired_ratios(num: &[BTreeMap<u32, f64>], den: &[BTreeMap<u32, f64>]) -> Vec<f64> {
    let ok = |r: &f64| r.is_finite() && *r > 0.0;
    let pairs = |n: &BTreeMap<u32, f64>, d: &BTreeMap<u32, f64>| -> Vec<f64> {
        n.iter().filter_map(|(trial, n)| d.get(trial).map(|d| n / d)).filter(ok).collect()
    };
    if let ([n], [d]) = (num, den) {
        return pairs(n, d);
    }
    if num.len() == den.len() {
        let per_unit: Vec<Vec<f64>> = num.iter().zip(den).map(|(n, d)| pairs(n, d)).collect();
        let count = per_unit.iter().map(Vec::len).min().unwrap_or(0);
        return (0..count)
            .filter_map(|i| geometric_mean(&per_unit.iter().map(|r| r[i]).collect::<Vec<_>>()))
            .filter(ok)
            .collect();
    }
    // Different units a side: pool each side by trial number, then pair.
    let pooled = |side: &[BTreeMap<u32, f64>]| -> BTreeMap<u32, f64> {
        side[0]
            .keys()
            .filter(|t| side.iter().all(|u| u.contains_key(t)))
            .filter_map(|t| geometric_mean(&side.iter().map(|u| u[t]).collect::<Vec<_>>()).map(|g| (*t, g)))
            .collect()
    };
    pairs(&pooled(num), &pooled(den))
}

/// The number `metric` takes in one measurement, if it has it.
pub fn metric_value(m: &Measurement, metric: Metric) -> Option<f64> {
    let load = m.load.as_ref();
    let positive = |v: f64| (v.is_finite() && v > 0.0).then_some(v);
    match metric {
        Metric::Throughput => load.and_then(|l| positive(ok_responses(l) as f64 / l.duration_s)),
        // Failed requests count at the timeout, so a stack cannot shorten its tail by failing.
        Metric::P50 => load.and_then(|l| positive(l.judged_latency().p50_us / 1000.0)),
        Metric::P99 => load.and_then(|l| positive(l.judged_latency().p99_us / 1000.0)),
        // No floor: a ratio of two small overheads is what was measured (a floor would decide it).
        Metric::P99Overhead => m.scalars.get(&Scalar::P99OverheadMs).copied().and_then(positive),
        Metric::CpuPer1k => load.and_then(|l| positive(m.app_cpu_s / ok_responses(l) as f64 * 1000.0)),
        Metric::ConnectP99 => load.and_then(|l| positive(l.connect.as_ref()?.p99_us / 1000.0)),
        Metric::FirstByteP99 => load.and_then(|l| positive(l.first_byte.as_ref()?.p99_us / 1000.0)),
        Metric::ChunkGapP99 => load.and_then(|l| positive(l.chunk_gaps.as_ref()?.p99_us / 1000.0)),
        Metric::BodyThroughput => load.and_then(|l| {
            let per_exchange = (l.bytes_in + l.bytes_out) as f64 / ok_responses(l) as f64;
            positive(per_exchange * f64::from(l.plan.connections) / (l.latency.mean_us / 1e6))
        }),
        Metric::CpuPerGb => load.and_then(|l| positive(m.app_cpu_s / ((l.bytes_in + l.bytes_out) as f64 / 1e9))),
        Metric::DbCpuPer1k => load.and_then(|l| {
            let db = m.scalars.get(&Scalar::DatabaseCpuS)?;
            positive(db / ok_responses(l) as f64 * 1000.0)
        }),
        // No database CPU on record (an external server) means no value, never the app's alone.
        Metric::AppDbCpuPer1k => load.and_then(|l| {
            let db = m.scalars.get(&Scalar::DatabaseCpuS)?;
            positive((m.app_cpu_s + db) / ok_responses(l) as f64 * 1000.0)
        }),
        Metric::PeakRss => positive(m.app_peak_rss_bytes as f64),
        Metric::ErrorRatio => load.map(|l| error_ratio(l).max(1e-6)),
        Metric::ColdStartMs => m.scalars.get(&Scalar::ColdStartMs).copied().and_then(positive),
        Metric::IdleRss => m.scalars.get(&Scalar::IdleRssBytes).copied().and_then(positive),
        // No floor either; a trial whose memory did not grow has no ratio and loses its pair.
        Metric::RssPerConnection => m.scalars.get(&Scalar::RssPerConnectionBytes).copied().and_then(positive),
        Metric::SloMaxRate => m.scalars.get(&Scalar::SloMaxRate).copied().and_then(positive),
        Metric::RoomMaxMembers => m.scalars.get(&Scalar::RoomMaxMembers).copied().and_then(positive),
        // A one-worker app runs on one core of its own; several workers get one each.
        Metric::SloRatePerCore => {
            m.scalars.get(&Scalar::SloMaxRate).and_then(|rate| positive(rate / m.workers.unwrap_or(1) as f64))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_trial(values: &[(u32, f64)]) -> BTreeMap<u32, f64> {
        values.iter().copied().collect()
    }

    #[test]
    fn one_unit_a_side_pairs_trial_k_with_trial_k() {
        let num = [by_trial(&[(1, 2.0), (2, 4.0), (3, 6.0)])];
        let den = [by_trial(&[(1, 1.0), (3, 2.0), (4, 9.0)])];
        assert_eq!(paired_ratios(&num, &den), [2.0, 3.0]);
    }

    #[test]
    fn pooled_units_keep_every_unit_s_own_pairs_when_one_unit_lost_a_trial() {
        // Unit b lost trial 2 on the numerator side and made it up as trial 7: it still has
        // three pairs, and the pool keeps three ratios instead of the two trial numbers that
        // every unit shares.
        let num = [by_trial(&[(1, 2.0), (2, 2.0), (3, 2.0)]), by_trial(&[(1, 8.0), (3, 8.0), (7, 8.0)])];
        let den = [by_trial(&[(1, 1.0), (2, 1.0), (3, 1.0)]), by_trial(&[(1, 2.0), (2, 2.0), (3, 2.0), (7, 2.0)])];
        let ratios = paired_ratios(&num, &den);
        assert_eq!(ratios.len(), 3);
        for r in ratios {
            assert!((r - (2.0f64 * 4.0).sqrt()).abs() < 1e-12, "{r}");
        }
    }
}
