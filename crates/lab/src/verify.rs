//! The one loop that checks stacks against the endpoint contract: start each stack (pinned to the
//! app CPUs, wired to the upstream and the database), run every contract example, check it is
//! still alive, record its versions and pinning, stop it. Each stack is checked against the
//! endpoint groups its registry entry declares, and only those. `claimbench verify` shows the
//! table; `claimbench run` does
//! this first and refuses to measure stacks that differ. The examples themselves are the
//! conformance crate's.

use std::collections::BTreeMap;

use claimbench_conformance::{check_stack, load_contract, CheckResult, ConformanceError};
use claimbench_model::contract::Contract;
use claimbench_model::run::StackInfo;
use claimbench_suite::experiments::Experiment;
use claimbench_suite::runner::not_implemented;
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
    #[error("{stack} declares the endpoint group '{group}' in fixtures/stacks.toml, but no endpoint of the contract is in it (the contract's groups: {known}); fix the stack's `groups`")]
    UnknownGroup { stack: String, group: String, known: String },
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
        // A stack answers for exactly the groups it declares.
        let spec = supervisor.spec(name)?;
        let own = stack_contract(&contract, name, &spec.groups)?;
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
                &own,
                supervisor.root(),
                base_stack(name),
                stack.url(),
                Some(&upstream_url),
                Some(&counters),
            )?;
            stack.check_alive()?;
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

/// The part of `contract` a stack declaring `groups` must meet; a group no endpoint is in is a
/// typo in the registry, refused rather than silently checking nothing.
pub fn stack_contract(contract: &Contract, stack: &str, groups: &[String]) -> Result<Contract, VerifyError> {
    let known = contract.groups();
    if let Some(group) = groups.iter().find(|g| !known.contains(&g.as_str())) {
        return Err(VerifyError::UnknownGroup {
            stack: stack.to_string(),
            group: group.clone(),
            known: known.join(", "),
        });
    }
    Ok(contract.restricted_to(groups))
}

/// The experiments some stack of `stacks` cannot answer, by id, with the reason the report gives:
/// a request of the experiment reaches an endpoint whose group (the contract's) the stack's
/// registry entry does not declare.
pub fn not_implemented_experiments(
    supervisor: &Supervisor,
    experiments: &[Experiment],
    stacks: &[String],
) -> Result<BTreeMap<String, String>, VerifyError> {
    let contract = load_contract(&supervisor.root().join(CONTRACT))?;
    let group_of = |method: &str, path: &str| contract.group_of(method, path).map(str::to_string);
    let implements = |stack: &str, group: &str| supervisor.spec(stack).is_ok_and(|spec| spec.implements(group));
    Ok(experiments
        .iter()
        .filter_map(|e| not_implemented(e, stacks, &group_of, &implements).map(|why| (e.id.clone(), why)))
        .collect())
}
