//! Adding a stack is one folder plus one registry entry: a throwaway Node stack written here
//! (a few lines over `node-app/lib/`), placed in a temporary copy of the checkout beside one new
//! `[[stack]]` entry, passes `claimbench verify` with no other change anywhere.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use claimbench_supervisor::Supervisor;

#[path = "support/load_lock.rs"]
mod load_lock;

/// The whole throwaway stack: node:http routing over the shared endpoint table and server life.
const TINY_SERVER: &str = r#"'use strict';
const { readConfig } = require('../../lib/config');
const { createEndpoints } = require('../../lib/endpoints');
const { HttpError, LIMITS } = require('../../lib/logic');
const { serve } = require('../../lib/serve');
const { createUpstream } = require('../../lib/upstream');
const config = readConfig(process.env, { defaultStack: 'tiny' });
const table = createEndpoints({ stack: config.stack, upstream: createUpstream(config.upstreamUrl) });
const reply = (res, status, body, type = 'application/json', extra = {}) =>
  res.writeHead(status, { Server: 'tiny', 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...extra }).end(body);
const fail = (res, err) =>
  err instanceof HttpError ? reply(res, err.status, JSON.stringify({ error: err.message })) : reply(res, 500, '{"error":"internal"}');
function body(req) {
  if (!/^application\/json\b/.test(req.headers['content-type'] || '')) return Promise.reject(new HttpError(400, 'not JSON'));
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => { size += c.length; if (size <= LIMITS.jsonBodyBytes) chunks.push(c); });
    req.on('end', () => {
      if (size > LIMITS.jsonBodyBytes) return reject(new HttpError(413, 'too large'));
      try { resolve(JSON.parse(Buffer.concat(chunks).toString())); } catch { reject(new HttpError(400, 'malformed JSON')); }
    });
  });
}
serve((req, res) => {
  const url = new URL(req.url, 'http://x');
  const here = table.filter((e) => e.path === url.pathname);
  if (here.length === 0) return reply(res, 404, '{"error":"not found"}');
  const e = here.find((e) => e.method === req.method);
  if (!e) return reply(res, 405, '{"error":"method not allowed"}', 'application/json', { Allow: here.map((e) => e.method).join(', ') });
  const query = {};
  for (const [k, v] of url.searchParams) if (!(k in query)) query[k] = v;
  Promise.resolve()
    .then(() => (e.input === 'json' ? body(req).then(e.handle) : e.handle(query)))
    .then((v) => (e.type === 'text' ? reply(res, 200, v, 'text/plain') : reply(res, 200, JSON.stringify(v))), (err) => fail(res, err));
}, { host: config.host, port: config.port, serverHeader: 'tiny', name: config.stack });
"#;

const TINY_ENTRY: &str = r#"
[[stack]]
name = "tiny"
runtime = "node"
framework = "none"
dir = "node-app"
entry = "stacks/tiny/server.js"
minimal_entry = "stacks/tiny/server.js"
argv = ["{node}", "{entry}"]
"#;

#[test]
fn a_new_stack_folder_plus_one_registry_entry_passes_verify() {
    let _load = load_lock::load_lock();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The shared lib/ needs node-app's dependencies; install them in the checkout first.
    let supervisor = Supervisor::new(repo).unwrap();
    supervisor.installer().ensure(supervisor.spec("express").unwrap()).expect("node-app installs");

    let root = tempfile::tempdir().unwrap();
    let fixtures = root.path().join("fixtures");
    std::fs::create_dir(&fixtures).unwrap();
    for shared in ["contract", "payloads", "database"] {
        symlink(repo.join("fixtures").join(shared), fixtures.join(shared)).unwrap();
    }
    let registry = std::fs::read_to_string(repo.join("fixtures/stacks.toml")).unwrap();
    std::fs::write(fixtures.join("stacks.toml"), registry + TINY_ENTRY).unwrap();
    let app = root.path().join("node-app");
    std::fs::create_dir_all(app.join("stacks/tiny")).unwrap();
    for shared in ["lib", "node_modules", "package.json", "package-lock.json"] {
        symlink(repo.join("node-app").join(shared), app.join(shared)).unwrap();
    }
    std::fs::write(app.join("stacks/tiny/server.js"), TINY_SERVER).unwrap();

    let output = Command::cargo_bin("claimbench")
        .unwrap()
        .args(["verify", "--stacks", "tiny"])
        .env("CLAIMBENCH_ROOT", root.path())
        .current_dir(root.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "verify refused the new stack:\n{stdout}\n{stderr}");
    assert!(stderr.contains("checking tiny/w1"), "verify checked the new stack: {stderr}");
    assert!(stdout.contains("tiny/w1"), "the table names the new stack:\n{stdout}");
}
