//! What only the rendered page can show, beyond the view snapshots of `tests/views.rs`: the HTML
//! is one self-contained document (no scripts, no links, no network), every chart is drawn in
//! it as inline SVG (which charts each section gets is snapshotted), the template's own
//! fallbacks and banner appear when they should, and a recorded real run renders a row for
//! every claim and every measurement. Wording and numbers are the view snapshots' business.

use std::path::Path;

use claimbench_model::run::RunResults;
use claimbench_report::{render_html, render_markdown, write_report};

fn read_results(name: &str) -> RunResults {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/results").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    RunResults::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The run the suite generates over the scripted lab (`fixtures/results/scripted-run.json`).
fn scripted() -> RunResults {
    read_results("scripted-run.json")
}

/// A real `claimbench run --profile smoke` on this project's 2-core machine, recorded as is.
fn recorded() -> RunResults {
    read_results("recorded-smoke.json")
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
fn the_page_is_self_contained_and_script_free() {
    let html = render_html(&scripted()).unwrap();
    assert!(html.to_ascii_lowercase().starts_with("<!doctype html>"));
    assert!(html.contains("<style>"), "the stylesheet is inline");
    assert!(!html.contains("<script"));
    assert!(!html.contains("<link"));
    assert!(!html.contains("src="));
    let outside = html.match_indices("://").filter(|(i, _)| !html[..*i].ends_with("xmlns=\"http")).count();
    assert_eq!(outside, 0, "the page refers to the network");
}

#[test]
fn every_chart_is_inline_svg_and_each_section_gets_the_charts_its_data_supports() {
    let results = scripted();
    let html = render_html(&results).unwrap();
    let charts = chart_kinds(&html);
    assert!(charts.len() > 20, "{} charts", charts.len());
    assert_eq!(html.matches("<svg data-chart=\"").count(), charts.len(), "every chart is an inline <svg>");
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count(), "every SVG is closed");
    assert!(!html.contains("<img"), "no chart is an image file");

    let mut per_section = vec![format!("claims: {}", chart_kinds(element(&html, "claims", "<section")).join(" "))];
    for e in &results.experiments {
        let section = element(&html, &format!("exp-{}", e.id.to_lowercase()), "</section>");
        per_section.push(format!("{}: {}", e.id, chart_kinds(section).join(" ")));
    }
    insta::assert_snapshot!("charts", per_section.join("\n"));
}

#[test]
fn an_interrupted_run_shows_the_partial_run_banner() {
    let mut results = scripted();
    assert!(!render_html(&results).unwrap().contains("id=\"partial-run\""));
    results.complete = false;
    results.finished_at = None;
    let html = render_html(&results).unwrap();
    assert!(element(&html, "partial-run", "</div>").contains("<strong>Partial run.</strong>"));
}

#[test]
fn a_run_without_experiments_or_claims_says_so() {
    let mut results = scripted();
    results.experiments.clear();
    results.claims.clear();
    let html = render_html(&results).unwrap();
    assert!(html.contains("No experiment ran."));
    assert!(html.contains("The results name no claims."));
    assert!(!html.contains("data-chart=\"ratios\""), "no ratio chart without a ratio");
}

#[test]
fn write_report_writes_the_page_and_the_summary() {
    let results = scripted();
    let dir = tempfile::tempdir().unwrap();
    let written = write_report(&results, &dir.path().join("run")).unwrap();
    assert!(written.html.ends_with("run/index.html"));
    assert_eq!(std::fs::read_to_string(&written.html).unwrap(), render_html(&results).unwrap());
    assert_eq!(std::fs::read_to_string(&written.summary).unwrap(), render_markdown(&results));
}

#[test]
fn a_recorded_real_run_renders_every_claim_every_experiment_and_every_measurement() {
    let results = recorded();
    let html = render_html(&results).unwrap();
    let table = element(&html, "claims-table", "</table>");
    for claim in &results.claims {
        assert!(table.contains(&escaped(&claim.quote)), "{} missing from the claims table", claim.id);
        assert!(table.contains(&escaped(&claim.verdict.key_number)), "{}'s key number is shown", claim.id);
        assert!(html.contains(&format!("id=\"claim-{}\"", claim.id)), "{} has its detail", claim.id);
    }
    for experiment in results.experiments.iter().filter(|e| !e.measurements.is_empty()) {
        let id = format!("exp-{}", experiment.id.to_lowercase());
        let kinds = chart_kinds(element(&html, &id, "</section>"));
        if experiment.measurements.iter().any(|m| m.load.is_some()) {
            assert!(kinds.contains(&"percentiles") && kinds.contains(&"timeseries"), "{id}: {kinds:?}");
        } else {
            assert!(kinds.contains(&"scalars"), "{id}: {kinds:?}");
        }
    }
    let measured: usize = results.experiments.iter().map(|e| e.measurements.len()).sum();
    assert_eq!(html.matches("id=\"m-").count(), measured, "one table row per measurement");
    for section in ["environment", "calibration", "method"] {
        element(&html, section, "</section>");
    }
    let markdown = render_markdown(&results);
    assert!(results.claims.iter().all(|c| markdown.contains(&c.id)));
}

#[test]
fn a_scaling_line_joins_one_endpoint_only_and_the_database_section_shows_another_machine_s_figures() {
    let html = render_html(&scripted()).unwrap();
    let db = element(&html, "exp-e-db", "</section>");
    // E-db runs /db at four connection counts and /queries, /updates, /fortunes at 64: its line
    // is /db's alone.
    assert!(db.contains("E-db: /db throughput against connections"), "{}", &db[..db.len().min(3000)]);
    assert!(!db.contains("/queries?queries=20 throughput against"));
    assert!(db.contains("Beside ours, not comparable:") && db.contains("HttpArena"));
    let io = element(&html, "exp-e-io", "</section>");
    assert!(io.contains("E-io: /io/upstream?ms=20 throughput against connections"));
}

#[test]
fn a_run_of_four_pairs_shows_the_runtime_or_framework_section_linked_from_the_navigation() {
    let html = render_html(&read_results("scripted-pairs.json")).unwrap();
    assert!(html.contains("href=\"#runtime-or-framework\""), "the navigation links the section");
    let section = element(&html, "runtime-or-framework", "</section>");
    for needle in
        ["The rule:", "node-http:starlette", "runtime floor", "popular pair", "fastify/express", "django/fastapi"]
    {
        assert!(section.contains(&escaped(needle)), "{needle} is in the section");
    }
    let rows = section.matches("<tr>").count();
    assert!(rows >= 8 + 8, "a matrix row and a spread row per measured claim: {rows}");
    let html = render_html(&scripted()).unwrap();
    assert!(!html.contains("runtime-or-framework"), "one pair, no section");
}

#[test]
fn a_room_search_gets_its_own_saturation_curve_against_room_size_and_a_run_without_one_does_not() {
    // The scripted standard run holds E-broadcast's room search; the scripted quick run does not.
    let standard = render_html(&read_results("scripted-standard.json")).unwrap();
    let broadcast = element(&standard, "exp-e-broadcast", "</section>");
    assert!(broadcast.contains("p99 fan-out latency against room size"), "no room chart");
    assert!(broadcast.contains("room members") && broadcast.contains("target p99"), "axis or target line missing");
    assert!(!broadcast.contains("against offered rate"), "the fixed room's one rate makes no rate curve");
    let quick = render_html(&scripted()).unwrap();
    assert!(!quick.contains("against room size"));
    // E-io's rate search keeps its rate curve beside it.
    assert!(element(&standard, "exp-e-io", "</section>").contains("p99 latency against offered rate"));
}

#[test]
fn a_search_step_measured_again_is_counted_under_its_curve_with_the_reason() {
    let mut results = read_results("scripted-standard.json");
    let clean = render_html(&results).unwrap();
    assert!(!clean.contains("measured again"), "no step of the scripted run was spoiled");
    let broadcast = results.experiments.iter_mut().find(|e| e.id == "E-broadcast").unwrap();
    let searches: Vec<_> = broadcast.measurements.iter_mut().filter_map(|m| m.load.as_mut()).collect();
    let steps: usize = searches.iter().map(|l| l.steps.len()).sum();
    let load = searches.into_iter().find(|l| !l.steps.is_empty()).unwrap();
    load.steps[0].first_attempt_spoiled = Some("the load generator sent late".into());
    let html = render_html(&results).unwrap();
    let section = element(&html, "exp-e-broadcast", "</section>");
    let expected = format!(
        "1 of {steps} steps were spoiled by the machine or the harness and measured again (first: the load generator sent late)"
    );
    assert!(section.contains(&expected), "no count of the repeated step under the room curve");
    assert!(!element(&html, "exp-e-io", "</section>").contains("measured again"), "only E-broadcast had one");
}
