'use strict';
// Runs every example of fixtures/contract/contract.json against the real Express server process
// (in-process and with WORKERS=2), with a loopback stand-in upstream, and checks status, media
// type, body, the headers every response must carry, minimum latency and upstream call counts.
// Below the examples, the edge cases the contract states in prose: body limit, duplicate keys,
// unparseable HTTP, exact paths.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { describe, it, before, after } = require('node:test');

const { startApp, NODE_APP } = require('./support/app');
const { request, agent } = require('./support/http');
const { startStandin } = require('./support/upstream-standin');

const REPO = path.resolve(NODE_APP, '..');
const CONTRACT = JSON.parse(fs.readFileSync(path.join(REPO, 'fixtures/contract/contract.json'), 'utf8'));
const STACK = 'express';

/** The request an example describes, as arguments for request(). */
function exampleRequest(endpoint, example) {
  const query = example.query ? `?${example.query}` : '';
  const headers = {};
  let body;
  if (example.request_body_file) body = fs.readFileSync(path.join(REPO, example.request_body_file));
  if (example.request_body_text !== undefined) body = Buffer.from(example.request_body_text);
  if (example.request_content_type) headers['content-type'] = example.request_content_type;
  if (body !== undefined) headers['content-length'] = String(body.length);
  return { path: endpoint.path + query, options: { method: endpoint.method, headers, body } };
}

/** What the contract's notes say of every response, whatever the endpoint. */
function assertCommonHeaders(res) {
  assert.equal(res.headers.server, 'express');
  assert.ok(res.headers.date, 'Date header');
  assert.ok(Math.abs(Date.parse(res.headers.date) - Date.now()) < 5000, 'Date is current');
  assert.ok(res.headers['content-type'], 'Content-Type header');
  assert.ok(res.headers['content-length'] || res.headers['transfer-encoding'], 'Content-Length or Transfer-Encoding');
  assert.equal(res.headers['x-powered-by'], undefined);
}

function assertErrorBody(res) {
  assert.match(res.headers['content-type'], /^application\/json/);
  const body = JSON.parse(res.body);
  assert.deepEqual(Object.keys(body), ['error'], res.body);
  assert.equal(typeof body.error, 'string');
  assert.ok(body.error.length > 0);
}

function substituteStack(value) {
  return JSON.parse(JSON.stringify(value).replaceAll('{stack}', STACK));
}

function assertExample(res, example) {
  assert.equal(res.status, example.status, `${example.name}: ${res.body}`);
  assertCommonHeaders(res);
  if (example.error) return assertErrorBody(res);
  assert.ok(res.headers['content-type'].startsWith(example.content_type), res.headers['content-type']);
  if (example.body_json !== undefined) {
    const expected = substituteStack(example.body_json);
    assert.deepEqual(JSON.parse(res.body), expected);
    // Compact, and in the contract's key order.
    assert.equal(res.body, JSON.stringify(expected));
  }
  if (example.body_text !== undefined) assert.equal(res.body, example.body_text);
  if (example.body_file !== undefined) assert.equal(res.body, fs.readFileSync(path.join(REPO, example.body_file), 'utf8'));
  // 2 ms of slack, as the contract's notes.timing says: timers work in whole milliseconds.
  if (example.min_latency_ms !== undefined) assert.ok(res.elapsedMs + 2 >= example.min_latency_ms, `${res.elapsedMs} ms`);
}


for (const workers of [1, 2]) {
  describe(`express with WORKERS=${workers}`, () => {
    let standin;
    let app;

    before(async () => {
      standin = await startStandin(0);
      app = await startApp({ env: { WORKERS: String(workers), UPSTREAM_URL: `http://127.0.0.1:${standin.port}` } });
    });

    after(async () => {
      agent.destroy();
      const { code } = await app.stop();
      assert.equal(code, 0, app.output());
      await standin.close();
    });

    // The database group needs a seeded PostgreSQL: claimbench's own conformance test
    // (crates/conformance/tests/stacks.rs) checks it with a server it starts; test/db.test.js
    // checks the parts that need none.
    for (const endpoint of CONTRACT.endpoints.filter((e) => !e.group)) {
      for (const example of endpoint.examples) {
        it(`answers the contract example ${example.name}`, async () => {
          const { path: target, options } = exampleRequest(endpoint, example);
          const hitsBefore = standin.delayRequests();
          const res = await request(app.base + target, options);
          assertExample(res, example);
          if (example.upstream_calls !== undefined) {
            assert.equal(standin.delayRequests() - hitsBefore, example.upstream_calls);
            assert.equal(JSON.parse(res.body).bytes, example.upstream_calls * CONTRACT.upstream_body_bytes);
          }
        });
      }
    }

    it('takes the first value of a repeated query key', async () => {
      const res = await request(`${app.base}/cpu/fib?n=10&n=abc&n=99`);
      assert.equal(res.status, 200);
      assert.equal(res.body, '{"n":10,"value":55}');
      const bad = await request(`${app.base}/cpu/fib?n=abc&n=10`);
      assert.equal(bad.status, 400);
    });

    it('rejects empty and exponent forms of integers with a message naming the parameter and range', async () => {
      for (const query of ['ms=', 'ms', 'ms=1e3', 'ms=%201', 'ms=0x10']) {
        const res = await request(`${app.base}/io/sleep?${query}`);
        assert.equal(res.status, 400, query);
        assertErrorBody(res);
        assert.match(JSON.parse(res.body).error, /ms.*0\.\.=10000/);
      }
    });

    it('answers 413 in JSON for a /cpu/json body over 1 MiB and accepts one of exactly 1 MiB', async () => {
      const limit = 1048576;
      const padded = (size) => {
        const doc = '{"orders":[],"pad":"';
        return Buffer.from(doc + 'x'.repeat(size - doc.length - 2) + '"}');
      };
      const headers = { 'content-type': 'application/json' };
      const over = await request(`${app.base}/cpu/json`, { method: 'POST', headers, body: padded(limit + 1) });
      assert.equal(over.status, 413);
      assertCommonHeaders(over);
      assertErrorBody(over);
      const exact = await request(`${app.base}/cpu/json`, { method: 'POST', headers, body: padded(limit) });
      assert.equal(exact.status, 200, exact.body);
    });

    it('answers 413 for a chunked /cpu/json body that grows past the limit', async () => {
      const res = await request(`${app.base}/cpu/json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        body: Buffer.alloc(1048577, 0x20),
      });
      assert.equal(res.status, 413);
      assertErrorBody(res);
    });

    it('accepts application/json with a charset and rejects a POST without a body', async () => {
      const ok = await request(`${app.base}/cpu/json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: '{"orders":[]}',
      });
      assert.equal(ok.status, 200, ok.body);
      const none = await request(`${app.base}/cpu/json`, { method: 'POST' });
      assert.equal(none.status, 400);
      assertErrorBody(none);
    });

    it('answers 405 for GET /cpu/json and 404 for paths that only resemble the contract', async () => {
      const wrong = await request(`${app.base}/cpu/json`);
      assert.equal(wrong.status, 405);
      assert.equal(wrong.body, '{"error":"method not allowed"}');
      for (const target of ['/json/', '/JSON', '/cpu', '/']) {
        const res = await request(app.base + target);
        assert.equal(res.status, 404, target);
        assert.equal(res.body, '{"error":"not found"}');
      }
    });

    it('answers a request it cannot parse as HTTP with a JSON 400', async () => {
      const reply = await new Promise((resolve, reject) => {
        const socket = net.connect(app.port, '127.0.0.1', () => socket.end('GARBAGE\r\n\r\n'));
        let data = '';
        socket.on('data', (chunk) => (data += chunk));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      assert.match(reply, /^HTTP\/1\.1 400 /);
      assert.match(reply, /\r\nServer: express\r\n/);
      assert.match(reply, /\r\n\r\n\{"error":"[^"]+"\}$/);
    });

    it('answers a path that cannot be percent-decoded with JSON, not an HTML page', async () => {
      const res = await request(`${app.base}/cpu/fib%E0%A4%A?n=1`);
      assert.ok(res.status === 400 || res.status === 404, String(res.status));
      assertErrorBody(res);
    });
  });
}

describe('express without UPSTREAM_URL', () => {
  let app;
  before(async () => {
    app = await startApp({ env: { UPSTREAM_URL: '' } });
  });
  after(async () => {
    agent.destroy();
    await app.stop();
  });

  it('answers /io/upstream with a 502 naming UPSTREAM_URL, and still validates parameters first', async () => {
    const res = await request(`${app.base}/io/upstream?ms=0`);
    assert.equal(res.status, 502);
    assertErrorBody(res);
    assert.match(JSON.parse(res.body).error, /UPSTREAM_URL/);
    assert.equal((await request(`${app.base}/io/upstream?ms=0&fanout=0`)).status, 400);
  });
});

describe('express with an upstream that is down', () => {
  let app;
  before(async () => {
    // A port that nothing listens on: take one and release it.
    const standin = await startStandin(0);
    await standin.close();
    app = await startApp({ env: { UPSTREAM_URL: `http://127.0.0.1:${standin.port}` } });
  });
  after(async () => {
    agent.destroy();
    await app.stop();
  });

  it('answers /io/upstream with a JSON 502', async () => {
    const res = await request(`${app.base}/io/upstream?ms=0&fanout=4`);
    assert.equal(res.status, 502);
    assertErrorBody(res);
  });
});
