//! `cargo bench --bench engine`: the load engine's hot path, through its public API.
//!
//! - `recording/histogram_record`: recording latencies into the engine's histogram
//!   configuration, reported per value.
//! - `histogram/*`: the summary and the encodings done once per measurement, on 100,000 values.
//! - `loop/closed_c1`: a whole closed-loop run of 500 requests on one keep-alive connection to
//!   the in-process upstream service, which covers encoding each request, parsing each response
//!   and recording it, as the engine does them. Reported per request.
//!
//! - `request/build`: building a request from a prepared template, as the worker does per send.
//! - `response/judge`: classifying a response and checking a sampled expectation.
//! - `exchange/parse`: one request encoded and one response parsed by the same hyper client
//!   connection the engine uses, over an in-memory pipe (no kernel, no server work).

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use claimbench_engine::histogram::{decode, encode, new_histogram, summarize};
use claimbench_engine::hotpath::Prepared;
use claimbench_engine::{Cancel, Expect, Mode, Plan, RuntimeChoice};
use claimbench_upstream::Upstream;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;

/// Latencies in microseconds shaped like a loopback run: mostly 100 µs to 2 ms, a long tail.
fn latencies(n: usize) -> Vec<u64> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            // Exponential around 400 µs, floored at 80 µs.
            (80.0 - 400.0 * (1.0 - u).ln()) as u64
        })
        .collect()
}

fn histogram(c: &mut Criterion) {
    let values = latencies(4_096);
    let mut group = c.benchmark_group("recording");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(values.len() as u64));
    group.bench_function("histogram_record", |b| {
        let mut h = new_histogram();
        b.iter(|| {
            for &v in &values {
                h.record(black_box(v)).expect("values are inside the histogram's range");
            }
        })
    });

    group.finish();

    let mut full = new_histogram();
    for &v in latencies(100_000).iter() {
        full.record(v).expect("values are inside the histogram's range");
    }
    let mut group = c.benchmark_group("histogram");
    group.sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    group.bench_function("summarize", |b| b.iter(|| summarize(black_box(&full))));
    group.bench_function("encode", |b| b.iter(|| encode(black_box(&full))));
    let encoded = encode(&full);
    group.bench_function("decode", |b| b.iter(|| decode(black_box(&encoded))));
    group.finish();
}

fn closed_loop(c: &mut Criterion) {
    const REQUESTS: u64 = 500;
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("a literal address parses");
    let upstream = match Upstream::start(addr, None) {
        Ok(u) => u,
        Err(e) => {
            eprintln!("\n==== SKIPPED: loop/closed_c1 needs a loopback listener: {e}\n");
            return;
        }
    };
    let url = format!("{}/delay?ms=0", upstream.url());
    let mode = Mode::ClosedLoop { connections: 1, think_time: Duration::ZERO, duration: Some(Duration::from_secs(30)) };
    let mut plan = Plan::new(&url, mode).expect("a loopback URL makes a plan");
    plan.max_requests = Some(REQUESTS);
    plan.interval = Duration::from_secs(1);
    plan.runtime = RuntimeChoice::Threads { threads: 1 };

    let mut group = c.benchmark_group("loop");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(REQUESTS));
    group.bench_function("closed_c1", |b| {
        b.iter_batched(
            Cancel::new,
            |cancel| {
                let result = claimbench_engine::run(&plan, &cancel, &|_| {})
                    .unwrap_or_else(|e| panic!("the engine failed against {url}: {e}"));
                black_box(result)
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn per_request(c: &mut Criterion) {
    let mut plan = Plan::new(
        "http://127.0.0.1:9/json",
        Mode::ClosedLoop { connections: 1, think_time: Duration::ZERO, duration: Some(Duration::from_secs(10)) },
    )
    .expect("a loopback URL makes a plan");
    plan.templates[0].expect =
        Some(Expect { status: Some(200), body: Some(Bytes::from_static(RESPONSE_BODY)), json: None });
    let prepared = Prepared::new(&plan).expect("the plan is valid");
    let mut group = c.benchmark_group("request");
    group.sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    group.bench_function("build", |b| b.iter(|| black_box(prepared.build(0))));
    group.finish();

    let body = Bytes::from_static(RESPONSE_BODY);
    let mut group = c.benchmark_group("response");
    group.sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    group.bench_function("judge", |b| b.iter(|| black_box(prepared.judge(0, black_box(200), black_box(&body)))));
    group.finish();

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime builds");
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let mut sender = runtime.block_on(async {
        tokio::spawn(canned_server(server_io));
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(client_io))
            .await
            .expect("the in-memory handshake succeeds");
        tokio::spawn(connection);
        sender
    });
    let mut group = c.benchmark_group("exchange");
    group.sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    group.bench_function("parse", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let response = sender.send_request(prepared.build(0)).await.expect("the canned server answers");
                let status = response.status().as_u16();
                let body = response.into_body().collect().await.expect("the body arrives").to_bytes();
                black_box(prepared.judge(0, status, &body))
            })
        })
    });
    group.finish();
}

const RESPONSE_BODY: &[u8] = br#"{"message":"Hello, World!"}"#;

/// Answers every request on `io` with the same small JSON response.
async fn canned_server(mut io: tokio::io::DuplexStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let response = format!(
        "HTTP/1.1 200 OK\r\nServer: canned\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
        RESPONSE_BODY.len(),
        std::str::from_utf8(RESPONSE_BODY).expect("the body is ASCII")
    );
    let mut buf = vec![0u8; 16 * 1024];
    let mut pending = Vec::new();
    loop {
        let Ok(n) = io.read(&mut buf).await else { return };
        if n == 0 {
            return;
        }
        pending.extend_from_slice(&buf[..n]);
        // GET requests without a body: one response per blank line that ends a head.
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            pending.drain(..end + 4);
            if io.write_all(response.as_bytes()).await.is_err() {
                return;
            }
        }
    }
}

criterion_group!(benches, histogram, per_request, closed_loop);
criterion_main!(benches);
