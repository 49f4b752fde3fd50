//! `cargo bench -p claimbench-engine --bench ws_clients`: what a WebSocket client crate costs the
//! load generator, per echoed message (CPU) and per open connection (memory): tokio-tungstenite,
//! configured as `src/websocket.rs` configures it (4 KiB reads, frames written as sent), against
//! fastwebsockets with its defaults (its hyper handshake, `FragmentCollector` so that fragments
//! are joined and text is checked as UTF-8, as tungstenite does). Both mask what they send and
//! neither compresses.
//!
//! The bench runs itself in three roles. With no role it orchestrates: it starts a
//! tokio-tungstenite echo server in its own process on CPU 1 (`--server`), then one client
//! process per trial (`--client CRATE CONNECTIONS PORT SECONDS`), so that each trial's memory is
//! counted in a fresh process and the server's is never counted. A client pins its one thread to
//! CPU 0, runs a current-thread tokio runtime, opens the connections, and on each one sends a
//! 5-byte text message and waits for its echo before the next (one message in flight per
//! connection), for a warm-up and then a measured window. It reports its thread's CPU time over
//! the window divided by the echoes in it, and its RSS with the connections open minus its RSS
//! before it opened them. Trials run in blocks A B B A (A = tokio-tungstenite), for each number
//! of connections; the summary gives each figure's median and min-max over all trials and the
//! fastwebsockets / tokio-tungstenite ratio per block. It measures the crates, not the engine:
//! no pacer, no collector, no sequence numbers.
//!
//! Options after `--`: `--blocks K` (3), `--seconds S` (3), `--connections 1000,100`.

use std::cell::Cell;
use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use claimbench_platform::{pin_current_thread, procfs, raise_open_file_limit};
use fastwebsockets::{FragmentCollector, Frame, OpCode, Payload};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

/// The message every connection sends and expects back: 5 bytes of text.
const PAYLOAD: &str = "hello";
const CLIENT_CPU: usize = 0;
const SERVER_CPU: usize = 1;
/// Bytes tungstenite reads at a time, as `src/websocket.rs` sets it.
const READ_BUFFER: usize = 4096;
/// Echoing before the measured window starts, so every buffer is allocated and warm.
const WARMUP: Duration = Duration::from_millis(500);
/// The longest a client may take to open its connections before its trial is abandoned.
const OPEN_LIMIT: Duration = Duration::from_secs(30);
/// What a client may take beyond opening, warming up and measuring before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(10);
/// The longest the server lives, should the orchestrator vanish without closing its stdin.
const SERVER_LIFETIME: Duration = Duration::from_secs(30 * 60);
const MAX_SECONDS: f64 = 60.0;
const MAX_BLOCKS: usize = 10;
const MAX_CONNECTIONS: usize = 10_000;

fn main() {
    // `cargo bench` passes `--bench` to a bench without the libtest harness.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let result = match args.first().map(String::as_str) {
        Some("--server") => server(),
        Some("--client") => client(&args[1..]),
        _ => orchestrate(&args),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}

/// The two client crates compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Crate {
    Tungstenite,
    Fastwebsockets,
}

impl Crate {
    const ALL: [Crate; 2] = [Crate::Tungstenite, Crate::Fastwebsockets];

    fn name(self) -> &'static str {
        match self {
            Crate::Tungstenite => "tokio-tungstenite",
            Crate::Fastwebsockets => "fastwebsockets",
        }
    }

    fn parse(name: &str) -> anyhow::Result<Crate> {
        Crate::ALL
            .into_iter()
            .find(|c| c.name() == name)
            .with_context(|| format!("unknown crate {name:?}: give tokio-tungstenite or fastwebsockets"))
    }
}

/// What one client process measured, printed by it as one JSON line.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Trial {
    connections: usize,
    /// Seconds the connections took to open, all started at once.
    open_s: f64,
    window_s: f64,
    echoes: u64,
    /// Echoes whose payload was not the message sent (must be 0).
    wrong: u64,
    /// Connections that broke while echoing (must be 0).
    broken: usize,
    /// CPU time of the client's one thread over the window.
    thread_cpu_s: f64,
    /// CPU time of the whole client process over the window, to show nothing else ran in it.
    process_cpu_s: f64,
    rss_before: u64,
    rss_open: u64,
}

impl Trial {
    fn cpu_us_per_echo(&self) -> f64 {
        self.thread_cpu_s * 1e6 / self.echoes as f64
    }

    fn kib_per_connection(&self) -> f64 {
        self.rss_open.saturating_sub(self.rss_before) as f64 / 1024.0 / self.connections as f64
    }

    fn echoes_per_s(&self) -> f64 {
        self.echoes as f64 / self.window_s
    }
}

// ---------------------------------------------------------------------------------------------
// The orchestrator

struct Options {
    blocks: usize,
    seconds: f64,
    connections: Vec<usize>,
}

impl Options {
    fn parse(args: &[String]) -> anyhow::Result<Options> {
        let mut options = Options { blocks: 3, seconds: 3.0, connections: vec![1_000, 100] };
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let value = args.next().with_context(|| format!("{flag} needs a value"))?;
            match flag.as_str() {
                "--blocks" => options.blocks = value.parse().context("--blocks takes a whole number")?,
                "--seconds" => options.seconds = value.parse().context("--seconds takes a number")?,
                "--connections" => {
                    options.connections = value
                        .split(',')
                        .map(str::parse)
                        .collect::<Result<_, _>>()
                        .context("--connections takes a list like 1000,100")?
                }
                _ => bail!("unknown option {flag}: the options are --blocks, --seconds and --connections"),
            }
        }
        if !(1..=MAX_BLOCKS).contains(&options.blocks) {
            bail!("--blocks must be 1 to {MAX_BLOCKS}");
        }
        if !(options.seconds > 0.0 && options.seconds <= MAX_SECONDS) {
            bail!("--seconds must be above 0 and at most {MAX_SECONDS}");
        }
        if options.connections.is_empty() || options.connections.iter().any(|&n| n == 0 || n > MAX_CONNECTIONS) {
            bail!("--connections must be 1 to {MAX_CONNECTIONS} each");
        }
        Ok(options)
    }
}

/// One trial's place in the run.
struct Record {
    block: usize,
    which: Crate,
    trial: Trial,
}

fn orchestrate(args: &[String]) -> anyhow::Result<()> {
    let options = Options::parse(args)?;
    let exe = std::env::current_exe().context("finding this bench's own executable")?;
    let server = Server::start(&exe)?;
    println!(
        "echo server pid {} on CPU {SERVER_CPU}, port {}; clients on CPU {CLIENT_CPU}; {} blocks of A B B A \
         (A = {}, B = {}); {} s measured after {} ms of warm-up; message {:?}",
        server.child.id(),
        server.port,
        options.blocks,
        Crate::Tungstenite.name(),
        Crate::Fastwebsockets.name(),
        options.seconds,
        WARMUP.as_millis(),
        PAYLOAD
    );
    let order = [Crate::Tungstenite, Crate::Fastwebsockets, Crate::Fastwebsockets, Crate::Tungstenite];
    let mut records: Vec<Record> = Vec::new();
    for block in 0..options.blocks {
        for &n in &options.connections {
            for which in order {
                let trial = run_client(&exe, which, n, server.port, options.seconds)?;
                println!(
                    "block {} {:>5} conns {:<17} {:>8} echoes/s, {:>6.2} µs CPU/echo (process {:>6.2}), \
                     thread busy {:>3.0}%, RSS {:>6.1} -> {:>6.1} MiB = {:>6.2} KiB/conn, opened in {:.2} s, {} broke",
                    block + 1,
                    n,
                    which.name(),
                    trial.echoes_per_s().round(),
                    trial.cpu_us_per_echo(),
                    trial.process_cpu_s * 1e6 / trial.echoes as f64,
                    trial.thread_cpu_s / trial.window_s * 100.0,
                    trial.rss_before as f64 / (1 << 20) as f64,
                    trial.rss_open as f64 / (1 << 20) as f64,
                    trial.kib_per_connection(),
                    trial.open_s,
                    trial.broken
                );
                records.push(Record { block, which, trial });
            }
        }
    }
    drop(server);
    print_summary(&options, &records);
    Ok(())
}

/// The echo server's process; closing its stdin (on drop) ends it, and it is killed too.
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
}

impl Server {
    fn start(exe: &Path) -> anyhow::Result<Server> {
        let mut child = Command::new(exe)
            .arg("--server")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the echo server")?;
        let stdin = child.stdin.take();
        let mut line = String::new();
        let stdout = child.stdout.take().context("the server's stdout is piped")?;
        BufReader::new(stdout).read_line(&mut line).context("reading the server's port")?;
        let port = line.trim().strip_prefix("port ").and_then(|p| p.parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the echo server did not say its port (it said {line:?}); its error is above");
        };
        Ok(Server { child, stdin, port })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs one client process to its end, or kills it when it overstays.
fn run_client(exe: &Path, which: Crate, n: usize, port: u16, seconds: f64) -> anyhow::Result<Trial> {
    let mut child = Command::new(exe)
        .args(["--client", which.name(), &n.to_string(), &port.to_string(), &seconds.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting a client")?;
    let deadline = Instant::now() + OPEN_LIMIT + WARMUP + Duration::from_secs_f64(seconds) + EXIT_GRACE;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the {} client with {n} connections overran its time and was killed", which.name());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    child.stdout.take().context("the client's stdout is piped")?.read_to_string(&mut out)?;
    if !status.success() {
        bail!("the {} client with {n} connections failed ({status}); its error is above", which.name());
    }
    let trial: Trial =
        serde_json::from_str(out.trim()).with_context(|| format!("reading a client's result {out:?}"))?;
    if trial.wrong > 0 || trial.echoes == 0 {
        bail!("the {} client got {} echoes, {} of them wrong", which.name(), trial.echoes, trial.wrong);
    }
    Ok(trial)
}

/// The median, smallest and largest of `values` (not empty).
fn median_min_max(values: &[f64]) -> (f64, f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    let median = if v.len().is_multiple_of(2) { (v[mid - 1] + v[mid]) / 2.0 } else { v[mid] };
    (median, v[0], v[v.len() - 1])
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn print_summary(options: &Options, records: &[Record]) {
    let figure = |n: usize, which: Crate, block: Option<usize>, f: fn(&Trial) -> f64| -> Vec<f64> {
        records
            .iter()
            .filter(|r| r.trial.connections == n && r.which == which && block.is_none_or(|b| r.block == b))
            .map(|r| f(&r.trial))
            .collect()
    };
    let cpu: fn(&Trial) -> f64 = Trial::cpu_us_per_echo;
    let memory: fn(&Trial) -> f64 = Trial::kib_per_connection;
    let rate: fn(&Trial) -> f64 = Trial::echoes_per_s;
    println!("\nOver all trials ({} per crate and level): median (min-max)\n", options.blocks * 2);
    println!("| connections | crate | client CPU per echo | client RSS per connection | echoes/s |");
    println!("| --- | --- | --- | --- | --- |");
    for &n in &options.connections {
        for which in Crate::ALL {
            let (c, c_lo, c_hi) = median_min_max(&figure(n, which, None, cpu));
            let (m, m_lo, m_hi) = median_min_max(&figure(n, which, None, memory));
            let (r, r_lo, r_hi) = median_min_max(&figure(n, which, None, rate));
            println!(
                "| {n} | {} | {c:.2} µs ({c_lo:.2}-{c_hi:.2}) | {m:.2} KiB ({m_lo:.2}-{m_hi:.2}) | \
                 {r:.0} ({r_lo:.0}-{r_hi:.0}) |",
                which.name()
            );
        }
    }
    println!("\nfastwebsockets / tokio-tungstenite per block (mean of its two trials over mean of the other two)\n");
    println!(
        "| connections | figure | {} | median |",
        (1..=options.blocks).map(|b| format!("block {b}")).collect::<Vec<_>>().join(" | ")
    );
    println!("| --- | --- | {}--- |", "--- | ".repeat(options.blocks));
    for &n in &options.connections {
        for (name, f) in [("CPU per echo", cpu), ("RSS per connection", memory)] {
            let ratios: Vec<f64> = (0..options.blocks)
                .map(|b| {
                    mean(&figure(n, Crate::Fastwebsockets, Some(b), f))
                        / mean(&figure(n, Crate::Tungstenite, Some(b), f))
                })
                .collect();
            let cells: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
            println!("| {n} | {name} | {} | {:.2} |", cells.join(" | "), median_min_max(&ratios).0);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The echo server

fn server() -> anyhow::Result<()> {
    raise_open_file_limit(65_536)?;
    pin_current_thread(&[SERVER_CPU])?;
    // The orchestrator holds our stdin: when it closes, by design or by a crash, the server ends.
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("port {}", listener.local_addr()?.port());
        std::io::stdout().flush()?;
        let _ = tokio::time::timeout(SERVER_LIFETIME, async {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => drop(tokio::task::spawn_local(echo(stream))),
                    // Out of descriptors, most likely: wait for connections to end.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                }
            }
        })
        .await;
        Ok::<(), anyhow::Error>(())
    })
}

/// tungstenite's configuration in the engine: 4 KiB reads, frames written as they are sent.
fn engine_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(READ_BUFFER).write_buffer_size(0)
}

/// Echoes every data message of one connection until it closes.
async fn echo(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let Ok(mut ws) = tokio_tungstenite::accept_async_with_config(stream, Some(engine_config())).await else {
        return;
    };
    while let Some(Ok(message)) = ws.next().await {
        match message {
            Message::Text(_) | Message::Binary(_) => {
                if ws.send(message).await.is_err() {
                    return;
                }
            }
            Message::Close(_) => return,
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A client trial

fn client(args: &[String]) -> anyhow::Result<()> {
    let [which, n, port, seconds] = args else {
        bail!("a client takes CRATE CONNECTIONS PORT SECONDS");
    };
    let which = Crate::parse(which)?;
    let n: usize = n.parse().context("CONNECTIONS is a whole number")?;
    let port: u16 = port.parse().context("PORT is a port number")?;
    let seconds: f64 = seconds.parse().context("SECONDS is a number")?;
    if n == 0 || n > MAX_CONNECTIONS || !(seconds > 0.0 && seconds <= MAX_SECONDS) {
        bail!("a client takes 1 to {MAX_CONNECTIONS} connections and up to {MAX_SECONDS} s");
    }
    raise_open_file_limit(65_536)?;
    pin_current_thread(&[CLIENT_CPU])?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let local = tokio::task::LocalSet::new();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let trial = local.block_on(&runtime, trial(which, n, addr, Duration::from_secs_f64(seconds)))?;
    println!("{}", serde_json::to_string(&trial)?);
    Ok(())
}

/// What the connection tasks and the trial share (one thread, so plain cells).
#[derive(Default)]
struct Shared {
    opened: Cell<usize>,
    failed: Cell<usize>,
    stop: Cell<bool>,
    echoes: Cell<u64>,
    wrong: Cell<u64>,
    start: Notify,
}

impl Shared {
    fn echoed(&self, right: bool) {
        self.echoes.set(self.echoes.get() + 1);
        if !right {
            self.wrong.set(self.wrong.get() + 1);
        }
    }

    fn fail(&self) {
        self.failed.set(self.failed.get() + 1);
    }
}

async fn trial(which: Crate, n: usize, addr: SocketAddr, window: Duration) -> anyhow::Result<Trial> {
    let shared = Rc::new(Shared::default());
    let rss_before = rss_bytes()?;
    let opening = Instant::now();
    for _ in 0..n {
        let shared = shared.clone();
        drop(tokio::task::spawn_local(async move {
            match which {
                Crate::Tungstenite => tungstenite_connection(addr, shared).await,
                Crate::Fastwebsockets => fastwebsockets_connection(addr, shared).await,
            }
        }));
    }
    while shared.opened.get() + shared.failed.get() < n {
        if opening.elapsed() > OPEN_LIMIT {
            bail!("{} of {n} connections opened in {OPEN_LIMIT:?}", shared.opened.get());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let open_s = opening.elapsed().as_secs_f64();
    if shared.failed.get() > 0 {
        bail!("{} of {n} {} connections failed to open", shared.failed.get(), which.name());
    }
    shared.start.notify_waiters();
    tokio::time::sleep(WARMUP).await;
    let (echoes0, thread0, process0, t0) =
        (shared.echoes.get(), procfs::thread_cpu_time(), process_cpu_time()?, Instant::now());
    tokio::time::sleep(window).await;
    let (echoes1, thread1, process1, window_s) =
        (shared.echoes.get(), procfs::thread_cpu_time(), process_cpu_time()?, t0.elapsed().as_secs_f64());
    let rss_open = rss_bytes()?;
    shared.stop.set(true);
    Ok(Trial {
        connections: n,
        open_s,
        window_s,
        echoes: echoes1 - echoes0,
        wrong: shared.wrong.get(),
        broken: shared.failed.get(),
        thread_cpu_s: (thread1 - thread0).as_secs_f64(),
        process_cpu_s: (process1 - process0).as_secs_f64(),
        rss_before,
        rss_open,
    })
}

/// One tokio-tungstenite connection: opened as the engine opens one, then echo after echo.
async fn tungstenite_connection(addr: SocketAddr, shared: Rc<Shared>) {
    let opened = async {
        let stream = TcpStream::connect(addr).await.ok()?;
        stream.set_nodelay(true).ok()?;
        let url = format!("ws://{addr}/");
        tokio_tungstenite::client_async_with_config(url, stream, Some(engine_config())).await.ok()
    };
    let Some((mut ws, _response)) = opened.await else { return shared.fail() };
    // Created before the connection counts as open, so it cannot miss the start.
    let start = shared.start.notified();
    shared.opened.set(shared.opened.get() + 1);
    start.await;
    while !shared.stop.get() {
        if ws.send(Message::text(PAYLOAD)).await.is_err() {
            return shared.fail();
        }
        match ws.next().await {
            Some(Ok(Message::Text(text))) => shared.echoed(text.as_str() == PAYLOAD),
            _ => return shared.fail(),
        }
    }
}

/// Runs hyper's connection task during the fastwebsockets handshake.
struct SpawnExecutor;

impl hyper::rt::Executor<Pin<Box<dyn Future<Output = ()> + Send>>> for SpawnExecutor {
    fn execute(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) {
        drop(tokio::task::spawn(future));
    }
}

/// One fastwebsockets connection: opened with its own (hyper) handshake, then echo after echo.
async fn fastwebsockets_connection(addr: SocketAddr, shared: Rc<Shared>) {
    let opened = async {
        let stream = TcpStream::connect(addr).await.ok()?;
        stream.set_nodelay(true).ok()?;
        let request = hyper::Request::builder()
            .method("GET")
            .uri("/")
            .header(hyper::header::HOST, addr.to_string())
            .header(hyper::header::UPGRADE, "websocket")
            .header(hyper::header::CONNECTION, "upgrade")
            .header(hyper::header::SEC_WEBSOCKET_KEY, fastwebsockets::handshake::generate_key())
            .header(hyper::header::SEC_WEBSOCKET_VERSION, "13")
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .ok()?;
        let (ws, _response) = fastwebsockets::handshake::client(&SpawnExecutor, request, stream).await.ok()?;
        Some(FragmentCollector::new(ws))
    };
    let Some(mut ws) = opened.await else { return shared.fail() };
    let start = shared.start.notified();
    shared.opened.set(shared.opened.get() + 1);
    start.await;
    while !shared.stop.get() {
        if ws.write_frame(Frame::text(Payload::Borrowed(PAYLOAD.as_bytes()))).await.is_err() {
            return shared.fail();
        }
        match ws.read_frame().await {
            Ok(frame) if frame.opcode == OpCode::Text => shared.echoed(&frame.payload[..] == PAYLOAD.as_bytes()),
            _ => return shared.fail(),
        }
    }
}

/// This process's resident memory, from `/proc/self/stat`.
fn rss_bytes() -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").context("reading /proc/self/stat")?;
    let fields = procfs::parse_stat(&stat).context("parsing /proc/self/stat")?;
    Ok(fields.rss_pages.max(0) as u64 * procfs::page_size())
}

/// User plus system CPU time of the whole process so far.
fn process_cpu_time() -> anyhow::Result<Duration> {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)?;
    let micros = |t: nix::sys::time::TimeVal| t.tv_sec() as u64 * 1_000_000 + t.tv_usec() as u64;
    Ok(Duration::from_micros(micros(usage.user_time()) + micros(usage.system_time())))
}
