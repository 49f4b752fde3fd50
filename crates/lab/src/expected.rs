//! What a response under load must be: the contract example whose request is the load's own
//! (same method, path and query, same body file), turned into the engine's sampled expectation
//! (status and body) and the upstream calls each successful answer costs. The engine checks every
//! Nth response against it; the lab compares the upstream's hits with the calls. A request with no
//! such example is an error: every load must be checkable.

use std::path::Path;

use bytes::Bytes;
use claimbench_conformance::substitute_stack;
use claimbench_engine::Expect;
use claimbench_model::contract::Contract;
use claimbench_suite::experiments::Request;

/// The checks one request of a load gets.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// The status and body every sampled response must have.
    pub expect: Expect,
    /// Upstream hits each successful response must have caused.
    pub upstream_calls: u64,
}

/// The expectation of `request` on `stack` (its base name, as the app names itself), from the
/// contract example with that request; `root` resolves the contract's body files.
pub fn expected(contract: &Contract, root: &Path, stack: &str, request: &Request) -> Result<Expected, String> {
    let example = contract
        .endpoints
        .iter()
        .filter(|e| e.method.as_str() == request.method)
        .flat_map(|e| e.examples.iter().map(move |x| (e, x)))
        .find(|(e, x)| {
            e.target(x) == request.path
                && x.request_body_file == request.body_file
                && x.request_pattern_bytes == request.body_pattern_bytes
                && x.request_body_text.is_none()
                && x.request_declared_length.is_none()
        })
        .map(|(_, x)| x)
        .ok_or_else(|| {
            format!(
                "no example of fixtures/contract/contract.json sends {} {}{}, so its responses under load cannot be \
                 checked: add one with its expected body",
                request.method,
                request.path,
                request
                    .body_file
                    .as_deref()
                    .map(|f| format!(" with {f}"))
                    .or(request.body_pattern_bytes.map(|n| format!(" with {n} bytes of the stream pattern")))
                    .unwrap_or_default()
            )
        })?;
    let body = match (&example.body_text, &example.body_file) {
        (Some(text), _) => Some(Bytes::from(text.clone())),
        (None, None) if example.body_pattern_bytes.is_some() => {
            let len = example.body_pattern_bytes.unwrap_or_default();
            Some(pattern_body(len).map_err(|e| format!("example '{}': {e}", example.name))?)
        }
        (None, Some(file)) => {
            let path = root.join(file);
            Some(Bytes::from(std::fs::read(&path).map_err(|e| {
                format!("reading the expected body {} of example '{}': {e}", path.display(), example.name)
            })?))
        }
        (None, None) => None,
    };
    Ok(Expected {
        expect: Expect {
            status: Some(example.status),
            body,
            json: example.body_json.as_ref().map(|v| substitute_stack(v, stack)),
        },
        upstream_calls: example.upstream_calls.unwrap_or(0),
    })
}

/// The first `len` bytes of the stream pattern, held whole: a streamed body's expectation under
/// load, or a generated upload (the engine sends a body it holds).
pub fn pattern_body(len: u64) -> Result<Bytes, String> {
    let len = usize::try_from(len).map_err(|_| format!("a {len}-byte body does not fit in memory here"))?;
    Ok(Bytes::from(claimbench_model::contract::stream_pattern(len)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimbench_suite::{catalogue, Load, Profile, ProfileName};

    fn root() -> &'static Path {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
    }

    fn contract() -> Contract {
        claimbench_conformance::load_contract(&root().join("fixtures/contract/contract.json")).unwrap()
    }

    fn requests(load: &Load) -> Vec<&Request> {
        match load {
            Load::Closed { request, .. } | Load::Open { request, .. } => vec![request],
            Load::SloSearch(search) => vec![&search.request],
            Load::Mixed { probe, background } => requests(probe).into_iter().chain(requests(background)).collect(),
            Load::ColdStart | Load::ColdStartMinimal => Vec::new(),
        }
    }

    #[test]
    fn every_request_the_catalogue_loads_has_an_expected_body_in_the_contract() {
        let contract = contract();
        for experiment in catalogue(&Profile::of(ProfileName::Standard)) {
            for unit in &experiment.units {
                // A WebSocket load or an event stream has no HTTP answer to compare; the engine
                // judges its messages' sequence numbers instead.
                for request in requests(&unit.load).into_iter().filter(|r| r.websocket.is_none() && !r.sse) {
                    let expected = expected(&contract, root(), "express", request)
                        .unwrap_or_else(|e| panic!("{} {}: {e}", experiment.id, unit.label));
                    assert_eq!(expected.expect.status, Some(200), "{} {}", experiment.id, unit.label);
                    // A database answer is random rows, checked by the database's own counters
                    // instead of by body (crate::real_lab); every other answer has a body to compare.
                    let by_counters = claimbench_model::database::work_for_target(&request.path).is_some();
                    assert!(
                        by_counters || expected.expect.json.is_some() || expected.expect.body.is_some(),
                        "{} {}: the example has no body to compare",
                        experiment.id,
                        unit.label
                    );
                }
            }
        }
    }

    #[test]
    fn upstream_calls_and_the_stack_name_come_from_the_example() {
        let contract = contract();
        let get = |path: &str| Request::get(path);
        let fanout = expected(&contract, root(), "fastapi", &get("/io/upstream?ms=10&fanout=8")).unwrap();
        assert_eq!(fanout.upstream_calls, 8);
        assert_eq!(fanout.expect.json, Some(serde_json::json!({"calls": 8, "ms": 10, "bytes": 648})));
        let health = expected(&contract, root(), "fastapi", &get("/health")).unwrap();
        assert_eq!(health.expect.json, Some(serde_json::json!({"status": "ok", "stack": "fastapi"})));
        assert_eq!(health.upstream_calls, 0);
        let err = expected(&contract, root(), "fastapi", &get("/cpu/fib?n=23")).unwrap_err();
        assert!(err.contains("GET /cpu/fib?n=23") && err.contains("add one"), "{err}");
    }
}
