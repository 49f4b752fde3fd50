//! The one loop that checks stacks against the endpoint contract: start each stack (pinned to the
//! app CPUs, wired to the upstream and the database), run every contract example, check it is still alive, record
//! its versions and pinning, stop it. `claimbench verify` shows the table; `claimbench run` does
//! this first and refuses to measure stacks that differ. The examples themselves are the
//! conformance crate's.

use std::collections::BTreeMap;

use claimbench_conformance::{check_stack, load_contract, CheckResult, ConformanceError};
use claimbench_model::run::StackInfo;
use claimbench_supervisor::{base_stack, Database, StackConfig, Supervisor, SupervisorError};
use claimbench_upstream::Upstream;

use crate::Topology;

/// Where the contract lives in the checkout.
const CONTRACT: &str = "fixtures/contract/contract.json";

/// One stack at one worker count, checked.
#[derive(Debug, Clone)]
pub struct StackCheck {
    pub stack: String,
    pub workers: u32,
    pub results: Vec<CheckResult>,
}

/// Everything the verification found.
#[derive(Debug, Clone, Default)]
pub struct Verified {
    pub checks: Vec<StackCheck>,
    /// Each stack as it ran (versions, pinning), by registry name.
    pub stacks: BTreeMap<String, StackInfo>,
}

impl Verified {
    /// True when every example of every stack passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().flat_map(|c| &c.results).all(CheckResult::passed)
    }
}

/// Why verification could not finish (a stack that answers wrongly is a result, not an error).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("starting {stack} with {workers} worker(s) for the conformance check: {source}")]
    Start { stack: String, workers: u32, source: SupervisorError },
    #[error(transparent)]
    Contract(#[from] ConformanceError),
    #[error(transparent)]
    Supervisor(#[from] SupervisorError),
}

/// Checks each stack at each worker count, wired to `database`, whose counters check the
/// database examples; `on_start(stack, workers, url)` is told as each one comes up.
pub fn verify_stacks(
    supervisor: &Supervisor,
    upstream: &Upstream,
    database: &Database,
    topology: &Topology,
    stacks: &[String],
    workers: &[u32],
    on_start: &mut dyn FnMut(&str, u32, &str),
) -> Result<Verified, VerifyError> {
    let contract = load_contract(&supervisor.root().join(CONTRACT))?;
    let upstream_url = upstream.url();
    let mut verified = Verified::default();
    for name in stacks {
        for &count in workers {
            let config = StackConfig {
                workers: count,
                // Several workers get the whole app side, as they do under load.
                cpus: Some(if count > 1 { topology.app_side.clone() } else { topology.app.clone() }),
                upstream_url: Some(upstream_url.clone()),
                env: database.app_env(),
                ..StackConfig::new(name)
            };
            let stack = supervisor.start(&config).map_err(|source| VerifyError::Start {
                stack: name.clone(),
                workers: count,
                source,
            })?;
            on_start(name, count, stack.url());
            // The app names itself by registry name: `express@a` answers as `express`.
            let counters = || database.counters().ok();
            let results = check_stack(
                &contract,
                supervisor.root(),
                base_stack(name),
                stack.url(),
                Some(&upstream_url),
                Some(&counters),
            )?;
            stack.check_alive()?;
            let spec = supervisor.spec(name)?;
            verified.stacks.entry(name.clone()).or_insert_with(|| StackInfo {
                runtime: spec.runtime,
                framework: spec.framework.clone(),
                workers: count,
                versions: stack.versions().clone(),
                pinning: stack.pinning().clone(),
            });
            verified.checks.push(StackCheck { stack: name.clone(), workers: count, results });
            stack.stop();
        }
    }
    Ok(verified)
}
