'use strict';
// The process behaviour the benchmark supervisor relies on: quick clean exit on SIGTERM (with
// idle keep-alive connections, with a request in flight, with one that would outlast the
// grace period), no orphaned workers whichever process dies, a crash made visible as a non-zero
// exit, and configuration mistakes refused at startup with exit code 2.
//
// Timing: a request is "in flight" once the stand-in upstream has received the app's call, an
// event, not a guess. The bounds on shutdown are fractions of the app's own grace period
// (FORCE_EXIT_MS), so "quick" stays distinguishable from "waited for the grace period" while a
// machine twice as slow as this one still passes.

const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');
const { describe, it } = require('node:test');
const { setTimeout: sleep } = require('node:timers/promises');

const { FORCE_EXIT_MS } = require('../lib/serve');
const { startApp, childPids, isAlive, NODE_APP } = require('./support/app');
const { request } = require('./support/http');
const { startStandin } = require('./support/upstream-standin');

const SERVER = path.join(NODE_APP, 'stacks', 'express', 'server.js');

async function waitUntil(predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (predicate()) return true;
    await sleep(20);
  }
  return predicate();
}

// A clean exit comes well before the grace period runs out; 40 ms of it were typical here.
const QUICK_EXIT_MS = FORCE_EXIT_MS * 0.75;
// How long processes may take to go away after their parent did.
const SETTLE_MS = 5000;

/** The app, started against a stand-in upstream whose calls mark a request as in flight. */
async function startWithUpstream() {
  const standin = await startStandin();
  const app = await startApp({ env: { UPSTREAM_URL: `http://127.0.0.1:${standin.port}` } });
  return { app, standin };
}

/** Resolves once the app has made its call to the upstream: the request is being served. */
async function inFlight(standin, calls = 1) {
  assert.ok(await waitUntil(() => standin.delayRequests() >= calls, SETTLE_MS), 'the app called the upstream');
}

async function timeToExit(app, signal) {
  const started = Date.now();
  app.child.kill(signal);
  const result = await app.exited;
  return { ...result, ms: Date.now() - started };
}

describe('shutdown of a single process', () => {
  it('exits 0 within a second of SIGTERM while a keep-alive connection sits idle', async () => {
    const app = await startApp();
    const agent = new http.Agent({ keepAlive: true });
    const res = await new Promise((resolve, reject) => {
      http.get(`${app.base}/json`, { agent }, (r) => r.resume().on('end', () => resolve(r))).on('error', reject);
    });
    assert.equal(res.statusCode, 200);
    const { code, ms } = await timeToExit(app, 'SIGTERM');
    agent.destroy();
    assert.equal(code, 0, app.output());
    assert.ok(ms < QUICK_EXIT_MS, `${ms} ms`);
  });

  it('finishes a request in flight at SIGTERM, then exits 0 well within the grace period', async () => {
    const { app, standin } = await startWithUpstream();
    const agent = new http.Agent({ keepAlive: true });
    const answer = new Promise((resolve, reject) => {
      http
        .get(`${app.base}/io/upstream?ms=300`, { agent }, (r) => {
          let body = '';
          r.on('data', (c) => (body += c)).on('end', () => resolve({ status: r.statusCode, body }));
        })
        .on('error', reject);
    });
    await inFlight(standin);
    const exit = timeToExit(app, 'SIGTERM');
    assert.deepEqual(await answer, { status: 200, body: '{"calls":1,"ms":300,"bytes":81}' });
    const { code, ms } = await exit;
    agent.destroy();
    await standin.close();
    assert.equal(code, 0, app.output());
    // The upstream answers 300 ms after the call: the exit waited for it, and not much longer.
    assert.ok(ms < 300 + QUICK_EXIT_MS, `${ms} ms`);
  });

  it('gives up on a request that outlasts the grace period and still exits 0 when it ends', async () => {
    const { app, standin } = await startWithUpstream();
    request(`${app.base}/io/upstream?ms=10000`).catch(() => {});
    await inFlight(standin);
    const { code, ms } = await timeToExit(app, 'SIGTERM');
    await standin.close();
    assert.equal(code, 0, app.output());
    // Timers may end a few ms early on Linux, never much; the upper bound leaves a whole extra
    // grace period for a slow machine and is still far below the request's 10 s.
    assert.ok(ms >= FORCE_EXIT_MS - 100 && ms < 2 * FORCE_EXIT_MS, `${ms} ms`);
  });
});

describe('a cluster of two workers', () => {
  async function startCluster() {
    const app = await startApp({ env: { WORKERS: '2' } });
    const workers = childPids(app.child.pid);
    assert.equal(workers.length, 2, `children of the primary: ${workers}`);
    return { app, workers };
  }

  it('leaves no worker behind when the primary gets SIGTERM, and exits 0', async () => {
    const { app, workers } = await startCluster();
    const { code, ms } = await timeToExit(app, 'SIGTERM');
    assert.equal(code, 0, app.output());
    assert.ok(ms < QUICK_EXIT_MS, `${ms} ms`);
    assert.ok(await waitUntil(() => !workers.some(isAlive), SETTLE_MS), `workers still alive: ${workers.filter(isAlive)}`);
  });

  it('has its workers exit when the primary is killed with SIGKILL', async () => {
    const { app, workers } = await startCluster();
    await timeToExit(app, 'SIGKILL');
    assert.ok(await waitUntil(() => !workers.some(isAlive), SETTLE_MS), `workers still alive: ${workers.filter(isAlive)}`);
  });

  it('exits non-zero, without respawning, when a worker dies', async () => {
    const { app, workers } = await startCluster();
    process.kill(workers[0], 'SIGKILL');
    const { code } = await app.exited;
    assert.notEqual(code, 0);
    assert.match(app.output(), /worker \d+ was killed by SIGKILL/);
    assert.ok(await waitUntil(() => !workers.some(isAlive), SETTLE_MS), `workers still alive: ${workers.filter(isAlive)}`);
  });
});

describe('startup configuration', () => {
  function runWith(env) {
    return spawnSync(process.execPath, [SERVER], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 10000 });
  }

  for (const [what, env, pattern] of [
    ['PORT unset', { PORT: '' }, /PORT is not set/],
    ['PORT not a number', { PORT: 'http' }, /PORT=http/],
    ['WORKERS zero', { PORT: '18999', WORKERS: '0' }, /WORKERS=0/],
    ['UPSTREAM_URL not http', { PORT: '18999', UPSTREAM_URL: 'ftp://127.0.0.1:1' }, /UPSTREAM_URL=ftp/],
    ['UPSTREAM_URL not a URL', { PORT: '18999', UPSTREAM_URL: '127.0.0.1:41000' }, /UPSTREAM_URL=127/],
  ]) {
    it(`refuses to start with ${what}, exit code 2 and a message naming the variable`, () => {
      const result = runWith(env);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, pattern);
      assert.ok(!/\n\s+at /.test(result.stderr), `no stack trace: ${result.stderr}`);
    });
  }

  for (const workers of ['1', '2']) {
    it(`exits 2 when the port is taken (WORKERS=${workers})`, async () => {
      const app = await startApp();
      const result = runWith({ PORT: String(app.port), HOST: '127.0.0.1', WORKERS: workers });
      await app.stop();
      assert.equal(result.status, 2, result.stderr + result.stdout);
      assert.match(result.stderr, /cannot listen on 127\.0\.0\.1:\d+/);
    });
  }
});
