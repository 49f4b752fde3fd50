//! Snapshots (insta) of what the report shows a reader, taken at the view structs the templates
//! are fed, for the scripted run that the suite generates (`fixtures/results/scripted-run.json`).
//!
//! A change of wording or number formatting shows up here as a reviewable diff, without
//! searching HTML for substrings. Charts are left out of the view (they are attached only for
//! the HTML page), and the fixture is committed, so no timing or path varies between runs.
//! Review a change with `cargo insta review`, or accept it with `INSTA_UPDATE=always`.

use std::path::PathBuf;

use claimbench_model::run::RunResults;
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
fn the_markdown_summary_reads_as_snapshotted() {
    insta::assert_snapshot!("summary", render_markdown(&scripted()));
}
