//! Which way a ratio has to move to favour its claim, read from what the results already say.
//!
//! Results from this version on record the claimed side on each estimate (`claimed`), and that
//! decides. Older results carry the claimed direction only in words (`direction`, e.g. "express >
//! fastapi") next to an estimate that names its numerator and denominator. This file turns the
//! two into [`Favoured`]: up when a larger ratio favours the claim, down when a smaller one
//! does. When the words do not say (no comparator, no stack named), a decisive verdict does:
//! a supported claim with a ratio above 1 favours up, and so on. Otherwise it is unknown, and
//! a change is reported as a change without calling it better or worse.

use claimbench_model::compare::Favoured;
use claimbench_model::run::{Claimed, Estimate, Outcome};

/// The comparators and phrases a `direction` may use, and whether each says "left is ahead".
/// Longer ones first, so `>=` is not read as `>`.
const COMPARATORS: [(&str, bool); 11] = [
    (">=", true),
    ("<=", false),
    ("≥", true),
    ("≤", false),
    (">", true),
    ("<", false),
    (" at least as ", true),
    (" more than ", true),
    (" less than ", false),
    (" faster than ", true),
    (" slower than ", false),
];

/// Reads `direction` against the estimate's numerator and denominator; falls back to the
/// decisive `verdicts` given (each an outcome with its ratio median), in order.
pub fn favoured(direction: &str, estimate: &Estimate, verdicts: &[(Outcome, f64)]) -> Favoured {
    // Results that record the claimed side say it outright; the words are for older results.
    match estimate.claimed {
        Some(Claimed::Greater) => return Favoured::Up,
        Some(Claimed::Less) | Some(Claimed::NotGreater) => return Favoured::Down,
        // A negative control favours no side: either way, a move is not an improvement.
        Some(Claimed::Equal) => return Favoured::Unknown,
        None => {}
    }
    match from_words(direction, &estimate.numerator, &estimate.denominator) {
        Favoured::Unknown => verdicts
            .iter()
            .map(|&(outcome, ratio)| from_verdict(outcome, ratio))
            .find(|f| *f != Favoured::Unknown)
            .unwrap_or(Favoured::Unknown),
        known => known,
    }
}

/// "A > B" on A/B favours up; on B/A down; "A < B" the other way round. Unknown when no
/// comparator is found or the stacks named do not match the ratio's.
pub fn from_words(direction: &str, numerator: &str, denominator: &str) -> Favoured {
    let lower = direction.to_lowercase();
    let Some((at, len, left_ahead)) =
        COMPARATORS.iter().find_map(|&(word, ahead)| lower.find(word).map(|at| (at, word.len(), ahead)))
    else {
        return Favoured::Unknown;
    };
    let (left, right) = (&lower[..at], &lower[at + len..]);
    let (num, den) = (numerator.to_lowercase(), denominator.to_lowercase());
    let numerator_left = if left.contains(&num) && right.contains(&den) {
        true
    } else if left.contains(&den) && right.contains(&num) {
        false
    } else {
        return Favoured::Unknown;
    };
    if numerator_left == left_ahead {
        Favoured::Up
    } else {
        Favoured::Down
    }
}

/// A decisive verdict shows the claimed side: supported above 1 or refuted below 1 favours up.
pub fn from_verdict(outcome: Outcome, ratio: f64) -> Favoured {
    if !ratio.is_finite() || ratio == 1.0 {
        return Favoured::Unknown;
    }
    match (outcome, ratio > 1.0) {
        (Outcome::Supported, true) | (Outcome::Refuted, false) => Favoured::Up,
        (Outcome::Supported, false) | (Outcome::Refuted, true) => Favoured::Down,
        _ => Favoured::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comparator_reads_against_the_ratios_numerator() {
        assert_eq!(from_words("express > fastapi", "express", "fastapi"), Favoured::Up);
        assert_eq!(from_words("express > fastapi", "fastapi", "express"), Favoured::Down);
        assert_eq!(from_words("express < fastapi", "express", "fastapi"), Favoured::Down);
        assert_eq!(from_words("fastapi ≥ express", "fastapi", "express"), Favoured::Up);
        assert_eq!(from_words("fastapi <= express", "fastapi", "express"), Favoured::Down);
    }

    #[test]
    fn phrases_of_the_claims_file_read_like_comparators() {
        assert_eq!(from_words("express's p99 grows less than fastapi's", "express", "fastapi"), Favoured::Down);
        assert_eq!(from_words("express scales at least as well as fastapi", "express", "fastapi"), Favoured::Up);
    }

    #[test]
    fn words_that_name_other_stacks_or_no_comparator_say_nothing() {
        assert_eq!(from_words("—", "express", "fastapi"), Favoured::Unknown);
        assert_eq!(from_words("koa > flask", "express", "fastapi"), Favoured::Unknown);
    }

    #[test]
    fn a_decisive_verdict_shows_the_claimed_side() {
        assert_eq!(from_verdict(Outcome::Supported, 1.5), Favoured::Up);
        assert_eq!(from_verdict(Outcome::Refuted, 0.05), Favoured::Up);
        assert_eq!(from_verdict(Outcome::Supported, 0.29), Favoured::Down);
        assert_eq!(from_verdict(Outcome::Refuted, 2.9), Favoured::Down);
        assert_eq!(from_verdict(Outcome::Inconclusive, 0.9), Favoured::Unknown);
    }

    #[test]
    fn the_words_win_over_the_verdicts() {
        let estimate = Estimate {
            numerator: "express".into(),
            denominator: "fastapi".into(),
            quantity: "throughput".into(),
            ratio_median: 0.5,
            ci_low: 0.4,
            ci_high: 0.6,
            confidence: None,
            pairs: 3,
            spread: vec![],
            claimed: None,
        };
        let refuted = [(Outcome::Supported, 0.5)];
        assert_eq!(favoured("express > fastapi", &estimate, &refuted), Favoured::Up);
        assert_eq!(favoured("—", &estimate, &refuted), Favoured::Down);
        assert_eq!(favoured("—", &estimate, &[]), Favoured::Unknown);
    }

    #[test]
    fn a_recorded_claimed_side_wins_over_the_words() {
        let mut estimate = Estimate {
            numerator: "express".into(),
            denominator: "express".into(),
            quantity: "throughput".into(),
            ratio_median: 1.7,
            ci_low: 1.5,
            ci_high: 1.9,
            confidence: None,
            pairs: 3,
            spread: vec![],
            claimed: Some(Claimed::Greater),
        };
        assert_eq!(favoured("2 workers > 1 worker", &estimate, &[]), Favoured::Up);
        estimate.claimed = Some(Claimed::NotGreater);
        assert_eq!(favoured("mixed ≈ alone", &estimate, &[]), Favoured::Down);
        estimate.claimed = None;
        assert_eq!(favoured("2 workers > 1 worker", &estimate, &[]), Favoured::Unknown);
    }
}
