//! First-use installation of the apps' dependencies: `npm ci` for node-app and a venv plus
//! `pip install -r requirements.lock` for python-app, with a spinner while it runs.
//!
//! An install is redone only when its lock file changed: a stamp beside the installed tree records
//! a hash of the lock it was made from. Finding and version-checking the runtimes is in
//! `versions`; starting the apps is in `process`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use claimbench_model::stack::{Runtime, StackSpec};

use crate::error::{SupervisorError, Tail};
use crate::stderr::OutputTail;
use crate::versions::{self, Toolchain};

/// Installs app dependencies once per process and per lock file.
#[derive(Debug, Clone)]
pub struct Installer {
    root: PathBuf,
    // Tests start stacks from several threads; one install at a time keeps npm and pip sane.
    lock: Arc<Mutex<()>>,
}

/// The stamp file written after a successful install.
const STAMP: &str = ".claimbench-installed";

impl Installer {
    /// An installer for the checkout at `root`.
    pub fn new(root: PathBuf) -> Installer {
        Installer { root, lock: Arc::new(Mutex::new(())) }
    }

    /// Checks the runtime and installs the app's dependencies if they are missing or stale.
    pub fn ensure(&self, spec: &StackSpec) -> Result<Toolchain, SupervisorError> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let app = self.root.join(&spec.dir);
        match spec.runtime {
            Runtime::Node => {
                let node = versions::node()?;
                let lock = app.join("package-lock.json");
                let installed = app.join("node_modules");
                if is_stale(&lock, &installed)? {
                    let npm = std::env::var_os("CLAIMBENCH_NPM").map(PathBuf::from).unwrap_or_else(|| "npm".into());
                    let mut cmd = Command::new(npm);
                    cmd.args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(&app);
                    run_step(&format!("{} dependencies (npm ci)", spec.dir), cmd)?;
                    write_stamp(&lock, &installed)?;
                }
                Ok(node)
            }
            Runtime::Python => {
                let python = versions::python()?;
                let lock = app.join("requirements.lock");
                let venv = app.join(".venv");
                if is_stale(&lock, &venv)? {
                    let mut create = Command::new(&python.interpreter);
                    create.args(["-m", "venv", "--clear"]).arg(&venv).current_dir(&app);
                    run_step(&format!("{} virtualenv (python -m venv)", spec.dir), create)?;
                    let mut pip = Command::new(venv.join("bin/python"));
                    pip.args(["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", "-r"])
                        .arg(&lock)
                        .current_dir(&app);
                    run_step(&format!("{} dependencies (pip install -r requirements.lock)", spec.dir), pip)?;
                    write_stamp(&lock, &venv)?;
                }
                Ok(Toolchain { interpreter: venv.join("bin/python"), version: python.version })
            }
        }
    }
}

/// True when `installed` is missing or was made from a different lock file.
fn is_stale(lock: &Path, installed: &Path) -> Result<bool, SupervisorError> {
    let want = lock_hash(lock)?;
    let have = std::fs::read_to_string(installed.join(STAMP)).unwrap_or_default();
    Ok(have.trim() != want)
}

fn write_stamp(lock: &Path, installed: &Path) -> Result<(), SupervisorError> {
    let hash = lock_hash(lock)?;
    std::fs::write(installed.join(STAMP), hash)
        .map_err(|e| SupervisorError::io(format!("writing the install stamp in {}", installed.display()), e))
}

/// FNV-1a of the lock file: enough to notice that it changed.
fn lock_hash(lock: &Path) -> Result<String, SupervisorError> {
    let bytes = std::fs::read(lock)
        .map_err(|e| SupervisorError::io(format!("reading {} (is the checkout complete?)", lock.display()), e))?;
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3));
    Ok(format!("{hash:016x}"))
}

/// Runs one install command with a spinner, keeping its output for the error message.
fn run_step(what: &str, mut cmd: Command) -> Result<(), SupervisorError> {
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_style(
        indicatif::ProgressStyle::with_template("{spinner} installing {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    spinner.set_message(what.to_string());
    spinner.enable_steady_tick(Duration::from_millis(120));
    let command = format!("{cmd:?}");
    let tail = OutputTail::default();
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(|e| {
        SupervisorError::InstallFailed {
            what: what.to_string(),
            command: command.clone(),
            status: format!("could not start: {e}"),
            tail: Tail::default(),
        }
    })?;
    let readers = [child.stdout.take().map(|s| tail.follow(s)), child.stderr.take().map(|s| tail.follow(s))];
    let status = child.wait().map_err(|e| SupervisorError::io(format!("waiting for {command}"), e))?;
    for reader in readers.into_iter().flatten() {
        let _ = reader.join();
    }
    spinner.finish_and_clear();
    if status.success() {
        eprintln!("installed {what} in {:.1}s", spinner.elapsed().as_secs_f64());
        Ok(())
    } else {
        Err(SupervisorError::InstallFailed {
            what: what.to_string(),
            command,
            status: format!("exited with {status}"),
            tail: Tail(tail.text()),
        })
    }
}
