//! `compare` on the runs the suite generates over the scripted lab: injected regressions are
//! found, noise is not, too few pairs are inconclusive, verdict flips are classified and never
//! count as regressions on their own. `scripted-standard.json` (12 pairs) is the run most tests
//! change and compare; `scripted-run.json` (quick's 6 pairs) is the one with too few. Both record
//! the claimed side on every estimate, which decides which way is a regression (the words of
//! older results are `claimed`'s unit tests). How the pages word them is tested in the root
//! package's `tests/compare_pages.rs`.

use claimbench_model::run::{Estimate, Outcome, RunResults, Verdict};
use claimbench_suite::compare::{compare, CompareOptions, Comparison, FlipKind, Judgement};

fn read(name: &str) -> RunResults {
    let path = format!("{}/../../fixtures/results/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e} (regenerate it with the suite's fixtures test)"))
}

/// The standard profile's scripted run: 12 pairs per estimate, enough to judge a change.
fn standard() -> RunResults {
    read("scripted-standard.json")
}

/// The quick profile's scripted run: 6 pairs per estimate.
fn quick() -> RunResults {
    read("scripted-run.json")
}

fn scale(e: &mut Estimate, factor: f64) {
    e.ratio_median *= factor;
    e.ci_low *= factor;
    e.ci_high *= factor;
    for v in &mut e.spread {
        *v *= factor;
    }
}

/// Scales the ratio of the claim `id` (its verdict and every sub-verdict) by `factor`.
fn scale_claim(run: &mut RunResults, id: &str, factor: f64) {
    let claim = run.claims.iter_mut().find(|c| c.id == id).expect("the claim is in the fixture");
    let verdicts = std::iter::once(&mut claim.verdict).chain(claim.sub_verdicts.iter_mut().map(|s| &mut s.verdict));
    for v in verdicts {
        if let Some(e) = v.estimate.as_mut() {
            scale(e, factor);
        }
    }
}

fn scale_all(run: &mut RunResults, factor: f64) {
    let ids: Vec<String> = run.claims.iter().map(|c| c.id.clone()).collect();
    for id in ids {
        scale_claim(run, &id, factor);
    }
}

fn renamed(mut run: RunResults) -> RunResults {
    run.run_id = "2026-03-15T10-22-05Z-quick".to_string();
    run.started_at = "2026-03-15T10:22:05Z".to_string();
    run
}

fn judgement_of(c: &Comparison, claim: &str, label: Option<&str>) -> Judgement {
    c.rows
        .iter()
        .find(|r| r.claim == claim && r.label.as_deref() == label)
        .unwrap_or_else(|| panic!("no row for {claim} {label:?}"))
        .judgement
}

#[test]
fn a_twenty_percent_drop_in_a_claimed_higher_ratio_is_a_regression() {
    let base = standard();
    let mut new = renamed(base.clone());
    scale_claim(&mut new, "io-throughput", 0.8);

    let c = compare(&base, &new, &CompareOptions::default());

    assert!(c.has_regression());
    let io: Vec<_> = c.rows.iter().filter(|r| r.claim == "io-throughput" && r.change.is_some()).collect();
    assert!(io.len() > 5, "the claim and its measured sub-verdicts: {}", io.len());
    for r in &io {
        // The negative control favours no side: its move is a change to look at, not a regression.
        let control = r.label.as_deref().is_some_and(|l| l.starts_with("negative control"));
        let want = if control { Judgement::Changed } else { Judgement::Regressed };
        assert_eq!(r.judgement, want, "{:?}", r.label);
    }
    let row = c.rows.iter().find(|r| r.claim == "io-throughput" && r.label.is_none()).unwrap();
    let change = row.change.expect("both runs have a ratio");
    assert!((change.median - 0.8).abs() < 1e-9, "{change:?}");
    assert!(change.low < 0.8 && change.high > 0.8 && change.high < 1.0 / 1.05, "{change:?}");
    let others: Vec<_> = c.regressions().filter(|r| r.claim != "io-throughput").collect();
    assert!(others.is_empty(), "only io-throughput changed: {others:?}");
}

#[test]
fn a_drop_in_a_claimed_lower_ratio_is_an_improvement_once_it_clears_the_noise() {
    let base = standard();
    // serverless: express < fastapi on cold start, so a lower ratio favours the claim. Its twelve
    // pairs are scripted without noise (cold starts do not wobble): a 3% drop stays within the
    // ±5% band, a 20% drop clears it.
    for (factor, expected) in [(0.97, Judgement::NoChange), (0.8, Judgement::Improved)] {
        let mut new = renamed(base.clone());
        scale_claim(&mut new, "serverless", factor);

        let c = compare(&base, &new, &CompareOptions::default());

        assert_eq!(judgement_of(&c, "serverless", None), expected, "× {factor}");
        assert!(!c.has_regression());
    }
}

#[test]
fn two_percent_noise_either_way_is_no_change() {
    let base = standard();
    for factor in [0.98, 1.02] {
        let mut new = renamed(base.clone());
        scale_all(&mut new, factor);

        let c = compare(&base, &new, &CompareOptions::default());

        assert!(!c.has_regression(), "{factor}: {:?}", c.regressions().collect::<Vec<_>>());
        for r in &c.rows {
            assert!(
                matches!(r.judgement, Judgement::NoChange | Judgement::NotComparable),
                "{factor}: {} {:?} judged {:?} from {:?}",
                r.claim,
                r.label,
                r.judgement,
                r.change
            );
        }
    }
}

#[test]
fn a_verdict_flip_is_listed_but_alone_is_never_a_regression() {
    let base = standard();
    let mut new = renamed(base.clone());
    let claim = new.claims.iter_mut().find(|c| c.id == "execution-speed").unwrap();
    claim.verdict.outcome = Outcome::Refuted;
    let cost = new.claims.iter_mut().find(|c| c.id == "cost").unwrap();
    cost.verdict.outcome = Outcome::Supported;
    let io = new.claims.iter_mut().find(|c| c.id == "io-throughput").unwrap();
    io.verdict.outcome = Outcome::Invalid;

    let c = compare(&base, &new, &CompareOptions::default());

    let speed = c.rows.iter().find(|r| r.claim == "execution-speed").unwrap();
    assert_eq!(speed.flip, Some(FlipKind::Weakened));
    assert_eq!(speed.judgement, Judgement::NoChange);
    assert!(!speed.regression, "the ratio did not move: a flip alone is information");
    let cost = c.rows.iter().find(|r| r.claim == "cost" && r.label.is_none()).unwrap();
    assert_eq!(cost.flip, Some(FlipKind::Strengthened));
    assert!(!cost.regression);
    let io = c.rows.iter().find(|r| r.claim == "io-throughput" && r.label.is_none()).unwrap();
    assert_eq!(io.flip, Some(FlipKind::BecameInvalid));
    assert!(!io.regression);
    assert_eq!(c.invalidated().count(), 1);
    assert_eq!(c.flips().count(), 3);
    assert!(!c.has_regression(), "{:?}", c.regressions().collect::<Vec<_>>());
}

#[test]
fn a_flip_with_a_ratio_that_regressed_is_a_regression_through_its_ratio() {
    let base = standard();
    let mut new = renamed(base.clone());
    // execution-speed: express < fastapi on p50 latency, so a 30% higher ratio works against it.
    scale_claim(&mut new, "execution-speed", 1.3);
    new.claims.iter_mut().find(|c| c.id == "execution-speed").unwrap().verdict.outcome = Outcome::Inconclusive;

    let c = compare(&base, &new, &CompareOptions::default());

    let speed = c.rows.iter().find(|r| r.claim == "execution-speed").unwrap();
    assert_eq!((speed.judgement, speed.flip), (Judgement::Regressed, Some(FlipKind::Weakened)));
    assert!(speed.regression);
}

#[test]
fn rows_with_too_few_pairs_are_inconclusive_and_never_regress_however_large_the_drop() {
    // The scripted run has quick's 6 pairs per estimate: too few for any row of a comparison.
    let base = quick();
    let mut new = renamed(base.clone());
    scale_all(&mut new, 0.5);

    let c = compare(&base, &new, &CompareOptions::default());

    assert!(!c.has_regression(), "{:?}", c.regressions().collect::<Vec<_>>());
    let row = c.rows.iter().find(|r| r.claim == "io-throughput" && r.label.is_none()).unwrap();
    assert_eq!(row.judgement, Judgement::TooFewPairs);
    assert_eq!(row.change, None);
    let note = row.note.as_deref().unwrap();
    assert!(note.starts_with("6 pairs, 7 needed in each run for a 99."), "{note}");
    assert!(c.too_few_pairs().count() > 30, "{}", c.too_few_pairs().count());
}

#[test]
fn the_family_level_is_split_over_every_comparable_row() {
    let base = standard();
    let c = compare(&base, &renamed(base.clone()), &CompareOptions::default());
    let comparable = c.rows.iter().filter(|r| r.change.is_some()).count();
    let verdicts =
        base.claims.iter().flat_map(|c| std::iter::once(&c.verdict).chain(c.sub_verdicts.iter().map(|s| &s.verdict)));
    assert_eq!(comparable, verdicts.filter(|v| v.estimate.is_some()).count(), "one row per estimate");
    let row_level = c.row_level.unwrap();
    assert!((row_level - (1.0 - 0.05 / comparable as f64)).abs() < 1e-12, "{row_level}");
    for r in c.rows.iter().filter_map(|r| r.change) {
        assert!(r.level >= row_level && r.level < 1.0, "{r:?}");
    }
}

#[test]
fn claims_and_sub_verdicts_found_in_one_run_only_are_listed_not_compared() {
    let base = standard();
    let mut new = renamed(base.clone());
    new.claims.retain(|c| c.id != "cost");
    new.claims[0].sub_verdicts.push(claimbench_model::run::LabeledVerdict {
        label: "E-io-fanout".to_string(),
        experiment: Some("E-io-fanout".to_string()),
        primary: false,
        verdict: Verdict {
            outcome: Outcome::Inconclusive,
            estimate: None,
            key_number: String::new(),
            reason: String::new(),
        },
    });

    let c = compare(&base, &new, &CompareOptions::default());

    let cost = c.rows.iter().find(|r| r.claim == "cost").unwrap();
    assert_eq!(cost.judgement, Judgement::NotComparable);
    assert_eq!(cost.note.as_deref(), Some("only in BASE"));
    let fanout = c.rows.iter().find(|r| r.label.as_deref() == Some("E-io-fanout")).unwrap();
    assert_eq!(fanout.note.as_deref(), Some("only in NEW"));
    assert!(!c.has_regression());
}

#[test]
fn the_same_run_compared_with_itself_changes_nothing() {
    let base = standard();
    let c = compare(&base, &base, &CompareOptions::default());
    assert!(!c.has_regression());
    assert_eq!(c.improvements().count(), 0);
    assert!(c.notes.iter().any(|n| n.contains("the same run")));
}

#[test]
fn the_recorded_claimed_side_decides_which_way_is_a_regression() {
    // Inconclusive outcomes and words that say nothing: only the recorded claimed side can decide.
    let mut base = standard();
    for c in &mut base.claims {
        c.direction = "—".to_string();
        c.verdict.outcome = Outcome::Inconclusive;
    }
    // cpu-strength claims fastapi > express on fastapi/express throughput: lower is worse for it;
    // serverless claims express < fastapi on cold start: lower is better for it.
    for (claim, factor, expected) in [
        ("io-throughput", 0.8, Judgement::Regressed),
        ("io-throughput", 1.25, Judgement::Improved),
        ("cpu-strength", 0.8, Judgement::Regressed),
        ("serverless", 0.8, Judgement::Improved),
    ] {
        let mut new = renamed(base.clone());
        scale_claim(&mut new, claim, factor);

        let c = compare(&base, &new, &CompareOptions::default());

        assert_eq!(judgement_of(&c, claim, None), expected, "{claim} × {factor}");
    }
}
