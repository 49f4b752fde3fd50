//! The experiment catalogue: each experiment of the issue as a list of units (one setting each,
//! measured on every stack), built for a profile, with the groups of units whose ratios are taken
//! within one stack (they are interleaved trial by trial so those ratios are paired too).
//! [`plan`] cuts the catalogue down to what a profile runs. The runner walks the plan.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::claims::{ClaimsFile, Evidence};
use crate::profile::Profile;
use crate::verdict::Claimed;

/// Which app instance a unit needs: a stack with a worker count, pinned narrowly (the app's own
/// core) or widely (every core, for the scaling experiments on small machines).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Instance {
    pub stack: String,
    pub workers: u32,
    pub wide: bool,
}

/// One request shape: method, path and query, and an optional body file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Body file relative to the repository root, sent as application/json.
    pub body_file: Option<String>,
}

impl Request {
    fn get(path: &str) -> Request {
        Request { method: "GET".into(), path: path.into(), body_file: None }
    }
}

/// The load of one trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Load {
    /// Closed loop: `connections` each send the next request when the last one completes.
    Closed { request: Request, connections: u32 },
    /// Open loop at a constant `rate` over `connections`.
    Open { request: Request, rate: f64, connections: u32 },
    /// Open loop over increasing rates, one step each; finds the highest rate within the SLO.
    RateSteps { request: Request, rates: Vec<f64>, step: Duration, connections: u32 },
    /// `probe` is measured while `background` loads the same app (head-of-line blocking).
    Mixed { probe: Box<Load>, background: Box<Load> },
    /// Spawn the stack and time it to the first 200 (E-coldstart); no load.
    ColdStart,
}

impl Load {
    /// Every request this load sends (a cold start sends only the readiness probe, which every
    /// stack answers).
    pub fn requests(&self) -> Vec<&Request> {
        match self {
            Load::Closed { request, .. } | Load::Open { request, .. } | Load::RateSteps { request, .. } => {
                vec![request]
            }
            Load::Mixed { probe, background } => probe.requests().into_iter().chain(background.requests()).collect(),
            Load::ColdStart => Vec::new(),
        }
    }
}

/// One setting of an experiment, measured on every stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// The label measurements are grouped and paired by, e.g. `c=100`.
    pub label: String,
    /// The endpoint as the report shows it.
    pub endpoint: String,
    pub load: Load,
    pub workers: u32,
    pub wide: bool,
    /// The endpoint's own built-in delay, subtracted for `p99_overhead_ms`.
    pub built_in_delay_ms: Option<f64>,
}

/// The CPUs an experiment needs, none of them shared between the two sides; on a machine that
/// cannot give them it is reported as not measurable there rather than run in a layout that
/// would decide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Needs {
    /// CPUs for the app under test.
    pub app_cpus: u32,
    /// CPUs for the load generator and the upstream.
    pub generator_cpus: u32,
}

impl Default for Needs {
    /// One CPU each: what every single-worker experiment needs.
    fn default() -> Needs {
        Needs { app_cpus: 1, generator_cpus: 1 }
    }
}

/// One experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    pub id: String,
    pub title: String,
    pub what: String,
    pub measured_as: String,
    pub units: Vec<Unit>,
    /// Groups of unit labels whose ratios are taken within one stack (e.g. E-hol mixed/alone):
    /// the runner interleaves a group's units trial by trial (U1 U2, U2 U1) instead of running
    /// one unit after the other, so trial k of each lies next to trial k of the others. A test
    /// checks that every same-side evidence of the claims file reads units of one group.
    #[serde(default)]
    pub interleave: Vec<Vec<String>>,
    /// The CPUs it needs.
    #[serde(default)]
    pub needs: Needs,
}

fn unit(label: &str, endpoint: &str, load: Load) -> Unit {
    Unit { label: label.into(), endpoint: endpoint.into(), load, workers: 1, wide: false, built_in_delay_ms: None }
}

fn experiment(id: &str, title: &str, what: &str, measured_as: &str, units: Vec<Unit>) -> Experiment {
    Experiment {
        id: id.into(),
        title: title.into(),
        what: what.into(),
        measured_as: measured_as.into(),
        units,
        interleave: Vec::new(),
        needs: Needs::default(),
    }
}

fn labels(list: &[&str]) -> Vec<String> {
    list.iter().map(|l| l.to_string()).collect()
}

/// CPU endpoints of E-cpu: label stem, path, body file. Sizes keep one request in the
/// millisecond range on both runtimes, so a 1 s trial holds enough requests.
const CPU_ENDPOINTS: [(&str, &str, Option<&str>); 5] = [
    ("fib", "/cpu/fib?n=22", None),
    ("json", "/cpu/json", Some("fixtures/payloads/orders-100k.json")),
    ("hash", "/cpu/hash?rounds=2000", None),
    ("matmul-pure", "/cpu/matmul?n=40&impl=pure", None),
    ("matmul-lib", "/cpu/matmul?n=120&impl=lib", None),
];

/// The fixed /io/upstream rate of E-cost, which both stacks sustain on one core.
pub const COST_RATE: f64 = 300.0;
/// The /json probe rate of E-hol: well below what either stack serves of /json alone (about
/// 16,000 req/s each on one core), and high enough for 1,000 samples in quick's 0.7 s trial, so
/// the p99 is not the largest of a few dozen.
pub const HOL_PROBE_RATE: f64 = 1500.0;
/// The I/O background of E-hol: `/io/upstream?ms=20` at a rate both stacks carry on one core
/// (about 10 requests in flight).
pub const HOL_IO_BACKGROUND_RATE: f64 = 500.0;

/// Every experiment of the issue, sized for `profile`.
pub fn catalogue(profile: &Profile) -> Vec<Experiment> {
    let c = |n: u32| profile.connections(n);
    let io = "/io/upstream?ms=20";
    let mut list = Vec::new();

    list.push(experiment(
        "E-overhead",
        "Framework overhead",
        "`GET /json`",
        "closed loop at 16, 64 and 256 connections",
        [16, 64, 256]
            .iter()
            .map(|&n| {
                unit(&format!("c={n}"), "/json", Load::Closed { request: Request::get("/json"), connections: c(n) })
            })
            .collect(),
    ));

    let mut io_units: Vec<Unit> = [10, 100, 500, 1000]
        .iter()
        .map(|&n| unit(&format!("c={n}"), io, Load::Closed { request: Request::get(io), connections: c(n) }))
        .collect();
    io_units.push(unit(
        "slo",
        io,
        Load::RateSteps {
            request: Request::get(io),
            rates: vec![100.0, 250.0, 500.0, 1000.0, 1500.0, 2000.0, 3000.0],
            step: profile.slo_step,
            connections: c(256),
        },
    ));
    list.push(experiment(
        "E-io",
        "I/O-bound API",
        "`GET /io/upstream?ms=20`",
        "closed loop at 10, 100, 500 and 1000 connections; open-loop rate steps for the highest rate holding the p99 SLO",
        io_units,
    ));

    let fanout = "/io/upstream?ms=10&fanout=8";
    list.push(experiment(
        "E-io-fanout",
        "I/O fan-out",
        "`GET /io/upstream?ms=10&fanout=8`",
        "closed loop at 64 connections",
        vec![unit("c=64", fanout, Load::Closed { request: Request::get(fanout), connections: c(64) })],
    ));

    let mut cpu_units = Vec::new();
    for connections in [1, 4] {
        for (stem, path, body) in CPU_ENDPOINTS {
            let request = Request {
                method: if body.is_some() { "POST".into() } else { "GET".into() },
                path: path.into(),
                body_file: body.map(String::from),
            };
            cpu_units.push(unit(&format!("{stem} c={connections}"), path, Load::Closed { request, connections }));
        }
    }
    list.push(experiment(
        "E-cpu",
        "CPU-bound work",
        "`/cpu/fib`, `/cpu/json`, `/cpu/hash`, `/cpu/matmul` (pure and lib)",
        "closed loop at 1 and 4 connections",
        cpu_units,
    ));

    // The probe is open loop, so a blocked event loop shows as latency from the intended send
    // time, with enough connections that none is ever short of one while the app is blocked.
    let scale = profile.connection_scale.max(0.2);
    let (probe_rate, io_rate) = (HOL_PROBE_RATE * scale, HOL_IO_BACKGROUND_RATE * scale);
    let probe = Load::Open { request: Request::get("/json"), rate: probe_rate, connections: c(64) };
    let io_background = Load::Open { request: Request::get(io), rate: io_rate, connections: c(64) };
    let cpu_background = Load::Closed { request: Request::get("/cpu/fib?n=25"), connections: 2 };
    let mixed = |background: Load| Load::Mixed { probe: Box::new(probe.clone()), background: Box::new(background) };
    list.push(experiment(
        "E-hol",
        "Head-of-line blocking",
        &format!("open-loop `GET /json` at {probe_rate:.0} req/s"),
        &format!(
            "alone; while open-loop `{io}` runs at {io_rate:.0} req/s (I/O: the article's case); \
             while closed-loop `/cpu/fib?n=25` runs (CPU: the event loop's known limit)"
        ),
        vec![
            unit("alone", "/json", probe.clone()),
            unit("mixed-io", "/json + /io/upstream?ms=20", mixed(io_background)),
            unit("mixed-cpu", "/json + /cpu/fib?n=25", mixed(cpu_background)),
        ],
    ));

    list.last_mut().expect("E-hol was just pushed").interleave = vec![labels(&["alone", "mixed-io", "mixed-cpu"])];

    let sleep = "/io/sleep?ms=100";
    list.push(experiment(
        "E-concurrency",
        "Many concurrent connections",
        "`GET /io/sleep?ms=100`",
        "closed loop at 1,000 connections: errors, latency above 100 ms, RSS per connection",
        vec![Unit {
            built_in_delay_ms: Some(100.0),
            ..unit("c=1000", sleep, Load::Closed { request: Request::get(sleep), connections: c(1000) })
        }],
    ));

    list.push(experiment(
        "E-cost",
        "Cost at a fixed rate",
        "`GET /io/upstream?ms=20` at 300 req/s",
        "open loop at a rate both stacks sustain: app CPU-seconds per 1,000 requests, peak RSS",
        vec![unit(
            "fixed-rate",
            io,
            Load::Open {
                request: Request::get(io),
                rate: COST_RATE * profile.connection_scale.max(0.2),
                connections: c(64),
            },
        )],
    ));

    list.push(experiment(
        "E-coldstart",
        "Cold start",
        "spawn to the first 200 on `/health`",
        &format!("{} spawns per stack: cold start time and idle RSS", profile.cold_starts),
        vec![unit("cold", "/health", Load::ColdStart)],
    ));

    let mut worker_units = Vec::new();
    for (label, path, workers, connections) in [
        ("fib w=1 c=1", "/cpu/fib?n=22", 1, 1),
        ("fib w=1 c=4", "/cpu/fib?n=22", 1, 4),
        ("fib w=2 c=4", "/cpu/fib?n=22", 2, 4),
        ("json w=1 c=64", "/json", 1, 64),
        ("json w=2 c=64", "/json", 2, 64),
    ] {
        worker_units.push(Unit {
            workers,
            wide: true,
            ..unit(label, path, Load::Closed { request: Request::get(path), connections: c(connections) })
        });
    }
    list.push(experiment(
        "E-workers",
        "Workers and the GIL",
        "`/cpu/fib?n=22` and `/json` with WORKERS=1 and 2",
        "closed loop; the scaling factor 2 workers / 1 worker, and fastapi's threadpool (4 connections vs 1) against processes; a multi-worker app gets the whole app side, never the generator's CPUs",
        worker_units,
    ));
    let workers = list.last_mut().expect("E-workers was just pushed");
    workers.interleave =
        vec![labels(&["fib w=1 c=1", "fib w=1 c=4", "fib w=2 c=4"]), labels(&["json w=1 c=64", "json w=2 c=64"])];
    // Two workers need two app CPUs of their own; on fewer the layout, not the runtime, decides.
    workers.needs = Needs { app_cpus: 2, generator_cpus: 1 };
    list
}

/// What a profile runs of `experiments` for `claims`: everything, or with `primary_only` just the
/// units the claims' primary (first) evidences and their negative controls read; an experiment
/// left with no unit is dropped. Catalogue order is kept.
pub fn plan(experiments: Vec<Experiment>, claims: &ClaimsFile, primary_only: bool) -> Vec<Experiment> {
    if !primary_only {
        return experiments;
    }
    let primary: Vec<&Evidence> = claims
        .claims
        .iter()
        .flat_map(|c| c.evidence.iter().enumerate().filter(|(i, ev)| *i == 0 || ev.claimed == Claimed::Equal))
        .map(|(_, ev)| ev)
        .collect();
    experiments
        .into_iter()
        .filter_map(|mut e| {
            let needed = |label: &String| {
                primary.iter().any(|ev| {
                    ev.experiment.get_ref() == &e.id
                        && [&ev.numerator, &ev.denominator].iter().any(|op| op.units().contains(label))
                })
            };
            let units: Vec<Unit> = e.units.iter().filter(|u| needed(&u.label)).cloned().collect();
            if units.is_empty() {
                return None;
            }
            e.interleave = e
                .interleave
                .iter()
                .map(|group| group.iter().filter(|l| units.iter().any(|u| &&u.label == l)).cloned().collect())
                .filter(|group: &Vec<String>| group.len() > 1)
                .collect();
            e.units = units;
            Some(e)
        })
        .collect()
}

/// Splits a plan into what this machine can measure and, by experiment id, why the rest is not
/// measurable here (`fits` answers for the machine, e.g. the lab's topology).
pub fn measurable(
    experiments: Vec<Experiment>,
    fits: impl Fn(&Needs) -> Result<(), String>,
) -> (Vec<Experiment>, BTreeMap<String, String>) {
    let mut not_measurable = BTreeMap::new();
    let kept = experiments
        .into_iter()
        .filter(|e| match fits(&e.needs) {
            Ok(()) => true,
            Err(why) => {
                not_measurable.insert(e.id.clone(), why);
                false
            }
        })
        .collect();
    (kept, not_measurable)
}

impl Experiment {
    /// The app instances this experiment needs for `stacks`.
    pub fn instances(&self, stacks: &[String]) -> Vec<Instance> {
        let mut out: Vec<Instance> = Vec::new();
        for stack in stacks {
            for unit in &self.units {
                if matches!(unit.load, Load::ColdStart) {
                    continue;
                }
                let key = Instance { stack: stack.clone(), workers: unit.workers, wide: unit.wide };
                if !out.contains(&key) {
                    out.push(key);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::load_claims;

    #[test]
    fn the_claims_file_names_only_experiments_and_units_of_the_catalogue() {
        // load_claims checks every id and unit against the catalogue.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/claims.toml");
        load_claims(&path).unwrap();
    }

    fn claims() -> ClaimsFile {
        load_claims(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/claims.toml")).unwrap()
    }

    #[test]
    fn every_ratio_within_one_stack_reads_units_of_one_interleaved_group() {
        let experiments = catalogue(&Profile::of(crate::profile::ProfileName::Quick));
        for claim in claims().claims {
            for ev in claim.evidence.iter().filter(|ev| ev.numerator.side == ev.denominator.side) {
                let e = experiments.iter().find(|e| &e.id == ev.experiment.get_ref()).unwrap();
                let read: Vec<&String> = ev.numerator.units().iter().chain(ev.denominator.units()).collect();
                assert!(
                    e.interleave.iter().any(|group| read.iter().all(|l| group.contains(l))),
                    "{} '{}' divides {:?} within one stack: put them in one of {}'s interleave groups",
                    claim.id,
                    ev.label,
                    read,
                    e.id
                );
            }
        }
    }

    #[test]
    fn a_primary_only_plan_keeps_just_the_units_of_primary_evidences() {
        let all = catalogue(&Profile::of(crate::profile::ProfileName::Quick));
        let claims = claims();
        let quick = plan(all.clone(), &claims, true);
        assert!(!quick.iter().any(|e| e.id == "E-overhead"), "E-overhead backs no primary evidence");
        let io = quick.iter().find(|e| e.id == "E-io").unwrap();
        let io_labels: Vec<&str> = io.units.iter().map(|u| u.label.as_str()).collect();
        assert_eq!(io_labels, ["c=10", "c=100", "c=500", "c=1000"], "the slo search is exploratory");
        let workers = quick.iter().find(|e| e.id == "E-workers").unwrap();
        assert_eq!(workers.interleave, [labels(&["json w=1 c=64", "json w=2 c=64"])]);
        assert_eq!(plan(all.clone(), &claims, false), all);
    }

    #[test]
    fn unit_labels_do_not_depend_on_the_profile() {
        // load_claims checks labels against one profile's catalogue; that is only sound if they match.
        let labels = |name| {
            catalogue(&Profile::of(name))
                .into_iter()
                .map(|e| (e.id, e.units.into_iter().map(|u| u.label).collect::<Vec<_>>()))
                .collect::<Vec<_>>()
        };
        for name in crate::profile::ProfileName::ALL {
            assert_eq!(labels(name), labels(crate::profile::ProfileName::Quick), "{name:?}");
        }
    }

    #[test]
    fn unit_labels_are_unique_within_an_experiment() {
        for experiment in catalogue(&Profile::named("quick").unwrap()) {
            let mut labels: Vec<&str> = experiment.units.iter().map(|u| u.label.as_str()).collect();
            labels.sort();
            let before = labels.len();
            labels.dedup();
            assert_eq!(before, labels.len(), "{} repeats a label", experiment.id);
        }
    }

    #[test]
    fn smoke_scales_connections_down_but_never_to_zero() {
        let smoke = catalogue(&Profile::named("smoke").unwrap());
        let io = smoke.iter().find(|e| e.id == "E-io").unwrap();
        let Load::Closed { connections, .. } = &io.units[3].load else { panic!("c=1000 is closed loop") };
        assert_eq!(*connections, 100);
        let Load::Closed { connections, .. } = &io.units[0].load else { panic!("c=10 is closed loop") };
        assert_eq!(*connections, 1);
    }
}
