//! `cargo bench --bench endpoints`: the latency of one request at concurrency 1, for every
//! contract example that answers 200, on each stack.
//!
//! One criterion group per endpoint example (`cpu-fib/fib-20`, `json/json`, ...) with one
//! benchmark per stack (`cpu-fib/fib-20/express`, `cpu-fib/fib-20/fastapi`), so criterion's
//! report puts express and fastapi side by side for each. The supervisor starts each stack once
//! per endpoint, pinned to the last core, and only when a benchmark of it passes the filter
//! (`cargo bench -- cpu-fib`, `-- fastapi`, `-- json/json/express`); it is warmed up with all of
//! the endpoint's examples first. The upstream service and this client share the other cores. What a claim concludes from load is `claimbench run`'s job;
//! this measures the single-request cost criterion is good at.
//!
//! `CLAIMBENCH_BENCH_STACKS=express,fastapi` (the default) picks the stacks.

mod client;

use std::net::ToSocketAddrs;
use std::path::Path;
use std::time::Duration;

use claimbench_model::contract::{Contract, Endpoint, Example};
use claimbench_supervisor::{RunningStack, StackConfig, Supervisor};
use claimbench_upstream::Upstream;
use client::{Client, Request};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};

/// A started stack and a keep-alive connection to it.
struct App {
    stack: RunningStack,
    client: Client,
    host: String,
}

/// How long a freshly started stack is exercised with all of its endpoint's examples before the
/// first measurement, so the first benchmark does not meet a cold JIT.
const STACK_WARMUP: Duration = Duration::from_secs(2);

/// What every group shares: the supervisor, the contract, the upstream and the core split.
struct Lab {
    supervisor: Supervisor,
    contract: Contract,
    upstream: Upstream,
    app_cpus: Vec<usize>,
    stacks: Vec<String>,
}

impl Lab {
    fn new() -> Result<Lab, String> {
        let supervisor = Supervisor::discover().map_err(|e| e.to_string())?;
        let contract_path = supervisor.root().join("fixtures/contract/contract.json");
        let contract = claimbench_conformance::load_contract(&contract_path).map_err(|e| e.to_string())?;
        let topology = claimbench_lab::Topology::detect(None).map_err(|e| e.to_string())?;
        // This thread is the client: keep it off the app's core, with the upstream.
        claimbench_platform::pin_current_thread(&topology.generator).map_err(|e| e.to_string())?;
        let upstream = claimbench_lab::start_upstream(&topology).map_err(|e| e.to_string())?;
        let app_cpus = topology.app;
        let stacks = std::env::var("CLAIMBENCH_BENCH_STACKS")
            .unwrap_or_else(|_| "express,fastapi".to_string())
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        Ok(Lab { supervisor, contract, upstream, app_cpus, stacks })
    }

    /// Starts `stack` and connects to it; panics with the fix, since criterion cannot skip a
    /// benchmark once it has started it.
    fn start(&self, stack: &str) -> App {
        let config = StackConfig {
            cpus: Some(self.app_cpus.clone()),
            upstream_url: Some(self.upstream.url()),
            ..StackConfig::new(stack)
        };
        let running = self
            .supervisor
            .start(&config)
            .unwrap_or_else(|e| panic!("cannot start {stack}: {e}\n`claimbench doctor` shows what this machine lacks"));
        let host = format!("127.0.0.1:{}", running.port());
        let addr = host.to_socket_addrs().ok().and_then(|mut a| a.next()).expect("a loopback address resolves");
        let client = Client::connect(addr).unwrap_or_else(|e| panic!("cannot connect to {stack} at {host}: {e}"));
        App { stack: running, client, host }
    }
}

/// The request of a contract example, encoded for `host`.
fn request(root: &Path, endpoint: &Endpoint, example: &Example, host: &str) -> Request {
    let file_body = example.request_body_file.as_ref().map(|file| {
        std::fs::read(root.join(file))
            .unwrap_or_else(|e| panic!("cannot read {file} for example {}: {e}", example.name))
    });
    let body = file_body.or_else(|| example.request_body_text.as_ref().map(|t| t.clone().into_bytes()));
    let content_type = example.request_content_type.as_deref().unwrap_or("application/json");
    Request::new(endpoint.method.as_str(), &endpoint.target(example), host, body.as_deref().map(|b| (content_type, b)))
}

fn endpoints(c: &mut Criterion) {
    let lab = match Lab::new() {
        Ok(lab) => lab,
        Err(e) => {
            eprintln!(
                "\n==== SKIPPED: the endpoint benches cannot run here: {e}\n\
                 ==== run from a claimbench checkout; `claimbench doctor` shows what is missing\n"
            );
            return;
        }
    };
    let root = lab.supervisor.root().to_path_buf();
    for endpoint in &lab.contract.endpoints {
        let examples: Vec<&Example> = endpoint.examples.iter().filter(|e| e.status == 200).collect();
        // The database group needs a seeded server beside the app; E-db measures it under load.
        if examples.is_empty() || endpoint.group.is_some() {
            continue;
        }
        // Started on first use, so a filter that leaves a stack out starts nothing; kept for the
        // whole endpoint (an idle app costs nothing) and stopped after it.
        let mut apps: Vec<Option<App>> = lab.stacks.iter().map(|_| None).collect();
        for example in &examples {
            let mut group = c.benchmark_group(format!("{}/{}", endpoint.id, example.name));
            // Flat sampling: some examples take tens of milliseconds (fib-25, sleep-25).
            group
                .sampling_mode(SamplingMode::Flat)
                .sample_size(20)
                .warm_up_time(Duration::from_secs(1))
                .measurement_time(Duration::from_secs(3));
            for (stack, app) in lab.stacks.iter().zip(apps.iter_mut()) {
                group.bench_function(stack.as_str(), |b| {
                    let app = app.get_or_insert_with(|| {
                        let mut app = lab.start(stack);
                        let all: Vec<Request> =
                            examples.iter().map(|e| request(&root, endpoint, e, &app.host)).collect();
                        warm_up(&mut app, &all, stack);
                        app
                    });
                    let req = request(&root, endpoint, example, &app.host);
                    let first = app.client.send(&req).unwrap_or_else(|e| panic!("{stack}: {}: {e}", req.line));
                    assert_eq!(
                        first.status, 200,
                        "{stack} answered {} to {}, the contract expects 200: \
                         run `claimbench verify --stacks {stack}`",
                        first.status, req.line
                    );
                    b.iter(|| app.client.send(&req).unwrap_or_else(|e| panic!("{stack}: {}: {e}", req.line)));
                });
            }
            group.finish();
        }
        for app in apps.into_iter().flatten() {
            app.stack.stop();
        }
    }
}

/// Sends the requests round-robin for [`STACK_WARMUP`].
fn warm_up(app: &mut App, requests: &[Request], stack: &str) {
    let start = std::time::Instant::now();
    while start.elapsed() < STACK_WARMUP {
        for req in requests {
            app.client.send(req).unwrap_or_else(|e| panic!("{stack}: warming up with {}: {e}", req.line));
        }
    }
}

criterion_group!(benches, endpoints);
criterion_main!(benches);
