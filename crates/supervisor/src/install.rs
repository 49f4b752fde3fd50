//! First-use installation of the apps' dependencies: `npm ci` then `npm run build` (the NestJS
//! stack's `tsc`) for node-app, and a venv plus `uv pip install -r requirements.lock` (uv pinned in
//! `installer.lock`, pip if uv will not install) for python-app. Progress goes to an [`InstallObserver`]
//! (the binary draws a spinner from it); this crate prints nothing.
//!
//! An install is redone only when its lock file changed: a stamp beside the installed tree records
//! a hash of the lock it was made from. The Node build is redone when the lock or one of its
//! inputs (the TypeScript under `stacks/`) changed, with a stamp of its own. Finding and version-checking the runtimes is in
//! `versions`; starting the apps is in `process`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use claimbench_model::stack::{Runtime, StackSpec};

use crate::error::{SupervisorError, Tail};
use crate::stderr::OutputTail;
use crate::versions::{self, Toolchain};

/// One step of a first-use install, as it happens.
#[derive(Debug, Clone, PartialEq)]
pub enum InstallEvent {
    /// `what` (e.g. "node-app dependencies (npm ci)") began.
    Started { what: String },
    /// `what` succeeded after `took`.
    Finished { what: String, took: Duration },
}

/// Told of every install step; the binary draws from it.
pub type InstallObserver = Arc<dyn Fn(&InstallEvent) + Send + Sync>;

/// Installs app dependencies once per process and per lock file.
#[derive(Clone)]
pub struct Installer {
    root: PathBuf,
    // Tests start stacks from several threads; one install at a time keeps npm and pip sane.
    // (Side by side, node-app and python-app took 61 s of a fresh quick run against 52 s one
    // after the other, 2026-12-02: npm ci and the virtualenv's ensurepip both want the CPUs.)
    lock: Arc<Mutex<()>>,
    observer: Option<InstallObserver>,
}

impl std::fmt::Debug for Installer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Installer").field("root", &self.root).field("observed", &self.observer.is_some()).finish()
    }
}

/// The stamp file written after a successful install.
const STAMP: &str = ".claimbench-installed";
/// The pinned installer of a Python app's lock (uv), beside its requirements.lock.
const INSTALLER_LOCK: &str = "installer.lock";
/// The stamp file written in node_modules after a successful `npm run build`.
const BUILD_STAMP: &str = ".claimbench-built";

impl Installer {
    /// An installer for the checkout at `root`.
    pub fn new(root: PathBuf) -> Installer {
        Installer { root, lock: Arc::new(Mutex::new(())), observer: None }
    }

    /// The same installer, telling `observer` about each step.
    pub fn observed(self, observer: InstallObserver) -> Installer {
        Installer { observer: Some(observer), ..self }
    }

    fn step(&self, what: &str, cmd: Command) -> Result<(), SupervisorError> {
        let tell = |event: InstallEvent| {
            if let Some(observer) = &self.observer {
                observer(&event);
            }
        };
        tell(InstallEvent::Started { what: what.to_string() });
        let started = Instant::now();
        run_step(what, cmd)?;
        tell(InstallEvent::Finished { what: what.to_string(), took: started.elapsed() });
        Ok(())
    }

    /// Installs `lock` into `venv` with uv, pinned in `installer.lock` beside it and installed
    /// into the virtualenv first: on a fresh machine uv took 2.2 s for requirements.lock after
    /// 3.8 s to install itself (2026-12-02), where pip had taken 27.3 s (2026-12-01). Should uv not
    /// install, pip installs the lock as before. Neither byte-compiles: a module is compiled on
    /// its first import, which the contract check's spawn does before any timed start, and
    /// compiling every module (Django's, Flask's, for stacks a run may never start) took a third of
    /// pip's install.
    fn install_lock(&self, app: &Path, venv: &Path, lock: &Path, dir: &str) -> Result<(), SupervisorError> {
        let python = venv.join("bin/python");
        let pip = |args: &[&str]| {
            let mut cmd = Command::new(&python);
            cmd.args(["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", "--no-compile"])
                .args(args)
                .current_dir(app);
            cmd
        };
        let installer = app.join(INSTALLER_LOCK);
        let uv_ready = installer.is_file()
            && self
                .step(&format!("{dir} installer (pip install uv)"), pip(&["-r", &installer.to_string_lossy()]))
                .is_ok();
        if uv_ready {
            let mut uv = Command::new(venv.join("bin/uv"));
            uv.args(["pip", "install", "--quiet", "--python"]).arg(&python).arg("-r").arg(lock).current_dir(app);
            return self.step(&format!("{dir} dependencies (uv pip install -r requirements.lock)"), uv);
        }
        self.step(
            &format!("{dir} dependencies (pip install -r requirements.lock)"),
            pip(&["-r", &lock.to_string_lossy()]),
        )
    }

    /// Checks the runtime and installs the app's dependencies if they are missing or stale.
    pub fn ensure(&self, spec: &StackSpec) -> Result<Toolchain, SupervisorError> {
        self.ensure_for(spec, &spec.name)
    }

    /// [`Installer::ensure`] for one instance of the stack (`express@b` may have an interpreter
    /// of its own; see [`versions::node_for`]).
    pub fn ensure_for(&self, spec: &StackSpec, instance: &str) -> Result<Toolchain, SupervisorError> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let app = self.root.join(&spec.dir);
        match spec.runtime {
            Runtime::Node => {
                let node = versions::node_for(instance)?;
                let lock = app.join("package-lock.json");
                let installed = app.join("node_modules");
                let npm = std::env::var_os("CLAIMBENCH_NPM").map(PathBuf::from).unwrap_or_else(|| "npm".into());
                if is_stale(&lock, &installed)? {
                    let mut cmd = Command::new(&npm);
                    // Dev dependencies too (typescript for the build), whatever NODE_ENV says.
                    cmd.args(["ci", "--include=dev", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(&app);
                    self.step(&format!("{} dependencies (npm ci)", spec.dir), cmd)?;
                    write_stamp(&lock, &installed)?;
                }
                // Only a stack that runs compiled output (NestJS's `dist/`) waits for the build; a
                // quick run of express never does (the build took 5.8 s of a fresh quick run).
                let inputs = if runs_built_output(spec) { build_inputs(&app)? } else { Vec::new() };
                if !inputs.is_empty() && stamp_differs(&installed.join(BUILD_STAMP), &inputs_hash(&lock, &inputs)?) {
                    let mut cmd = Command::new(&npm);
                    cmd.args(["run", "build", "--silent"]).current_dir(&app);
                    self.step(&format!("{} build (npm run build)", spec.dir), cmd)?;
                    let hash = inputs_hash(&lock, &inputs)?;
                    std::fs::write(installed.join(BUILD_STAMP), hash).map_err(|e| {
                        SupervisorError::io(format!("writing the build stamp in {}", installed.display()), e)
                    })?;
                }
                Ok(node)
            }
            Runtime::Python => {
                let python = versions::python_for(instance)?;
                let lock = app.join("requirements.lock");
                // A chosen interpreter (`--python`) gets a virtualenv of its own, so going back and
                // forth between versions does not reinstall.
                let venv = if versions::interpreter_chosen(instance, Runtime::Python) {
                    app.join(format!(".venv-{}", python.version))
                } else {
                    app.join(".venv")
                };
                if is_stale(&lock, &venv)? {
                    let mut create = Command::new(&python.interpreter);
                    create.args(["-m", "venv", "--clear"]).arg(&venv).current_dir(&app);
                    self.step(&format!("{} virtualenv (python -m venv)", spec.dir), create)?;
                    self.install_lock(&app, &venv, &lock, &spec.dir)?;
                    write_stamp(&lock, &venv)?;
                }
                Ok(Toolchain { interpreter: venv.join("bin/python"), version: python.version })
            }
        }
    }
}

/// Whether the stack's command runs something `npm run build` makes (a path under a `dist/`).
fn runs_built_output(spec: &StackSpec) -> bool {
    spec.argv.iter().chain([&spec.entry, &spec.minimal_entry]).any(|arg| arg.split('/').any(|part| part == "dist"))
}

/// True when `installed` is missing or was made from a different lock file.
fn is_stale(lock: &Path, installed: &Path) -> Result<bool, SupervisorError> {
    let want = lock_hash(lock)?;
    let have = std::fs::read_to_string(installed.join(STAMP)).unwrap_or_default();
    Ok(have.trim() != want)
}

/// The sources `npm run build` compiles: every `tsconfig.json` and `.ts` file under the app's
/// `stacks/` folder, in a fixed order. Empty when no stack needs building.
fn build_inputs(app: &Path) -> Result<Vec<PathBuf>, SupervisorError> {
    let mut found = Vec::new();
    let mut pending = vec![app.join("stacks")];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let entry = entry.map_err(|e| SupervisorError::io(format!("listing {}", dir.display()), e))?;
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                if name != "dist" && name != "node_modules" {
                    pending.push(path);
                }
            } else if name == "tsconfig.json" || path.extension().is_some_and(|x| x == "ts") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The hash of the lock file and every build input, names included.
fn inputs_hash(lock: &Path, inputs: &[PathBuf]) -> Result<String, SupervisorError> {
    let mut text = lock_hash(lock)?;
    for input in inputs {
        text.push_str(&format!("\n{}={}", input.display(), lock_hash(input)?));
    }
    Ok(text)
}

fn stamp_differs(stamp: &Path, want: &str) -> bool {
    std::fs::read_to_string(stamp).map_or(true, |have| have != want)
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

/// Runs one install command, keeping its output for the error message.
fn run_step(what: &str, mut cmd: Command) -> Result<(), SupervisorError> {
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
    if status.success() {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn the_build_inputs_are_the_typescript_under_stacks_and_not_its_output() {
        let app = tempfile::tempdir().unwrap();
        write(&app.path().join("stacks/nestjs/src/main.ts"), "let a = 1;");
        write(&app.path().join("stacks/nestjs/tsconfig.json"), "{}");
        write(&app.path().join("stacks/nestjs/dist/main.js"), "var a = 1;");
        write(&app.path().join("stacks/nestjs/dist/main.d.ts"), "declare let a: number;");
        write(&app.path().join("stacks/express/server.js"), "");
        let inputs = build_inputs(app.path()).unwrap();
        let names: Vec<String> =
            inputs.iter().map(|p| p.strip_prefix(app.path()).unwrap().display().to_string()).collect();
        assert_eq!(names, vec!["stacks/nestjs/src/main.ts", "stacks/nestjs/tsconfig.json"]);
    }

    #[test]
    fn the_build_is_stale_when_a_source_or_the_lock_changes() {
        let app = tempfile::tempdir().unwrap();
        let lock = app.path().join("package-lock.json");
        let source = app.path().join("stacks/nestjs/src/main.ts");
        write(&lock, "{}");
        write(&source, "let a = 1;");
        let stamp = app.path().join(BUILD_STAMP);
        let hash = |app: &Path| inputs_hash(&lock, &build_inputs(app).unwrap()).unwrap();
        assert!(stamp_differs(&stamp, &hash(app.path())), "no stamp: never built");
        std::fs::write(&stamp, hash(app.path())).unwrap();
        assert!(!stamp_differs(&stamp, &hash(app.path())), "built from these very inputs");
        write(&source, "let a = 2;");
        assert!(stamp_differs(&stamp, &hash(app.path())), "an edited source is rebuilt");
        std::fs::write(&stamp, hash(app.path())).unwrap();
        write(&lock, "{\"lockfileVersion\": 3}");
        assert!(stamp_differs(&stamp, &hash(app.path())), "new dependencies are rebuilt against");
    }
}
