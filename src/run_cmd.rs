//! `claimbench run`: checks the stacks against the contract, runs the experiments the chosen
//! claims need, writes every measurement as it finishes, and renders the verdicts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use claimbench_conformance::{check_stack, load_contract, render_table};
use claimbench_model::run::{Environment, Method, RunResults, StackInfo, SCHEMA_VERSION};
use claimbench_model::stack::Runtime;
use claimbench_suite::{assemble, catalogue, load_claims, Profile, ProfileName, Progress, RunOptions, Runner};
use claimbench_supervisor::{doctor, shutdown, StackConfig, Supervisor};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::args;
use crate::lab::{self, CoreSplit};
use crate::real_lab::RealLab;
use crate::results_dir::{write_json, RunDir, RESULTS};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// smoke (seconds, for tests), quick (≤ 5 min), standard, or nightly (≤ 45 min).
    #[arg(long, value_enum, default_value_t = ProfileName::Quick)]
    profile: ProfileName,
    /// Only these claims (comma-separated ids from fixtures/claims.toml).
    #[arg(long, value_delimiter = ',')]
    claims: Vec<String>,
    /// The stacks to compare: one node stack and one python stack.
    #[arg(long, value_delimiter = ',', default_value = "express,fastapi")]
    stacks: Vec<String>,
    /// Where run folders go.
    #[arg(long, default_value = "reports")]
    out: PathBuf,
    /// The p99 objective of the saturation search, in milliseconds.
    #[arg(long, default_value_t = 100.0, value_parser = args::slo_ms)]
    slo_ms: f64,
    /// Noise band for verdicts, as a fraction (0.05 = 5%).
    #[arg(long, default_value_t = 0.05, value_parser = args::threshold)]
    threshold: f64,
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    shutdown::install_handlers();
    raise_open_file_limit();
    let supervisor = lab::supervisor()?;
    let profile = Profile::of(args.profile);
    let claims = load_claims(&supervisor.root().join("fixtures/claims.toml"))?;
    let experiments = select_experiments(&claims, &args.claims, &profile)?;
    for stack in &args.stacks {
        supervisor.spec(stack)?;
    }
    let split = lab::core_split(None)?;
    let upstream = lab::start_upstream(&split.generator)?;

    eprintln!("checking {} against the contract before any load ...", args.stacks.join(", "));
    let stacks_info = verify_all(&supervisor, &args.stacks, &upstream.url(), &split)?;

    let method = Method {
        noise_threshold: args.threshold,
        confidence: 0.95,
        slo_p99_ms: args.slo_ms,
        max_error_ratio: 0.01,
        canary_max_drift: 0.25,
        warmup_s: profile.stack_warmup.as_secs_f64(),
        trial_s: profile.trial.as_secs_f64(),
    };
    let started_at = std::time::SystemTime::now();
    let run_id = format!("{}-{}", timestamp(started_at).replace(':', "-"), profile.name);
    let mut filters = Vec::new();
    if !args.claims.is_empty() {
        filters.push(format!("--claims {}", args.claims.join(",")));
    }
    filters.push(format!("--stacks {}", args.stacks.join(",")));
    let header = RunResults {
        schema_version: SCHEMA_VERSION,
        run_id: run_id.clone(),
        profile: profile.name.clone(),
        started_at: timestamp(started_at),
        finished_at: None,
        duration_s: None,
        complete: false,
        filters,
        method: method.clone(),
        environment: environment(&supervisor, &split, stacks_info),
        claims: Vec::new(),
        experiments: Vec::new(),
        warnings: Vec::new(),
    };
    let mut dir = RunDir::create(&args.out, &run_id, &header)?;
    eprintln!("writing results to {} as they are measured", dir.path.display());

    let mut real_lab = RealLab::new(supervisor.clone(), upstream, split, profile.stack_warmup);
    let options = RunOptions { stacks: args.stacks.clone(), method };
    let bars = Bars::new();
    let mut write_error: Option<anyhow::Error> = None;
    let mut measurements = Vec::new();
    let clock = Instant::now();
    {
        let mut sink = |m: &claimbench_model::run::Measurement| {
            if let Err(e) = dir.append(m) {
                write_error.get_or_insert(e);
            }
            measurements.push(m.clone());
        };
        let mut progress = |p: Progress| bars.update(p);
        let mut runner = Runner {
            lab: &mut real_lab,
            profile: &profile,
            options: &options,
            sink: &mut sink,
            progress: &mut progress,
        };
        runner.run(&experiments);
    }
    bars.finish();
    if let Some(e) = write_error {
        return Err(e.context("results could not be written as they were measured"));
    }
    let interrupted = shutdown::interrupted();
    let mut header = header;
    header.complete = !interrupted;
    header.finished_at = (!interrupted).then(|| timestamp(std::time::SystemTime::now()));
    header.duration_s = Some(clock.elapsed().as_secs_f64());
    let results = assemble(header, measurements, &catalogue(&profile), &claims);
    write_json(&dir.path.join(RESULTS), &results)?;
    let written = claimbench_report::write_report(&results, &dir.path).context("rendering the report")?;
    match claimbench_history::record_run(&args.out, &results) {
        Ok(index) => {
            for w in &index.warnings {
                eprintln!("warning: {w}");
            }
            println!("history: {}", index.path.display());
        }
        Err(e) => eprintln!("warning: the run history was not updated: {e}"),
    }
    print_verdicts(&results);
    println!("\nreport: {}", written.html.display());
    if interrupted {
        eprintln!("the run was interrupted: the report covers what was measured");
        return Ok(ExitCode::from(130));
    }
    Ok(ExitCode::SUCCESS)
}

/// The experiments the selected claims need, in catalogue order.
fn select_experiments(
    claims: &claimbench_suite::ClaimsFile,
    wanted: &[String],
    profile: &Profile,
) -> anyhow::Result<Vec<claimbench_suite::Experiment>> {
    let all = catalogue(profile);
    if wanted.is_empty() {
        return Ok(all);
    }
    let mut needed: Vec<&str> = Vec::new();
    for id in wanted {
        let claim =
            claims.claims.iter().find(|c| &c.id == id).ok_or_else(|| claimbench_suite::SuiteError::UnknownClaim {
                name: id.clone(),
                known: claims.claims.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", "),
            })?;
        needed.extend(claim.tested_by.iter().map(String::as_str));
        needed.extend(claim.evidence.iter().map(|e| e.experiment.get_ref().as_str()));
    }
    Ok(all.into_iter().filter(|e| needed.contains(&e.id.as_str())).collect())
}

/// Starts each stack once, checks it against the contract, and records its versions.
fn verify_all(
    supervisor: &Supervisor,
    stacks: &[String],
    upstream_url: &str,
    split: &CoreSplit,
) -> anyhow::Result<BTreeMap<String, StackInfo>> {
    let contract = load_contract(&supervisor.root().join("fixtures/contract/contract.json"))?;
    let mut infos = BTreeMap::new();
    let mut results = Vec::new();
    for name in stacks {
        let config = StackConfig {
            cpus: Some(split.app.clone()),
            upstream_url: Some(upstream_url.to_string()),
            ..StackConfig::new(name)
        };
        let stack = supervisor.start(&config).with_context(|| format!("starting {name} for the conformance check"))?;
        results.extend(check_stack(&contract, supervisor.root(), name, stack.url(), Some(upstream_url))?);
        let spec = supervisor.spec(name)?;
        infos.insert(
            name.clone(),
            StackInfo {
                runtime: spec.runtime,
                framework: spec.framework.clone(),
                workers: 1,
                versions: stack.versions().clone(),
                pinning: stack.pinning().clone(),
            },
        );
        stack.stop();
    }
    if results.iter().any(|r| !r.passed()) {
        eprint!("{}", render_table(&results));
        anyhow::bail!("the stacks do not meet the contract, so comparing them would be meaningless; run `claimbench verify` and fix the apps");
    }
    let runtimes: Vec<Runtime> = infos.values().map(|i| i.runtime).collect();
    if !(runtimes.contains(&Runtime::Node) && runtimes.contains(&Runtime::Python)) {
        eprintln!("warning: --stacks has no node or no python stack; comparative claims will be 'not measured'");
    }
    Ok(infos)
}

fn environment(supervisor: &Supervisor, split: &CoreSplit, stacks: BTreeMap<String, StackInfo>) -> Environment {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as u32;
    let list = |c: &[usize]| c.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
    let pinning_note = if cores <= 2 {
        Some(format!(
            "only {cores} core(s): the app gets core {}, the load generator and the upstream share core {}; E-workers lets the app use every core, so there it shares them with the generator",
            list(&split.app),
            list(&split.generator)
        ))
    } else {
        None
    };
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| format!("Linux {}", s.trim()))
        .unwrap_or_else(|_| "unknown".into());
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=")).map(|v| v.trim_matches('"').to_string()));
    let git_commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(supervisor.root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    Environment {
        cpu_model: doctor::cpu_model(),
        cores,
        kernel,
        os,
        claimbench_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit,
        app_cores: list(&split.app),
        generator_cores: list(&split.generator),
        pinning_note,
        stacks,
    }
}

fn print_verdicts(results: &RunResults) {
    println!("\n{:<16} {:<14} key number", "claim", "verdict");
    for claim in &results.claims {
        let outcome = claim.verdict.outcome.label();
        println!("{:<16} {:<14} {}", claim.id, outcome, claim.verdict.key_number);
    }
}

/// The overall bar (trials, time left) and the current measurement's bar.
struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    current: ProgressBar,
}

impl Bars {
    fn new() -> Bars {
        let multi = MultiProgress::new();
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(
            ProgressStyle::with_template(
                "{prefix:>8} [{bar:40.cyan/blue}] {pos}/{len} trials, {elapsed} elapsed, ~{eta} left",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        overall.set_prefix("run");
        let current = multi.add(ProgressBar::new(0));
        current.set_style(
            ProgressStyle::with_template("{prefix:>8} [{bar:40.green/white}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        current.set_prefix("trial");
        current.enable_steady_tick(Duration::from_millis(100));
        Bars { multi, overall, current }
    }

    fn update(&self, event: Progress) {
        match event {
            Progress::Plan { trials, estimate } => {
                self.overall.set_length(trials as u64);
                let _ = self.multi.println(format!("{trials} trials planned, about {:.0} s", estimate.as_secs_f64()));
            }
            Progress::Trial { index, experiment, stack, label, trial, length } => {
                self.overall.set_position(index.saturating_sub(1) as u64);
                self.current.reset();
                self.current.set_length((length.as_millis() as u64).max(1));
                self.current.set_message(format!("{experiment} {stack} {label} #{trial}"));
                let bar = self.current.clone();
                // Fill the trial bar over the trial's length; it stops when the next trial resets it.
                std::thread::spawn(move || {
                    let started = Instant::now();
                    while started.elapsed() < length && !bar.is_finished() {
                        bar.set_position(started.elapsed().as_millis() as u64);
                        std::thread::sleep(Duration::from_millis(50));
                    }
                });
            }
            Progress::Note(note) => {
                let _ = self.multi.println(format!("note: {note}"));
            }
        }
    }

    fn finish(&self) {
        self.overall.finish_and_clear();
        self.current.finish_and_clear();
    }
}

/// 1,000 connections need 1,000+ descriptors in claimbench and in the apps (which inherit it).
fn raise_open_file_limit() {
    // SAFETY: getrlimit/setrlimit read and write a plain struct for this process.
    unsafe {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max.min(65_536);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// RFC 3339 UTC timestamp with second precision, from the system clock.
pub fn timestamp(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = std::time::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        assert_eq!(timestamp(t), "2026-11-18T11:06:40Z");
        let leap_day = std::time::UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(timestamp(leap_day), "2000-02-29T00:00:00Z");
        assert_eq!(timestamp(std::time::UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }
}
