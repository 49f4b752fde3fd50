//! Snapshots (insta) of what the report shows a reader, taken at the view structs the templates
//! are fed, for the scripted run that the suite generates (`fixtures/results/scripted-run.json`).
//!
//! A change of wording or number formatting shows up here as a reviewable diff, without
//! searching HTML for substrings. Charts are left out of the view (they are attached only for
//! the HTML page), and the fixture is committed, so no timing or path varies between runs.
//! Review a change with `cargo insta review`, or accept it with `INSTA_UPDATE=always`.

use std::path::PathBuf;

use claimbench_model::calibration::{Calibration, Counts, EvidenceOutcome, Machine};
use claimbench_model::run::{Outcome, RunResults};
use claimbench_report::{render_markdown, Report};

fn scripted() -> RunResults {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/results/scripted-run.json"));
    let text = std::fs::read_to_string(&path).expect("the scripted run fixture is committed");
    RunResults::from_json(&text).expect("the scripted run fixture reads (regenerate it with the suite's fixtures test)")
}

#[test]
fn the_claims_and_their_verdicts_read_as_snapshotted() {
    let view = serde_json::to_value(Report::build(&scripted())).unwrap();
    insta::assert_snapshot!("claims", serde_json::to_string_pretty(&view["claims"]).unwrap());
}

#[test]
fn the_experiments_and_their_measurements_read_as_snapshotted() {
    let view = serde_json::to_value(Report::build(&scripted())).unwrap();
    let experiments = &view["experiments"];
    insta::assert_snapshot!("experiments", serde_json::to_string_pretty(experiments).unwrap());
}

#[test]
fn the_environment_and_the_method_read_as_snapshotted() {
    let mut view = serde_json::to_value(Report::build(&scripted())).unwrap();
    let object = view.as_object_mut().unwrap();
    object.remove("claims");
    object.remove("experiments");
    insta::assert_snapshot!("page", serde_json::to_string_pretty(&view).unwrap());
}

#[test]
fn the_machine_facts_say_how_the_upstream_thread_ran_and_only_when_the_run_recorded_it() {
    let machine_facts = |results: &RunResults| {
        let view = serde_json::to_value(Report::build(results)).unwrap();
        view["environment"]["machine"].as_array().unwrap().clone()
    };
    let upstream_fact =
        |facts: &[serde_json::Value]| facts.iter().find(|f| f["name"] == "upstream thread").map(|f| f["value"].clone());
    let mut results = scripted();
    results.environment.upstream_scheduling = None;
    assert_eq!(upstream_fact(&machine_facts(&results)), None, "a run from before the field says nothing");
    let ordinary = "ordinary class (EPERM: not root): its answers wait their turn";
    results.environment.upstream_scheduling = Some(ordinary.to_string());
    assert_eq!(upstream_fact(&machine_facts(&results)), Some(serde_json::json!(ordinary)));
}

#[test]
fn the_markdown_summary_reads_as_snapshotted() {
    insta::assert_snapshot!("summary", render_markdown(&scripted()));
}

/// The view without its claims and experiments: the page's header, environment and method.
fn page(report: &Report) -> serde_json::Value {
    let mut view = serde_json::to_value(report).unwrap();
    let object = view.as_object_mut().unwrap();
    object.remove("claims");
    object.remove("experiments");
    view
}

#[test]
fn an_interrupted_run_reads_as_snapshotted() {
    let mut results = scripted();
    results.complete = false;
    results.finished_at = None;
    let view = Report::build(&results);
    insta::assert_snapshot!("partial", format!("{:#}", page(&view)["partial"]));
    let summary = render_markdown(&results);
    let head: Vec<&str> = summary.lines().take_while(|l| !l.starts_with('|')).collect();
    insta::assert_snapshot!("partial_summary_head", head.join("\n"));
}

#[test]
fn missing_data_reads_as_snapshotted() {
    let mut results = scripted();
    // A stack absent from the environment and from all but the first experiment, an experiment
    // that ran nothing without a reason, no git commit, and every claim unmeasured.
    results.environment.stacks.remove("fastapi");
    results.environment.git_commit = None;
    let first = results.experiments[0].id.clone();
    for e in &mut results.experiments {
        if e.id != first {
            e.measurements.retain(|m| m.stack != "fastapi");
        }
    }
    results.experiments[2].measurements.clear();
    results.experiments[2].skipped_reason = None;
    for c in &mut results.claims {
        c.verdict.outcome = Outcome::NotMeasured;
        c.verdict.estimate = None;
        c.verdict.key_number.clear();
        c.sub_verdicts.clear();
    }
    let view = serde_json::to_value(Report::build(&results)).unwrap();
    let shown = serde_json::json!({
        "environment": view["environment"],
        "stacks": view["stacks"],
        "emptied experiment": view["experiments"][2],
        "claims": view["claims"].as_array().unwrap().iter()
            .map(|c| serde_json::json!({"id": c["id"], "badge": c["badge"], "key_number": c["key_number"]}))
            .collect::<Vec<_>>(),
    });
    insta::assert_snapshot!("missing_data", serde_json::to_string_pretty(&shown).unwrap());
    insta::assert_snapshot!("missing_data_summary", render_markdown(&results));
}

fn calibration(results: &RunResults, outcome: Outcome) -> Calibration {
    let evidences = vec![EvidenceOutcome {
        claim: "concurrency".into(),
        label: "p99 overhead above 100 ms at 1,000 connections".into(),
        experiment: Some("E-concurrency".into()),
        primary: true,
        outcome,
        key_number: "express@a/express@b 1.20×".into(),
    }];
    Calibration {
        run_id: "2026-11-30T09-00-00Z-quick-calibrate".into(),
        date: "2026-11-30T09:00:00Z".into(),
        machine: Machine::of(&results.environment),
        stack: "express".into(),
        profile: "quick".into(),
        complete: true,
        primary: Counts::of(evidences.iter().map(|e| e.outcome)),
        cross_stack: Counts::of(evidences.iter().map(|e| e.outcome)),
        evidences,
    }
}

#[test]
fn the_calibration_reads_as_snapshotted_with_none_a_clean_one_and_a_noisy_one() {
    let results = scripted();
    let shown: Vec<(&str, serde_json::Value)> = [
        ("none on this machine", None),
        ("clean", Some(calibration(&results, Outcome::Inconclusive))),
        ("one false verdict", Some(calibration(&results, Outcome::Refuted))),
    ]
    .into_iter()
    .map(|(name, c)| (name, serde_json::to_value(Report::build_with(&results, c.as_ref()).calibration).unwrap()))
    .collect();
    insta::assert_snapshot!("calibration", serde_json::to_string_pretty(&shown).unwrap());
}

fn scripted_pairs() -> RunResults {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/results/scripted-pairs.json"));
    RunResults::from_json(&std::fs::read_to_string(&path).expect("the four-pair fixture is committed")).unwrap()
}

#[test]
fn the_runtime_or_framework_section_of_four_pairs_reads_as_snapshotted() {
    let view = serde_json::to_value(Report::build(&scripted_pairs())).unwrap();
    let section = &view["runtime_or_framework"];
    assert_eq!(section["pairs"].as_array().unwrap().len(), 4, "one column per pair");
    insta::assert_snapshot!("runtime_or_framework", serde_json::to_string_pretty(section).unwrap());
}

#[test]
fn the_markdown_summary_of_four_pairs_has_the_matrix_and_the_spreads() {
    let summary = render_markdown(&scripted_pairs());
    let start = summary.find("### Runtime or framework?").expect("the section is in the summary");
    let end = summary[start..].find("### Why").map_or(summary.len(), |i| start + i);
    insta::assert_snapshot!("runtime_or_framework_summary", &summary[start..end]);
}

#[test]
fn a_run_of_one_pair_has_no_runtime_or_framework_section() {
    assert!(Report::build(&scripted()).runtime_or_framework.is_none());
    assert!(!render_markdown(&scripted()).contains("Runtime or framework?"));
}
