//! `compare`: two runs' results side by side, per claim and per sub-verdict, beside the verdict
//! statistics it reuses.
//!
//! Rows are matched by claim id, and sub-verdicts by claim id plus label; anything found in only
//! one run is listed as not comparable rather than dropped. Each row gets the change of its
//! ratio (`change`, one family of intervals for the whole comparison; a row with too few pairs
//! is inconclusive), the side that favours its claim (`claimed`) and the judgement and flip
//! (`judgement`; a flip is information, only a change interval makes a regression). The result is the model's plain [`Comparison`]; wording it and drawing the
//! page is the report crate's job.

mod change;
mod claimed;
mod judgement;

use crate::interval::TooFewPairs;

pub use change::{changes, movement};
pub use claimed::{favoured, from_verdict, from_words};
pub use judgement::{flip, is_regression, judge};

pub use claimbench_model::compare::{
    ratio_name, Change, CompareOptions, Comparison, Favoured, FlipKind, Judgement, Movement, Row, RunInfo, Side,
};
use claimbench_model::format;
use claimbench_model::run::{Estimate, Outcome, RunResults, Verdict};

/// One row before its change is known: which claim and sub-verdict, and its verdict in each run.
struct Pending<'a> {
    claim: &'a str,
    label: Option<&'a str>,
    direction: &'a str,
    base: Option<&'a Verdict>,
    new: Option<&'a Verdict>,
}

impl<'a> Pending<'a> {
    /// The two estimates, when both runs measured the same ratio.
    fn comparable(&self) -> Option<(&'a Estimate, &'a Estimate)> {
        let (b, n) = (self.base?.estimate.as_ref()?, self.new?.estimate.as_ref()?);
        same_ratio(b, n).then_some((b, n))
    }
}

/// Compares NEW against BASE. Every row whose ratio both runs measured gets its change from one
/// call of [`changes`], so `options.confidence` is the level of the comparison as a whole.
pub fn compare(base: &RunResults, new: &RunResults, options: &CompareOptions) -> Comparison {
    let pending = pair_up(base, new);
    let family: Vec<(&[f64], &[f64])> = pending
        .iter()
        .filter_map(Pending::comparable)
        .map(|(b, n)| (b.spread.as_slice(), n.spread.as_slice()))
        .collect();
    let (row_level, mut results) = changes(&family, options.confidence);
    results.reverse();
    let rows = pending
        .iter()
        .map(|p| {
            let change = p.comparable().map(|_| results.pop().expect("one change per comparable row"));
            row(p, change, options)
        })
        .collect();
    let row_level = (!family.is_empty()).then_some(row_level);
    Comparison { base: info(base), new: info(new), options: *options, row_level, rows, notes: notes(base, new) }
}

/// The rows: claims in BASE's order, each followed by its sub-verdicts (BASE's, then those only
/// in NEW), then the claims only in NEW.
fn pair_up<'a>(base: &'a RunResults, new: &'a RunResults) -> Vec<Pending<'a>> {
    let mut rows = Vec::new();
    for b in &base.claims {
        let n = new.claims.iter().find(|c| c.id == b.id);
        let at = |label, base, new| Pending { claim: &b.id, label, direction: &b.direction, base, new };
        rows.push(at(None, Some(&b.verdict), n.map(|c| &c.verdict)));
        for bs in &b.sub_verdicts {
            let ns = n.and_then(|c| c.sub_verdicts.iter().find(|s| s.label == bs.label));
            rows.push(at(Some(&bs.label), Some(&bs.verdict), ns.map(|s| &s.verdict)));
        }
        for ns in n.iter().flat_map(|c| &c.sub_verdicts) {
            if !b.sub_verdicts.iter().any(|s| s.label == ns.label) {
                rows.push(at(Some(&ns.label), None, Some(&ns.verdict)));
            }
        }
    }
    for n in new.claims.iter().filter(|n| !base.claims.iter().any(|c| c.id == n.id)) {
        let at =
            |label, verdict| Pending { claim: &n.id, label, direction: &n.direction, base: None, new: Some(verdict) };
        rows.push(at(None, &n.verdict));
        for ns in &n.sub_verdicts {
            rows.push(at(Some(&ns.label), &ns.verdict));
        }
    }
    rows
}

fn row(p: &Pending, change: Option<Result<Change, TooFewPairs>>, options: &CompareOptions) -> Row {
    let side = |v: Option<&Verdict>| v.map(|v| Side { outcome: v.outcome, estimate: v.estimate.clone() });
    let flip = match (p.base, p.new) {
        (Some(b), Some(n)) => flip(b.outcome, n.outcome),
        _ => None,
    };
    let estimates = (p.base.and_then(|v| v.estimate.as_ref()), p.new.and_then(|v| v.estimate.as_ref()));
    let decisive: Vec<(Outcome, f64)> = [p.base, p.new]
        .into_iter()
        .flatten()
        .filter_map(|v| Some((v.outcome, v.estimate.as_ref()?.ratio_median)))
        .collect();
    let favoured = estimates.1.or(estimates.0).map_or(Favoured::Unknown, |e| favoured(p.direction, e, &decisive));
    let (change, judgement, note) = match (change, estimates) {
        (Some(Ok(c)), _) => (Some(c), judge(movement(c.low, c.high, options.threshold), favoured), None),
        (Some(Err(too_few)), _) => (None, Judgement::TooFewPairs, Some(too_few_note(&too_few))),
        (None, (Some(b), Some(n))) => (
            None,
            Judgement::NotComparable,
            Some(format!("BASE measured {}, NEW {}: different ratios", ratio_name(b), ratio_name(n))),
        ),
        (None, (b, n)) => (None, Judgement::NotComparable, Some(missing(p.base, p.new, b.is_some(), n.is_some()))),
    };
    let movement = change.map_or(Movement::None, |c| movement(c.low, c.high, options.threshold));
    Row {
        claim: p.claim.to_string(),
        label: p.label.map(str::to_string),
        ratio: estimates.1.or(estimates.0).map(ratio_name).unwrap_or_default(),
        base: side(p.base),
        new: side(p.new),
        change,
        movement,
        favoured,
        judgement,
        flip,
        regression: is_regression(judgement),
        note,
    }
}

/// "3 pairs, 7 needed in each run for a 99.86% interval": what the judgement "too few pairs"
/// lacked.
fn too_few_note(t: &TooFewPairs) -> String {
    let needed = if t.needed == usize::MAX {
        "no count is enough".to_string()
    } else {
        format!("{} needed in each run", t.needed)
    };
    format!(
        "{} pair{}, {needed} for a {} interval",
        t.pairs,
        if t.pairs == 1 { "" } else { "s" },
        format::level(t.level)
    )
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
