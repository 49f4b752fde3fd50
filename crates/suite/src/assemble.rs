//! Putting a run together: the header written when the run starts, the measurements as they
//! arrived, the catalogue and the claims become one [`RunResults`]. `claimbench run` does this at
//! the end, and `claimbench report DIR` does it for an interrupted run from its JSONL. A negative
//! control outside the noise band becomes a run-wide warning.

use claimbench_model::run::{ClaimResult, Claimed, ExperimentResult, Measurement, Outcome, RunResults};
use claimbench_model::stack::Runtime;

use crate::claims::ClaimsFile;
use crate::evaluate::{evaluate, Sides};
use crate::experiments::Experiment;

/// Which stack stands for node and which for python: the first of each runtime in the header,
/// where a stack's runtime is its role when the environment gives it one (an A/A calibration).
pub fn sides_of(header: &RunResults) -> Sides {
    let environment = &header.environment;
    let role = |name: &String, runtime: Runtime| environment.roles.get(name).copied().unwrap_or(runtime);
    let first = |runtime: Runtime| {
        environment.stacks.iter().find(|(name, s)| role(name, s.runtime) == runtime).map(|(name, _)| name.clone())
    };
    Sides { node: first(Runtime::Node), python: first(Runtime::Python) }
}

/// Fills `header` with the experiments (in catalogue order, measurements in arrival order) and
/// a verdict for every claim.
pub fn assemble(
    mut header: RunResults,
    measurements: Vec<Measurement>,
    catalogue: &[Experiment],
    claims: &ClaimsFile,
) -> RunResults {
    let mut experiments: Vec<ExperimentResult> = catalogue
        .iter()
        .map(|e| ExperimentResult {
            id: e.id.clone(),
            title: e.title.clone(),
            what: e.what.clone(),
            measured_as: e.measured_as.clone(),
            purpose: e.purpose.clone(),
            skipped_reason: None,
            not_measurable_units: header
                .not_measurable
                .iter()
                .filter_map(|(key, why)| {
                    let label = key.strip_prefix(e.id.as_str())?.strip_prefix(' ')?;
                    Some((label.to_string(), why.clone()))
                })
                .collect(),
            measurements: Vec::new(),
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
    header.claims = evaluate(claims, &experiments, &sides, &header.method);
    header.warnings.extend(failed_controls(&header.claims));
    header.experiments = experiments;
    header
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
