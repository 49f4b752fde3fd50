//! A database trial is checked against the database's own counters and, when it writes, against a
//! snapshot of `World`: an honest stack (express) passes, and a throwaway stack that answers
//! `/queries` from a cache, or "updates" rows by writing back the value already there, fails its
//! trial as a wrong answer whose message says so. The throwaway stack lives in a temporary checkout that links to
//! the real one and adds one registry entry; its server is a few lines of node:http on `pg`.

#[path = "../../../tests/support/load_lock.rs"]
mod load_lock;

use std::path::{Path, PathBuf};
use std::time::Duration;

use claimbench_engine::Cancel;
use claimbench_lab::{start_database, start_upstream, RealLab, Topology};
use claimbench_model::run::Scalar;
use claimbench_suite::experiments::Request;
use claimbench_suite::{Instance, Lab, Load};
use claimbench_supervisor::Supervisor;

/// Answers the first `/queries?queries=N` of each N honestly and every later one from memory, and
/// `/updates` with real SELECTs and UPDATEs that store the value already there.
const CHEATER: &str = r#"'use strict';
const http = require('node:http');
const { Pool } = require(require.resolve('pg', { paths: [process.cwd()] }));
const pool = new Pool({
  connectionString: process.env.DATABASE_URL,
  max: 4,
  options: `-c search_path=${process.env.DATABASE_SCHEMA}`,
});
const cache = new Map();
http
  .createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const send = (body) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/health') return send({ status: 'ok', stack: 'cheater' });
    if (url.pathname === '/json') return send({ message: 'Hello, World!' });
    if (url.pathname === '/queries') {
      const n = Math.min(500, Math.max(1, Number(url.searchParams.get('queries')) || 1));
      if (!cache.has(n)) {
        const rows = [];
        for (let i = 1; i <= n; i++) {
          const { rows: [r] } = await pool.query('SELECT id, randomnumber FROM world WHERE id = $1', [i]);
          rows.push({ id: r.id, randomNumber: r.randomnumber });
        }
        cache.set(n, rows);
      }
      return send(cache.get(n));
    }
    if (url.pathname === '/updates') {
      const n = Math.min(500, Math.max(1, Number(url.searchParams.get('queries')) || 1));
      const rows = [];
      for (let i = 0; i < n; i++) {
        const id = 1 + Math.floor(Math.random() * 10000);
        const { rows: [r] } = await pool.query('SELECT id, randomnumber FROM world WHERE id = $1', [id]);
        await pool.query('UPDATE world SET randomnumber = randomnumber WHERE id = $1', [id]);
        rows.push({ id: r.id, randomNumber: 1 + Math.floor(Math.random() * 10000) });
      }
      return send(rows);
    }
    res.statusCode = 404;
    send({ error: 'not found' });
  })
  .listen(Number(process.env.PORT), process.env.HOST);
"#;

/// A checkout whose registry has the bundled stacks plus `cheater`; everything else links to the
/// real checkout, so the apps' installed dependencies are reused.
fn checkout_with_cheater(real: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let link = |name: &str, at: &Path| std::os::unix::fs::symlink(real.join(name), at).unwrap();
    for app in ["node-app", "python-app"] {
        link(app, &dir.path().join(app));
    }
    std::fs::create_dir(dir.path().join("fixtures")).unwrap();
    for entry in std::fs::read_dir(real.join("fixtures")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name != "stacks.toml" {
            link(&format!("fixtures/{name}"), &dir.path().join("fixtures").join(&name));
        }
    }
    let script = dir.path().join("cheater.js");
    std::fs::write(&script, CHEATER).unwrap();
    let mut registry = std::fs::read_to_string(real.join("fixtures/stacks.toml")).unwrap();
    registry.push_str(&format!(
        "\n[[stack]]\nname = \"cheater\"\nruntime = \"node\"\nframework = \"node:http\"\ndir = \"node-app\"\nentry = \"{0}\"\nminimal_entry = \"{0}\"\nargv = [\"{{node}}\", \"{{entry}}\"]\n",
        script.display()
    ));
    std::fs::write(dir.path().join("fixtures/stacks.toml"), registry).unwrap();
    dir
}

#[test]
fn a_stack_that_caches_queries_or_fakes_its_updates_fails_its_trial_and_an_honest_one_passes() {
    let _load = load_lock::load_lock();
    let real: PathBuf = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).canonicalize().unwrap();
    let checkout = checkout_with_cheater(&real);
    let supervisor = Supervisor::new(checkout.path()).unwrap();
    let topology = Topology::detect(None).unwrap();
    let upstream = start_upstream(&topology).unwrap();
    let database = start_database(checkout.path(), &topology, None).unwrap();
    let mut lab = RealLab::new(supervisor, upstream, database, topology, Duration::from_millis(300), Cancel::new());
    let load = |path: &str| Load::Closed { request: Request::get(path), connections: 4 };
    let cases = [
        ("express", "/queries?queries=20", None),
        ("cheater", "/queries?queries=20", Some(["SELECTs on World", "cache"])),
        ("express", "/updates?queries=5", None),
        ("cheater", "/updates?queries=5", Some(["World rows changed", "value already there"])),
    ];
    for (stack, path, cheat) in cases {
        let instance = Instance { stack: stack.into(), workers: 1, wide: false };
        lab.ensure(&instance).unwrap_or_else(|e| panic!("{stack} did not start: {}", e.message));
        let measured = lab
            .measure(&instance, &load(path), Duration::from_millis(800), Duration::from_millis(200))
            .unwrap_or_else(|e| panic!("{stack}: {}", e.message));
        let served = measured.load.as_ref().and_then(|l| l.status_counts.get(&200).copied()).unwrap_or(0);
        assert!(served > 0, "{stack} answered nothing on {path}");
        // A cheater that answers from its cache may leave the database idle for the whole window
        // (CPU is read in 10 ms ticks): only the honest stack's is sure to be above zero.
        let db_cpu = measured.scalars.get(&Scalar::DatabaseCpuS).copied();
        assert!(db_cpu.is_some_and(|s| s >= 0.0), "{stack} {path}: database CPU is measured: {db_cpu:?}");
        if cheat.is_none() {
            assert!(db_cpu.is_some_and(|s| s > 0.0), "{stack} {path}: the database worked: {db_cpu:?}");
        }
        let db_faults: Vec<&String> =
            measured.machine_faults.iter().filter(|f| f.contains("database") || f.contains("World")).collect();
        assert!(db_faults.is_empty(), "{stack} {path}: the checks could not be made: {db_faults:?}");
        match cheat {
            Some(words) => assert!(
                measured.wrong_answers.iter().any(|w| words.iter().all(|word| w.contains(word))),
                "{stack} {path} must fail as a wrong answer naming {words:?}: {:?}",
                measured.wrong_answers
            ),
            None => assert!(
                measured.wrong_answers.is_empty(),
                "{stack} did the work on {path} but was failed: {:?}",
                measured.wrong_answers
            ),
        }
    }
}
