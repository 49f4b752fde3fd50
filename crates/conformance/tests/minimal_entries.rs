//! Every registry stack's minimal entry (E-coldstart's serverless case) starts under the
//! supervisor, answers `/health` as the full app does, and serves nothing else: `/json` is a 404,
//! so none of the contract's endpoint logic came with it.

use claimbench_supervisor::{StackConfig, Supervisor};

#[path = "../../../tests/support/load_lock.rs"]
mod load_lock;

#[test]
fn every_minimal_entry_answers_health_and_nothing_else() {
    let _load = load_lock::load_lock();
    let supervisor = Supervisor::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).unwrap();
    let client = reqwest::blocking::Client::new();
    let names: Vec<String> = supervisor.registry().names().into_iter().map(String::from).collect();
    assert!(names.len() >= 8, "{names:?}");
    for stack in names {
        let config = StackConfig { minimal: true, ..StackConfig::new(&stack) };
        let running =
            supervisor.start(&config).unwrap_or_else(|e| panic!("{stack}'s minimal entry did not start: {e}"));
        let health = client.get(format!("{}/health", running.url())).send().unwrap();
        assert_eq!(health.status(), 200, "{stack}");
        let body: serde_json::Value = health.json().unwrap();
        assert_eq!(body, serde_json::json!({"status": "ok", "stack": stack}), "{stack}");
        let other = client.get(format!("{}/json", running.url())).send().unwrap();
        assert_eq!(other.status(), 404, "{stack}'s minimal entry serves /json: it is not minimal");
        running.check_alive().unwrap();
        running.stop();
    }
}
