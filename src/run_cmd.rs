//! `claimbench run`: checks the stacks against the contract, runs the experiments the chosen
//! claims need, writes every measurement as it finishes, and renders the verdicts.
//!
//! Glue only, in the order it happens: profile, verify, run, write, render. [`measure`] (profile
//! to write) and [`render`] are shared with `claimbench calibrate`. The lab (topology, stacks,
//! run folder) is `claimbench-lab`, the plan and verdicts are the suite's.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use claimbench_conformance::render_table;
use claimbench_lab::{
    capture_environment, run_id, start_database, start_upstream, timestamp, verify_stacks, RealLab, RunDir, Topology,
};
use claimbench_model::calibration::Calibration;
use claimbench_model::run::{Environment, Method, PairResults, RunResults, StackInfo, SCHEMA_VERSION};
use claimbench_model::stack::Runtime;
use claimbench_suite::experiments::catalogue_for;
use claimbench_suite::{
    assemble, catalogue, load_claims, ClaimsFile, ExtraStacks, Pair, Profile, Progress, RunOptions, Runner,
};
use claimbench_supervisor::{Database, Supervisor};
use claimbench_upstream::{Scheduling, Upstream};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::args;
use crate::interrupt;
use crate::lab::{self, STOPPING_APPS};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    measure: args::MeasureArgs,
    /// The stacks to compare: one node stack and one python stack, or `all`: every Node stack
    /// against every Python stack [default: the profile's pairs].
    #[arg(long, value_delimiter = ',', conflicts_with = "pairs")]
    stacks: Vec<String>,
    /// The pairs to compare, `node:python`, comma-separated, e.g.
    /// express:fastapi,node-http:starlette; the first is measured on every evidence, the others
    /// on the claims' primary evidences only [default: quick compares express:fastapi; standard
    /// and nightly add node-http:starlette, nestjs:django and fastify:flask].
    #[arg(long, value_delimiter = ',')]
    pairs: Vec<String>,
    /// Where run folders go.
    #[arg(long, default_value = "reports")]
    out: PathBuf,
    /// The calibration the report shows, if it is of this machine [default: OUT/calibration-latest.json].
    #[arg(long)]
    calibration: Option<PathBuf>,
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    args.measure.runtimes.apply()?;
    let supervisor = lab::supervisor()?;
    let profile = Profile::of(args.measure.profile);
    let pairs = choose_pairs(&supervisor, &args.stacks, &args.pairs, &profile)?;
    let stacks = match pairs.first() {
        Some(first) => vec![first.node.clone(), first.python.clone()],
        None => args.stacks.clone(),
    };
    let request = Request {
        flags: args.measure.clone(),
        stacks,
        pairs,
        pairs_flag: !args.pairs.is_empty(),
        roles: BTreeMap::new(),
        out: args.out.clone(),
        kind: None,
    };
    let measured = measure(&request)?;
    let calibration_path = args.calibration.clone().unwrap_or_else(|| claimbench_lab::latest_calibration(&args.out));
    let calibration = crate::calibrate_cmd::newest_of_machine(&calibration_path, &measured.results.environment);
    let html = render(&measured, calibration.as_ref())?;
    match crate::history_cmd::record_run(&args.out, &measured.results) {
        Ok(index) => {
            for w in &index.warnings {
                eprintln!("warning: {w}");
            }
            println!("history: {}", index.path.display());
        }
        Err(e) => eprintln!("warning: the run history was not updated: {e}"),
    }
    print_verdicts(&measured.results);
    println!("\nreport: {}", html.display());
    if measured.interrupted {
        eprintln!("the run was interrupted: the report covers what was measured");
        return Ok(ExitCode::from(130));
    }
    Ok(ExitCode::SUCCESS)
}

/// The pairs a run compares: `--pairs` as given, `--stacks all` as every Node stack against every
/// Python stack, the profile's default pairs when neither flag is given, and none (the stacks as
/// listed, sides by runtime) for an explicit `--stacks` list. A bad list is an error naming it.
fn choose_pairs(
    supervisor: &Supervisor,
    stacks: &[String],
    pairs: &[String],
    profile: &Profile,
) -> anyhow::Result<Vec<Pair>> {
    let registry: Vec<(String, Runtime)> = supervisor
        .registry()
        .names()
        .into_iter()
        .filter_map(|n| supervisor.spec(n).ok().map(|s| (n.to_string(), s.runtime)))
        .collect();
    if stacks == ["all"] {
        return Ok(claimbench_suite::pairs::all_pairs(&registry));
    }
    if !stacks.is_empty() {
        return Ok(Vec::new());
    }
    let (items, flag) = if pairs.is_empty() { (&profile.pairs[..], "the profile's pairs") } else { (pairs, "--pairs") };
    let runtime_of = |name: &str| registry.iter().find(|(n, _)| n == name).map(|(_, r)| *r);
    let known: Vec<&str> = registry.iter().map(|(n, _)| n.as_str()).collect();
    claimbench_suite::pairs::parse_pairs(items, &runtime_of, &known).map_err(|e| anyhow::anyhow!("{flag}: {e}"))
}

/// What one pass over the experiments is asked to do: `run`'s flags, or `calibrate`'s.
pub(crate) struct Request {
    pub flags: args::MeasureArgs,
    /// The first pair's stacks (or `--stacks` as listed); every evidence is measured on them.
    pub stacks: Vec<String>,
    /// Every pair compared, the first made of `stacks`; empty for an explicit `--stacks` list
    /// and for a calibration.
    pub pairs: Vec<Pair>,
    /// True when `--pairs` chose the pairs (the run's filters say so).
    pub pairs_flag: bool,
    /// The side a stack stands for when it is not its own runtime's (see `Environment::roles`).
    pub roles: BTreeMap<String, Runtime>,
    pub out: PathBuf,
    /// Appended to the run id, e.g. `calibrate`; `None` for a plain run.
    pub kind: Option<&'static str>,
}

/// A finished (or interrupted) pass: the assembled results in their written run folder.
pub(crate) struct Measured {
    pub results: RunResults,
    pub dir: RunDir,
    pub claims: ClaimsFile,
    pub interrupted: bool,
}

/// Profile, verify, run, write: the part `run` and `calibrate` share.
pub(crate) fn measure(request: &Request) -> anyhow::Result<Measured> {
    // The profile's time budget counts from here: first-use installs and the contract check too.
    let command_started = Instant::now();
    let cancel = interrupt::install(STOPPING_APPS);
    let open_files = match claimbench_platform::raise_open_file_limit(65_536) {
        Ok(limit) => limit,
        Err(e) => {
            eprintln!("warning: {e}; runs with many connections may fail");
            1024
        }
    };
    let supervisor = lab::supervisor()?;
    let profile = Profile::of(request.flags.profile);
    let claims = load_claims(&supervisor.root().join("fixtures/claims.toml"))?;
    let topology = Topology::detect(None)?;
    // E-workers plans 1, 2, 4, … workers up to the app side's CPUs.
    let all = catalogue_for(&profile, topology.app_side.len() as u32);
    let experiments = claimbench_suite::experiments::plan(
        select_experiments(&claims, &request.flags.claims, all)?,
        &claims,
        profile.primary_only,
    );
    for stack in &request.stacks {
        supervisor.spec(stack)?;
    }
    // The further pairs' stacks, measured on the primary evidences' units only.
    let mut extra_stacks: Vec<String> = Vec::new();
    for pair in request.pairs.iter().skip(1) {
        for stack in [&pair.node, &pair.python] {
            if !request.stacks.contains(stack) && !extra_stacks.contains(stack) {
                extra_stacks.push(stack.clone());
            }
        }
    }
    let all_stacks: Vec<String> = request.stacks.iter().chain(&extra_stacks).cloned().collect();
    let (experiments, not_measurable) = claimbench_suite::experiments::measurable(
        experiments,
        |needs| topology.fits(needs.app_cpus as usize, needs.generator_cpus as usize),
        open_files,
    );
    for (id, why) in &not_measurable {
        eprintln!("{id}: {why}");
    }
    // claimbench's own threads (sampler, progress, readiness polls, the engine's set-up) start
    // from here, so they inherit the generator side and never take the app's CPUs.
    let _own_threads = (!topology.shared())
        .then(|| claimbench_platform::PinGuard::pin(&topology.generator))
        .transpose()
        .context("pinning claimbench's own threads to the generator side")?;
    for p in claimbench_lab::busy_elsewhere() {
        eprintln!(
            "warning: another process is busy: {} (pid {}) used {:.0}% of a CPU; its trials may be contended",
            p.name,
            p.pid,
            p.cpu_fraction * 100.0
        );
    }
    for (cpu, lost) in claimbench_lab::cpus_given_away(&topology.allowed) {
        eprintln!(
            "warning: CPU {cpu} gives {:.0}% of its time to the hypervisor or another process right now (a steal \
             storm?): trials in it are thrown out as contended, so the run takes longer and may end with too \
             few pairs",
            lost * 100.0
        );
    }
    let upstream = start_upstream(&topology).context("starting the upstream service")?;
    if let Scheduling::Ordinary(_) = upstream.scheduling() {
        eprintln!("warning: the upstream service runs in the {}", upstream.scheduling().describe());
    }
    let database = start_database(supervisor.root(), &topology, request.flags.database.database_url.as_deref())?;
    // The contract holds at every worker count the run will use, not only at one.
    let mut workers: Vec<u32> = experiments.iter().flat_map(|e| e.instances(&all_stacks)).map(|i| i.workers).collect();
    workers.sort_unstable();
    workers.dedup();
    if workers.is_empty() {
        workers.push(1);
    }
    let stacks =
        verify_before_run(&supervisor, &upstream, &database, &topology, &all_stacks, &workers, &request.roles)?;

    // Kept with the not-measurable ones, so the assembled report gives the reason for the row.
    let not_implemented = claimbench_lab::not_implemented_experiments(&supervisor, &experiments, &request.stacks)?;
    let mut not_measurable = not_measurable;
    not_measurable.extend(not_implemented.clone());
    let extra = extra_stacks_of(&supervisor, &experiments, &claims, extra_stacks)?;
    let mut pairs = Vec::new();
    for (i, pair) in request.pairs.iter().enumerate() {
        let stacks = [pair.node.clone(), pair.python.clone()];
        pairs.push(PairResults {
            node: pair.node.clone(),
            python: pair.python.clone(),
            primary_only: i > 0,
            not_implemented: claimbench_lab::not_implemented_experiments(&supervisor, &experiments, &stacks)?,
            claims: Vec::new(),
        });
    }
    let started_at = SystemTime::now();
    let mut environment = capture_environment(supervisor.root(), &topology, stacks);
    environment.roles = request.roles.clone();
    environment.database = Some(database.info().clone());
    environment.upstream_scheduling = Some(upstream.scheduling().describe());
    let header = RunResults { not_measurable, pairs, ..header(request, &profile, started_at, environment) };
    let mut writer = RunDir::create(&request.out, &header.run_id, &header)?;
    eprintln!("writing results to {} as they are measured", writer.dir().path().display());

    let bars = Bars::new();
    let mut real_lab = RealLab::new(supervisor, upstream, database, topology, profile.stack_warmup, cancel.clone())
        .spawned_before(&all_stacks)
        .counting_from(command_started)
        .with_progress(bars.trial_progress());
    let options = RunOptions { stacks: request.stacks.clone(), method: header.method.clone(), not_implemented, extra };
    let mut write_error = None;
    let mut measurements = Vec::new();
    let clock = Instant::now();
    Runner {
        lab: &mut real_lab,
        profile: &profile,
        options: &options,
        sink: &mut |m| {
            if let Err(e) = writer.append(m) {
                write_error.get_or_insert(e);
            }
            measurements.push(m.clone());
        },
        progress: &mut |p| bars.update(p),
    }
    .run(&experiments);
    bars.finish();
    if let Some(e) = write_error {
        return Err(anyhow::Error::new(e).context("results could not be written as they were measured"));
    }

    let interrupted = cancel.is_cancelled();
    let header = RunResults {
        complete: !interrupted,
        finished_at: (!interrupted).then(|| timestamp(SystemTime::now())),
        duration_s: Some(clock.elapsed().as_secs_f64()),
        ..header
    };
    let results = assemble(header, measurements, &catalogue(&profile), &claims);
    let dir = writer.finish(&results)?;
    Ok(Measured { results, dir, claims, interrupted })
}

/// Writes the run folder's report, showing `calibration` (the machine's newest) if there is one.
pub(crate) fn render(measured: &Measured, calibration: Option<&Calibration>) -> anyhow::Result<PathBuf> {
    let written = claimbench_report::write_report_with(&measured.results, calibration, measured.dir.path())
        .context("rendering the report")?;
    Ok(written.html)
}

/// The experiments the selected claims need, in catalogue order.
fn select_experiments(
    claims: &claimbench_suite::ClaimsFile,
    wanted: &[String],
    all: Vec<claimbench_suite::Experiment>,
) -> anyhow::Result<Vec<claimbench_suite::Experiment>> {
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

/// The run's header: what was asked for, the method, and the machine, before any measurement.
fn header(args: &Request, profile: &Profile, started_at: SystemTime, environment: Environment) -> RunResults {
    let method = Method {
        noise_threshold: args.flags.threshold,
        confidence: 0.95,
        slo_p99_ms: args.flags.slo_ms,
        room_p99_ms: args.flags.room_ms,
        max_error_ratio: 0.01,
        // The verdict band, or the idle machine's own drift between two readings where that is
        // larger (measured: 10%); see `canary_limit`.
        canary_max_drift: claimbench_lab::canary_limit(args.flags.threshold),
        warmup_s: profile.stack_warmup.as_secs_f64(),
        trial_s: profile.trial.as_secs_f64(),
        priming_s: profile.priming.as_secs_f64(),
        seed: started_at.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0),
        primary_only: profile.primary_only,
    };
    let mut filters: Vec<String> = (!args.flags.claims.is_empty())
        .then(|| format!("--claims {}", args.flags.claims.join(",")))
        .into_iter()
        .collect();
    if args.pairs_flag {
        filters.push(format!("--pairs {}", args.pairs.iter().map(Pair::label).collect::<Vec<_>>().join(",")));
    } else {
        filters.push(format!("--stacks {}", args.stacks.join(",")));
    }
    RunResults {
        schema_version: SCHEMA_VERSION,
        run_id: match args.kind {
            Some(kind) => format!("{}-{kind}", run_id(started_at, &profile.name)),
            None => run_id(started_at, &profile.name),
        },
        profile: profile.name.clone(),
        started_at: timestamp(started_at),
        finished_at: None,
        duration_s: None,
        complete: false,
        filters,
        method,
        environment,
        claims: Vec::new(),
        experiments: Vec::new(),
        not_measurable: Default::default(),
        warnings: Vec::new(),
        pairs: Vec::new(),
        framework_spreads: Vec::new(),
        runtime_verdicts: Vec::new(),
    }
}

/// The further pairs' stacks as the runner takes them: measured on the units of the claims'
/// primary evidences (as quick plans them), and not on an experiment a stack cannot answer.
fn extra_stacks_of(
    supervisor: &Supervisor,
    experiments: &[claimbench_suite::Experiment],
    claims: &ClaimsFile,
    stacks: Vec<String>,
) -> anyhow::Result<ExtraStacks> {
    if stacks.is_empty() {
        return Ok(ExtraStacks::default());
    }
    let units = claimbench_suite::experiments::plan(experiments.to_vec(), claims, true)
        .into_iter()
        .map(|e| (e.id, e.units.into_iter().map(|u| u.label).collect()))
        .collect();
    let mut not_implemented = std::collections::BTreeSet::new();
    for stack in &stacks {
        let lacking =
            claimbench_lab::not_implemented_experiments(supervisor, experiments, std::slice::from_ref(stack))?;
        not_implemented.extend(lacking.into_keys().map(|id| (id, stack.clone())));
    }
    Ok(ExtraStacks { stacks, units, not_implemented })
}

/// Checks every stack against the contract before any load, refusing to measure stacks that differ.
fn verify_before_run(
    supervisor: &Supervisor,
    upstream: &Upstream,
    database: &Database,
    topology: &Topology,
    stacks: &[String],
    workers: &[u32],
    roles: &BTreeMap<String, Runtime>,
) -> anyhow::Result<BTreeMap<String, StackInfo>> {
    let counts: Vec<String> = workers.iter().map(u32::to_string).collect();
    eprintln!(
        "checking {} against the contract at {} worker(s) before any load ...",
        stacks.join(", "),
        counts.join(", ")
    );
    let verified = verify_stacks(supervisor, upstream, database, topology, stacks, workers, &mut |_, _, _| {})?;
    if !verified.passed() {
        let results: Vec<_> = verified.checks.into_iter().flat_map(|c| c.results).collect();
        eprint!("{}", render_table(&results));
        anyhow::bail!("the stacks do not meet the contract, so comparing them would be meaningless; run `claimbench verify` and fix the apps");
    }
    let runtimes: Vec<Runtime> =
        verified.stacks.iter().map(|(name, i)| roles.get(name).copied().unwrap_or(i.runtime)).collect();
    if !(runtimes.contains(&Runtime::Node) && runtimes.contains(&Runtime::Python)) {
        eprintln!("warning: --stacks has no node or no python stack; comparative claims will be 'not measured'");
    }
    Ok(verified.stacks)
}

pub(crate) fn print_verdicts(results: &RunResults) {
    println!("\n{:<16} {:<14} key number", "claim", "verdict");
    for claim in &results.claims {
        let outcome = claim.verdict.outcome.label();
        println!("{:<16} {:<14} {}", claim.id, outcome, claim.verdict.key_number);
    }
}

/// The overall bar (trials, time left) and the current trial's bar, which the engine's progress
/// ticks fill; a steady tick redraws both, so no thread of ours polls.
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

    /// The callback the lab calls with the current load's elapsed time.
    fn trial_progress(&self) -> Box<dyn Fn(Duration) + Send + Sync> {
        let current = self.current.clone();
        Box::new(move |elapsed| current.set_position(elapsed.as_millis() as u64))
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
