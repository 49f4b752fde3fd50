//! How far the speed canary moves when nothing happens between its two readings: the floor below
//! which a "speed moved" flag says nothing about a trial. Run on an otherwise idle machine:
//!
//! ```text
//! cargo run --release -p claimbench-lab --example canary_noise -- [CPU] [PAIRS] [GAP_MS]
//! ```
//!
//! It takes PAIRS pairs of readings on CPU (default 1, 200 pairs), GAP_MS apart (default 850, a
//! quick trial's warm-up and window), and pairs with no gap at all, and prints the percentiles of
//! |after / before - 1| for both.

use std::time::Duration;

fn percentiles(label: &str, mut moves: Vec<f64>) {
    moves.sort_by(f64::total_cmp);
    let at = |q: f64| moves[((moves.len() - 1) as f64 * q).round() as usize] * 100.0;
    let over = |limit: f64| moves.iter().filter(|&&m| m > limit).count() as f64 / moves.len() as f64 * 100.0;
    println!(
        "{label}: n={} p50 {:.1}% p90 {:.1}% p95 {:.1}% p99 {:.1}% max {:.1}%; over 5%: {:.1}%, over 10%: {:.1}%",
        moves.len(),
        at(0.5),
        at(0.9),
        at(0.95),
        at(0.99),
        at(1.0),
        over(0.05),
        over(0.10)
    );
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>().expect("arguments are whole numbers"));
    let cpu = args.next().unwrap_or(1) as usize;
    let pairs = args.next().unwrap_or(200);
    let gap = Duration::from_millis(args.next().unwrap_or(850));
    let reading = || claimbench_lab::canary_on(&[cpu]).expect("the canary may run on that CPU");
    let (mut apart, mut adjacent) = (Vec::new(), Vec::new());
    for _ in 0..pairs {
        let before = reading();
        let next = reading();
        std::thread::sleep(gap);
        let after = reading();
        adjacent.push((next / before - 1.0).abs());
        apart.push((after / before - 1.0).abs());
    }
    percentiles(&format!("{} ms apart", gap.as_millis()), apart);
    percentiles("back to back", adjacent);
}
