//! The SLO search: the highest open-loop rate a stack holds within the p99 objective, found by
//! bisection on the rate rather than read off a fixed grid; the same bisection finds the largest
//! broadcast room a stack holds within its fan-out target ([`search_in`]). Pure arithmetic on a `probe` callback
//! (offer this rate, say whether it held), so it is tested with plain numbers; the runner supplies
//! a probe that measures one seeded Poisson step through the lab, drained before the next.
//!
//! The search doubles the rate from its start until a step fails (or the ceiling, the load
//! generator's own limit, holds), halves it when the start already fails, then bisects between
//! the highest rate that held and the lowest that failed until they lie within the resolution.

use serde::{Deserialize, Serialize};

/// How a search proceeds; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SearchBounds {
    /// The first rate offered, requests per second.
    pub start: f64,
    /// The highest rate ever offered: the load generator's own limit, never a grid's top.
    pub ceiling: f64,
    /// Below this rate the search gives up: the stack holds nothing worth the name.
    pub floor: f64,
    /// The search stops once the lowest failing rate is within this fraction above the highest
    /// held one (0.05: the answer is within 5% of the saturation point).
    pub resolution: f64,
    /// The most steps a search may take, so a noisy stack cannot keep it going.
    pub max_steps: u32,
}

/// One step of a search: the rate offered and whether it held the objective.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probe {
    pub rate: f64,
    pub held: bool,
}

/// What a search found.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOutcome {
    /// The highest rate that held; 0 when not even the floor did.
    pub max_rate: f64,
    /// The lowest rate that failed; `None` when nothing failed (the ceiling held).
    pub failed_at: Option<f64>,
    /// Every step, in the order offered.
    pub probes: Vec<Probe>,
    /// Why the search ended short of its resolution, if it did (the step budget ran out, the
    /// ceiling held, the floor failed, or the probe gave up).
    pub short: Option<String>,
}

impl SearchOutcome {
    /// The bracket's width relative to the rate held: the search's actual resolution.
    pub fn width(&self) -> Option<f64> {
        self.failed_at.filter(|_| self.max_rate > 0.0).map(|hi| hi / self.max_rate - 1.0)
    }
}

/// Runs the search over a rate. `probe(rate)` offers one step and answers whether it held the
/// objective, or `None` when it could not be measured (interrupted, a harness fault): the search
/// then ends with what it has.
pub fn search(bounds: &SearchBounds, probe: impl FnMut(f64) -> Option<bool>) -> SearchOutcome {
    search_in(bounds, "req/s", probe)
}

/// [`search`] over any quantity that a stack holds up to a point (a rate, a room's members),
/// named `unit` in the reasons it gives.
pub fn search_in(bounds: &SearchBounds, unit: &str, mut probe: impl FnMut(f64) -> Option<bool>) -> SearchOutcome {
    let mut out = SearchOutcome { max_rate: 0.0, failed_at: None, probes: Vec::new(), short: None };
    let (mut lo, mut hi): (Option<f64>, Option<f64>) = (None, None);
    let mut rate = bounds.start.clamp(bounds.floor, bounds.ceiling);
    let mut step = |rate: f64, out: &mut SearchOutcome| -> Option<bool> {
        if out.probes.len() as u32 >= bounds.max_steps {
            out.short = Some(format!("stopped after {} steps", bounds.max_steps));
            return None;
        }
        let Some(held) = probe(rate) else {
            out.short = Some(format!("the step at {rate:.0} {unit} could not be measured"));
            return None;
        };
        out.probes.push(Probe { rate, held });
        Some(held)
    };
    // Bracket: up by doubling while it holds, down by halving while it fails.
    loop {
        let Some(held) = step(rate, &mut out) else { return finish(out, lo, hi) };
        if held {
            lo = Some(rate);
            if hi.is_some() {
                break;
            }
            if rate >= bounds.ceiling {
                out.short = Some(format!(
                    "the ceiling of {:.0} {unit} (the load generator's own limit) held: the stack may hold more",
                    bounds.ceiling
                ));
                return finish(out, lo, hi);
            }
            rate = (rate * 2.0).min(bounds.ceiling);
        } else {
            hi = Some(rate);
            if lo.is_some() {
                break;
            }
            if rate <= bounds.floor {
                out.short = Some(format!("not even the floor of {:.0} {unit} held", bounds.floor));
                return finish(out, lo, hi);
            }
            rate = (rate / 2.0).max(bounds.floor);
        }
    }
    // Bisect the bracket down to the resolution.
    while let (Some(l), Some(h)) = (lo, hi) {
        if h <= l * (1.0 + bounds.resolution) {
            break;
        }
        let mid = (l + h) / 2.0;
        match step(mid, &mut out) {
            Some(true) => lo = Some(mid),
            Some(false) => hi = Some(mid),
            None => break,
        }
    }
    finish(out, lo, hi)
}

fn finish(mut out: SearchOutcome, lo: Option<f64>, hi: Option<f64>) -> SearchOutcome {
    out.max_rate = lo.unwrap_or(0.0);
    out.failed_at = hi;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds() -> SearchBounds {
        SearchBounds { start: 1000.0, ceiling: 100_000.0, floor: 50.0, resolution: 0.05, max_steps: 20 }
    }

    /// A stack that holds every rate up to `capacity`.
    fn stack(capacity: f64) -> impl FnMut(f64) -> Option<bool> {
        move |rate| Some(rate <= capacity)
    }

    #[test]
    fn the_search_finds_a_saturation_point_within_its_resolution_above_and_below_the_start() {
        for capacity in [800.0, 1300.0, 4321.0, 77.0] {
            let out = search(&bounds(), stack(capacity));
            assert!(out.max_rate <= capacity, "{capacity}: {out:?}");
            assert!(out.max_rate >= capacity / 1.05, "{capacity}: {out:?}");
            let hi = out.failed_at.unwrap();
            assert!(hi > capacity && hi <= out.max_rate * 1.05, "{capacity}: {out:?}");
            assert!(out.short.is_none() && out.width().unwrap() <= 0.05 + 1e-9, "{out:?}");
        }
    }

    #[test]
    fn two_stacks_of_different_capacity_get_different_answers_in_their_ratio() {
        let (a, b) = (search(&bounds(), stack(800.0)), search(&bounds(), stack(1300.0)));
        let ratio = b.max_rate / a.max_rate;
        assert!((ratio - 1300.0 / 800.0).abs() < 0.1, "{ratio}: {a:?} {b:?}");
    }

    #[test]
    fn no_grid_caps_the_answer_only_the_generator_s_ceiling_does() {
        let out = search(&bounds(), stack(1e9));
        assert_eq!(out.max_rate, 100_000.0);
        assert!(out.short.as_deref().is_some_and(|s| s.contains("load generator's own limit")), "{out:?}");
        let out = search(&bounds(), stack(30_000.0));
        assert!(out.max_rate > 28_500.0 && out.max_rate <= 30_000.0, "{out:?}");
    }

    #[test]
    fn a_search_over_room_members_names_its_unit_and_rounds_nothing_away() {
        let room = SearchBounds { start: 1500.0, ceiling: 3000.0, floor: 100.0, resolution: 0.10, max_steps: 8 };
        let out = search_in(&room, "members", stack(1700.0));
        assert!(out.max_rate <= 1700.0 && out.max_rate >= 1700.0 / 1.10, "{out:?}");
        let out = search_in(&room, "members", stack(5000.0));
        assert_eq!(out.max_rate, 3000.0);
        assert!(out.short.as_deref().is_some_and(|s| s.contains("3000 members")), "{out:?}");
    }

    #[test]
    fn a_stack_that_holds_nothing_ends_at_the_floor_with_zero() {
        let out = search(&bounds(), stack(10.0));
        assert_eq!(out.max_rate, 0.0);
        assert_eq!(out.probes.last().unwrap().rate, 50.0);
        assert!(out.short.unwrap().contains("floor"));
    }

    #[test]
    fn a_step_that_cannot_be_measured_ends_the_search_with_what_it_has() {
        let mut calls = 0;
        let out = search(&bounds(), |rate| {
            calls += 1;
            (calls < 3).then_some(rate <= 3000.0)
        });
        assert_eq!(out.max_rate, 2000.0);
        assert_eq!(out.probes.len(), 2);
        assert!(out.short.unwrap().contains("could not be measured"));
    }

    #[test]
    fn the_step_budget_bounds_a_search() {
        let out = search(&SearchBounds { max_steps: 4, ..bounds() }, stack(1300.0));
        assert_eq!(out.probes.len(), 4);
        assert!(out.short.unwrap().contains("4 steps"));
        assert!(out.max_rate <= 1300.0 && out.max_rate >= 1000.0);
    }
}
