//! `claimbench calibrate`: an A/A calibration. Two instances of one stack (`express@a` in the
//! node role, `express@b` in the python role) run the experiments through `run`'s own flow
//! ([`run_cmd::measure`]), and every evidence that compares the two sides is decided exactly as
//! `run` decides it. Both sides run the same code, so each verdict other than inconclusive is a
//! false one: their count is this method's false-verdict rate on this machine, today.
//!
//! Glue only: this file counts the outcomes and hands the calibration to the run folder
//! (`claimbench_lab::RunDir`, which writes it into the folder and as the newest beside it, where
//! `run` finds it); the verdicts are the suite's, the page is the report's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use claimbench_model::calibration::{Calibration, Counts, EvidenceOutcome, Machine};
use claimbench_model::run::{Claimed, Environment, RunResults};
use claimbench_model::stack::Runtime;
use claimbench_suite::ClaimsFile;

use crate::args;
use crate::run_cmd::{self, Request};

#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// The stack that runs on both sides (a registry name from fixtures/stacks.toml).
    #[arg(long, default_value = "express")]
    stack: String,
    #[command(flatten)]
    measure: args::MeasureArgs,
    /// Where the calibration's run folder and calibration-latest.json go.
    #[arg(long, default_value = "reports")]
    out: PathBuf,
    /// Run the second instance (`STACK@b`) on another node (a path or a version, as --node): the
    /// run then compares two Node versions of one stack, paired and interleaved, and is not a
    /// calibration (no calibration-latest.json is written).
    #[arg(long, value_name = "PATH|VERSION", conflicts_with = "python_b")]
    node_b: Option<String>,
    /// As --node-b, for a Python stack's second instance.
    #[arg(long, value_name = "PATH|VERSION")]
    python_b: Option<String>,
}

pub fn run(args: CalibrateArgs) -> anyhow::Result<ExitCode> {
    if args.stack.contains('@') {
        anyhow::bail!("--stack {} is a role alias; pass a plain registry name such as express", args.stack);
    }
    args.measure.runtimes.apply()?;
    let second = match (&args.node_b, &args.python_b) {
        (Some(node), _) => Some((claimbench_supervisor::NODE_B_ENV, args::node_path(node)?)),
        (None, Some(python)) => Some((claimbench_supervisor::PYTHON_B_ENV, args::python_path(python)?)),
        (None, None) => None,
    };
    if let Some((var, path)) = &second {
        std::env::set_var(var, path);
    }
    let (node, python) = (format!("{}@a", args.stack), format!("{}@b", args.stack));
    let request = Request {
        flags: args.measure.clone(),
        stacks: vec![node.clone(), python.clone()],
        pairs: Vec::new(),
        pairs_flag: false,
        roles: BTreeMap::from([(node, Runtime::Node), (python, Runtime::Python)]),
        out: args.out.clone(),
        kind: Some(if second.is_some() { "versions" } else { "calibrate" }),
    };
    let measured = run_cmd::measure(&request)?;
    if second.is_some() {
        return versions_compared(&measured, &args.stack);
    }
    let calibration = tally(&measured.results, &measured.claims, &args.stack);
    let latest = measured.dir.write_calibration(&calibration, &args.out).context("writing the calibration")?;
    let html = run_cmd::render(&measured, Some(&calibration))?;

    print_calibration(&calibration);
    println!("\ncalibration: {}", latest.display());
    println!("report: {}", html.display());
    if measured.interrupted {
        eprintln!("the calibration was interrupted: its counts cover what was measured");
        return Ok(ExitCode::from(130));
    }
    Ok(ExitCode::SUCCESS)
}

/// A version comparison's end: every cross-stack verdict is a difference (or none) between the
/// two interpreters, printed with the versions each instance ran on; nothing is written as the
/// machine's calibration.
fn versions_compared(measured: &run_cmd::Measured, stack: &str) -> anyhow::Result<ExitCode> {
    let html = run_cmd::render(measured, None)?;
    let environment = &measured.results.environment;
    let version_of = |instance: &str| {
        environment
            .stacks
            .get(instance)
            .map(|s| s.versions.runtime.values().cloned().collect::<Vec<_>>().join(", "))
            .unwrap_or_else(|| "unknown".into())
    };
    println!(
        "\n{stack}@a ({}, in the node role) against {stack}@b ({}, in the python role), paired and interleaved; each key number names its ratio:",
        version_of(&format!("{stack}@a")),
        version_of(&format!("{stack}@b"))
    );
    run_cmd::print_verdicts(&measured.results);
    println!("report: {}", html.display());
    Ok(if measured.interrupted { ExitCode::from(130) } else { ExitCode::SUCCESS })
}

/// The newest calibration at `path`, if it was measured on the machine `environment` describes;
/// a file that cannot be read as one is a warning, not an error.
pub(crate) fn newest_of_machine(path: &Path, environment: &Environment) -> Option<Calibration> {
    match claimbench_lab::read_calibration(path) {
        Ok(Some(c)) if c.is_of(environment) => Some(c),
        Ok(_) => None,
        Err(e) => {
            eprintln!("warning: {e}; the report shows none");
            None
        }
    }
}

/// Every cross-stack evidence of the measured claims (both operands on different sides) and its
/// outcome, with the counts for the primary ones and for all of them. Negative controls are left
/// out: their "supported" is the control holding, not a difference found, and a failed control
/// is the run's own warning.
fn tally(results: &RunResults, claims: &ClaimsFile, stack: &str) -> Calibration {
    let mut evidences = Vec::new();
    for (spec, result) in claims.claims.iter().zip(&results.claims) {
        if spec.not_measured.is_some() {
            continue;
        }
        for (i, evidence) in spec.evidence.iter().enumerate() {
            if evidence.numerator.side == evidence.denominator.side || evidence.claimed == Claimed::Equal {
                continue;
            }
            // A claim with one evidence carries its verdict as the claim's, with no sub-verdicts.
            let verdict = match result.sub_verdicts.get(i) {
                Some(sub) => &sub.verdict,
                None if i == 0 => &result.verdict,
                None => continue,
            };
            evidences.push(EvidenceOutcome {
                claim: spec.id.clone(),
                label: evidence.label.clone(),
                experiment: Some(evidence.experiment.get_ref().clone()),
                primary: i == 0,
                outcome: verdict.outcome,
                key_number: verdict.key_number.clone(),
            });
        }
    }
    Calibration {
        run_id: results.run_id.clone(),
        date: results.started_at.clone(),
        machine: Machine::of(&results.environment),
        stack: stack.to_string(),
        profile: results.profile.clone(),
        complete: results.complete,
        primary: Counts::of(evidences.iter().filter(|e| e.primary).map(|e| e.outcome)),
        cross_stack: Counts::of(evidences.iter().map(|e| e.outcome)),
        evidences,
    }
}

fn print_calibration(c: &Calibration) {
    println!("\n{:<16} {:<8} {:<14} key number", "claim", "primary", "outcome");
    for e in &c.evidences {
        let primary = if e.primary { "yes" } else { "" };
        println!("{:<16} {:<8} {:<14} {} ({})", e.claim, primary, e.outcome.label(), e.key_number, e.label);
    }
    for (name, n) in [("primary evidences", &c.primary), ("cross-stack evidences", &c.cross_stack)] {
        let rate = n.false_verdict_rate().map_or_else(|| "none judged".into(), claimbench_model::format::percent);
        println!(
            "{name}: {} false verdicts of {} judged ({rate}); {} inconclusive, {} invalid or not measured",
            n.false_verdicts(),
            n.judged(),
            n.inconclusive,
            n.undecided
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded() -> RunResults {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/results/recorded-smoke.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn claims() -> ClaimsFile {
        claimbench_suite::load_claims(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/claims.toml")).unwrap()
    }

    #[test]
    fn only_cross_stack_evidences_are_counted_and_each_claims_first_is_primary() {
        let results = recorded();
        let claims = claims();
        let c = tally(&results, &claims, "express");
        // The recorded run predates some evidences of today's claims file: count those it has.
        let cross: usize = claims
            .claims
            .iter()
            .zip(&results.claims)
            .filter(|(s, _)| s.not_measured.is_none())
            .flat_map(|(s, r)| s.evidence.iter().take(r.sub_verdicts.len().max(1)))
            .filter(|e| e.numerator.side != e.denominator.side && e.claimed != Claimed::Equal)
            .count();
        assert_eq!(c.evidences.len(), cross);
        assert_eq!(c.cross_stack.evidences as usize, cross);
        assert!(!c.evidences.iter().any(|e| e.label.starts_with("negative control")), "a control is no verdict");
        assert!(c.evidences.iter().all(|e| results.claims.iter().any(|r| r.id == e.claim)));
        for claim in &results.claims {
            if let Some(primary) = c.evidences.iter().find(|e| e.claim == claim.id && e.primary) {
                assert_eq!(primary.outcome, claim.verdict.outcome, "{}", claim.id);
            }
        }
        let counts = c.cross_stack;
        assert_eq!(counts.inconclusive + counts.false_verdicts() + counts.undecided, counts.evidences);
    }

    #[test]
    fn only_a_calibration_of_this_machine_is_shown() {
        let results = recorded();
        let dir = tempfile::tempdir().unwrap();
        let path = claimbench_lab::latest_calibration(dir.path());
        assert!(newest_of_machine(&path, &results.environment).is_none(), "no file, no calibration");

        let calibration = tally(&results, &claims(), "express");
        std::fs::write(&path, serde_json::to_string(&calibration).unwrap()).unwrap();
        assert_eq!(newest_of_machine(&path, &results.environment), Some(calibration));

        let mut elsewhere = results.environment.clone();
        elsewhere.cores += 2;
        assert!(newest_of_machine(&path, &elsewhere).is_none(), "another machine's calibration is not this one's");

        std::fs::write(&path, "{ not json").unwrap();
        assert!(newest_of_machine(&path, &results.environment).is_none());
    }
}
