//! `compare`: two runs' results side by side, per claim and per sub-verdict, beside the verdict
//! statistics it reuses.
//!
//! Rows are matched by claim id, and sub-verdicts by claim id plus label; anything found in only
//! one run is listed as not comparable rather than dropped. Each row gets the change of its
//! ratio (`change`), the side that favours its claim (`claimed`) and the judgement and flip
//! (`judgement`). The result is the model's plain [`Comparison`]; wording it and drawing the
//! page is the report crate's job.

mod change;
mod claimed;
mod judgement;

pub use change::{bootstrap_ratio_of_medians, change, movement, MIN_PAIRS};
pub use claimed::{favoured, from_verdict, from_words};
pub use judgement::{flip, is_regression, judge};

pub use claimbench_model::compare::{
    ratio_name, Change, CompareOptions, Comparison, Favoured, FlipKind, Judgement, Method, Movement, Row, RunInfo, Side,
};
use claimbench_model::run::{Estimate, Outcome, RunResults, Verdict};

/// Compares NEW against BASE.
pub fn compare(base: &RunResults, new: &RunResults, options: &CompareOptions) -> Comparison {
    let mut rows = Vec::new();
    for b in &base.claims {
        let n = new.claims.iter().find(|c| c.id == b.id);
        rows.push(row(&b.id, None, &b.direction, Some(&b.verdict), n.map(|c| &c.verdict), options));
        for bs in &b.sub_verdicts {
            let ns = n.and_then(|c| c.sub_verdicts.iter().find(|s| s.label == bs.label));
            rows.push(row(&b.id, Some(&bs.label), &b.direction, Some(&bs.verdict), ns.map(|s| &s.verdict), options));
        }
        for ns in n.iter().flat_map(|c| &c.sub_verdicts) {
            if !b.sub_verdicts.iter().any(|s| s.label == ns.label) {
                rows.push(row(&b.id, Some(&ns.label), &b.direction, None, Some(&ns.verdict), options));
            }
        }
    }
    for n in &new.claims {
        if base.claims.iter().any(|c| c.id == n.id) {
            continue;
        }
        rows.push(row(&n.id, None, &n.direction, None, Some(&n.verdict), options));
        for ns in &n.sub_verdicts {
            rows.push(row(&n.id, Some(&ns.label), &n.direction, None, Some(&ns.verdict), options));
        }
    }
    Comparison { base: info(base), new: info(new), options: *options, rows, notes: notes(base, new) }
}

fn row(
    claim: &str,
    label: Option<&str>,
    direction: &str,
    base: Option<&Verdict>,
    new: Option<&Verdict>,
    options: &CompareOptions,
) -> Row {
    let side = |v: Option<&Verdict>| v.map(|v| Side { outcome: v.outcome, estimate: v.estimate.clone() });
    let flip = match (base, new) {
        (Some(b), Some(n)) => flip(b.outcome, n.outcome),
        _ => None,
    };
    let estimates = (base.and_then(|v| v.estimate.as_ref()), new.and_then(|v| v.estimate.as_ref()));
    let decisive: Vec<(Outcome, f64)> = [base, new]
        .into_iter()
        .flatten()
        .filter_map(|v| Some((v.outcome, v.estimate.as_ref()?.ratio_median)))
        .collect();
    let favoured = estimates.1.or(estimates.0).map_or(Favoured::Unknown, |e| favoured(direction, e, &decisive));
    let (change, note) = match estimates {
        (Some(b), Some(n)) if same_ratio(b, n) => {
            let change = change(
                (b.ratio_median, b.ci_low, b.ci_high, &b.spread),
                (n.ratio_median, n.ci_low, n.ci_high, &n.spread),
                options.confidence,
                options.resamples,
                options.seed,
            );
            let note = change.is_none().then(|| "the ratios have no positive numbers to compare".to_string());
            (change, note)
        }
        (Some(b), Some(n)) => {
            (None, Some(format!("BASE measured {}, NEW {}: different ratios", ratio_name(b), ratio_name(n))))
        }
        (b, n) => (None, Some(missing(base, new, b.is_some(), n.is_some()))),
    };
    let movement = change.map_or(Movement::None, |c| movement(c.low, c.high, options.threshold));
    let judgement = if change.is_some() { judge(movement, favoured) } else { Judgement::NotComparable };
    Row {
        claim: claim.to_string(),
        label: label.map(str::to_string),
        ratio: estimates.1.or(estimates.0).map(ratio_name).unwrap_or_default(),
        base: side(base),
        new: side(new),
        change,
        movement,
        favoured,
        judgement,
        flip,
        regression: is_regression(judgement, flip),
        note,
    }
}

fn same_ratio(a: &Estimate, b: &Estimate) -> bool {
    a.numerator == b.numerator && a.denominator == b.denominator && a.quantity == b.quantity
}

/// Why a row has no change: which run lacks the verdict or its ratio.
fn missing(base: Option<&Verdict>, new: Option<&Verdict>, b: bool, n: bool) -> String {
    match (base, new) {
        (None, _) => "only in NEW".to_string(),
        (_, None) => "only in BASE".to_string(),
        _ if !b && !n => "no ratio in either run".to_string(),
        _ if !b => "no ratio in BASE".to_string(),
        _ => "no ratio in NEW".to_string(),
    }
}

fn info(r: &RunResults) -> RunInfo {
    RunInfo {
        run_id: r.run_id.clone(),
        profile: r.profile.clone(),
        started_at: r.started_at.clone(),
        git_commit: r.environment.git_commit.clone(),
        complete: r.complete,
    }
}

/// Differences between the runs that can move ratios for reasons other than the code.
fn notes(base: &RunResults, new: &RunResults) -> Vec<String> {
    let mut notes = Vec::new();
    if base.run_id == new.run_id {
        notes.push(format!("BASE and NEW are the same run ({}): nothing can have changed", base.run_id));
    }
    if base.profile != new.profile {
        notes.push(format!(
            "BASE is a {} run and NEW a {} run: trial lengths differ, which alone can move ratios",
            base.profile, new.profile
        ));
    }
    let (b, n) = (&base.environment, &new.environment);
    if b.cpu_model != n.cpu_model || b.cores != n.cores {
        notes.push(format!(
            "the machines differ: BASE ran on {} ({} cores), NEW on {} ({} cores)",
            b.cpu_model, b.cores, n.cpu_model, n.cores
        ));
    }
    for (stack, bs) in &b.stacks {
        let Some(ns) = n.stacks.get(stack) else {
            continue;
        };
        for (runtime, bv) in &bs.versions.runtime {
            match ns.versions.runtime.get(runtime) {
                Some(nv) if nv != bv => notes.push(format!("{stack} ran on {runtime} {bv} in BASE and {nv} in NEW")),
                _ => {}
            }
        }
        let changed: Vec<String> = bs
            .versions
            .packages
            .iter()
            .filter_map(|(p, bv)| {
                let nv = ns.versions.packages.get(p)?;
                (nv != bv).then(|| format!("{p} {bv} → {nv}"))
            })
            .collect();
        if !changed.is_empty() {
            notes.push(format!("{stack}'s packages changed: {}", changed.join(", ")));
        }
    }
    for (which, r) in [("BASE", base), ("NEW", new)] {
        if !r.complete {
            notes
                .push(format!("{which} ({}) is a partial run: claims it did not reach read as not measured", r.run_id));
        }
    }
    notes
}
