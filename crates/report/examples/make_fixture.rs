//! Writes `fixtures/results/quick-run.json`, the recorded run the rendering tests read.
//!
//! The numbers are made up but shaped like a real quick run on the 2-core machine: express and
//! fastapi, closed-loop sweeps, an open-loop saturation search, a cold-start experiment without
//! load, one generator-bound (invalid) measurement, a skipped experiment and claims in every
//! outcome. Run it after changing `claimbench_model::run` and commit the JSON:
//! `cargo run -p claimbench-report --example make_fixture`.

use std::collections::BTreeMap;
use std::path::Path;

use claimbench_model::load::{
    EncodedHistograms, ErrorClass, IntervalPoint, LatencySummary, LoadMode, LoadResult, PercentilePoint, PlanSummary,
    RateStepSummary, SelfCheck, StepResult, TemplateSummary,
};
use claimbench_model::run::{
    ClaimResult, Environment, Estimate, ExperimentResult, LabeledVerdict, Measurement, Method, Outcome, RunResults,
    Scalar, StackInfo, Verdict, SCHEMA_VERSION,
};
use claimbench_model::stack::{Pinning, Runtime, Versions};

/// A small deterministic generator, so the fixture is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A multiplicative wobble of about ±`spread`.
    fn wobble(&mut self, spread: f64) -> f64 {
        1.0 + (self.next() * 2.0 - 1.0) * spread
    }
}

/// The percentile ranks an `.hgrm` prints, thinned.
const RANKS: [f64; 22] = [
    0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 95.0, 97.5, 99.0, 99.5, 99.75, 99.9, 99.95, 99.99,
    99.995, 99.999, 99.9995, 100.0,
];

/// Latency at percentile `p` for a distribution with median `p50` and tail weight `tail`.
fn quantile(p50: f64, tail: f64, p: f64) -> f64 {
    let x = -(1.0 - (p / 100.0).min(0.999_999)).ln();
    let at_median = (2f64).ln();
    p50 * (0.55 + 0.45 * (x / at_median)) * (1.0 + tail * x.powf(1.6) / 10.0)
}

fn summary(p50: f64, tail: f64, count: u64) -> LatencySummary {
    LatencySummary {
        count,
        min_us: quantile(p50, tail, 0.0),
        mean_us: quantile(p50, tail, 55.0),
        stdev_us: p50 * 0.4 * (1.0 + tail),
        max_us: quantile(p50, tail, 100.0),
        p50_us: quantile(p50, tail, 50.0),
        p75_us: quantile(p50, tail, 75.0),
        p90_us: quantile(p50, tail, 90.0),
        p99_us: quantile(p50, tail, 99.0),
        p999_us: quantile(p50, tail, 99.9),
        p9999_us: quantile(p50, tail, 99.99),
    }
}

fn errors(timeouts: u64, resets: u64) -> BTreeMap<String, u64> {
    let mut map: BTreeMap<String, u64> = ErrorClass::ALL.iter().map(|c| (c.as_str().to_string(), 0)).collect();
    map.insert("timeout".into(), timeouts);
    map.insert("reset".into(), resets);
    map
}

fn histograms() -> EncodedHistograms {
    // Placeholders: the report never decodes histograms.
    EncodedHistograms {
        corrected: "HISTFAAAAB14nJNpmSzMwMDAxQABzFCaEUzOmQ==".into(),
        uncorrected: "HISTFAAAAB14nJNpmSzMwMDAxQABzFCaEUzOmQ==".into(),
        send_lag: None,
    }
}

/// What one load run looked like, before it is expanded into a `LoadResult`.
struct Shape {
    path: &'static str,
    connections: u32,
    rate: Option<f64>,
    throughput: f64,
    p50_us: f64,
    tail: f64,
    timeouts: u64,
    generator_cpu: f64,
    steps: Vec<(f64, f64, f64)>,
}

fn load_result(rng: &mut Rng, s: &Shape, duration_s: f64) -> LoadResult {
    let requests = (s.throughput * duration_s) as u64;
    let errs = errors(s.timeouts, 0);
    let failed: u64 = errs.values().sum();
    let intervals = (0..duration_s as usize)
        .map(|i| {
            let w = rng.wobble(0.12);
            let p50 = s.p50_us / w;
            IntervalPoint {
                start_s: i as f64,
                t_s: i as f64 + 1.0,
                requests: (s.throughput * w) as u64,
                errors: failed / duration_s as u64,
                p50_us: p50,
                p99_us: quantile(p50, s.tail * rng.wobble(0.3), 99.0),
                max_us: quantile(p50, s.tail, 99.99),
                histogram: String::new(),
            }
        })
        .collect();
    let distribution = RANKS
        .iter()
        .map(|&p| PercentilePoint {
            value_us: quantile(s.p50_us, s.tail, p).round(),
            percentile: p,
            total_count: ((p / 100.0) * requests as f64).round() as u64,
        })
        .collect();
    let saturated = s.generator_cpu >= 0.9;
    let steps: Vec<StepResult> = s
        .steps
        .iter()
        .map(|&(offered, achieved, p50)| StepResult {
            target_rate: offered,
            duration_s: 3.0,
            achieved_rate: achieved,
            requests: (achieved * 3.0) as u64,
            responses: (achieved * 3.0) as u64,
            errors: errors(0, 0),
            late_sends: 0,
            latency: summary(p50, if achieved < offered * 0.97 { 6.0 } else { 0.1 }, 1),
            latency_uncorrected: summary(p50, 0.5, 1),
            send_lag: Some(summary(40.0, 0.5, 1)),
            histograms: histograms(),
        })
        .collect();
    LoadResult {
        schema_version: claimbench_model::load::SCHEMA_VERSION,
        engine_version: "claimbench-engine 0.1.0".into(),
        started_at_unix_s: 1_773_483_725.0,
        plan: PlanSummary {
            url: format!("http://127.0.0.1:18080{}", s.path),
            mode: if s.rate.is_some() { LoadMode::OpenLoop } else { LoadMode::ClosedLoop },
            target_rate: s.rate,
            arrivals: None,
            poisson_seed: None,
            connections: s.connections,
            think_time_s: 0.0,
            warmup_s: 2.0,
            duration_s: Some(duration_s),
            max_requests: None,
            interval_s: 1.0,
            timeout_s: 5.0,
            threads: 1,
            pinned_core: Some(0),
            validate_every: 100,
            rate_steps: s.steps.iter().map(|st| RateStepSummary { rate: st.0, duration_s: 3.0 }).collect(),
            templates: vec![TemplateSummary {
                method: "GET".into(),
                path: s.path.into(),
                headers: Vec::new(),
                body_bytes: 0,
                weight: 1,
                expect_status: Some(200),
                expect_body_bytes: None,
            }],
        },
        cancelled: false,
        duration_s,
        target_rate: s.rate,
        achieved_rate: s.throughput,
        requests,
        responses: requests - failed,
        status_counts: BTreeMap::from([(200, requests - failed)]),
        errors: errs,
        bytes_in: requests * 180,
        bytes_out: requests * 90,
        connections_opened: u64::from(s.connections),
        late_sends: 0,
        latency: summary(s.p50_us, s.tail, requests),
        latency_uncorrected: summary(s.p50_us * 0.95, s.tail * 0.7, requests),
        send_lag: s.rate.map(|_| summary(35.0, 0.8, requests)),
        distribution,
        distribution_uncorrected: Vec::new(),
        intervals,
        steps,
        warmup: None,
        generator_saturated: saturated,
        saturation_reasons: if saturated {
            vec![format!(
                "the load generator used {:.0}% of its core: the numbers may measure the \
                 generator, not the app",
                s.generator_cpu * 100.0
            )]
        } else {
            Vec::new()
        },
        self_check: SelfCheck {
            cpu_s: s.generator_cpu * duration_s,
            wall_s: duration_s,
            cores: 1,
            cpu_fraction: s.generator_cpu,
            allowed_cpus: vec![0],
            send_lag_p99_us: s.rate.map(|_| 180.0),
        },
        histograms: histograms(),
    }
}

struct Builder {
    rng: Rng,
    out: Vec<Measurement>,
}

impl Builder {
    #[allow(clippy::too_many_arguments)]
    fn load(
        &mut self,
        experiment: &str,
        stack: &str,
        label: &str,
        trial: u32,
        shape: Shape,
        cpu_per_req_ms: f64,
        rss_mib: f64,
    ) {
        let w = self.rng.wobble(0.1);
        let shape = Shape { throughput: shape.throughput * w, p50_us: shape.p50_us / w, ..shape };
        let load = load_result(&mut self.rng, &shape, 5.0);
        let canary = 11.8 * self.rng.wobble(0.05);
        let generator_bound = load.generator_saturated;
        self.out.push(Measurement {
            id: format!("{experiment}/{stack}/{label}/{trial}"),
            experiment: experiment.into(),
            stack: stack.into(),
            label: label.into(),
            trial,
            workers: None,
            connections: shape.rate.is_none().then_some(shape.connections),
            offered_rate: shape.rate,
            endpoint: shape.path.into(),
            app_cpu_s: load.requests as f64 * cpu_per_req_ms / 1_000.0 * self.rng.wobble(0.05),
            app_peak_rss_bytes: (rss_mib * self.rng.wobble(0.03) * 1024.0 * 1024.0) as u64,
            canary_before_ms: Some(canary),
            canary_after_ms: Some(canary * self.rng.wobble(0.03)),
            valid: !generator_bound,
            invalid_reasons: load.saturation_reasons.clone(),
            app_stderr_tail: None,
            scalars: BTreeMap::new(),
            load: Some(load),
        });
    }
}

fn closed(path: &'static str, connections: u32, throughput: f64, tail: f64) -> Shape {
    Shape {
        path,
        connections,
        rate: None,
        throughput,
        // Little's law: a closed loop's latency is connections over throughput.
        p50_us: f64::from(connections) / throughput * 1e6 * 0.9,
        tail,
        timeouts: 0,
        generator_cpu: 0.55,
        steps: Vec::new(),
    }
}

fn estimate(num: &str, den: &str, quantity: &str, median: f64, lo: f64, hi: f64, rng: &mut Rng) -> Estimate {
    let spread: Vec<f64> = (0..6)
        .map(|i| {
            let base = if i % 2 == 0 { lo } else { hi };
            (base + (median - base) * rng.next()).max(0.01)
        })
        .collect();
    Estimate {
        numerator: num.into(),
        denominator: den.into(),
        quantity: quantity.into(),
        ratio_median: median,
        ci_low: lo,
        ci_high: hi,
        pairs: spread.len() as u32,
        spread,
        claimed: None,
    }
}

fn verdict(outcome: Outcome, estimate: Option<Estimate>, reason: &str) -> Verdict {
    let key_number = match &estimate {
        Some(e) => format!(
            "{}/{} {} {:.2}× (95% CI {:.2}–{:.2})",
            e.numerator, e.denominator, e.quantity, e.ratio_median, e.ci_low, e.ci_high
        ),
        None => String::new(),
    };
    Verdict { outcome, estimate, key_number, reason: reason.into() }
}

#[allow(clippy::too_many_arguments)]
fn claim(
    id: &str,
    quote: &str,
    section: &str,
    tested_by: &[&str],
    metric: &str,
    direction: &str,
    verdict: Verdict,
    subs: Vec<LabeledVerdict>,
) -> ClaimResult {
    ClaimResult {
        id: id.into(),
        quote: quote.into(),
        section: section.into(),
        tested_by: tested_by.iter().map(|s| s.to_string()).collect(),
        metric: metric.into(),
        direction: direction.into(),
        verdict,
        sub_verdicts: subs,
    }
}

fn main() {
    let mut b = Builder { rng: Rng(0x5eed_cafe_f00d), out: Vec::new() };
    // E-overhead: /json, closed loop; express is faster per request and lighter.
    for c in [16, 64, 256] {
        for trial in 1..=3 {
            b.load("E-overhead", "express", &format!("c={c}"), trial, closed("/json", c, 9_200.0, 0.8), 0.085, 72.0);
            b.load("E-overhead", "fastapi", &format!("c={c}"), trial, closed("/json", c, 5_600.0, 1.1), 0.14, 58.0);
        }
    }
    // E-io: closed-loop sweep; fastapi at 1000 connections is generator-bound (invalid).
    for c in [10, 100, 500, 1000] {
        for trial in 1..=2 {
            let ex = 440.0 * f64::from(c).min(520.0) / 10.0;
            let fa = 410.0 * f64::from(c).min(330.0) / 10.0;
            b.load(
                "E-io",
                "express",
                &format!("c={c}"),
                trial,
                closed("/io/upstream?ms=20", c, ex.min(21_000.0), 1.0),
                0.07,
                80.0 + f64::from(c) * 0.02,
            );
            let mut shape = closed("/io/upstream?ms=20", c, fa.min(12_500.0), 1.6);
            if c == 1000 && trial == 2 {
                shape.generator_cpu = 0.97;
                shape.timeouts = 412;
                shape.tail = 5.0;
            }
            b.load("E-io", "fastapi", &format!("c={c}"), trial, shape, 0.11, 64.0 + f64::from(c) * 0.03);
        }
    }
    // E-io: open-loop rate steps, the saturation search.
    for (stack, capacity, cpu, rss) in [("express", 14_000.0, 0.07, 90.0), ("fastapi", 9_000.0, 0.11, 70.0)] {
        for trial in 1..=2 {
            let steps: Vec<(f64, f64, f64)> = [2_000.0, 5_000.0, 8_000.0, 11_000.0, 14_000.0, 17_000.0]
                .iter()
                .map(|&r: &f64| {
                    let load = r / capacity;
                    let achieved = if load > 1.0 { capacity } else { r };
                    let p50 = 11_000.0 * if load > 1.0 { 40.0 * load } else { 1.0 + load * load };
                    (r, achieved, p50)
                })
                .collect();
            let shape = Shape {
                path: "/io/upstream?ms=20",
                connections: 1_000,
                rate: Some(2_000.0),
                throughput: capacity * 0.8,
                p50_us: 23_000.0,
                tail: 2.0,
                timeouts: 0,
                generator_cpu: 0.7,
                steps,
            };
            b.load("E-io", stack, "rate steps", trial, shape, cpu, rss);
        }
    }
    // E-cpu: /cpu/fib; pure CPU work, one and four connections.
    for c in [1, 4] {
        for trial in 1..=2 {
            b.load(
                "E-cpu",
                "express",
                &format!("/cpu/fib c={c}"),
                trial,
                closed("/cpu/fib?n=27", c, 420.0, 0.3),
                2.3,
                66.0,
            );
            b.load(
                "E-cpu",
                "fastapi",
                &format!("/cpu/fib c={c}"),
                trial,
                closed("/cpu/fib?n=27", c, 21.0, 0.3),
                47.0,
                61.0,
            );
        }
    }
    // E-hol: /json at a low fixed rate, alone and while /cpu/fib load runs.
    for (label, ex_p50, fa_p50, ex_tail, fa_tail) in
        [("alone", 450.0, 900.0, 0.8, 0.9), ("mixed", 2_600.0, 1_400.0, 8.0, 3.0)]
    {
        for trial in 1..=2 {
            for (stack, p50, tail) in [("express", ex_p50, ex_tail), ("fastapi", fa_p50, fa_tail)] {
                let shape = Shape {
                    path: "/json",
                    connections: 16,
                    rate: Some(200.0),
                    throughput: 200.0,
                    p50_us: p50,
                    tail,
                    timeouts: 0,
                    generator_cpu: 0.08,
                    steps: Vec::new(),
                };
                b.load("E-hol", stack, label, trial, shape, 0.3, 70.0);
            }
        }
    }
    let mut measurements = std::mem::take(&mut b.out);
    // E-coldstart: no load, only scalars.
    for trial in 1..=5 {
        for (stack, ms, rss) in [("express", 182.0, 52.0), ("fastapi", 640.0, 41.0)] {
            let start = ms * b.rng.wobble(0.08);
            measurements.push(Measurement {
                id: format!("E-coldstart/{stack}/spawn/{trial}"),
                experiment: "E-coldstart".into(),
                stack: stack.into(),
                label: "spawn to first 200".into(),
                trial,
                workers: None,
                connections: None,
                offered_rate: None,
                endpoint: "/health".into(),
                load: None,
                app_cpu_s: start / 1_000.0 * 0.9,
                app_peak_rss_bytes: (rss * 1.1 * 1024.0 * 1024.0) as u64,
                canary_before_ms: None,
                canary_after_ms: None,
                valid: true,
                invalid_reasons: Vec::new(),
                app_stderr_tail: None,
                scalars: BTreeMap::from([(Scalar::ColdStartMs, start), (Scalar::IdleRssBytes, rss * 1024.0 * 1024.0)]),
            });
        }
    }
    let rng = &mut b.rng;
    let by_experiment =
        |id: &str| -> Vec<Measurement> { measurements.iter().filter(|m| m.experiment == id).cloned().collect() };
    let experiments = vec![
        ExperimentResult {
            id: "E-overhead".into(),
            title: "Framework overhead".into(),
            what: "`/json`".into(),
            measured_as: "closed loop at 16, 64 and 256 connections".into(),
            skipped_reason: None,
            measurements: by_experiment("E-overhead"),
        },
        ExperimentResult {
            id: "E-io".into(),
            title: "Upstream I/O".into(),
            what: "`/io/upstream?ms=20`".into(),
            measured_as: "a closed-loop sweep at 10, 100, 500 and 1000 connections, and open-loop \
                          rate steps to the highest rate that holds p99 ≤ 100 ms"
                .into(),
            skipped_reason: None,
            measurements: by_experiment("E-io"),
        },
        ExperimentResult {
            id: "E-cpu".into(),
            title: "CPU-bound handlers".into(),
            what: "`/cpu/fib`, pure".into(),
            measured_as: "throughput and latency at 1 and 4 connections".into(),
            skipped_reason: None,
            measurements: by_experiment("E-cpu"),
        },
        ExperimentResult {
            id: "E-hol".into(),
            title: "Head-of-line blocking".into(),
            what: "open-loop `/json` at 200/s, alone and while closed-loop `/cpu/fib` runs".into(),
            measured_as: "`/json` p99 alone against mixed".into(),
            skipped_reason: None,
            measurements: by_experiment("E-hol"),
        },
        ExperimentResult {
            id: "E-coldstart".into(),
            title: "Cold start".into(),
            what: "spawn to the first 200 on `/health`".into(),
            measured_as: "cold start time and idle RSS, 5 times per stack".into(),
            skipped_reason: None,
            measurements: by_experiment("E-coldstart"),
        },
        ExperimentResult {
            id: "E-workers".into(),
            title: "Scaling with workers".into(),
            what: "WORKERS=1 against WORKERS=2 on `/cpu/fib` and `/json`".into(),
            measured_as: "the scaling factor".into(),
            skipped_reason: Some(
                "the machine has 2 cores and the generator needs one, so a second worker has no \
                 core of its own"
                    .into(),
            ),
            measurements: Vec::new(),
        },
    ];
    let claims = vec![
        claim(
            "io-throughput",
            "Node.js delivers faster performance for I/O-heavy workloads",
            "Key Takeaways",
            &["E-io", "E-overhead"],
            "throughput at the same connections (req/s)",
            "express > fastapi",
            verdict(Outcome::Supported, Some(estimate("express", "fastapi", "throughput", 1.52, 1.38, 1.71, rng)), "The 95% interval lies above 1.05 in every pair of the sweep."),
            vec![
                LabeledVerdict { label: "E-io closed loop".into(), experiment: Some("E-io".into()), verdict: verdict(Outcome::Supported, Some(estimate("express", "fastapi", "throughput", 1.41, 1.22, 1.58, rng)), "Above the noise band at every connection count measured validly.") },
                LabeledVerdict { label: "E-overhead /json".into(), experiment: Some("E-overhead".into()), verdict: verdict(Outcome::Supported, Some(estimate("express", "fastapi", "throughput", 1.63, 1.49, 1.80, rng)), "Above the noise band.") },
            ],
        ),
        claim(
            "cpu-strength",
            "Strong for CPU-bound, data-heavy, and computation-intensive tasks",
            "Node.js vs Python: comparison table",
            &["E-cpu"],
            "throughput on CPU handlers (req/s)",
            "fastapi ≥ express",
            verdict(Outcome::Refuted, Some(estimate("fastapi", "express", "throughput", 0.05, 0.045, 0.056, rng)), "Pure Python is about 20 times slower than Node on /cpu/fib."),
            vec![
                LabeledVerdict { label: "/cpu/fib, pure".into(), experiment: Some("E-cpu".into()), verdict: verdict(Outcome::Refuted, Some(estimate("fastapi", "express", "throughput", 0.05, 0.045, 0.056, rng)), "Far below 1.") },
                LabeledVerdict { label: "/cpu/matmul, native library".into(), experiment: Some("E-cpu".into()), verdict: verdict(Outcome::NotMeasured, None, "The quick profile runs /cpu/fib only; run --profile standard for the library variants.") },
            ],
        ),
        claim(
            "execution-speed",
            "Faster execution due to its V8 engine and non-blocking architecture",
            "Node.js vs Python: comparison table",
            &["E-cpu"],
            "throughput on pure CPU handlers (req/s)",
            "express > fastapi",
            verdict(Outcome::Supported, Some(estimate("express", "fastapi", "throughput", 19.8, 17.9, 22.1, rng)), "Node runs the same pure function about 20 times faster."),
            Vec::new(),
        ),
        claim(
            "non-blocking",
            "When an event happens, the related process starts right away, so nothing blocks the main thread.",
            "Event-Driven Architecture",
            &["E-hol"],
            "/json p99 while /cpu/fib runs, relative to alone",
            "express's p99 grows less than fastapi's",
            verdict(Outcome::Refuted, Some(estimate("express", "fastapi", "p99 growth", 2.9, 2.2, 3.6, rng)), "CPU work on Node's single event loop delays every other request: its /json p99 grows about 3 times more than FastAPI's."),
            Vec::new(),
        ),
        claim(
            "concurrency",
            "Single-threaded with an event loop; handles many concurrent connections efficiently",
            "Node.js vs Python: comparison table",
            &["E-io"],
            "throughput at 1,000 connections (req/s)",
            "express > fastapi",
            verdict(Outcome::Invalid, None, "The fastapi trial at 1,000 connections was generator-bound, so no valid pair is left at that load."),
            Vec::new(),
        ),
        claim(
            "cost",
            "Node.js can reduce server costs for high-concurrency, real-time applications",
            "Which is more cost-effective?",
            &["E-io"],
            "CPU-seconds per 1,000 requests at a rate both sustain",
            "express < fastapi",
            verdict(Outcome::Inconclusive, Some(estimate("express", "fastapi", "CPU per request", 0.93, 0.81, 1.07, rng)), "The interval reaches into the ±5% noise band."),
            Vec::new(),
        ),
        claim(
            "serverless",
            "Node.js is ideal for serverless architectures and microservices",
            "Which is better for cloud-native apps?",
            &["E-coldstart"],
            "spawn to first 200 (ms)",
            "express < fastapi",
            verdict(Outcome::Supported, Some(estimate("express", "fastapi", "cold start", 0.29, 0.26, 0.33, rng)), "Express answers its first request in under a third of FastAPI's time."),
            Vec::new(),
        ),
        claim(
            "scalability",
            "This makes Node.js very scalable due to its event-driven architecture and clustering module.",
            "Scalability",
            &["E-workers"],
            "throughput with 2 workers over 1",
            "express scales at least as well as fastapi",
            verdict(Outcome::NotMeasured, None, "E-workers did not run: the machine has 2 cores and the generator needs one."),
            Vec::new(),
        ),
        claim(
            "real-time",
            "Event- Driven, suitable for chat apps and web games",
            "Node.js vs Python: comparison table",
            &[],
            "—",
            "—",
            verdict(Outcome::NotMeasured, None, "Not tested by claimbench yet: real-time chat needs a WebSocket workload, which the contract does not define."),
            Vec::new(),
        ),
    ];
    let results = RunResults {
        schema_version: SCHEMA_VERSION,
        run_id: "2026-03-14T10-22-05Z-quick".into(),
        profile: "quick".into(),
        started_at: "2026-03-14T10:22:05Z".into(),
        finished_at: Some("2026-03-14T10:26:41Z".into()),
        duration_s: Some(276.0),
        complete: true,
        filters: vec![
            "--claims io-throughput,cpu-strength,execution-speed,non-blocking,cost,serverless,scalability,real-time"
                .into(),
        ],
        method: Method {
            noise_threshold: 0.05,
            confidence: 0.95,
            slo_p99_ms: 100.0,
            max_error_ratio: 0.01,
            canary_max_drift: 0.1,
            warmup_s: 3.0,
            trial_s: 5.0,
        },
        environment: Environment {
            cpu_model: "Intel(R) Xeon(R) CPU @ 2.20GHz".into(),
            cores: 2,
            kernel: "Linux 6.1.0-31-cloud-amd64".into(),
            os: Some("Debian GNU/Linux 12 (bookworm)".into()),
            claimbench_version: "0.1.0".into(),
            git_commit: Some("3f9c2e1".into()),
            app_cores: "1".into(),
            generator_cores: "0".into(),
            pinning_note: Some("only 2 cores: the load generator and the upstream share CPU 0".into()),
            stacks: BTreeMap::from([
                (
                    "express".to_string(),
                    StackInfo {
                        runtime: Runtime::Node,
                        framework: "express".into(),
                        workers: 1,
                        versions: Versions {
                            runtime: BTreeMap::from([("node".into(), "v20.19.2".into())]),
                            packages: BTreeMap::from([
                                ("express".into(), "4.21.2".into()),
                                ("undici".into(), "6.21.1".into()),
                            ]),
                        },
                        pinning: Pinning { requested: Some("1".into()), actual: "1".into() },
                    },
                ),
                (
                    "fastapi".to_string(),
                    StackInfo {
                        runtime: Runtime::Python,
                        framework: "fastapi".into(),
                        workers: 1,
                        versions: Versions {
                            runtime: BTreeMap::from([("python".into(), "3.11.2".into())]),
                            packages: BTreeMap::from([
                                ("fastapi".into(), "0.115.12".into()),
                                ("httptools".into(), "0.6.4".into()),
                                ("httpx".into(), "0.28.1".into()),
                                ("numpy".into(), "2.2.4".into()),
                                ("uvicorn".into(), "0.34.0".into()),
                                ("uvloop".into(), "0.21.0".into()),
                            ]),
                        },
                        pinning: Pinning { requested: Some("1".into()), actual: "1".into() },
                    },
                ),
            ]),
        },
        claims,
        experiments,
        warnings: vec!["the machine's speed canary drifted by 8% during E-io; the affected trials were repeated".into()],
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/results/quick-run.json");
    let json = serde_json::to_string_pretty(&results).expect("results serialize");
    std::fs::write(&path, json + "\n").expect("fixture written");
    println!("wrote {}", path.display());
}
