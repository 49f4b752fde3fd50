//! The node app's own test suite (`npm test`: its logic, every contract example against the
//! process, cluster lifecycle), run here so that it is part of the project's one test command.

use std::process::Command;

use claimbench_supervisor::Supervisor;

#[test]
fn the_node_apps_own_tests_pass() {
    let supervisor = Supervisor::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).unwrap();
    let spec = supervisor.spec("express").unwrap().clone();
    supervisor.installer().ensure(&spec).unwrap_or_else(|e| panic!("{e}"));
    let npm = std::env::var_os("CLAIMBENCH_NPM").unwrap_or_else(|| "npm".into());
    let output = Command::new(npm).arg("test").current_dir(supervisor.root().join(&spec.dir)).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "npm test failed:\n{}\n{}",
        stdout.lines().filter(|l| l.contains("not ok") || l.contains("# ")).collect::<Vec<_>>().join("\n"),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("# fail 0"), "npm test ran and nothing failed");
}
