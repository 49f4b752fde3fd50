//! When each request should be sent: the pacing strategy and the stop condition of one worker.
//!
//! The pacer is pure arithmetic on offsets from the run's start, so it is tested with plain
//! numbers. In open loop it walks a schedule of intended send times (evenly spaced or Poisson
//! arrivals) across the plan's phases; in closed loop the intended time is "now plus think time".
//! Either way it stops handing out slots at the end of the last phase or when the worker's
//! share of the request count is used up. Waiting for a slot's time and sending belong to
//! `worker`.

use std::time::Duration;

use crate::plan::{Phase, PhaseKind};

/// One request to send: when it is meant to go, and which phase records it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Slot {
    /// Intended send time, as an offset from the run's start.
    pub intended: Duration,
    /// Index into the plan's phases.
    pub phase: usize,
    /// The worker's running count of slots, used to pick templates and samples.
    pub seq: u64,
}

/// How intended send times are chosen.
#[derive(Debug, Clone)]
pub(crate) enum Pacing {
    /// A schedule fixed in advance; `rng` is set for Poisson arrivals.
    Open {
        rng: Option<SplitMix>,
        /// Slots handed out in the current phase (constant arrivals).
        k: u64,
        /// The last intended time (Poisson arrivals).
        last: Duration,
    },
    /// Each connection goes again `think` after its last response.
    Closed { think: Duration },
}

/// The pacing strategy plus the stop condition of one worker out of `workers`.
#[derive(Debug, Clone)]
pub(crate) struct Pacer {
    phases: Vec<Phase>,
    pacing: Pacing,
    /// This worker's index and the number of workers: each worker takes every `workers`-th slot
    /// of the whole schedule (constant) or an independent share of the rate (Poisson).
    worker: u64,
    workers: u64,
    phase: usize,
    measured_left: Option<u64>,
    seq: u64,
}

impl Pacer {
    /// An open-loop pacer; `poisson_seed` picks Poisson arrivals.
    pub fn open(
        phases: Vec<Phase>,
        poisson_seed: Option<u64>,
        worker: usize,
        workers: usize,
        max_requests: Option<u64>,
    ) -> Pacer {
        let rng = poisson_seed.map(|seed| SplitMix::new(seed ^ (worker as u64).wrapping_mul(GOLDEN)));
        let last = phases.first().map_or(Duration::ZERO, |p| p.start);
        Pacer::with(phases, Pacing::Open { rng, k: 0, last }, worker, workers, max_requests)
    }

    /// A closed-loop pacer.
    pub fn closed(
        phases: Vec<Phase>,
        think: Duration,
        worker: usize,
        workers: usize,
        max_requests: Option<u64>,
    ) -> Pacer {
        Pacer::with(phases, Pacing::Closed { think }, worker, workers, max_requests)
    }

    fn with(phases: Vec<Phase>, pacing: Pacing, worker: usize, workers: usize, max_requests: Option<u64>) -> Pacer {
        let (worker, workers) = (worker as u64, workers.max(1) as u64);
        // The count is shared out so the workers' shares add up to it exactly.
        let measured_left = max_requests.map(|n| n / workers + u64::from(worker < n % workers));
        Pacer { phases, pacing, worker, workers, phase: 0, measured_left, seq: 0 }
    }

    /// When the last phase ends, if it has an end (a run bounded only by a request count has
    /// none).
    pub fn end(&self) -> Option<Duration> {
        self.phases.last().and_then(|p| p.end)
    }

    /// True for open-loop pacing, where slots have intended times set in advance.
    pub fn is_open(&self) -> bool {
        matches!(self.pacing, Pacing::Open { .. })
    }

    /// The next slot for a connection that is free at `now`, or `None` when the run is over
    /// for this worker.
    pub fn next(&mut self, now: Duration) -> Option<Slot> {
        let (intended, phase) = match &mut self.pacing {
            Pacing::Open { rng, k, last } => loop {
                let p = self.phases.get(self.phase)?;
                let rate = p.rate.expect("open-loop phases have a rate");
                let t = match rng {
                    // Slot j + n*k of the whole schedule, computed from k so it never drifts.
                    None => p.start + Duration::from_secs_f64((self.worker + self.workers * *k) as f64 / rate),
                    // Independent Poisson streams of rate R/n add up to one of rate R.
                    Some(rng) => *last + rng.exponential(rate / self.workers as f64),
                };
                if p.end.is_some_and(|end| t >= end) {
                    self.phase += 1;
                    *k = 0;
                    *last = p.end.unwrap_or(t);
                    continue;
                }
                *k += 1;
                *last = t;
                break (t, self.phase);
            },
            Pacing::Closed { think } => {
                let t = now + *think;
                while self.phases.get(self.phase)?.end.is_some_and(|end| t >= end) {
                    self.phase += 1;
                }
                (t.max(self.phases[self.phase].start), self.phase)
            }
        };
        if matches!(self.phases[phase].kind, PhaseKind::Measure { .. }) {
            if let Some(left) = &mut self.measured_left {
                if *left == 0 {
                    self.phase = self.phases.len();
                    return None;
                }
                *left -= 1;
            }
        }
        self.seq += 1;
        Some(Slot { intended, phase, seq: self.seq })
    }
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// A small, seedable random generator (SplitMix64): enough for arrival gaps, and reproducible
/// from a seed across platforms and crate versions.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// An exponentially distributed gap with mean `1 / rate` seconds.
    pub fn exponential(&mut self, rate: f64) -> Duration {
        Duration::from_secs_f64(-self.unit().ln() / rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn measure(start: u64, end: Option<u64>, rate: Option<f64>) -> Phase {
        Phase { kind: PhaseKind::Measure { step: 0 }, start: ms(start), end: end.map(ms), rate }
    }

    fn drain(p: &mut Pacer) -> Vec<Slot> {
        std::iter::from_fn(|| p.next(Duration::ZERO)).collect()
    }

    #[test]
    fn constant_arrivals_are_evenly_spaced_and_end_with_the_phase() {
        let mut p = Pacer::open(vec![measure(0, Some(1000), Some(100.0))], None, 0, 1, None);
        let slots = drain(&mut p);
        assert_eq!(slots.len(), 100);
        assert_eq!(slots[0].intended, ms(0));
        assert_eq!(slots[1].intended, ms(10));
        assert_eq!(slots[99].intended, ms(990));
        assert!(p.next(ms(5000)).is_none(), "a finished pacer stays finished");
    }

    #[test]
    fn workers_interleave_into_one_even_schedule() {
        let phases = vec![measure(0, Some(100), Some(1000.0))];
        let mut all: Vec<Duration> = (0..3)
            .flat_map(|w| drain(&mut Pacer::open(phases.clone(), None, w, 3, None)))
            .map(|s| s.intended)
            .collect();
        all.sort();
        let expected: Vec<Duration> = (0..100).map(ms).collect();
        assert_eq!(all.len(), 100);
        for (a, b) in all.iter().zip(&expected) {
            assert!(a.abs_diff(*b) < Duration::from_nanos(10), "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn poisson_arrivals_average_the_rate_and_repeat_with_the_seed() {
        let phases = vec![measure(0, Some(100_000), Some(1000.0))];
        let a = drain(&mut Pacer::open(phases.clone(), Some(7), 0, 1, None));
        let b = drain(&mut Pacer::open(phases.clone(), Some(7), 0, 1, None));
        let c = drain(&mut Pacer::open(phases, Some(8), 0, 1, None));
        assert_eq!(a, b, "the same seed gives the same schedule");
        assert_ne!(a, c);
        // 100 s at 1000/s: 100,000 arrivals, standard deviation about 316.
        assert!((a.len() as f64 - 100_000.0).abs() < 1_600.0, "{}", a.len());
        let gaps: Vec<f64> = a.windows(2).map(|w| (w[1].intended - w[0].intended).as_secs_f64()).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        assert!((mean - 0.001).abs() < 0.00002, "mean gap {mean}");
        // Exponential gaps: the standard deviation equals the mean.
        assert!((var.sqrt() / mean - 1.0).abs() < 0.03, "cv {}", var.sqrt() / mean);
    }

    #[test]
    fn steps_change_the_rate_at_their_boundaries() {
        let phases = vec![
            Phase { kind: PhaseKind::Warmup, start: ms(0), end: Some(ms(100)), rate: Some(100.0) },
            measure(100, Some(200), Some(1000.0)),
        ];
        let slots = drain(&mut Pacer::open(phases, None, 0, 1, None));
        let per_phase = |i| slots.iter().filter(|s| s.phase == i).count();
        assert_eq!((per_phase(0), per_phase(1)), (10, 100));
        assert_eq!(slots[10].intended, ms(100));
        assert!(slots.windows(2).all(|w| w[0].intended <= w[1].intended));
    }

    #[test]
    fn the_request_count_is_shared_between_workers_and_spares_the_warmup() {
        let phases = vec![
            Phase { kind: PhaseKind::Warmup, start: ms(0), end: Some(ms(100)), rate: Some(1000.0) },
            measure(100, None, Some(1000.0)),
        ];
        let counts: Vec<usize> = (0..3)
            .map(|w| {
                drain(&mut Pacer::open(phases.clone(), None, w, 3, Some(100))).iter().filter(|s| s.phase == 1).count()
            })
            .collect();
        assert_eq!(counts.iter().sum::<usize>(), 100);
        assert_eq!(counts, vec![34, 33, 33]);
    }

    #[test]
    fn closed_loop_sends_now_plus_think_time_until_the_end() {
        let phases = vec![measure(0, Some(1000), None)];
        let mut p = Pacer::closed(phases, ms(5), 0, 1, None);
        let s = p.next(ms(100)).unwrap();
        assert_eq!((s.intended, s.phase), (ms(105), 0));
        assert!(p.next(ms(996)).is_none(), "a request that would start after the end is not sent");
    }

    #[test]
    fn closed_loop_moves_from_warmup_to_measurement_by_the_clock() {
        let phases = vec![
            Phase { kind: PhaseKind::Warmup, start: ms(0), end: Some(ms(100)), rate: None },
            measure(100, None, None),
        ];
        let mut p = Pacer::closed(phases, Duration::ZERO, 0, 1, Some(2));
        assert_eq!(p.next(ms(50)).unwrap().phase, 0);
        assert_eq!(p.next(ms(150)).unwrap().phase, 1);
        assert_eq!(p.next(ms(160)).unwrap().phase, 1);
        assert!(p.next(ms(170)).is_none(), "the count is spent");
    }
}
