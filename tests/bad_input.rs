//! A corpus of bad input fed to the real binary: flags out of range or in conflict, and broken
//! claims, contract and stack-registry files. Each must exit 2 with a message naming the problem,
//! and none may panic. Every case fails before an app or the upstream starts, so the corpus is
//! cheap and needs no lock.
//!
//! File cases run against a temporary copy of the repository's `fixtures/` (the binary finds it
//! through `CLAIMBENCH_ROOT`) with one file edited.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A loopback URL nothing listens on; no bad flag below gets as far as connecting.
const URL: &str = "http://127.0.0.1:9/";

/// One bad invocation and the words its error must contain.
struct Case {
    name: &'static str,
    args: &'static [&'static str],
    /// A fixture file (relative to the repository root) and an edit: replace the first `from`
    /// with `to`.
    edit: Option<(&'static str, &'static str, &'static str)>,
    expect: &'static [&'static str],
}

const fn flags(name: &'static str, args: &'static [&'static str], expect: &'static [&'static str]) -> Case {
    Case { name, args, edit: None, expect }
}

const fn file(
    name: &'static str,
    args: &'static [&'static str],
    edit: (&'static str, &'static str, &'static str),
    expect: &'static [&'static str],
) -> Case {
    Case { name, args, edit: Some(edit), expect }
}

const CLAIMS: &str = "fixtures/claims.toml";
const CONTRACT: &str = "fixtures/contract/contract.json";
const STACKS: &str = "fixtures/stacks.toml";

const CASES: &[Case] = &[
    // load: durations are bounded before they reach `Instant` arithmetic.
    flags("huge timeout", &["load", URL, "--timeout", "10000000000000000000s"], &["--timeout", "24h"]),
    flags("huge think time", &["load", URL, "--think-time", "10000000000000000000s"], &["--think-time", "24h"]),
    flags("duration over the limit", &["load", URL, "--duration", "25h"], &["--duration", "limit of 24h"]),
    flags("duration without a unit", &["load", URL, "--duration", "30"], &["--duration", "such as 30s"]),
    flags("zero interval", &["load", URL, "--interval", "0s"], &["interval must be longer than zero"]),
    // load: numbers are bounded.
    flags("zero rate", &["load", URL, "--rate", "0"], &["--rate", "positive number"]),
    flags("huge rate", &["load", URL, "--rate", "1e12"], &["--rate", "up to 1000000"]),
    flags("huge step rate", &["load", URL, "--steps", "100,1e12"], &["--steps", "up to 1000000"]),
    flags("zero connections", &["load", URL, "--connections", "0"], &["--connections", "1..=100000"]),
    flags("huge connections", &["load", URL, "-c", "1000000"], &["--connections", "1..=100000"]),
    flags("too many threads", &["load", URL, "--threads", "999"], &["--threads", "1..=256"]),
    flags("fewer connections than threads", &["load", URL, "--threads", "4", "-c", "2"], &["2 connections"]),
    flags("core beyond cpu_set_t", &["load", URL, "--core", "5000"], &["--core", "0..=1023"]),
    flags("status that is not one", &["load", URL, "--expect-status", "42"], &["--expect-status", "100..=999"]),
    flags("zero requests", &["load", URL, "--requests", "0"], &["--requests", "1..=1000000000"]),
    flags("huge validate", &["load", URL, "--validate-every", "2000000000"], &["--validate-every", "0..=1000000000"]),
    // load: combinations that used to be accepted and ignored.
    flags("rate and steps", &["load", URL, "--rate", "50", "--steps", "100,200"], &["--steps", "cannot be used with"]),
    flags("duration and steps", &["load", URL, "--steps", "100", "-d", "5s"], &["cannot be used with"]),
    flags("step duration without steps", &["load", URL, "--step-duration", "1s"], &["--steps"]),
    flags("poisson seed in closed loop", &["load", URL, "--poisson-seed", "7"], &["--poisson-seed", "required"]),
    flags("think time in open loop", &["load", URL, "--rate", "10", "--think-time", "5ms"], &["cannot be used with"]),
    // load: the engine's own checks.
    flags("remote target", &["load", "http://example.com/"], &["not a loopback address"]),
    flags("method with a space", &["load", URL, "-m", "GE T"], &["not a valid HTTP token"]),
    flags("header without a colon", &["load", URL, "-H", "accept"], &["Name: value"]),
    // serve, verify, run, compare: shared bounds and the profile enum.
    flags("cpu range of eleven digits", &["serve", "express", "--cpus", "0-99999999999"], &["--cpus", "1023"]),
    flags("zero workers to serve", &["serve", "express", "--workers", "0"], &["--workers", "1..=256"]),
    flags("zero workers to verify", &["verify", "--workers", "1,0"], &["--workers", "1..=256"]),
    flags("unknown profile", &["run", "--profile", "fast"], &["--profile", "smoke", "nightly"]),
    flags("threshold as a percentage", &["run", "--threshold", "5"], &["--threshold", "[0, 1)"]),
    flags("negative threshold to compare", &["compare", "a", "b", "--threshold=-0.1"], &["--threshold", "[0, 1)"]),
    flags("zero slo", &["run", "--slo-ms", "0"], &["--slo-ms", "60000"]),
    // load: a broadcast needs a room's rate and its header's bytes.
    flags(
        "broadcast in closed loop",
        &["load", "ws://127.0.0.1:1/ws/room?name=r", "--broadcast-senders", "1"],
        &["needs a rate"],
    ),
    flags(
        "broadcast senders on http",
        &["load", URL, "--broadcast-senders", "1"],
        &["--broadcast-senders are for ws:// URLs"],
    ),
    // run, verify, calibrate: interpreters that do not exist.
    flags(
        "node path that is no file",
        &["run", "--node", "/nonexistent/node"],
        &["--node /nonexistent/node", "no file at that path"],
    ),
    flags("python version nowhere", &["verify", "--python", "2.0"], &["--python 2.0", "no such interpreter"]),
    flags("two second interpreters", &["calibrate", "--node-b", "22", "--python-b", "3.13"], &["cannot be used with"]),
    // run: pair lists name one Node and one Python stack of the registry each.
    flags("pair without a colon", &["run", "--pairs", "express-fastapi"], &["--pairs", "not a pair", "NODE:PYTHON"]),
    flags("pair with a side missing", &["run", "--pairs", "express:"], &["`express:` is not a pair", "NODE:PYTHON"]),
    flags(
        "pair with an unknown stack",
        &["run", "--pairs", "express:fastapi,node-http:starlete"],
        &["`starlete`", "not a stack of fixtures/stacks.toml", "starlette"],
    ),
    flags("pair of two node stacks", &["run", "--pairs", "express:fastify"], &["two Node stacks", "one Python stack"]),
    flags("pair of two python stacks", &["run", "--pairs", "flask:django"], &["two Python stacks", "one Node stack"]),
    flags("pair python first", &["run", "--pairs", "fastapi:express"], &["Node stack first", "`express:fastapi`"]),
    flags("pair twice", &["run", "--pairs", "express:fastapi,express:fastapi"], &["given twice"]),
    flags("pairs and stacks", &["run", "--pairs", "express:fastapi", "--stacks", "all"], &["--pairs", "--stacks"]),
    // The claims file: typos are load errors naming the line and the valid names.
    file(
        "unknown experiment",
        &["run", "--profile", "smoke"],
        (CLAIMS, "experiment = \"E-io\"", "experiment = \"E-iox\""),
        &["line ", "unknown experiment 'E-iox'", "E-io, "],
    ),
    file(
        "unknown unit",
        &["run", "--profile", "smoke"],
        (CLAIMS, "unit = \"c=100\" }", "unit = \"c=7\" }"),
        &["line ", "unit 'c=7'", "c=10, c=100"],
    ),
    file(
        "pooled unit of one label",
        &["run", "--profile", "smoke"],
        (CLAIMS, "unit = \"geomean:c=100,c=500,c=1000\"", "unit = \"geomean:c=100\""),
        &["line ", "not a pooled unit"],
    ),
    file(
        "unknown metric",
        &["run", "--profile", "smoke"],
        (CLAIMS, "metric = \"throughput\"", "metric = \"speed\""),
        &["claims.toml", "unknown variant `speed`"],
    ),
    file(
        "unknown tested_by",
        &["run", "--profile", "smoke"],
        (CLAIMS, "tested_by = [\"E-io\",", "tested_by = [\"E-nope\","),
        &["unknown experiment 'E-nope'"],
    ),
    file("claims not TOML", &["run", "--profile", "smoke"], (CLAIMS, "[[claim]]", "[[claim"), &["claims.toml"]),
    // The contract: an unknown method is an error, not a silent GET.
    file(
        "unknown method in the contract",
        &["verify", "--stacks", "express"],
        (CONTRACT, "\"method\": \"POST\"", "\"method\": \"FETCH\""),
        &["contract.json", "unknown variant `FETCH`", "GET"],
    ),
    file("contract not JSON", &["verify", "--stacks", "express"], (CONTRACT, "{", "{{"), &["contract.json"]),
    // The stack registry.
    file(
        "unknown runtime in the registry",
        &["verify", "--stacks", "express"],
        (STACKS, "runtime = \"node\"", "runtime = \"ruby\""),
        &["stacks.toml", "unknown variant `ruby`"],
    ),
    file("registry not TOML", &["verify", "--stacks", "express"], (STACKS, "[[stack]]", "[[stack"), &["stacks.toml"]),
];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Copies the files the binary reads before starting anything into `dest/fixtures`.
fn copy_fixtures(dest: &Path) {
    for rel in [CLAIMS, CONTRACT, STACKS] {
        let to = dest.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(repo().join(rel), to).unwrap();
    }
}

fn edit_file(path: &PathBuf, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} no longer contains {from:?}: update the corpus", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn every_bad_input_exits_2_with_a_message_and_no_panic() {
    let mut failures = Vec::new();
    for case in CASES {
        let root = tempfile::tempdir().unwrap();
        copy_fixtures(root.path());
        if let Some((rel, from, to)) = case.edit {
            edit_file(&root.path().join(rel), from, to);
        }
        let output = Command::cargo_bin("claimbench")
            .unwrap()
            .args(case.args)
            .env("CLAIMBENCH_ROOT", root.path())
            .current_dir(root.path())
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let missing: Vec<&&str> = case.expect.iter().filter(|word| !stderr.contains(**word)).collect();
        if output.status.code() != Some(2) || !missing.is_empty() || stderr.contains("panicked") {
            failures.push(format!(
                "{}: `claimbench {}` exited {:?}, stderr lacks {missing:?}:\n{stderr}",
                case.name,
                case.args.join(" "),
                output.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n\n{}", failures.len(), CASES.len(), failures.join("\n\n"));
}

#[test]
fn the_unedited_registry_copy_is_a_usable_root() {
    // Guards the corpus: the registry cases fail because of their edit, not because the copy is
    // broken (the claims and contract cases assert messages that only their edit causes).
    let root = tempfile::tempdir().unwrap();
    copy_fixtures(root.path());
    Command::cargo_bin("claimbench")
        .unwrap()
        .args(["verify", "--stacks", "rails"])
        .env("CLAIMBENCH_ROOT", root.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown stack 'rails'"));
}
