//! The rule that turns a ratio's movement and a verdict's flip into improved / regressed / no
//! change, from the claim's point of view. Pure functions, tested with plain values.
//!
//! The rule, as the README states it:
//! - A ratio **moved** when the whole interval of its change NEW/BASE lies beyond the noise
//!   threshold (`change::movement`).
//! - A movement **towards** the claimed side is an improvement, **against** it a regression
//!   (`claimed::Favoured`). When the claimed side is unknown, the movement is reported as
//!   "changed" and is neither.
//! - A row whose runs have too few pairs for an interval at the comparison's row level is
//!   inconclusive ("too few pairs"), never a regression.
//! - A **verdict flip** is any change of outcome: weakened (supported → inconclusive or refuted,
//!   inconclusive → refuted), strengthened the other way, became invalid, or a coverage change (a
//!   claim became or stopped being measured). Flips are information only: two runs of the same
//!   code flip between supported and inconclusive from noise, so a flip alone decides nothing.
//!   Becoming invalid is a fault of the harness or the machine, shown as a warning.
//!
//! A row is a regression only when its ratio regressed: its change interval cleared the band
//! against the claimed side.

use claimbench_model::compare::{Favoured, FlipKind, Judgement, Movement};
use claimbench_model::run::Outcome;

/// Judges a movement against the side that favours the claim.
pub fn judge(movement: Movement, favoured: Favoured) -> Judgement {
    match (movement, favoured) {
        (Movement::None, _) => Judgement::NoChange,
        (_, Favoured::Unknown) => Judgement::Changed,
        (Movement::Up, Favoured::Up) | (Movement::Down, Favoured::Down) => Judgement::Improved,
        (Movement::Up, Favoured::Down) | (Movement::Down, Favoured::Up) => Judgement::Regressed,
    }
}

/// Classifies a flip `from` → `to`; `None` when the outcome did not change.
pub fn flip(from: Outcome, to: Outcome) -> Option<FlipKind> {
    if from == to {
        return None;
    }
    Some(match (support(from), support(to)) {
        (Some(a), Some(b)) if b < a => FlipKind::Weakened,
        (Some(_), Some(_)) => FlipKind::Strengthened,
        _ if from == Outcome::NotMeasured || to == Outcome::NotMeasured => FlipKind::Coverage,
        _ if to == Outcome::Invalid => FlipKind::BecameInvalid,
        _ => FlipKind::Strengthened,
    })
}

/// How much an outcome supports the claim; `None` for outcomes that decide nothing.
fn support(outcome: Outcome) -> Option<u8> {
    match outcome {
        Outcome::Refuted => Some(0),
        Outcome::Inconclusive => Some(1),
        Outcome::Supported => Some(2),
        Outcome::Invalid | Outcome::NotMeasured => None,
    }
}

/// The README's rule: a row is a regression when, and only when, its ratio regressed; a verdict
/// flip alone never is one.
pub fn is_regression(judgement: Judgement) -> bool {
    judgement == Judgement::Regressed
}

#[cfg(test)]
mod tests {
    use super::*;
    use Outcome::*;

    #[test]
    fn a_movement_towards_the_claim_is_an_improvement_and_against_it_a_regression() {
        assert_eq!(judge(Movement::Up, Favoured::Up), Judgement::Improved);
        assert_eq!(judge(Movement::Down, Favoured::Down), Judgement::Improved);
        assert_eq!(judge(Movement::Down, Favoured::Up), Judgement::Regressed);
        assert_eq!(judge(Movement::Up, Favoured::Down), Judgement::Regressed);
    }

    #[test]
    fn noise_is_no_change_whatever_the_claim() {
        for favoured in [Favoured::Up, Favoured::Down, Favoured::Unknown] {
            assert_eq!(judge(Movement::None, favoured), Judgement::NoChange);
        }
    }

    #[test]
    fn a_movement_of_a_claim_without_a_known_side_is_only_a_change() {
        assert_eq!(judge(Movement::Up, Favoured::Unknown), Judgement::Changed);
        assert!(!is_regression(Judgement::Changed));
    }

    #[test]
    fn weaker_evidence_is_a_weakened_flip_and_lost_validity_its_own_kind() {
        assert_eq!(flip(Supported, Refuted), Some(FlipKind::Weakened));
        assert_eq!(flip(Supported, Inconclusive), Some(FlipKind::Weakened));
        assert_eq!(flip(Inconclusive, Refuted), Some(FlipKind::Weakened));
        assert_eq!(flip(Supported, Invalid), Some(FlipKind::BecameInvalid));
        assert_eq!(flip(Refuted, Invalid), Some(FlipKind::BecameInvalid));
    }

    #[test]
    fn stronger_evidence_and_regained_validity_are_strengthened_flips() {
        assert_eq!(flip(Refuted, Supported), Some(FlipKind::Strengthened));
        assert_eq!(flip(Inconclusive, Supported), Some(FlipKind::Strengthened));
        assert_eq!(flip(Invalid, Refuted), Some(FlipKind::Strengthened));
    }

    #[test]
    fn becoming_measured_or_not_is_coverage_and_no_outcome_change_is_no_flip() {
        assert_eq!(flip(NotMeasured, Supported), Some(FlipKind::Coverage));
        assert_eq!(flip(Invalid, NotMeasured), Some(FlipKind::Coverage));
        assert_eq!(flip(Supported, Supported), None);
    }

    #[test]
    fn a_row_regresses_only_through_its_ratio() {
        assert!(is_regression(Judgement::Regressed));
        for j in [Judgement::NoChange, Judgement::TooFewPairs, Judgement::Changed, Judgement::NotComparable] {
            assert!(!is_regression(j), "{j:?}");
        }
    }
}
