//! The apps' own test suites, run here so that they are part of the project's one test command:
//! node-app's `npm test` (its logic, every contract example against the process, cluster
//! lifecycle) and python-app's pytest suite (its logic and limits, no sockets). pytest is pinned
//! in `python-app/requirements-test.lock` and installed into the app's venv on top of
//! `requirements.lock`.

use std::path::Path;
use std::process::{Command, Output};

use claimbench_supervisor::Supervisor;

#[path = "../../../tests/support/load_lock.rs"]
mod load_lock;

fn supervisor() -> Supervisor {
    Supervisor::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).unwrap()
}

fn run(mut cmd: Command, what: &str) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {what}: {e}"))
}

#[test]
fn the_node_apps_own_tests_pass() {
    let supervisor = supervisor();
    let spec = supervisor.spec("express").unwrap().clone();
    supervisor.installer().ensure(&spec).unwrap_or_else(|e| panic!("{e}"));
    let npm = std::env::var_os("CLAIMBENCH_NPM").unwrap_or_else(|| "npm".into());
    let mut cmd = Command::new(npm);
    cmd.arg("test").current_dir(supervisor.root().join(&spec.dir));
    // The lifecycle tests start clusters and time their shutdown.
    let _load = load_lock::load_lock();
    let output = run(cmd, "npm test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "npm test failed:\n{}\n{}",
        stdout.lines().filter(|l| l.contains("not ok") || l.contains("# ")).collect::<Vec<_>>().join("\n"),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("# fail 0"), "npm test ran and nothing failed");
}

#[test]
fn the_python_apps_own_tests_pass() {
    let supervisor = supervisor();
    let spec = supervisor.spec("fastapi").unwrap().clone();
    let python = supervisor.installer().ensure(&spec).unwrap_or_else(|e| panic!("{e}")).interpreter;
    let app = supervisor.root().join(&spec.dir);
    install_test_requirements(&python, &app);

    let mut cmd = Command::new(&python);
    cmd.args(["-m", "pytest", "-q"]).current_dir(&app);
    let output = run(cmd, "pytest");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Exit 5 is "no tests collected": as much a failure here as a failing test.
    assert!(output.status.success(), "pytest failed ({}):\n{stdout}\n{stderr}", output.status);
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(summary.contains(" passed") && !summary.contains("failed"), "pytest's summary: {summary}");
}

fn install_test_requirements(python: &Path, app: &Path) {
    let mut pip = Command::new(python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "-q",
        "-r",
        "requirements-test.lock",
    ])
    .current_dir(app);
    let output = run(pip, "pip install -r requirements-test.lock");
    assert!(
        output.status.success(),
        "pip install -r python-app/requirements-test.lock failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
