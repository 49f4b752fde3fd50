//! Putting a run together: the header written when the run starts, the measurements as they
//! arrived, the catalogue and the claims become one [`RunResults`]. `claimbench run` does this at
//! the end, and `claimbench report DIR` does it for an interrupted run from its JSONL. A negative
//! control outside the noise band becomes a run-wide warning.

use claimbench_model::run::{
    ClaimResult, Claimed, ExperimentResult, FrameworkSpread, Measurement, Method, Outcome, PairResults, RunResults,
    RuntimeVerdict,
};
use claimbench_model::stack::Runtime;

use crate::claims::ClaimsFile;
use crate::claims::Side;
use crate::evaluate::{evaluate, evaluate_evidence, Sides};
use crate::experiments::Experiment;
use crate::pairs::{POPULAR, RUNTIME_FLOOR};
use crate::runner::{NOT_REPEATED, STORM_HELD};

/// Which stack stands for node and which for python: the run's first pair, or in a run written
/// without pairs the first of each runtime in the header, where a stack's runtime is its role
/// when the environment gives it one (an A/A calibration).
pub fn sides_of(header: &RunResults) -> Sides {
    if let Some(first) = header.pairs.first() {
        return Sides { node: Some(first.node.clone()), python: Some(first.python.clone()) };
    }
    let environment = &header.environment;
    let role = |name: &String, runtime: Runtime| environment.roles.get(name).copied().unwrap_or(runtime);
    let first = |runtime: Runtime| {
        environment.stacks.iter().find(|(name, s)| role(name, s.runtime) == runtime).map(|(name, _)| name.clone())
    };
    Sides { node: first(Runtime::Node), python: first(Runtime::Python) }
}

/// Fills `header` with the experiments (in catalogue order, measurements in arrival order) and
/// a verdict for every claim, for the first pair in `claims` and for every further pair in its
/// entry of `pairs`: each pair is judged on its own two stacks' measurements alone.
pub fn assemble(
    mut header: RunResults,
    measurements: Vec<Measurement>,
    catalogue: &[Experiment],
    claims: &ClaimsFile,
) -> RunResults {
    let mut experiments: Vec<ExperimentResult> = catalogue
        .iter()
        .map(|e| ExperimentResult {
            not_measurable_units: header
                .not_measurable
                .iter()
                .filter_map(|(key, why)| {
                    let label = key.strip_prefix(e.id.as_str())?.strip_prefix(' ')?;
                    Some((label.to_string(), why.clone()))
                })
                .collect(),
            ..e.empty_result()
        })
        .collect();
    for m in measurements {
        match experiments.iter_mut().find(|e| e.id == m.experiment) {
            Some(e) => e.measurements.push(m),
            None => {
                header.warnings.push(format!("measurement {} belongs to no known experiment and was left out", m.id))
            }
        }
    }
    for e in experiments.iter_mut().filter(|e| e.measurements.is_empty()) {
        e.skipped_reason = Some(if let Some(why) = header.not_measurable.get(&e.id) {
            why.clone()
        } else if header.complete && header.method.primary_only {
            "not run: this profile runs only the units of the claims' primary evidences, or --claims left it out".into()
        } else if header.complete {
            "not selected by this run's --claims filter".into()
        } else {
            "the run stopped before this experiment".into()
        });
    }
    let sides = sides_of(&header);
    let first = pair_view(&experiments, &sides, &header.not_measurable, "not measured on this pair's stacks", false);
    header.claims = evaluate(claims, &first, &sides, &header.method);
    header.warnings.extend(failed_controls(&header.claims));
    header.warnings.extend(unrepeated(&experiments));
    let mut pairs = std::mem::take(&mut header.pairs);
    for pair in pairs.iter_mut().skip(1) {
        let sides = Sides { node: Some(pair.node.clone()), python: Some(pair.python.clone()) };
        let absent =
            "not run for this pair: the run's further pairs run only the units of the claims' primary evidences";
        let view = pair_view(&experiments, &sides, &pair.not_implemented, absent, true);
        let method = Method { primary_only: header.method.primary_only || pair.primary_only, ..header.method.clone() };
        pair.claims = evaluate(claims, &view, &sides, &method);
        let label = pair.label();
        header.warnings.extend(failed_controls(&pair.claims).into_iter().map(|w| format!("{label}: {w}")));
    }
    if pairs.len() > 1 {
        header.framework_spreads = framework_spreads(claims, &experiments, &pairs, &header.method);
        header.runtime_verdicts = runtime_verdicts(&header.claims, &pairs);
    }
    header.pairs = pairs;
    header.experiments = experiments;
    header
}

/// Every stack of the run's pairs against its runtime's stack in the first pair, on each claim's
/// primary evidence that compares Node with Python: the same paired ratio, with the evidence's
/// metric and units, taken between two stacks of one runtime.
fn framework_spreads(
    claims: &ClaimsFile,
    experiments: &[ExperimentResult],
    pairs: &[PairResults],
    method: &Method,
) -> Vec<FrameworkSpread> {
    let first = &pairs[0];
    let others = |baseline: &String, pick: fn(&PairResults) -> &String| {
        let mut out: Vec<String> = Vec::new();
        for stack in pairs.iter().map(pick) {
            if stack != baseline && !out.contains(stack) {
                out.push(stack.clone());
            }
        }
        out
    };
    let runtimes = [
        (Runtime::Node, &first.node, others(&first.node, |p| &p.node)),
        (Runtime::Python, &first.python, others(&first.python, |p| &p.python)),
    ];
    // Extra stacks are measured on the primary units only.
    let method = Method { primary_only: true, ..method.clone() };
    let none = std::collections::BTreeMap::new();
    let mut out = Vec::new();
    for claim in claims.claims.iter().filter(|c| c.not_measured.is_none()) {
        let Some(evidence) = claim.evidence.first() else { continue };
        if evidence.numerator.side == evidence.denominator.side {
            continue;
        }
        for (runtime, baseline, stacks) in &runtimes {
            for stack in stacks {
                // The stack takes the numerator's place, its runtime's first-pair stack the denominator's.
                let (num, den) = (Some(stack.clone()), Some((*baseline).clone()));
                let sides = match evidence.numerator.side {
                    Side::Node => Sides { node: num, python: den },
                    Side::Python => Sides { node: den, python: num },
                };
                let view = pair_view(experiments, &sides, &none, "not measured on these stacks", true);
                let verdict = evaluate_evidence(evidence, &view, &sides, &method);
                out.push(FrameworkSpread {
                    claim: claim.id.clone(),
                    runtime: *runtime,
                    stack: stack.clone(),
                    baseline: (*baseline).clone(),
                    estimate: verdict.estimate,
                    key_number: verdict.key_number,
                });
            }
        }
    }
    out
}

/// The rule, per claim: supported for the runtimes only when supported for the runtime-floor
/// pair and for the popular pair (`first_claims` are the run's first pair's verdicts).
fn runtime_verdicts(first_claims: &[ClaimResult], pairs: &[PairResults]) -> Vec<RuntimeVerdict> {
    let claims_of = |label: &str| -> Option<&[ClaimResult]> {
        let i = pairs.iter().position(|p| p.label() == label)?;
        Some(if i == 0 { first_claims } else { &pairs[i].claims })
    };
    let (popular, floor) = (POPULAR[0], RUNTIME_FLOOR);
    first_claims
        .iter()
        .map(|claim| {
            let outcome = |label: &str| {
                claims_of(label).and_then(|cs| cs.iter().find(|c| c.id == claim.id)).map(|c| c.verdict.outcome)
            };
            let (on_popular, on_floor) = (outcome(popular), outcome(floor));
            let word = |label: &str, o: Option<Outcome>| match o {
                Some(o) => format!("{} for {label}", o.label()),
                None => format!("{label} was not compared in this run"),
            };
            let holds = on_popular == Some(Outcome::Supported) && on_floor == Some(Outcome::Supported);
            RuntimeVerdict {
                claim: claim.id.clone(),
                holds,
                reason: format!("{}; {}", word(floor, on_floor), word(popular, on_popular)),
            }
        })
        .collect()
}

/// The experiments as one pair sees them: only its two stacks' measurements. An experiment the
/// pair cannot answer (`not_implemented`) has none, and says why; one the pair has no
/// measurement of keeps the run's reason when nothing was measured at all, else says `absent`.
/// With `shared_units`, a unit only one of the two stacks ran (a further pair's stack beside a
/// first-pair stack, which alone ran the exploratory units) is left out, so its evidence reads
/// "not measured in this profile" rather than invalid.
fn pair_view(
    experiments: &[ExperimentResult],
    sides: &Sides,
    not_implemented: &std::collections::BTreeMap<String, String>,
    absent: &str,
    shared_units: bool,
) -> Vec<ExperimentResult> {
    let is = |m: &Measurement, side: &Option<String>| side.as_ref() == Some(&m.stack);
    experiments
        .iter()
        .map(|e| {
            if let Some(why) = not_implemented.get(&e.id).filter(|why| why.starts_with("not implemented")) {
                return ExperimentResult { measurements: Vec::new(), skipped_reason: Some(why.clone()), ..e.clone() };
            }
            let labels = |side: &Option<String>| -> std::collections::BTreeSet<&String> {
                e.measurements.iter().filter(|m| is(m, side)).map(|m| &m.label).collect()
            };
            let (node, python) = (labels(&sides.node), labels(&sides.python));
            let keep = |m: &Measurement| {
                (is(m, &sides.node) || is(m, &sides.python))
                    && (!shared_units || (node.contains(&m.label) && python.contains(&m.label)))
            };
            let measurements: Vec<Measurement> = e.measurements.iter().filter(|m| keep(m)).cloned().collect();
            // Measured by the pair, or by nobody: the run's reason stands.
            let skipped_reason = if !measurements.is_empty() || e.measurements.is_empty() {
                e.skipped_reason.clone()
            } else {
                Some(absent.to_string())
            };
            ExperimentResult { measurements, skipped_reason, ..e.clone() }
        })
        .collect()
}

/// A run-wide warning when invalid trials were left unrepeated, for the profile's time budget
/// (see `Profile::time_budget`) or while the machine spoiled repeats (see [`STORM_HELD`]): the
/// pairs they cost are named in each verdict's reason, and this says why there were no repeats.
fn unrepeated(experiments: &[ExperimentResult]) -> Option<String> {
    let reason =
        |m: &Measurement| m.invalid_reasons.iter().find_map(|r| r.strip_prefix(NOT_REPEATED)).map(str::to_owned);
    let left: Vec<(&Measurement, String)> =
        experiments.iter().flat_map(|e| &e.measurements).filter_map(|m| Some((m, reason(m)?))).collect();
    let (first, why) = left.first()?;
    let in_storm = left.iter().filter(|(_, why)| why.starts_with(STORM_HELD)).count();
    let for_budget = left.len() - in_storm;
    Some(format!(
        "{} invalid trial(s) were not measured again, from {} on: {why}. {in_storm} of them waited for a trial to \
         come out valid after a repeat was spoiled too, {for_budget} for the profile's time budget. A steal storm \
         or a busy machine spoiled more trials than could be measured again, so some verdicts may read \"too few \
         pairs\": run again on a quieter machine{}",
        left.len(),
        first.id,
        if for_budget > 0 { ", or with --profile standard, which has no time budget" } else { "" }
    ))
}

/// A run-wide warning for every negative control whose interval lies outside the noise band:
/// the set-up holds both sides to one value there, so a difference is the harness's.
fn failed_controls(claims: &[ClaimResult]) -> Vec<String> {
    claims
        .iter()
        .flat_map(|c| c.sub_verdicts.iter().map(move |v| (c, v)))
        .filter(|(_, v)| {
            v.verdict.outcome == Outcome::Refuted
                && v.verdict.estimate.as_ref().is_some_and(|e| e.claimed == Some(Claimed::Equal))
        })
        .map(|(c, v)| {
            format!(
                "negative control failed ({}: {}): {}; {}. Both stacks are held to the same value there, so \
                 the harness or the machine, not the apps, made the difference: treat this run's verdicts \
                 with suspicion",
                c.id, v.label, v.verdict.key_number, v.verdict.reason
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded() -> RunResults {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/results/recorded-smoke.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn each_runtime_is_stood_for_by_its_first_stack() {
        let sides = sides_of(&recorded());
        assert_eq!((sides.node.as_deref(), sides.python.as_deref()), (Some("express"), Some("fastapi")));
    }

    #[test]
    fn a_role_puts_a_second_instance_of_one_stack_on_the_other_side() {
        let mut header = recorded();
        let express = header.environment.stacks["express"].clone();
        header.environment.stacks.clear();
        header.environment.stacks.insert("express@a".into(), express.clone());
        header.environment.stacks.insert("express@b".into(), express);
        let unmapped = sides_of(&header);
        assert_eq!((unmapped.node.as_deref(), unmapped.python), (Some("express@a"), None));

        header.environment.roles.insert("express@b".into(), Runtime::Python);
        let sides = sides_of(&header);
        assert_eq!((sides.node.as_deref(), sides.python.as_deref()), (Some("express@a"), Some("express@b")));
    }
}
