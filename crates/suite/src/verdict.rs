//! The verdict: one small pure function comparing a ratio's confidence interval with the claimed
//! side and a noise threshold, the way criterion decides improved / regressed / no change.

pub use claimbench_model::run::Claimed;
use claimbench_model::run::Outcome;

/// Decides a verdict from the interval `[low, high]` of a ratio whose neutral value is 1.
///
/// `threshold` is the noise band as a fraction (0.05 = 5%): a ratio counts as above 1 only when
/// it exceeds `1 + threshold`, and as below 1 only under `1 / (1 + threshold)`.
/// - Greater: supported if `low > 1 + t`, refuted if `high < 1 / (1 + t)`.
/// - Less: supported if `high < 1 / (1 + t)`, refuted if `low > 1 + t`.
/// - NotGreater: supported if `high < 1 + t`, refuted if `low > 1 + t`.
///
/// Everything else is inconclusive.
pub fn decide(low: f64, high: f64, claimed: Claimed, threshold: f64) -> Outcome {
    if !(low.is_finite() && high.is_finite()) || low > high {
        return Outcome::Inconclusive;
    }
    let above = 1.0 + threshold;
    let below = 1.0 / (1.0 + threshold);
    let (supported, refuted) = match claimed {
        Claimed::Greater => (low > above, high < below),
        Claimed::Less => (high < below, low > above),
        Claimed::NotGreater => (high < above, low > above),
    };
    if supported {
        Outcome::Supported
    } else if refuted {
        Outcome::Refuted
    } else {
        Outcome::Inconclusive
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: f64 = 0.05;

    #[test]
    fn an_interval_clearly_on_the_claimed_side_supports_the_claim() {
        assert_eq!(decide(1.31, 1.55, Claimed::Greater, T), Outcome::Supported);
        assert_eq!(decide(0.40, 0.61, Claimed::Less, T), Outcome::Supported);
        assert_eq!(decide(0.9, 1.03, Claimed::NotGreater, T), Outcome::Supported);
    }

    #[test]
    fn an_interval_clearly_on_the_other_side_refutes_it() {
        assert_eq!(decide(0.40, 0.61, Claimed::Greater, T), Outcome::Refuted);
        assert_eq!(decide(1.31, 1.55, Claimed::Less, T), Outcome::Refuted);
        assert_eq!(decide(12.0, 40.0, Claimed::NotGreater, T), Outcome::Refuted);
    }

    #[test]
    fn an_interval_reaching_into_the_noise_band_is_inconclusive() {
        assert_eq!(decide(1.02, 1.40, Claimed::Greater, T), Outcome::Inconclusive);
        assert_eq!(decide(0.97, 1.03, Claimed::Greater, T), Outcome::Inconclusive);
        assert_eq!(decide(0.97, 1.03, Claimed::Less, T), Outcome::Inconclusive);
        assert_eq!(decide(0.65, 1.61, Claimed::Greater, T), Outcome::Inconclusive);
        assert_eq!(decide(1.01, 1.2, Claimed::NotGreater, T), Outcome::Inconclusive);
    }

    #[test]
    fn the_threshold_is_the_edge() {
        assert_eq!(decide(1.049, 2.0, Claimed::Greater, T), Outcome::Inconclusive);
        assert_eq!(decide(1.051, 2.0, Claimed::Greater, T), Outcome::Supported);
        assert_eq!(decide(1.051, 2.0, Claimed::Greater, 0.10), Outcome::Inconclusive);
    }

    #[test]
    fn nonsense_intervals_decide_nothing() {
        assert_eq!(decide(f64::NAN, 2.0, Claimed::Greater, T), Outcome::Inconclusive);
        assert_eq!(decide(2.0, 1.5, Claimed::Greater, T), Outcome::Inconclusive);
    }
}
