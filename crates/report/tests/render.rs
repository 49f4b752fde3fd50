//! Rendering the recorded run in `fixtures/results/`: the HTML page and the markdown summary.

use std::path::{Path, PathBuf};

use claimbench_model::run::{Outcome, RunResults};
use claimbench_report::{render_html, render_markdown, write_report};

fn fixture_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/results/quick-run.json")
}

fn read_results(path: &Path) -> RunResults {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    RunResults::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fixture() -> RunResults {
    read_results(&fixture_path())
}

/// Text as minijinja's HTML escaping writes it.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

/// The part of `html` from the element with `id` to the first `end` tag after it.
fn element<'a>(html: &'a str, id: &str, end: &str) -> &'a str {
    let start = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no element with id {id}"));
    let rest = &html[start..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// The `data-chart` kinds of the SVGs in `html`, in order.
fn chart_kinds(html: &str) -> Vec<&str> {
    html.split("data-chart=\"").skip(1).map(|s| &s[..s.find('"').unwrap()]).collect()
}

#[test]
fn every_claim_is_in_the_claims_table_with_its_verdict_and_a_link_to_its_evidence() {
    let results = fixture();
    let html = render_html(&results).unwrap();
    let table = element(&html, "claims-table", "</table>");
    for claim in &results.claims {
        assert!(table.contains(&escaped(&claim.quote)), "{} missing from the claims table", claim.id);
        assert!(html.contains(&format!("id=\"claim-{}\"", claim.id)));
    }
    for (class, text) in [
        ("supported", "supported"),
        ("refuted", "refuted"),
        ("inconclusive", "inconclusive"),
        ("invalid", "invalid"),
        ("not-measured", "not yet measured"),
    ] {
        assert!(table.contains(&format!("<span class=\"badge {class}\">{text}</span>")), "no {class} badge");
    }
    assert!(table.contains("href=\"#claim-io-throughput\""));
    assert!(table.contains(&escaped("express/fastapi throughput 1.52× (95% CI 1.38–1.71)")));
}

#[test]
fn a_claim_not_measured_gives_its_reason() {
    let html = render_html(&fixture()).unwrap();
    let detail = element(&html, "claim-real-time", "</article>");
    assert!(detail.contains("not yet measured"));
    assert!(detail.contains("WebSocket workload"));
}

#[test]
fn an_invalid_measurement_is_shown_as_invalid_with_its_reasons() {
    let html = render_html(&fixture()).unwrap();
    let row_start = html.find("id=\"m-e-io-fastapi-c-1000-2\"").expect("the generator-bound measurement has a row");
    let row = &html[html[..row_start].rfind("<tr").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("class=\"invalid\""), "{row}");
    assert!(row.contains("the load generator used 97% of its core"), "{row}");
    let env = element(&html, "environment", "</section>");
    assert!(env.contains("could not keep up in 1 of"));
}

#[test]
fn each_experiment_gets_the_charts_its_data_supports() {
    let html = render_html(&fixture()).unwrap();
    let charts = |id: &str| chart_kinds(element(&html, id, "</section>"));
    let io = charts("exp-e-io");
    for kind in ["scaling", "saturation", "resources", "errors", "percentiles", "timeseries"] {
        assert!(io.contains(&kind), "E-io lacks a {kind} chart: {io:?}");
    }
    let overhead = charts("exp-e-overhead");
    assert!(!overhead.contains(&"errors"), "{overhead:?}");
    assert!(!overhead.contains(&"saturation"), "{overhead:?}");
    assert!(element(&html, "exp-e-overhead", "</section>").contains("No failed requests in any of the 18 load runs."));
    let cold = charts("exp-e-coldstart");
    assert!(cold.contains(&"scalars"), "{cold:?}");
    assert!(!cold.contains(&"percentiles"), "{cold:?}");
    assert!(charts("exp-e-workers").is_empty());
    assert!(element(&html, "exp-e-workers", "</section>").contains("Not run: the machine has 2 cores"));
    assert!(html.contains("data-chart=\"ratios\""));
}

#[test]
fn the_page_is_self_contained_and_script_free() {
    let html = render_html(&fixture()).unwrap();
    assert!(!html.contains("<script"));
    assert!(!html.contains("<link"));
    assert!(!html.contains("src="));
    let outside = html.match_indices("://").filter(|(i, _)| !html[..*i].ends_with("xmlns=\"http")).count();
    assert_eq!(outside, 0, "the page refers to the network");
}

#[test]
fn an_interrupted_run_says_partial_run() {
    let mut results = fixture();
    assert!(!render_html(&results).unwrap().contains("Partial run."));
    results.complete = false;
    results.finished_at = None;
    let html = render_html(&results).unwrap();
    assert!(element(&html, "partial-run", "</div>").contains("Partial run."));
    assert!(html.contains("interrupted before the end"));
    assert!(render_markdown(&results).contains("**Partial run.**"));
}

#[test]
fn missing_data_still_renders() {
    let mut results = fixture();
    // A stack absent from the environment, and from most experiments.
    results.environment.stacks.remove("fastapi");
    for e in &mut results.experiments {
        if e.id != "E-io" {
            e.measurements.retain(|m| m.stack != "fastapi");
        }
    }
    // An experiment that ran nothing, without a reason.
    results.experiments[2].measurements.clear();
    results.experiments[2].skipped_reason = None;
    // Every claim unmeasured.
    for c in &mut results.claims {
        c.verdict.outcome = Outcome::NotMeasured;
        c.verdict.estimate = None;
        c.verdict.key_number.clear();
        c.sub_verdicts.clear();
    }
    results.environment.git_commit = None;
    let html = render_html(&results).unwrap();
    assert!(element(&html, "exp-e-cpu", "</section>").contains("No measurements."));
    assert!(html.contains("not described in the environment"));
    assert!(html.contains("not a git checkout"));
    assert!(!html.contains("data-chart=\"ratios\""));
    assert!(render_markdown(&results).contains("| not yet measured | – |"));

    results.experiments.clear();
    results.claims.clear();
    let html = render_html(&results).unwrap();
    assert!(html.contains("No experiment ran."));
    assert!(html.contains("The results name no claims."));
}

#[test]
fn the_markdown_summary_lists_every_claim() {
    insta::assert_snapshot!(render_markdown(&fixture()));
}

#[test]
fn write_report_writes_the_page_and_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let written = write_report(&fixture(), &dir.path().join("run")).unwrap();
    let html = std::fs::read_to_string(&written.html).unwrap();
    let md = std::fs::read_to_string(&written.summary).unwrap();
    assert!(written.html.ends_with("run/index.html"));
    assert!(html.contains("claims-table"));
    assert!(md.starts_with("# claimbench: 2026-03-14T10-22-05Z-quick"));
}

/// A real `claimbench run --profile smoke` on this project's 2-core machine, recorded as is.
fn recorded() -> RunResults {
    read_results(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/results/recorded-smoke.json"))
}

#[test]
fn a_recorded_real_run_renders_every_claim_every_experiment_and_every_measurement() {
    let results = recorded();
    let html = render_html(&results).unwrap();
    let table = element(&html, "claims-table", "</table>");
    for claim in &results.claims {
        assert!(table.contains(&escaped(&claim.quote)), "{} missing from the claims table", claim.id);
        assert!(table.contains(&escaped(&claim.verdict.key_number)), "{}'s key number is shown", claim.id);
    }
    for experiment in results.experiments.iter().filter(|e| !e.measurements.is_empty()) {
        let id = format!("exp-{}", experiment.id.to_lowercase());
        let section = element(&html, &id, "</section>");
        let kinds = chart_kinds(section);
        let has_load = experiment.measurements.iter().any(|m| m.load.is_some());
        if has_load {
            assert!(kinds.contains(&"percentiles") && kinds.contains(&"timeseries"), "{id}: {kinds:?}");
        } else {
            assert!(kinds.contains(&"scalars"), "{id}: {kinds:?}");
        }
    }
    let measured: usize = results.experiments.iter().map(|e| e.measurements.len()).sum();
    assert_eq!(html.matches("id=\"m-").count(), measured, "one table row per measurement");
    let markdown = render_markdown(&results);
    assert!(results.claims.iter().all(|c| markdown.contains(&c.id)));
}

fn calibration(false_verdict: bool) -> claimbench_model::calibration::Calibration {
    use claimbench_model::calibration::{Calibration, Counts, EvidenceOutcome, Machine};
    let results = fixture();
    let outcome = if false_verdict { Outcome::Refuted } else { Outcome::Inconclusive };
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
fn a_machine_without_a_calibration_says_how_to_make_one() {
    let html = render_html(&fixture()).unwrap();
    assert!(
        element(&html, "calibration", "</section>")
            .contains("no calibration on this machine yet: run claimbench calibrate"),
        "{}",
        element(&html, "calibration", "</section>")
    );
}

#[test]
fn the_newest_calibration_is_shown_with_its_date_and_its_false_verdicts() {
    let clean = claimbench_report::render_html_with(&fixture(), Some(&calibration(false))).unwrap();
    let section = element(&clean, "calibration", "</section>");
    assert!(section.contains("2026-11-30T09:00:00Z"), "{section}");
    assert!(section.contains("0 of 1 judged"), "{section}");
    assert!(!section.contains("no calibration"), "{section}");

    let noisy = claimbench_report::render_html_with(&fixture(), Some(&calibration(true))).unwrap();
    let section = element(&noisy, "calibration", "</section>");
    assert!(section.contains("1 of 1 judged"), "{section}");
    assert!(section.contains("concurrency: p99 overhead above 100 ms at 1,000 connections refuted"), "{section}");
}
