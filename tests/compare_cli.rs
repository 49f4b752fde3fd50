//! `claimbench compare` end to end through the binary: two runs drawn from the same distribution
//! compare clean and exit 0, even when a verdict flipped between them, and a real 20% drop with
//! enough pairs is a regression and exits 1.
//!
//! The runs are the suite's scripted standard run (`scripted-standard.json`, which records the
//! claimed side) with every estimate's per-pair ratios redrawn from a seeded
//! log-normal around its median (CV 5%, 12 pairs), as two runs of the same code would give; the
//! statistics themselves are tested in the suite.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::CommandCargoExt;
use claimbench_model::run::{Outcome, RunResults};
use claimbench_suite::stats::SplitMix64;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/results/scripted-standard.json");
const PAIRS: usize = 12;
const CV: f64 = 0.05;

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut SplitMix64) -> f64 {
    let u = 1.0 - rng.next_f64();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * rng.next_f64()).cos()
}

/// The fixture run with fresh per-pair ratios from `seed`, each claim's ratio scaled by the
/// factor `scale` gives it (1 for the rest), written as `<dir>/<name>.json`.
fn run(dir: &Path, name: &str, seed: u64, scale: impl Fn(&str) -> f64) -> PathBuf {
    let mut run: RunResults = serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    run.run_id = format!("2026-03-14T10-22-05Z-{name}");
    let sigma = (1.0 + CV * CV).ln().sqrt();
    let mut rng = SplitMix64::new(seed);
    for claim in &mut run.claims {
        let factor = scale(&claim.id);
        let verdicts = std::iter::once(&mut claim.verdict).chain(claim.sub_verdicts.iter_mut().map(|s| &mut s.verdict));
        for e in verdicts.filter_map(|v| v.estimate.as_mut()) {
            let median = e.ratio_median * factor;
            e.spread = (0..PAIRS).map(|_| median * (sigma * normal(&mut rng)).exp()).collect();
            e.pairs = PAIRS as u32;
            e.ratio_median = median;
            e.ci_low *= factor;
            e.ci_high *= factor;
        }
    }
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string(&run).unwrap()).unwrap();
    path
}

fn compare(base: &Path, new: &Path) -> std::process::Output {
    std::process::Command::cargo_bin("claimbench").unwrap().arg("compare").arg(base).arg(new).output().unwrap()
}

#[test]
fn two_runs_of_the_same_code_compare_clean_even_when_a_verdict_flipped() {
    let dir = tempfile::tempdir().unwrap();
    let base = run(dir.path(), "a", 1, |_| 1.0);
    let new = run(dir.path(), "b", 2, |_| 1.0);
    // Noise flips verdicts between runs of the same code: one flip to inconclusive, one to
    // invalid, neither a regression.
    let mut flipped: RunResults = serde_json::from_str(&std::fs::read_to_string(&new).unwrap()).unwrap();
    flipped.claims.iter_mut().find(|c| c.id == "serverless").unwrap().verdict.outcome = Outcome::Inconclusive;
    flipped.claims.iter_mut().find(|c| c.id == "execution-speed").unwrap().verdict.outcome = Outcome::Invalid;
    std::fs::write(&new, serde_json::to_string(&flipped).unwrap()).unwrap();

    let out = compare(&base, &new);
    let stdout = String::from_utf8_lossy(&out.stdout);

    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("## claimbench compare: no regression, no improvement, 2 verdict flips"), "{stdout}");
    assert!(stdout.contains("1 verdict became invalid"), "{stdout}");
    assert!(stdout.contains("**serverless**: supported → inconclusive (weakened; information"), "{stdout}");
    assert!(stdout.contains("**execution-speed**: supported → invalid (became invalid; a warning"), "{stdout}");
}

#[test]
fn many_pairs_of_runs_of_the_same_code_compare_clean() {
    // Not a rate (the suite's simulation measures that), but twenty seeds in a row must all pass.
    let dir = tempfile::tempdir().unwrap();
    for seed in 0..20u64 {
        let base = run(dir.path(), "a", 100 + 2 * seed, |_| 1.0);
        let new = run(dir.path(), "b", 101 + 2 * seed, |_| 1.0);
        let out = compare(&base, &new);
        assert_eq!(out.status.code(), Some(0), "seed {seed}: {}", String::from_utf8_lossy(&out.stdout));
    }
}

#[test]
fn a_real_twenty_percent_drop_with_enough_pairs_is_a_regression_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let base = run(dir.path(), "a", 3, |_| 1.0);
    let new = run(dir.path(), "b", 4, |id| if id == "io-throughput" { 0.8 } else { 1.0 });

    let out = compare(&base, &new);
    let stdout = String::from_utf8_lossy(&out.stdout);

    // Every ratio of io-throughput regressed: the claim's own and each measured sub-verdict's,
    // except the negative control, whose move is a change and not a regression.
    let fixture: RunResults = serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    let io = fixture.claims.iter().find(|c| c.id == "io-throughput").unwrap();
    let ratios = std::iter::once(&io.verdict).chain(io.sub_verdicts.iter().map(|s| &s.verdict));
    let claimed_side = |v: &&claimbench_model::run::Verdict| {
        v.estimate.as_ref().is_some_and(|e| e.claimed != Some(claimbench_model::run::Claimed::Equal))
    };
    let regressed = ratios.filter(claimed_side).count();
    assert!(regressed > 3, "{regressed}");
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.starts_with(&format!("## claimbench compare: {regressed} regressions, no improvement")), "{stdout}");
    assert!(stdout.contains("| **io-throughput** | express/fastapi throughput |"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("{regressed} ratio(s) moved beyond ±5% against the claimed side")), "{stderr}");
}
