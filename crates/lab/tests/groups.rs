//! Endpoint groups against the real registry and contract: an experiment whose requests reach
//! the `db` or `realtime` endpoints is "not implemented by this stack" for a pair in which a stack
//! lacks that group (the six stacks beside express and fastapi declare `http` only), and runs for
//! express against fastapi; the HTTP experiments run for every pair.

use claimbench_lab::not_implemented_experiments;
use claimbench_model::stack::Runtime;
use claimbench_suite::experiments::{catalogue, Experiment, Load, Request};
use claimbench_suite::profile::Profile;
use claimbench_supervisor::Supervisor;

fn supervisor() -> Supervisor {
    Supervisor::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).unwrap()
}

/// E-io of the quick catalogue with every load sent to `path` instead.
fn aimed_at(id: &str, path: &str) -> Experiment {
    let mut e = catalogue(&Profile::named("quick").unwrap()).into_iter().find(|e| e.id == "E-io").unwrap();
    e.id = id.into();
    for unit in &mut e.units {
        let request = Request::get(path);
        unit.load = Load::Closed { request, connections: 8 };
    }
    e
}

fn pair(a: &str, b: &str) -> Vec<String> {
    vec![a.to_string(), b.to_string()]
}

#[test]
fn a_database_or_websocket_experiment_is_not_implemented_for_a_pair_of_http_only_stacks() {
    let supervisor = supervisor();
    let experiments = vec![aimed_at("E-db-like", "/queries?queries=20"), aimed_at("E-ws-like", "/ws/echo")];
    let skipped = not_implemented_experiments(&supervisor, &experiments, &pair("node-http", "starlette")).unwrap();
    assert_eq!(skipped.keys().collect::<Vec<_>>(), vec!["E-db-like", "E-ws-like"]);
    let db = &skipped["E-db-like"];
    assert!(db.starts_with("not implemented by this stack"), "{db}");
    assert!(
        db.contains("node-http lacks the 'db' endpoints") && db.contains("starlette lacks the 'db' endpoints"),
        "{db}"
    );
    assert!(skipped["E-ws-like"].contains("'realtime'"), "{:?}", skipped["E-ws-like"]);

    // One side lacking the group is enough, and only that side is named.
    let mixed = not_implemented_experiments(&supervisor, &experiments, &pair("express", "django")).unwrap();
    assert!(mixed["E-db-like"].contains("django lacks") && !mixed["E-db-like"].contains("express lacks"), "{mixed:?}");

    let popular = not_implemented_experiments(&supervisor, &experiments, &pair("express", "fastapi")).unwrap();
    assert!(popular.is_empty(), "express and fastapi implement db and realtime: {popular:?}");
}

#[test]
fn only_express_against_fastapi_runs_the_catalogue_s_database_and_websocket_experiments() {
    let supervisor = supervisor();
    let experiments = catalogue(&Profile::named("standard").unwrap());
    // The experiments with a request outside the contract's http group (E-db, E-stream): skipped
    // for every pair but express:fastapi, and nothing else is skipped.
    let contract =
        claimbench_conformance::load_contract(&supervisor.root().join("fixtures/contract/contract.json")).unwrap();
    let needs_more_than_http = |r: &Request| contract.group_of(&r.method, &r.path).is_some_and(|group| group != "http");
    let mut needs_more: Vec<&str> = experiments
        .iter()
        .filter(|e| e.units.iter().any(|u| u.load.requests().iter().any(|r| needs_more_than_http(r))))
        .map(|e| e.id.as_str())
        .collect();
    // Sorted as the skipped experiments come back (by id).
    needs_more.sort_unstable();
    assert!(needs_more.contains(&"E-db") && needs_more.contains(&"E-stream"), "{needs_more:?}");
    let names: Vec<String> = supervisor.registry().names().into_iter().map(String::from).collect();
    let runtime = |n: &str| supervisor.spec(n).unwrap().runtime;
    let node: Vec<&String> = names.iter().filter(|n| runtime(n) == Runtime::Node).collect();
    let python: Vec<&String> = names.iter().filter(|n| runtime(n) == Runtime::Python).collect();
    assert!(node.len() >= 4 && python.len() >= 4, "{names:?}");
    for a in &node {
        for b in &python {
            let skipped = not_implemented_experiments(&supervisor, &experiments, &pair(a, b)).unwrap();
            let skipped: Vec<&str> = skipped.keys().map(String::as_str).collect();
            let popular = a.as_str() == "express" && b.as_str() == "fastapi";
            assert_eq!(skipped, if popular { Vec::new() } else { needs_more.clone() }, "{a}:{b}");
        }
    }
}
