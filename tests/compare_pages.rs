//! The compare page and its markdown twin, rendered by the report crate from what the suite's
//! `compare` computes on its scripted standard run (`scripted-standard.json`): the runs, the
//! threshold, the intervals' levels, each change, each flip and each row with too few pairs are
//! worded for a reader, and the HTML escapes what it shows.

use claimbench_model::run::{Estimate, Outcome, RunResults};
use claimbench_report::{render_compare_html, render_compare_markdown};
use claimbench_suite::compare::{compare, CompareOptions};

fn fixture() -> RunResults {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/results/scripted-standard.json");
    let text = std::fs::read_to_string(path).expect("the results fixture is readable");
    serde_json::from_str(&text).expect("the results fixture parses")
}

fn renamed(mut run: RunResults) -> RunResults {
    run.run_id = "2026-03-15T10-22-05Z-quick".to_string();
    run.started_at = "2026-03-15T10:22:05Z".to_string();
    run
}

fn scale(e: &mut Estimate, factor: f64) {
    e.ratio_median *= factor;
    e.ci_low *= factor;
    e.ci_high *= factor;
    e.spread.iter_mut().for_each(|v| *v *= factor);
}

/// Scales the ratio of the claim `id` (its verdict and every sub-verdict) by `factor`.
fn scale_claim(run: &mut RunResults, id: &str, factor: f64) {
    let claim = run.claims.iter_mut().find(|c| c.id == id).expect("the claim is in the fixture");
    let verdicts = std::iter::once(&mut claim.verdict).chain(claim.sub_verdicts.iter_mut().map(|s| &mut s.verdict));
    verdicts.filter_map(|v| v.estimate.as_mut()).for_each(|e| scale(e, factor));
}

#[test]
fn verdict_flips_are_listed_with_their_kind() {
    let base = fixture();
    let mut new = renamed(base.clone());
    new.claims.iter_mut().find(|c| c.id == "execution-speed").unwrap().verdict.outcome = Outcome::Refuted;
    new.claims.iter_mut().find(|c| c.id == "cost").unwrap().verdict.outcome = Outcome::Supported;

    let md = render_compare_markdown(&compare(&base, &new, &CompareOptions::default())).unwrap();

    assert!(md.contains("### Verdict flips"), "{md}");
    assert!(
        md.contains(
            "**execution-speed**: supported → refuted (weakened; information: a flip alone is not a regression)"
        ),
        "{md}"
    );
    assert!(md.starts_with("## claimbench compare: no regression, no improvement, 2 verdict flips"), "{md}");
    assert!(md.contains("**cost**: inconclusive → supported (strengthened)"), "{md}");
}

#[test]
fn the_markdown_names_the_runs_the_threshold_and_each_change() {
    let base = fixture();
    let mut new = renamed(base.clone());
    scale_claim(&mut new, "io-throughput", 0.8);
    new.profile = "nightly".to_string();

    let md = render_compare_markdown(&compare(&base, &new, &CompareOptions::default())).unwrap();

    // The claim's own ratio and each measured sub-verdict's (the SLO search's too, now that it
    // measures each stack's own rate, and E-db's six), but for the negative control (whose move
    // is a change, not a regression): 14 of the rows.
    assert!(md.starts_with("## claimbench compare: 14 regressions, no improvement"), "{md}");
    assert!(md.contains("BASE `2026-03-14T10-22-05Z-scripted-standard`"), "{md}");
    assert!(md.contains("beyond ±5%"), "{md}");
    // Each row's level is 1 − 5%/rows (Bonferroni): 99.9% and up for the fixture's 50-odd rows.
    let header = md.find("Change NEW/BASE (interval ≥ 99.9").expect("the per-row level heads the change column");
    assert!(md[header..].contains("% per row, 95% for the comparison)"), "{md}");
    assert!(md.contains("exact Mann–Whitney (order-statistics) interval"), "{md}");
    assert!(md.contains("| **io-throughput** | express/fastapi throughput | 1.5× (1.47–1.51) supported | 1.2× (1.18–1.21) supported | −20.0% (−22.1% to −17.9%) |"), "{md}");
    assert!(md.contains("**regressed**"), "{md}");
    assert!(md.contains("BASE is a standard run and NEW a nightly run"), "{md}");
}

#[test]
fn the_html_is_self_contained_and_escapes_what_it_shows() {
    let base = fixture();
    let mut new = renamed(base.clone());
    new.claims[0].sub_verdicts[0].label = "<script>alert(1)</script>".to_string();

    let html = render_compare_html(&compare(&base, &new, &CompareOptions::default())).unwrap();

    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<style>"));
    assert!(!html.contains("<script"), "a label must not become markup");
    assert!(html.contains("&lt;script&gt;"));
    assert!(!html.contains("http://") && !html.contains("https://"), "no network references");
}

#[test]
fn rows_with_too_few_pairs_read_as_inconclusive_in_both_pages() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/results/scripted-run.json");
    let base: RunResults = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut new = renamed(base.clone());
    scale_claim(&mut new, "io-throughput", 0.5);
    let comparison = compare(&base, &new, &CompareOptions::default());

    let md = render_compare_markdown(&comparison).unwrap();
    let html = render_compare_html(&comparison).unwrap();

    assert!(md.starts_with("## claimbench compare: no regression"), "{md}");
    assert!(md.contains("rows with too few pairs"), "{md}");
    // The scripted run has quick's 6 pairs per estimate: below the 7 that a 99.86% row needs.
    assert!(md.contains("| inconclusive: too few pairs (6 pairs, 7 needed in each run for a 99."), "{md}");
    assert!(html.contains(r#"<span class="judgement too-few">inconclusive: too few pairs</span>"#), "{html}");
}
