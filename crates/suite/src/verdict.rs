//! The verdict: one small pure function, [`decide`], comparing a ratio's confidence interval with
//! the claimed side and a noise threshold, the way criterion decides improved / regressed / no
//! change; and [`decide_ratios`], which takes the per-pair ratios, builds their interval
//! ([`crate::interval`]) and says why it decided what it did. Which ratios to take is left to
//! [`crate::evaluate`].

pub use claimbench_model::run::Claimed;
use claimbench_model::run::Outcome;

use claimbench_model::format;

use crate::interval::{median_interval, MedianInterval, TooFewPairs};

/// Where an interval `[low, high]` of a ratio lies against the noise band
/// `[1 / (1 + threshold), 1 + threshold]` around 1. The band is symmetric on a log scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    /// Wholly above the band: `low > 1 + t`.
    Above,
    /// Wholly below the band: `high < 1 / (1 + t)`.
    Below,
    /// Reaching into the band from below, or inside it, but not above its top: `high < 1 + t`.
    UnderTop,
    /// Crossing the band's top edge.
    AcrossTop,
}

/// Places `[low, high]` against the noise band of `threshold` (0.05 = 5%); `None` for nonsense
/// intervals (not finite, or `low > high`). The verdicts and the comparison's movement both
/// read this one function.
pub fn band(low: f64, high: f64, threshold: f64) -> Option<Band> {
    if !(low.is_finite() && high.is_finite()) || low > high {
        return None;
    }
    let above = 1.0 + threshold;
    Some(if low > above {
        Band::Above
    } else if high < 1.0 / above {
        Band::Below
    } else if high < above {
        Band::UnderTop
    } else {
        Band::AcrossTop
    })
}

/// A verdict from per-pair ratios: the outcome, why, and the interval it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Supported, refuted or inconclusive.
    pub outcome: Outcome,
    /// Why, in words that follow the outcome's label: "too few pairs for a 95% interval (3
    /// pairs, 6 needed): run a longer profile".
    pub reason: String,
    /// The interval at no less than the requested level, or why there is none.
    pub interval: Result<MedianInterval, TooFewPairs>,
}

/// Decides a claim about the median of `ratios` from their order-statistics interval at
/// `level` (see [`median_interval`]): inconclusive when there are too few pairs for `level`,
/// otherwise [`decide`] on the interval.
pub fn decide_ratios(ratios: &[f64], claimed: Claimed, threshold: f64, level: f64) -> Decision {
    let interval = median_interval(ratios, level);
    let band = format::band(threshold);
    let (outcome, reason) = match &interval {
        Err(too_few) => (Outcome::Inconclusive, format!("{too_few}: run a longer profile")),
        Ok(i) => {
            let outcome = decide(i.low, i.high, claimed, threshold);
            let level = format::level(i.level);
            let reason = match (claimed, outcome) {
                (Claimed::Equal, Outcome::Supported) => {
                    format!("the whole {level} interval lies within the {band} noise band, as this control must")
                }
                (Claimed::Equal, Outcome::Refuted) => format!(
                    "the whole {level} interval lies outside the {band} noise band, where this control cannot be: \
                     a harness problem"
                ),
                (_, Outcome::Supported) => {
                    format!("the whole {level} interval lies on the claimed side, beyond the {band} noise band")
                }
                (_, Outcome::Refuted) => format!(
                    "the whole {level} interval lies on the other side of the claim, beyond the {band} noise band"
                ),
                _ => format!("the {level} interval reaches into the {band} noise band or crosses it"),
            };
            (outcome, reason)
        }
    };
    Decision { outcome, reason, interval }
}

/// Decides a verdict from the interval `[low, high]` of a ratio whose neutral value is 1.
///
/// `threshold` is the noise band as a fraction (0.05 = 5%): a ratio counts as above 1 only when
/// it exceeds `1 + threshold`, and as below 1 only under `1 / (1 + threshold)` ([`band`]).
/// - Greater: supported if `low > 1 + t`, refuted if `high < 1 / (1 + t)`.
/// - Less: supported if `high < 1 / (1 + t)`, refuted if `low > 1 + t`.
/// - NotGreater: supported if `high < 1 + t`, refuted if `low > 1 + t`.
/// - Equal (a negative control): supported if the whole interval lies within the band, refuted
///   if it lies wholly beyond it on either side.
///
/// Everything else is inconclusive.
pub fn decide(low: f64, high: f64, claimed: Claimed, threshold: f64) -> Outcome {
    let Some(band) = band(low, high, threshold) else {
        return Outcome::Inconclusive;
    };
    if claimed == Claimed::Equal {
        let within = low >= 1.0 / (1.0 + threshold) && high <= 1.0 + threshold;
        return match band {
            Band::Above | Band::Below => Outcome::Refuted,
            _ if within => Outcome::Supported,
            _ => Outcome::Inconclusive,
        };
    }
    match (claimed, band) {
        (Claimed::Greater, Band::Above) | (Claimed::Less, Band::Below) => Outcome::Supported,
        (Claimed::NotGreater, Band::Below | Band::UnderTop) => Outcome::Supported,
        (Claimed::Greater, Band::Below) | (Claimed::Less | Claimed::NotGreater, Band::Above) => Outcome::Refuted,
        _ => Outcome::Inconclusive,
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
    fn a_negative_control_holds_only_inside_the_band_and_fails_beyond_it_on_either_side() {
        assert_eq!(decide(0.97, 1.02, Claimed::Equal, T), Outcome::Supported);
        assert_eq!(decide(0.97, 1.07, Claimed::Equal, T), Outcome::Inconclusive, "across the top edge");
        assert_eq!(decide(0.90, 0.99, Claimed::Equal, T), Outcome::Inconclusive, "across the bottom edge");
        assert_eq!(decide(1.10, 1.20, Claimed::Equal, T), Outcome::Refuted);
        assert_eq!(decide(0.80, 0.90, Claimed::Equal, T), Outcome::Refuted);
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
    fn three_clear_pairs_are_still_inconclusive_at_95_percent() {
        let d = decide_ratios(&[1.5, 1.6, 1.7], Claimed::Greater, T, 0.95);
        assert_eq!(d.outcome, Outcome::Inconclusive);
        assert_eq!(d.reason, "too few pairs for a 95% interval (3 pairs, 6 needed): run a longer profile");
        assert!(d.interval.is_err());
    }

    #[test]
    fn six_clear_pairs_decide_and_name_the_true_level() {
        let d = decide_ratios(&[1.5, 1.6, 1.7, 1.55, 1.65, 1.58], Claimed::Greater, T, 0.95);
        assert_eq!(d.outcome, Outcome::Supported);
        assert!(d.reason.starts_with("the whole 96.87% interval lies on the claimed side"), "{}", d.reason);
        let d = decide_ratios(&[1.5, 1.6, 1.7, 1.55, 1.65, 1.58], Claimed::Less, T, 0.95);
        assert_eq!(d.outcome, Outcome::Refuted);
        let d = decide_ratios(&[1.5, 0.9, 1.7, 1.55, 1.65, 1.58], Claimed::Greater, T, 0.95);
        assert_eq!(d.outcome, Outcome::Inconclusive, "one pair in the band keeps [min, max] in it");
        assert!(d.reason.contains("reaches into the ±5% noise band"), "{}", d.reason);
    }

    #[test]
    fn nonsense_intervals_decide_nothing() {
        assert_eq!(decide(f64::NAN, 2.0, Claimed::Greater, T), Outcome::Inconclusive);
        assert_eq!(decide(2.0, 1.5, Claimed::Greater, T), Outcome::Inconclusive);
        assert_eq!(band(f64::INFINITY, f64::INFINITY, T), None);
    }

    #[test]
    fn the_band_places_an_interval_by_its_edges() {
        assert_eq!(band(1.06, 1.2, T), Some(Band::Above));
        assert_eq!(band(0.8, 0.95, T), Some(Band::Below));
        assert_eq!(band(0.9, 1.04, T), Some(Band::UnderTop));
        assert_eq!(band(0.9, 1.2, T), Some(Band::AcrossTop));
    }
}
