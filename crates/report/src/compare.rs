//! The compare page and its markdown twin: the model's [`Comparison`] (which the suite computes)
//! as a reader sees it, every number formatted and every badge chosen, so the templates hold
//! only loops and ifs.

use claimbench_model::compare::{Change, Comparison, FlipKind, Judgement, Row, RunInfo, Side};
use claimbench_model::format;
use claimbench_model::run::Estimate;
use serde::Serialize;

use crate::render::render;
use crate::view::{badge, Badge};

/// The comparison as markdown: the table, the verdict flips and the notes (for
/// `$GITHUB_STEP_SUMMARY`).
pub fn render_markdown(comparison: &Comparison) -> Result<String, crate::ReportError> {
    render("compare.md.j2", &CompareView::build(comparison))
}

/// The comparison as one self-contained HTML page: inline CSS, no scripts.
pub fn render_html(comparison: &Comparison) -> Result<String, crate::ReportError> {
    render("compare.html.j2", &CompareView::build(comparison))
}

/// The comparison page and its markdown twin.
#[derive(Debug, Clone, Serialize)]
pub struct CompareView {
    /// "1 regression, 2 improvements, 1 verdict flip", with the rows of too few pairs and the
    /// verdicts that became invalid when there are any.
    pub headline: String,
    pub regressed: bool,
    pub base: RunView,
    pub new: RunView,
    /// "±5%".
    pub threshold: String,
    /// The intervals' levels: "≥ 99.44% per row, 95% for the comparison".
    pub confidence: String,
    /// How the changes were judged, one sentence a line, for both pages.
    pub rules: Vec<String>,
    pub notes: Vec<String>,
    pub rows: Vec<RowView>,
    pub flips: Vec<FlipView>,
}

/// One run's identity, formatted.
#[derive(Debug, Clone, Serialize)]
pub struct RunView {
    pub run_id: String,
    pub profile: String,
    pub started_at: String,
    /// The commit, or "unknown commit".
    pub commit: String,
    pub partial: bool,
}

/// One table row.
#[derive(Debug, Clone, Serialize)]
pub struct RowView {
    /// The claim id, or "↳ label" for a sub-verdict.
    pub name: String,
    pub sub: bool,
    pub ratio: String,
    /// "1.52× (1.38–1.71)" or "–".
    pub base: String,
    pub base_badge: Option<Badge>,
    pub new: String,
    pub new_badge: Option<Badge>,
    /// "−20.0% (−23.9% to −16.2%)" or "–".
    pub change: String,
    pub judgement: Badge,
    /// "supported → refuted", when the outcome changed.
    pub flip: Option<String>,
    /// The judgement and the flip in one phrase, for markdown: "no change · verdict supported →
    /// inconclusive".
    pub verdict_text: String,
    pub regression: bool,
    /// Why not comparable, or why inconclusive ("inconclusive: too few pairs for …").
    pub note: Option<String>,
}

/// One verdict flip, for the list under the table.
#[derive(Debug, Clone, Serialize)]
pub struct FlipView {
    pub name: String,
    pub from: &'static str,
    pub to: &'static str,
    /// "weakened (information: a flip alone is not a regression)", "strengthened", ….
    pub kind: &'static str,
    pub class: &'static str,
}

impl CompareView {
    /// Formats a comparison.
    pub fn build(c: &Comparison) -> CompareView {
        let regressions = c.regressions().count();
        let improvements = c.improvements().count();
        let flips = c.flips().count();
        let mut parts = vec![plural(regressions, "regression", "regressions")];
        parts.push(plural(improvements, "improvement", "improvements"));
        parts.push(plural(flips, "verdict flip", "verdict flips"));
        match c.too_few_pairs().count() {
            0 => {}
            1 => parts.push("1 row with too few pairs".to_string()),
            n => parts.push(format!("{n} rows with too few pairs")),
        }
        match c.invalidated().count() {
            0 => {}
            1 => parts.push("1 verdict became invalid".to_string()),
            n => parts.push(format!("{n} verdicts became invalid")),
        }
        let threshold = format::band(c.options.threshold);
        let family = format::level(c.options.confidence);
        let confidence = match c.row_level {
            Some(row) => format!("≥ {} per row, {family} for the comparison", format::level(row)),
            None => format!("{family} for the comparison"),
        };
        CompareView {
            headline: parts.join(", "),
            regressed: regressions > 0,
            base: run_view(&c.base),
            new: run_view(&c.new),
            rules: rules(&threshold, c.options.confidence, c.row_level),
            threshold,
            confidence,
            notes: c.notes.clone(),
            rows: c.rows.iter().map(row_view).collect(),
            flips: c.rows.iter().filter_map(flip_view).collect(),
        }
    }
}

/// The rules a reader needs to read the table, worded once for both pages.
fn rules(threshold: &str, family_level: f64, row_level: Option<f64>) -> Vec<String> {
    let family = format::level(family_level);
    let per_row = row_level.map_or(String::new(), |l| format!(" (≥ {} for each row)", format::level(l)));
    vec![
        format!(
            "Each change NEW/BASE is the Hodges–Lehmann shift of the two runs' per-pair log-ratios, with an \
             exact Mann–Whitney (order-statistics) interval. The level is split over the rows{per_row}, so \
             that all intervals hold together at {family}: two runs of the same code raise a false alarm \
             at most {} of the time.",
            format::percent(1.0 - family_level)
        ),
        format!(
            "A ratio changed when its whole interval lies beyond {threshold}. Regressed: it moved against \
             the claimed side. Only that is a regression."
        ),
        "Too few pairs: both runs measured the ratio, but with too few pairs for an interval at the row's \
         level; inconclusive, never a regression."
            .to_string(),
        "Verdict flips are information, not regressions: two runs of the same code flip between supported \
         and inconclusive from noise alone. A verdict that became invalid is a warning: invalid means the \
         harness or the machine failed (a saturated generator, a drifting speed canary), not the code, so \
         read NEW's report before trusting it."
            .to_string(),
    ]
}

fn plural(n: usize, one: &str, many: &str) -> String {
    match n {
        0 => format!("no {one}"),
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    }
}

fn run_view(r: &RunInfo) -> RunView {
    RunView {
        run_id: r.run_id.clone(),
        profile: r.profile.clone(),
        started_at: r.started_at.clone(),
        commit: r.git_commit.clone().unwrap_or_else(|| "unknown commit".to_string()),
        partial: !r.complete,
    }
}

fn name(r: &Row) -> String {
    match &r.label {
        Some(label) => format!("↳ {label}"),
        None => r.claim.clone(),
    }
}

fn row_view(r: &Row) -> RowView {
    let side = |s: &Option<Side>| match s {
        Some(s) => (s.estimate.as_ref().map_or("–".to_string(), estimate), Some(badge(s.outcome))),
        None => ("absent".to_string(), None),
    };
    let (base, base_badge) = side(&r.base);
    let (new, new_badge) = side(&r.new);
    let flip = match (&r.base, &r.new, r.flip) {
        (Some(b), Some(n), Some(_)) => Some(format!("{} → {}", badge(b.outcome).text, badge(n.outcome).text)),
        _ => None,
    };
    let judgement = judgement_badge(r.judgement);
    let verdict_text = match &flip {
        Some(flip) => format!("{} · verdict {flip}", judgement.text),
        None => judgement.text.to_string(),
    };
    RowView {
        name: name(r),
        sub: r.label.is_some(),
        ratio: r.ratio.clone(),
        base,
        base_badge,
        new,
        new_badge,
        change: r.change.as_ref().map_or("–".to_string(), change),
        judgement,
        flip,
        verdict_text,
        regression: r.regression,
        note: r.note.clone(),
    }
}

fn flip_view(r: &Row) -> Option<FlipView> {
    let (b, n, kind) = (r.base.as_ref()?, r.new.as_ref()?, r.flip?);
    let (kind, class) = match kind {
        FlipKind::Weakened => ("weakened; information: a flip alone is not a regression", "changed"),
        FlipKind::BecameInvalid => {
            ("became invalid; a warning: the harness or the machine failed, see NEW's report", "warning")
        }
        FlipKind::Strengthened => ("strengthened", "improved"),
        FlipKind::Coverage => ("became measured or stopped being measured", "changed"),
    };
    Some(FlipView { name: name(r), from: badge(b.outcome).text, to: badge(n.outcome).text, kind, class })
}

fn judgement_badge(j: Judgement) -> Badge {
    let (class, text) = match j {
        Judgement::Improved => ("improved", "improved"),
        Judgement::Regressed => ("regressed", "regressed"),
        Judgement::Changed => ("changed", "changed"),
        Judgement::NoChange => ("no-change", "no change"),
        Judgement::TooFewPairs => ("too-few", "inconclusive: too few pairs"),
        Judgement::NotComparable => ("not-comparable", "not comparable"),
    };
    Badge { class, text }
}

/// "1.52× (1.38–1.71)".
fn estimate(e: &Estimate) -> String {
    format::ratio_interval(e.ratio_median, e.ci_low, e.ci_high)
}

/// "−20.0% (−23.9% to −16.2%)": the change as a signed percentage with its interval.
fn change(c: &Change) -> String {
    format!(
        "{} ({} to {})",
        format::signed_percent(c.median),
        format::signed_percent(c.low),
        format::signed_percent(c.high)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_as_signed_percentages() {
        let c = Change { median: 0.8, low: 0.761, high: 0.838, level: 0.9968 };
        assert_eq!(change(&c), "−20.0% (−23.9% to −16.2%)");
    }
}
