//! In-process HTTP targets on loopback for the engine's tests, and the lock that keeps load
//! tests from running at the same time (the workspace's one lock, `tests/support/load_lock.rs`,
//! shared across threads and test binaries).
//!
//! Each accepted connection gets its own thread and single-threaded event loop, so a handler
//! can sleep precisely with `std::thread::sleep` without holding up other connections, and a
//! server's delay is what the test says it is. Dropping a `TestServer` stops it and ends every
//! connection thread.

#![allow(dead_code)]

use std::io::Read;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use claimbench_engine::{Mode, Plan, Schedule};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::sync::watch;

#[path = "../../../../tests/support/load_lock.rs"]
mod load_lock;

/// Load tests take this lock so they never share the machine with each other.
pub use load_lock::load_lock;

/// What the target does with each request.
#[derive(Debug, Clone, Copy)]
pub enum Behaviour {
    /// Answer `200 hello` at once.
    Fast,
    /// Answer `200 hello` after this long.
    Delay(Duration),
    /// Answer with this status at once.
    Status(u16),
    /// Read the request, then close the connection without answering.
    CloseWithoutAnswer,
    /// Never answer.
    Hang,
    /// Answer at once, except that from `after` the first request until `after + pause`
    /// every request waits until the pause is over.
    StallOnce { after: Duration, pause: Duration },
    /// Send the headers after `first_byte`, then a chunked body of `pieces` pieces of `hello`,
    /// `gap` apart (a stream).
    Stream { first_byte: Duration, pieces: u32, gap: Duration },
}

/// A running target; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    /// Requests that reached the handler.
    pub served: Arc<AtomicU64>,
    shutdown: watch::Sender<bool>,
    acceptor: Option<JoinHandle<()>>,
}

impl TestServer {
    pub fn start(behaviour: Behaviour) -> TestServer {
        let listener = StdListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (shutdown, watcher) = watch::channel(false);
        let served = Arc::new(AtomicU64::new(0));
        let first_request = Arc::new(OnceLock::new());
        let acceptor = {
            let served = served.clone();
            std::thread::spawn(move || accept_loop(listener, behaviour, watcher, served, first_request))
        };
        TestServer { addr, served, shutdown, acceptor: Some(acceptor) }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hello", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
    }
}

fn accept_loop(
    listener: StdListener,
    behaviour: Behaviour,
    mut shutdown: watch::Receiver<bool>,
    served: Arc<AtomicU64>,
    first_request: Arc<OnceLock<Instant>>,
) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut connections = Vec::new();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let stream = stream.into_std().unwrap();
                    let (watcher, served, first) = (shutdown.clone(), served.clone(), first_request.clone());
                    connections.push(std::thread::spawn(move || {
                        serve_connection(stream, behaviour, watcher, served, first)
                    }));
                    connections.retain(|c: &JoinHandle<()>| !c.is_finished());
                }
            }
        }
    });
    for c in connections {
        let _ = c.join();
    }
}

fn serve_connection(
    mut stream: std::net::TcpStream,
    behaviour: Behaviour,
    mut shutdown: watch::Receiver<bool>,
    served: Arc<AtomicU64>,
    first_request: Arc<OnceLock<Instant>>,
) {
    if let Behaviour::CloseWithoutAnswer = behaviour {
        stream.set_nonblocking(false).unwrap();
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf);
        served.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        stream.set_nonblocking(true).unwrap();
        let stream = tokio::net::TcpStream::from_std(stream).unwrap();
        let hang = shutdown.clone();
        let service = service_fn(move |_req: Request<hyper::body::Incoming>| {
            let served = served.clone();
            let first_request = first_request.clone();
            let mut hang = hang.clone();
            async move {
                let now = Instant::now();
                let first = *first_request.get_or_init(|| now);
                let status = match behaviour {
                    Behaviour::Delay(d) => {
                        std::thread::sleep(d);
                        200
                    }
                    Behaviour::Status(s) => s,
                    Behaviour::Hang => {
                        let _ = hang.changed().await;
                        503
                    }
                    Behaviour::StallOnce { after, pause } => {
                        let (from, until) = (first + after, first + after + pause);
                        if now >= from && now < until {
                            std::thread::sleep(until - now);
                        }
                        200
                    }
                    Behaviour::Stream { first_byte, pieces, gap } => {
                        std::thread::sleep(first_byte);
                        served.fetch_add(1, Ordering::Relaxed);
                        let body = futures_util::stream::unfold(0, move |sent| async move {
                            if sent == pieces {
                                return None;
                            }
                            if sent > 0 {
                                tokio::time::sleep(gap).await;
                            }
                            let piece = hyper::body::Frame::data(Bytes::from_static(b"hello"));
                            Some((Ok::<_, std::convert::Infallible>(piece), sent + 1))
                        });
                        return Ok(Response::new(StreamBody::new(body).boxed_unsync()));
                    }
                    Behaviour::Fast | Behaviour::CloseWithoutAnswer => 200,
                };
                served.fetch_add(1, Ordering::Relaxed);
                let mut response = Response::new(Full::new(Bytes::from_static(b"hello")).boxed_unsync());
                *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
        tokio::select! {
            _ = conn => {}
            _ = shutdown.changed() => {}
        }
    });
}

/// An open-loop plan at `rate` over `connections` connections for `seconds`.
pub fn open_loop(url: &str, rate: f64, connections: usize, seconds: f64) -> Plan {
    let duration = Some(Duration::from_secs_f64(seconds));
    Plan::new(url, Mode::OpenLoop { schedule: Schedule::Constant { rate, duration }, poisson_seed: None, connections })
        .unwrap()
}

/// A closed-loop plan without think time over `connections` connections for `seconds`.
pub fn closed_loop(url: &str, connections: usize, seconds: f64) -> Plan {
    let duration = Some(Duration::from_secs_f64(seconds));
    Plan::new(url, Mode::ClosedLoop { connections, think_time: Duration::ZERO, duration }).unwrap()
}

/// A loopback port nothing listens on.
pub fn refused_url() -> String {
    let listener = StdListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/")
}

/// Resident set size of this process, bytes.
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// Threads and open file descriptors of this process.
pub fn threads_and_fds() -> (usize, usize) {
    let count = |dir| std::fs::read_dir(dir).unwrap().count();
    (count("/proc/self/task"), count("/proc/self/fd"))
}

/// Milliseconds, for readable assertions.
pub fn ms(us: f64) -> f64 {
    us / 1000.0
}

/// A loopback server of raw TCP connections on its own thread and single-threaded event loop:
/// `serve` handles each accepted connection as a task. Dropping it stops the accept loop.
pub struct LoopbackServer {
    pub port: u16,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LoopbackServer {
    pub fn start<F, Fut>(serve: F) -> LoopbackServer
    where
        F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let listener = StdListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let mut tick = tokio::time::interval(Duration::from_millis(20));
                loop {
                    tokio::select! {
                        accepted = listener.accept() => {
                            if let Ok((stream, _)) = accepted {
                                tokio::spawn(serve(stream));
                            }
                        }
                        _ = tick.tick() => if stopping.load(Ordering::Relaxed) { break },
                    }
                }
            });
        });
        LoopbackServer { port, stop, thread: Some(thread) }
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Runs `plan` to its end, printing the text summary for a failing test's output.
pub fn run_to_end(plan: &Plan) -> claimbench_model::load::LoadResult {
    let r = claimbench_engine::run(plan, &claimbench_engine::Cancel::new(), &|_| {}).unwrap();
    eprintln!("{}", claimbench_engine::export::render_summary(&r));
    r
}
