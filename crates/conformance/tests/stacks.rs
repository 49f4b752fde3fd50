//! Both bundled stacks, started by the supervisor, against every example of the contract: once
//! with one worker and once with two, each with a database claimbench starts itself. Installs the
//! apps on first use.

use claimbench_conformance::{check_stack, load_contract, render_table};
use claimbench_supervisor::{Database, DatabaseConfig, StackConfig, Supervisor};
use claimbench_upstream::Upstream;

// Stacks compete for the same two cores: one at a time, and never beside another test binary's
// load.
#[path = "../../../tests/support/load_lock.rs"]
mod load_lock;

fn conforms(stack: &str, workers: u32) {
    let _load = load_lock::load_lock();
    let supervisor = Supervisor::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).unwrap();
    let contract = load_contract(&supervisor.root().join("fixtures/contract/contract.json")).unwrap();
    let upstream = Upstream::start("127.0.0.1:0".parse().unwrap(), None).unwrap();
    let database = Database::start(supervisor.root(), &DatabaseConfig::default())
        .unwrap_or_else(|e| panic!("the database did not start: {e}"));
    let config =
        StackConfig { workers, upstream_url: Some(upstream.url()), env: database.app_env(), ..StackConfig::new(stack) };
    let running = supervisor.start(&config).unwrap_or_else(|e| panic!("{stack} did not start: {e}"));
    let counters = || database.counters().ok();
    let results =
        check_stack(&contract, supervisor.root(), stack, running.url(), Some(&upstream.url()), Some(&counters))
            .unwrap();
    running.check_alive().unwrap();
    let examples: usize = contract.endpoints.iter().map(|e| e.examples.len()).sum();
    let ws_examples: usize = contract.endpoints.iter().map(|e| e.ws_examples.len()).sum();
    let after_ws = usize::from(ws_examples > 0);
    assert_eq!(
        results.len(),
        examples + ws_examples + after_ws + 1,
        "every example plus the health and Date checks ran"
    );
    let failed = results.iter().filter(|r| !r.passed()).count();
    assert_eq!(failed, 0, "{stack} with {workers} worker(s) differs from the contract:\n{}", render_table(&results));
    let expected_calls: u64 =
        contract.endpoints.iter().flat_map(|e| &e.examples).filter_map(|x| x.upstream_calls).sum();
    assert_eq!(upstream.delay_requests(), expected_calls, "upstream hits equal the calls the app reported");
    running.stop();
}

#[test]
fn express_with_one_worker_meets_the_contract() {
    conforms("express", 1);
}

#[test]
fn express_with_two_workers_meets_the_contract() {
    conforms("express", 2);
}

#[test]
fn fastapi_with_one_worker_meets_the_contract() {
    conforms("fastapi", 1);
}

#[test]
fn fastapi_with_two_workers_meets_the_contract() {
    conforms("fastapi", 2);
}
