//! The upstream service: what `/io/upstream` in every app calls, so that I/O is a real network
//! round trip and not a timer.
//!
//! It runs in-process on its own thread with a current-thread tokio runtime, which keeps it cheap
//! (it shares the machine with the app and the load generator) and means it can never outlive
//! claimbench. `GET /delay?ms=D` answers after D ms with a fixed [`BODY`]; `GET /stats` reports how
//! many `/delay` requests it has served, which the conformance check compares with the calls the
//! apps report (an app that cached upstream answers would be caught there), and how many it
//! answered later than asked by more than [`LATE_MARGIN`] (a starved upstream core, which makes
//! the app look slow; the lab flags such trials). Starting, pinning and
//! stopping the apps is the supervisor's job, not this crate's.

#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE, SERVER};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The fixed body of every `/delay` answer; the contract's `upstream_body_bytes` is its length.
pub const BODY: &[u8] = br#"{"ok":true,"from":"claimbench-upstream","pad":"0123456789abcdef0123456789abcdef"}"#;

/// The longest delay `/delay` accepts, as in the contract.
pub const MAX_DELAY_MS: u64 = 10_000;

/// An answer this much later than its delay counts as late.
///
/// Measured on the 2-CPU development machine (2026-12-01, other builds running) by the ignored
/// test `crates/lab/tests/upstream_lateness.rs`: the engine and the upstream pinned to one CPU,
/// `/delay?ms=20` at 100 connections for 3 s, the CPU 100% busy; of 12,745 answers 19.4% left
/// under 1 ms after their delay, 61.1% at 1-2 ms (tokio's timer rounds up to the next
/// millisecond), 16.0% at 2-5 ms, 3.1% at 5-10 ms, 0.4% at 10-20 ms, none later. The timer's own
/// rounding is up to 2 ms; past 5 ms the upstream's thread was waiting for its CPU.
pub const LATE_MARGIN: Duration = Duration::from_millis(5);

/// Bounds of the lateness buckets in milliseconds: `[0,1) [1,2) [2,5) [5,10) [10,20) [20,∞)`.
pub const LATENESS_BOUNDS_MS: [u64; 5] = [1, 2, 5, 10, 20];

/// Why the upstream could not start.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("the upstream service could not bind {addr}: {source}; pick another port or free this one")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("the upstream service thread could not start: {0}")]
    Thread(std::io::Error),
    #[error("the upstream service could not be pinned: {0}")]
    Pin(#[from] claimbench_platform::PlatformError),
}

/// What a starting thread reports before it serves, with its handle back; or a start error when
/// it hung up first (it panicked, or returned without a word), once it is joined.
fn first_report<T>(
    report: std::sync::mpsc::Receiver<T>,
    thread: JoinHandle<()>,
) -> Result<(T, JoinHandle<()>), UpstreamError> {
    match report.recv() {
        Ok(value) => Ok((value, thread)),
        Err(_) => {
            let _ = thread.join();
            Err(UpstreamError::Thread(std::io::Error::other("it stopped before it reported how it is scheduled")))
        }
    }
}

/// Counters shared between the server and its owner.
#[derive(Debug, Default)]
struct Counters {
    delay_requests: AtomicU64,
    connections: AtomicU64,
    lateness: [AtomicU64; LATENESS_BOUNDS_MS.len() + 1],
}

/// The bucket of a lateness (see [`LATENESS_BOUNDS_MS`]).
fn lateness_bucket(late: Duration) -> usize {
    let ms = late.as_millis() as u64;
    LATENESS_BOUNDS_MS.iter().position(|&bound| ms < bound).unwrap_or(LATENESS_BOUNDS_MS.len())
}

/// A running upstream service; dropping it stops the server and joins its thread.
pub struct Upstream {
    addr: SocketAddr,
    counters: Arc<Counters>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    scheduling: Scheduling,
    tid: i32,
}

/// How the upstream's thread is scheduled on the CPU it shares with the load generator.
///
/// It asks for the real-time FIFO class, so that an answer whose delay is up goes out then and
/// not after the generator's turn on the CPU. Measured on the 2-CPU machine (2026-12-07, quick
/// profile, `--claims io-throughput`, runs alternated ordinary, FIFO, FIFO, ordinary): trials with
/// more than 1% of their answers over [`LATE_MARGIN`] late were 27 of 82 and 22 of 73 in the
/// ordinary class, 1 of 50 and 0 of 48 in the FIFO class, and the runs took 96 and 82 s against
/// 56 and 55 s, the repeats and make-up pairs of the late trials saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheduling {
    /// In the real-time FIFO class, ahead of every ordinary thread on its CPU.
    First,
    /// In the ordinary class: the move was refused, for the reason given.
    Ordinary(String),
}

impl Scheduling {
    /// One line for the run's record and its report.
    pub fn describe(&self) -> String {
        match self {
            Scheduling::First => "real-time FIFO class: its answers go out when their delay is up, ahead of the \
                                  load generator's work on the CPU they share"
                .to_string(),
            Scheduling::Ordinary(why) => format!(
                "ordinary class ({why}): its answers wait their turn behind the load generator's work, and more \
                 trials are thrown out for late upstream answers; run as root or grant CAP_SYS_NICE to put it first"
            ),
        }
    }
}

impl Upstream {
    /// Starts the service on `addr` (port 0 picks a free port), optionally pinned to `cpus`.
    pub fn start(addr: SocketAddr, cpus: Option<&[usize]>) -> Result<Upstream, UpstreamError> {
        let std_listener = std::net::TcpListener::bind(addr).map_err(|source| UpstreamError::Bind { addr, source })?;
        std_listener.set_nonblocking(true).map_err(|source| UpstreamError::Bind { addr, source })?;
        let addr = std_listener.local_addr().map_err(|source| UpstreamError::Bind { addr, source })?;
        let counters = Arc::new(Counters::default());
        let (tx, rx) = oneshot::channel();
        let thread_counters = Arc::clone(&counters);
        let cpus = cpus.map(<[usize]>::to_vec);
        let (started_tx, started_rx) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("claimbench-upstream".into())
            .spawn(move || {
                if let Some(cpus) = cpus {
                    if let Err(e) = claimbench_platform::pin_current_thread(&cpus) {
                        let _ = started_tx.send(Err(e));
                        return;
                    }
                }
                let scheduling = match claimbench_platform::run_this_thread_first() {
                    Ok(()) => Scheduling::First,
                    Err(e) => Scheduling::Ordinary(e.to_string()),
                };
                let _ = started_tx.send(Ok((scheduling, nix::unistd::gettid().as_raw())));
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a current-thread tokio runtime builds with default settings");
                runtime.block_on(serve(std_listener, thread_counters, rx));
            })
            .map_err(UpstreamError::Thread)?;
        let (started, thread) = first_report(started_rx, thread)?;
        let (scheduling, tid) = started?;
        Ok(Upstream { addr, counters, shutdown: Some(tx), thread: Some(thread), scheduling, tid })
    }

    /// How its thread is scheduled.
    pub fn scheduling(&self) -> &Scheduling {
        &self.scheduling
    }

    /// Its thread's id, as in `/proc/PID/task/TID`.
    pub fn thread_id(&self) -> i32 {
        self.tid
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL apps get as `UPSTREAM_URL`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many `/delay` requests it has answered or is answering.
    pub fn delay_requests(&self) -> u64 {
        self.counters.delay_requests.load(Ordering::Relaxed)
    }

    /// `/delay` answers so far by how late they left (buckets of [`LATENESS_BOUNDS_MS`]).
    pub fn lateness(&self) -> [u64; LATENESS_BOUNDS_MS.len() + 1] {
        std::array::from_fn(|i| self.counters.lateness[i].load(Ordering::Relaxed))
    }

    /// `/delay` answers so far that left more than [`LATE_MARGIN`] after their delay.
    pub fn late_requests(&self) -> u64 {
        let first_late = lateness_bucket(LATE_MARGIN);
        self.lateness()[first_late..].iter().sum()
    }

    /// How many TCP connections it has accepted.
    pub fn connections(&self) -> u64 {
        self.counters.connections.load(Ordering::Relaxed)
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(listener: std::net::TcpListener, counters: Arc<Counters>, mut shutdown: oneshot::Receiver<()>) {
    let listener = TcpListener::from_std(listener).expect("a non-blocking std listener converts to tokio");
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                counters.connections.fetch_add(1, Ordering::Relaxed);
                let counters = Arc::clone(&counters);
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(req, Arc::clone(&counters)));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}

async fn handle(req: Request<Incoming>, counters: Arc<Counters>) -> Result<Response<Full<Bytes>>, Infallible> {
    let response = match req.uri().path() {
        "/delay" => match delay_param(req.uri().query()) {
            Some(ms) => {
                counters.delay_requests.fetch_add(1, Ordering::Relaxed);
                let arrived = tokio::time::Instant::now();
                if ms > 0 {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                let late = arrived.elapsed().saturating_sub(Duration::from_millis(ms));
                counters.lateness[lateness_bucket(late)].fetch_add(1, Ordering::Relaxed);
                json(StatusCode::OK, Bytes::from_static(BODY))
            }
            None => {
                json(StatusCode::BAD_REQUEST, Bytes::from_static(br#"{"error":"ms must be an integer in 0..=10000"}"#))
            }
        },
        "/stats" => {
            let late: u64 =
                counters.lateness[lateness_bucket(LATE_MARGIN)..].iter().map(|c| c.load(Ordering::Relaxed)).sum();
            let body = format!(
                r#"{{"delay_requests":{},"connections":{},"late_requests":{late}}}"#,
                counters.delay_requests.load(Ordering::Relaxed),
                counters.connections.load(Ordering::Relaxed)
            );
            json(StatusCode::OK, Bytes::from(body))
        }
        _ => json(StatusCode::NOT_FOUND, Bytes::from_static(br#"{"error":"not found"}"#)),
    };
    Ok(response)
}

fn delay_param(query: Option<&str>) -> Option<u64> {
    let value = query?.split('&').find_map(|pair| pair.strip_prefix("ms="))?;
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) || value.len() > 6 {
        return None;
    }
    value.parse().ok().filter(|ms| *ms <= MAX_DELAY_MS)
}

fn json(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(SERVER, HeaderValue::from_static("claimbench-upstream"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_param_accepts_only_plain_integers_in_range() {
        assert_eq!(delay_param(Some("ms=20")), Some(20));
        assert_eq!(delay_param(Some("x=1&ms=0")), Some(0));
        assert_eq!(delay_param(Some("ms=10000")), Some(10_000));
        assert_eq!(delay_param(Some("ms=10001")), None);
        assert_eq!(delay_param(Some("ms=-1")), None);
        assert_eq!(delay_param(Some("ms=")), None);
        assert_eq!(delay_param(None), None);
    }

    #[test]
    fn lateness_lands_in_its_bucket_and_the_margin_starts_the_late_ones() {
        let ms = Duration::from_millis;
        assert_eq!(lateness_bucket(Duration::ZERO), 0);
        assert_eq!(lateness_bucket(Duration::from_micros(999)), 0);
        assert_eq!(lateness_bucket(ms(1)), 1);
        assert_eq!(lateness_bucket(ms(4)), 2);
        assert_eq!(lateness_bucket(ms(5)), 3);
        assert_eq!(lateness_bucket(ms(19)), 4);
        assert_eq!(lateness_bucket(ms(500)), 5);
        assert_eq!(LATENESS_BOUNDS_MS[lateness_bucket(LATE_MARGIN) - 1], 5);
    }

    #[test]
    fn body_length_matches_the_contract() {
        let contract =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/contract/contract.json"))
                .unwrap();
        let needle = format!("\"upstream_body_bytes\": {}", BODY.len());
        assert!(contract.contains(&needle), "contract must say {needle}");
    }

    #[test]
    fn a_refused_pinning_is_an_error_not_a_floating_upstream() {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let err = Upstream::start(addr, Some(&[1 << 20])).err().expect("a CPU beyond any set cannot be pinned to");
        assert!(matches!(err, UpstreamError::Pin(_)), "{err}");
        let allowed = claimbench_platform::allowed_cpus().unwrap();
        assert!(Upstream::start(addr, Some(&allowed[..1])).is_ok());
    }

    #[test]
    fn a_thread_that_dies_before_its_report_is_a_start_error_and_is_joined() {
        let (tx, rx) = std::sync::mpsc::sync_channel::<u32>(1);
        let (gone_tx, gone_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            // Dropped as the panic unwinds, after the report's sender: the thread has ended
            // when this arrives.
            struct Gone(std::sync::mpsc::Sender<()>);
            impl Drop for Gone {
                fn drop(&mut self) {
                    let _ = self.0.send(());
                }
            }
            let _gone = Gone(gone_tx);
            let _report = tx;
            panic!("dies before it reports (this panic is the test's)");
        });
        let err = first_report(rx, thread).err().expect("no report came");
        assert!(matches!(&err, UpstreamError::Thread(e) if e.to_string().contains("before it reported")), "{err}");
        assert!(err.to_string().starts_with("the upstream service thread could not start"), "{err}");
        // Joined: the thread's last drop already ran.
        assert_eq!(gone_rx.try_recv(), Ok(()));

        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::spawn(move || tx.send(7).unwrap());
        let (value, thread) = first_report(rx, thread).unwrap();
        assert_eq!(value, 7);
        thread.join().unwrap();
    }

    #[test]
    fn the_upstream_thread_runs_first_or_says_why_not_and_still_serves() {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let upstream = Upstream::start(addr, None).unwrap();
        // The thread's own policy, from /proc (field 41 of its stat: 0 normal, 1 FIFO).
        let stat = std::fs::read_to_string(format!("/proc/self/task/{}/stat", upstream.thread_id())).unwrap();
        assert!(stat.contains("(claimbench-upst"), "{stat}");
        let policy = stat[stat.rfind(')').unwrap() + 2..].split_ascii_whitespace().nth(38).unwrap().to_string();
        match upstream.scheduling() {
            Scheduling::First => assert_eq!(policy, "1", "{}", upstream.scheduling().describe()),
            Scheduling::Ordinary(why) => {
                assert_eq!(policy, "0");
                assert!(why.contains("EPERM"), "{why}");
                assert!(upstream.scheduling().describe().contains("CAP_SYS_NICE"));
            }
        }
        let mut stream = std::net::TcpStream::connect(upstream.addr()).unwrap();
        std::io::Write::write_all(&mut stream, b"GET /delay?ms=1 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with(std::str::from_utf8(BODY).unwrap()), "{answer}");
    }
}
