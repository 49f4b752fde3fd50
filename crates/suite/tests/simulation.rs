//! The verdict method on simulated experiments: the false-verdict rate with no true difference,
//! the power against a true 1.3× difference, and the false-alarm rate of a whole `compare` of two
//! runs of the same code. It drives the public functions that `evaluate` uses ([`decide_ratios`])
//! and `compare` itself (the uncorrected column calls [`change_intervals`] row by row), never a
//! copy of them.
//!
//! One simulated trial is a log-normal measurement of one stack: `ln value = ln(true ratio, on
//! the numerator only) + phase drift shared by both stacks + phase drift of its own + noise
//! (+ an outlier)`. The two trials of a pair run back to back, so a phase (2 to 4 pairs long)
//! moves both by the same common step (sd 10%) and each by a small step of its own (a quarter of
//! the noise). Three trials in a hundred are heavy-tailed outliers: a stall of 0.3·|Cauchy| in
//! log space, capped so that the value stays finite. Everything is seeded: the figures are the
//! same on every run.
//!
//! `cargo test --release -p claimbench-suite --test simulation -- --nocapture` prints the
//! table that the README's "How to read a verdict" shows, and the test fails when the README
//! shows another.

use std::sync::OnceLock;

use claimbench_model::run::{ClaimResult, Outcome, RunResults};
use claimbench_suite::compare::{compare, CompareOptions, Comparison, Movement};
use claimbench_suite::interval::{change_intervals, ChangeInterval};
use claimbench_suite::stats::SplitMix64;
use claimbench_suite::verdict::{decide_ratios, Claimed};

const LEVEL: f64 = 0.95;
const BAND: f64 = 0.05;
const EXPERIMENTS: usize = 2000;

/// Pairs per experiment in each profile, as proposed for issue 9: ABBA blocks need even counts,
/// 6 is the fewest with a 95% interval, and 8 or 14 pairs have less power than 6 or 12: their
/// intervals use the same order statistics (rank 1 of 8 like rank 1 of 6, rank 3 of 14 like
/// rank 3 of 12), which lie further out among more pairs. `Profile::named(..).reps` must match.
/// Nightly keeps 12 pairs: 16 pairs of 3 s trials over every unit would not fit in 45 minutes,
/// and 14 have less power than 12; its longer trials lower the noise per pair instead.
const PROFILES: [(&str, usize); 3] = [("quick", 6), ("standard", 12), ("nightly", 12)];

/// The power against a true 1.3× at a CV of 10% that the README states, per profile.
const STATED_POWER: [f64; 3] = [0.55, 0.85, 0.85];

/// How noisy the simulated machine is.
#[derive(Debug, Clone, Copy)]
struct Machine {
    /// Coefficient of variation of one trial's measurement.
    cv: f64,
}

impl Machine {
    fn sigma(self) -> f64 {
        (1.0 + self.cv * self.cv).ln().sqrt()
    }
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut SplitMix64) -> f64 {
    let u = 1.0 - rng.next_f64();
    let v = rng.next_f64();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// The outlier part of one trial's log value: mostly 0, sometimes a heavy-tailed stall.
fn outlier(rng: &mut SplitMix64) -> f64 {
    if rng.next_f64() >= 0.03 {
        return 0.0;
    }
    let cauchy = (std::f64::consts::PI * (rng.next_f64() - 0.5)).tan();
    -(0.3 * cauchy.abs()).min(10.0)
}

/// The per-pair ratios of one simulated experiment of `pairs` adjacent pairs.
fn experiment(rng: &mut SplitMix64, machine: Machine, pairs: usize, true_ratio: f64) -> Vec<f64> {
    let sigma = machine.sigma();
    let mut ratios = Vec::with_capacity(pairs);
    let (mut left_in_phase, mut common, mut own_num, mut own_den) = (0, 0.0, 0.0, 0.0);
    for _ in 0..pairs {
        if left_in_phase == 0 {
            left_in_phase = 2 + (rng.next_u64() % 3) as usize;
            common = 0.10 * normal(rng);
            own_num = sigma / 4.0 * normal(rng);
            own_den = sigma / 4.0 * normal(rng);
        }
        left_in_phase -= 1;
        let num = true_ratio.ln() + common + own_num + sigma * normal(rng) + outlier(rng);
        let den = common + own_den + sigma * normal(rng) + outlier(rng);
        ratios.push((num - den).exp());
    }
    ratios
}

/// The fraction of `EXPERIMENTS` simulated experiments whose verdict on "ratio > 1" is `wanted`.
fn rate(seed: u64, machine: Machine, pairs: usize, true_ratio: f64, wanted: fn(Outcome) -> bool) -> f64 {
    let mut rng = SplitMix64::new(seed);
    let hits = (0..EXPERIMENTS)
        .filter(|_| {
            let ratios = experiment(&mut rng, machine, pairs, true_ratio);
            wanted(decide_ratios(&ratios, Claimed::Greater, BAND, LEVEL).outcome)
        })
        .count();
    hits as f64 / EXPERIMENTS as f64
}

fn wrong(outcome: Outcome) -> bool {
    matches!(outcome, Outcome::Supported | Outcome::Refuted)
}

/// Whether a change interval clears the noise band either way: the rule `compare` applies before
/// asking which way is a regression, so this counts every possible false alarm.
fn moved(row: &ChangeInterval) -> bool {
    row.low > 1.0 + BAND || row.high < 1.0 / (1.0 + BAND)
}

fn claims() -> claimbench_suite::ClaimsFile {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/claims.toml");
    claimbench_suite::load_claims(&path).expect("the claims fixture loads")
}

/// The rows of a nightly comparison: one per evidence in the claims file.
fn nightly_rows() -> usize {
    claims().claims.iter().map(|c| c.evidence.len()).sum()
}

/// The claims table's primary verdicts: one per measured claim.
fn primary_evidences() -> usize {
    claims().claims.iter().filter(|c| c.not_measured.is_none() && !c.evidence.is_empty()).count()
}

/// The fraction of simulated claims tables (`claims` primary verdicts, no true difference
/// anywhere) with at least one wrong primary verdict: the family-wise error the README states.
fn family_wise_error(seed: u64, machine: Machine, claims: usize, pairs: usize) -> f64 {
    let mut rng = SplitMix64::new(seed);
    let tables = (0..EXPERIMENTS)
        .filter(|_| {
            (0..claims).any(|_| {
                let ratios = experiment(&mut rng, machine, pairs, 1.0);
                wrong(decide_ratios(&ratios, Claimed::Greater, BAND, LEVEL).outcome)
            })
        })
        .count();
    tables as f64 / EXPERIMENTS as f64
}

/// The frame of a simulated run, read once: the scripted standard run's header, without its
/// measurements, and its first claim with a ratio.
fn frame() -> &'static (RunResults, ClaimResult) {
    static FRAME: OnceLock<(RunResults, ClaimResult)> = OnceLock::new();
    FRAME.get_or_init(|| {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/results/scripted-standard.json");
        let mut run: RunResults = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        run.experiments.clear();
        let claim = run.claims.iter().find(|c| c.verdict.estimate.is_some()).unwrap().clone();
        (run, claim)
    })
}

/// Two runs with one claim per simulated row, whose verdict's per-pair ratios are the row's,
/// compared by the suite's own `compare`.
fn compare_runs(runs: &[(Vec<f64>, Vec<f64>)]) -> Comparison {
    let (template, claim) = frame();
    let run = |new: bool| {
        let mut r = template.clone();
        r.claims = runs
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let mut c = claim.clone();
                c.id = format!("row-{i}");
                c.sub_verdicts.clear();
                c.verdict.estimate.as_mut().unwrap().spread = if new { row.1.clone() } else { row.0.clone() };
                c
            })
            .collect();
        r
    };
    compare(&run(false), &run(true), &CompareOptions { threshold: BAND, confidence: LEVEL })
}

/// The fraction of simulated comparisons of two same-code runs in which any row moved, with
/// the family's level split over the rows (`corrected`) or each row at 95% on its own.
fn false_alarm_rate(seed: u64, machine: Machine, rows: usize, pairs: usize, corrected: bool) -> f64 {
    let mut rng = SplitMix64::new(seed);
    let alarms = (0..EXPERIMENTS)
        .filter(|_| {
            let runs: Vec<(Vec<f64>, Vec<f64>)> = (0..rows)
                .map(|_| (experiment(&mut rng, machine, pairs, 1.0), experiment(&mut rng, machine, pairs, 1.0)))
                .collect();
            let rows: Vec<(&[f64], &[f64])> = runs.iter().map(|(b, n)| (b.as_slice(), n.as_slice())).collect();
            if corrected {
                compare_runs(&runs).rows.iter().any(|row| row.movement != Movement::None)
            } else {
                rows.iter().any(|row| change_intervals(&[*row], LEVEL)[0].as_ref().is_ok_and(moved))
            }
        })
        .count();
    alarms as f64 / EXPERIMENTS as f64
}

#[test]
fn verdicts_and_comparisons_keep_their_error_rates_on_simulated_experiments() {
    let noisy = [Machine { cv: 0.05 }, Machine { cv: 0.20 }, Machine { cv: 0.40 }];
    let mut table = String::from("| simulated, 2,000 each |");
    for (name, pairs) in PROFILES {
        table += &format!(" {name} ({pairs} pairs) |");
    }
    table += "\n|---|---|---|---|\n";
    let mut failures = Vec::new();

    for (i, machine) in noisy.iter().enumerate() {
        let mut row = format!("| wrong verdicts, no true difference, CV {:.0}% |", machine.cv * 100.0);
        for (j, (name, pairs)) in PROFILES.iter().enumerate() {
            let r = rate(100 + (i * 10 + j) as u64, *machine, *pairs, 1.0, wrong);
            row += &format!(" {:.2}% |", r * 100.0);
            if r > 0.05 {
                failures.push(format!("{name} at CV {}: {:.2}% wrong verdicts, over 5%", machine.cv, r * 100.0));
            }
        }
        table += &row;
        table.push('\n');
    }

    let mut row = String::from("| power, true 1.3×, CV 10% |");
    for (j, (name, pairs)) in PROFILES.iter().enumerate() {
        let power = rate(200 + j as u64, Machine { cv: 0.10 }, *pairs, 1.3, |o| o == Outcome::Supported);
        row += &format!(" {:.1}% (stated ≥ {:.0}%) |", power * 100.0, STATED_POWER[j] * 100.0);
        if power < STATED_POWER[j] {
            failures.push(format!(
                "{name}: power {:.1}%, below the stated {:.0}%",
                power * 100.0,
                STATED_POWER[j] * 100.0
            ));
        }
    }
    table += &row;
    table.push('\n');

    let claims = primary_evidences();
    for (i, machine) in noisy.iter().enumerate() {
        let mut row = format!(
            "| claims table ({claims} primary verdicts), no true difference, CV {:.0}%: any wrong |",
            machine.cv * 100.0
        );
        for (j, (_, pairs)) in PROFILES.iter().enumerate() {
            row +=
                &format!(" {:.1}% |", family_wise_error(500 + (i * 10 + j) as u64, *machine, claims, *pairs) * 100.0);
        }
        table += &row;
        table.push('\n');
    }

    let rows = nightly_rows();
    let nightly_pairs = PROFILES[2].1;
    table += &format!(
        "\n| nightly `compare` of two runs of the same code ({rows} rows, {nightly_pairs} pairs each) | any row moved, rows corrected together | any row moved, each row at 95% alone |\n|---|---|---|\n"
    );
    for (i, machine) in noisy.iter().enumerate() {
        let corrected = false_alarm_rate(300 + i as u64, *machine, rows, nightly_pairs, true);
        let per_row = false_alarm_rate(400 + i as u64, *machine, rows, nightly_pairs, false);
        table += &format!("| CV {:.0}% | {:.2}% | {:.1}% |\n", machine.cv * 100.0, corrected * 100.0, per_row * 100.0);
        if corrected > 0.05 {
            failures.push(format!(
                "compare at CV {}: {:.2}% of same-code comparisons raised an alarm, over 5%",
                machine.cv,
                corrected * 100.0
            ));
        }
    }

    println!("\n{table}");
    assert!(failures.is_empty(), "{}\n{table}", failures.join("\n"));

    let readme = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
        .expect("the README is readable");
    let stale: Vec<&str> = table.lines().filter(|line| !line.is_empty() && !readme.contains(line)).collect();
    assert!(
        stale.is_empty(),
        "the README's \"How to read a verdict\" table is out of date; paste this table from `--nocapture` \
         into it:\n{table}\nlines not in the README:\n{}",
        stale.join("\n")
    );
}

#[test]
fn the_simulated_noise_has_the_coefficient_of_variation_it_is_named_after() {
    // Without drift or outliers a pair's log-ratio has sd σ·√2; check the noise generator
    // itself, so that "CV 20%" in the table means what it says.
    let mut rng = SplitMix64::new(5);
    let machine = Machine { cv: 0.20 };
    let draws: Vec<f64> = (0..50_000).map(|_| (machine.sigma() * normal(&mut rng)).exp()).collect();
    let mean = draws.iter().sum::<f64>() / draws.len() as f64;
    let sd = (draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / draws.len() as f64).sqrt();
    let cv = sd / mean;
    assert!((cv - 0.20).abs() < 0.005, "{cv}");
}

#[test]
fn too_few_pairs_never_give_a_verdict_however_clear_the_difference() {
    let rate = rate(7, Machine { cv: 0.05 }, 5, 3.0, |o| o != Outcome::Inconclusive);
    assert_eq!(rate, 0.0);
}
