//! Every bundled stack, started by the supervisor, against every example of the contract's
//! endpoint groups it declares: once with one worker and once with two, a stack declaring `db`
//! with a database claimbench starts itself. Installs the apps on first use. A registry stack
//! without a test here fails `every_registry_stack_is_tested_here`.

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
    let full = load_contract(&supervisor.root().join("fixtures/contract/contract.json")).unwrap();
    let spec = supervisor.spec(stack).unwrap();
    let contract = full.restricted_to(&spec.groups);
    let upstream = Upstream::start("127.0.0.1:0".parse().unwrap(), None).unwrap();
    // Only a stack with the database endpoints is given (and pays for) a database.
    let database = spec.implements("db").then(|| {
        Database::start(supervisor.root(), &DatabaseConfig::default())
            .unwrap_or_else(|e| panic!("the database did not start: {e}"))
    });
    let env = database.as_ref().map(Database::app_env).unwrap_or_default();
    let config = StackConfig { workers, upstream_url: Some(upstream.url()), env, ..StackConfig::new(stack) };
    let running = supervisor.start(&config).unwrap_or_else(|e| panic!("{stack} did not start: {e}"));
    let counters = || database.as_ref().and_then(|d| d.counters().ok());
    let results =
        check_stack(&contract, supervisor.root(), stack, running.url(), Some(&upstream.url()), Some(&counters))
            .unwrap();
    running.check_alive().unwrap();
    let examples: usize = contract.endpoints.iter().map(|e| e.examples.len()).sum();
    let ws_examples: usize = contract.endpoints.iter().map(|e| e.ws_examples.len()).sum();
    let after_ws = usize::from(ws_examples > 0);
    let sse_examples: usize = contract.endpoints.iter().map(|e| e.sse_examples.len()).sum();
    assert_eq!(
        results.len(),
        examples + ws_examples + sse_examples + after_ws + 1,
        "every example plus the health and Date checks ran"
    );
    let failed = results.iter().filter(|r| !r.passed()).count();
    assert_eq!(failed, 0, "{stack} with {workers} worker(s) differs from the contract:\n{}", render_table(&results));
    let expected_calls: u64 =
        contract.endpoints.iter().flat_map(|e| &e.examples).filter_map(|x| x.upstream_calls).sum();
    assert_eq!(upstream.delay_requests(), expected_calls, "upstream hits equal the calls the app reported");
    running.stop();
}

/// The stacks below, in registry order; a new registry entry needs its two tests here.
const TESTED: [&str; 8] = ["express", "fastapi", "fastify", "nestjs", "node-http", "starlette", "flask", "django"];

#[test]
fn every_registry_stack_is_tested_here() {
    let supervisor = Supervisor::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).unwrap();
    let mut registry = supervisor.registry().names();
    let mut tested = TESTED.to_vec();
    registry.sort_unstable();
    tested.sort_unstable();
    assert_eq!(registry, tested, "add a one- and a two-worker test for each new stack");
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

#[test]
fn fastify_with_one_worker_meets_the_contract() {
    conforms("fastify", 1);
}

#[test]
fn fastify_with_two_workers_meets_the_contract() {
    conforms("fastify", 2);
}

#[test]
fn nestjs_with_one_worker_meets_the_contract() {
    conforms("nestjs", 1);
}

#[test]
fn nestjs_with_two_workers_meets_the_contract() {
    conforms("nestjs", 2);
}

#[test]
fn node_http_with_one_worker_meets_the_contract() {
    conforms("node-http", 1);
}

#[test]
fn node_http_with_two_workers_meets_the_contract() {
    conforms("node-http", 2);
}

#[test]
fn starlette_with_one_worker_meets_the_contract() {
    conforms("starlette", 1);
}

#[test]
fn starlette_with_two_workers_meets_the_contract() {
    conforms("starlette", 2);
}

#[test]
fn flask_with_one_worker_meets_the_contract() {
    conforms("flask", 1);
}

#[test]
fn flask_with_two_workers_meets_the_contract() {
    conforms("flask", 2);
}

#[test]
fn django_with_one_worker_meets_the_contract() {
    conforms("django", 1);
}

#[test]
fn django_with_two_workers_meets_the_contract() {
    conforms("django", 2);
}
