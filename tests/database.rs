//! The database claimbench starts itself, end to end through the binary: `verify` passes the
//! database examples on both stacks at one and two workers, and no `postgres` process is left
//! after a run ends normally, by Ctrl-C, by `kill -9` of an app, or by `kill -9` of claimbench.
//!
//! Each test gives claimbench its own TMPDIR, where the server's cluster folder goes; every
//! PostgreSQL process works in that folder (the postmaster changes into its data directory and
//! its children inherit it), so the processes of this test's server are those whose working
//! directory is under it, whoever else runs PostgreSQL on the machine.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

#[path = "support/load_lock.rs"]
mod load_lock;

/// A TMPDIR the unprivileged server user can pass through (the cluster folder inside is its own).
fn tmpdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Live processes whose working directory is under `dir`, as `(pid, command line)`.
fn processes_under(dir: &Path) -> Vec<(i32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        let Ok(cwd) = std::fs::read_link(format!("/proc/{pid}/cwd")) else { continue };
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let zombie = state.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z'));
        if cwd.starts_with(dir) && !zombie {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            found.push((pid, String::from_utf8_lossy(&cmd).replace('\0', " ")));
        }
    }
    found
}

/// Waits up to `limit` for the processes under `dir` to go (PostgreSQL's children notice their
/// postmaster's death on their own); returns any still there.
fn left_after(dir: &Path, limit: Duration) -> Vec<(i32, String)> {
    let deadline = Instant::now() + limit;
    loop {
        let left = processes_under(dir);
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `GET path` on 127.0.0.1:port; the status line.
fn get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.lines().next().unwrap_or_default().to_string()
}

/// `claimbench serve express` with its cluster under `tmp`, once it is ready and has answered
/// `/db`: the child and the app's port.
fn serve_express(tmp: &Path) -> (Child, u16) {
    let mut child = Command::cargo_bin("claimbench")
        .unwrap()
        .args(["serve", "express"])
        .env("TMPDIR", tmp)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (port_tx, port) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("is ready at http://127.0.0.1:").nth(1) {
                let _ = port_tx.send(rest.split_whitespace().next().unwrap_or("").parse::<u16>().unwrap_or(0));
            }
        }
    });
    // The first use installs the apps, hence the long deadline.
    let Ok(port) = port.recv_timeout(Duration::from_secs(300)) else {
        let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGINT);
        let _ = child.wait();
        panic!("serve express did not become ready");
    };
    assert_eq!(get(port, "/db"), "HTTP/1.1 200 OK", "the app reaches its database");
    let server = processes_under(tmp);
    assert!(
        server.iter().any(|(_, cmd)| cmd.contains("postgres")),
        "a server runs under {}: {server:?}",
        tmp.display()
    );
    (child, port)
}

#[test]
fn verify_passes_the_database_examples_on_both_stacks_and_leaves_no_postgres() {
    let _load = load_lock::load_lock();
    let tmp = tmpdir();
    let watching = Arc::new(AtomicBool::new(true));
    let most = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let (watching, most, dir) = (watching.clone(), most.clone(), tmp.path().to_path_buf());
        std::thread::spawn(move || {
            while watching.load(Ordering::Relaxed) {
                most.fetch_max(processes_under(&dir).len(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let output = Command::cargo_bin("claimbench")
        .unwrap()
        .args(["verify", "--stacks", "express,fastapi", "--workers", "1,2"])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    watching.store(false, Ordering::Relaxed);
    watcher.join().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "verify failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    for example in ["queries-501", "updates-5", "fortunes", "db"] {
        assert!(stdout.contains(example), "the table lists {example}:\n{stdout}");
    }
    assert!(most.load(Ordering::Relaxed) >= 2, "the server ran under the test's TMPDIR while verify did");
    assert_eq!(processes_under(tmp.path()), vec![], "postgres outlived a normal end");
}

#[test]
fn ctrl_c_on_serve_leaves_no_postgres() {
    let _load = load_lock::load_lock();
    let tmp = tmpdir();
    let (mut child, _) = serve_express(tmp.path());
    // SIGINT (Ctrl-C) to the claimbench process this test started.
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "Ctrl-C is a clean stop: {status}");
    assert_eq!(processes_under(tmp.path()), vec![], "postgres outlived Ctrl-C");
}

#[test]
fn kill_9_of_the_app_leaves_no_postgres() {
    let _load = load_lock::load_lock();
    let tmp = tmpdir();
    let (mut child, _) = serve_express(tmp.path());
    let app_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("node-app");
    let apps = processes_under(&app_dir);
    assert!(!apps.is_empty(), "the app runs in node-app");
    for (pid, _) in &apps {
        // SIGKILL to the app processes this test's claimbench started.
        let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2), "serve reports the dead app as an error");
    assert_eq!(processes_under(tmp.path()), vec![], "postgres outlived the app's kill -9");
}

#[test]
fn kill_9_of_claimbench_leaves_no_postgres() {
    let _load = load_lock::load_lock();
    let tmp = tmpdir();
    let (mut child, _) = serve_express(tmp.path());
    // SIGKILL to the claimbench process this test started: no handler of ours runs.
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
    child.wait().unwrap();
    // The postmaster gets SIGKILL from the kernel (PR_SET_PDEATHSIG) and its children follow.
    assert_eq!(left_after(tmp.path(), Duration::from_secs(15)), vec![], "postgres outlived claimbench");
}
