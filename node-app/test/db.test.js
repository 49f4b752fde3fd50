'use strict';
// The database group's parts that need no server: the queries=N rule, the batched UPDATE, the
// fortunes page's escaping, and the 503 every database endpoint answers without DATABASE_URL.
// Against a real PostgreSQL the endpoints are checked by crates/conformance/tests/stacks.rs.

const assert = require('node:assert/strict');
const { describe, it } = require('node:test');

const { databaseEndpoints, poolFromEnv, queryCount, batchUpdate } = require('../lib/db');
const { HttpError } = require('../lib/logic');

describe('the database endpoints', () => {
  it('clamp queries=N as TechEmpower verifies it', () => {
    const cases = [['2', 2], ['0', 1], ['foo', 1], ['501', 500], ['', 1], ['1.5', 1], ['-3', 1], ['500', 500]];
    for (const [raw, want] of cases) assert.equal(queryCount({ queries: raw }), want, `queries=${raw}`);
    assert.equal(queryCount({}), 1);
    assert.equal(queryCount({ queries: ['7', '9'] }), 7, 'the first value wins');
  });

  it('write a request in one UPDATE with sorted ids, a repeated id once', () => {
    const [sql, params] = batchUpdate([
      { id: 9, randomNumber: 1 },
      { id: 3, randomNumber: 2 },
      { id: 9, randomNumber: 1 },
    ]);
    assert.match(sql, /^UPDATE world SET randomnumber = v\.r FROM \(VALUES \(\$1::int, \$2::int\), \(\$3::int, \$4::int\)\)/);
    assert.deepEqual(params, [3, 2, 9, 1]);
  });

  it('escape the fortunes through the template', async () => {
    const fake = {
      query: async () => ({ rows: [{ id: 11, message: '<script>alert("x");</script>' }, { id: 1, message: 'b & c' }] }),
    };
    const fortunes = databaseEndpoints(fake).find((e) => e.path === '/fortunes');
    const html = await fortunes.handle();
    assert.ok(!html.includes('<script>'), html);
    assert.ok(html.includes('&lt;script&gt;'), html);
    assert.ok(html.includes('<tr><td>0</td><td>Additional fortune added at request time.</td></tr>'), html);
    const order = [...html.matchAll(/<tr><td>(\d+)<\/td>/g)].map((m) => m[1]);
    assert.deepEqual(order, ['11', '0', '1'], 'sorted by message');
  });

  it('answer 503 without a database', async () => {
    for (const endpoint of databaseEndpoints(null)) {
      await assert.rejects(
        async () => endpoint.handle({}),
        (err) => err instanceof HttpError && err.status === 503 && /DATABASE_URL/.test(err.message),
      );
    }
  });

  it('pick the driver from DATABASE_DRIVER, pg by default, and name the choices for an unknown one', async () => {
    const url = 'postgres://nobody@127.0.0.1:1/none';
    const pg = poolFromEnv({ DATABASE_URL: url });
    assert.equal(pg.constructor.name, 'BoundPool', 'node-postgres by default');
    assert.equal(pg.options.max, 16);
    await pg.end();
    const pgjs = poolFromEnv({ DATABASE_URL: url, DATABASE_DRIVER: 'postgres.js', DATABASE_POOL: '4' });
    assert.equal(typeof pgjs.query, 'function', 'postgres.js connects on first use, so nothing is opened here');
    assert.throws(() => poolFromEnv({ DATABASE_URL: url, DATABASE_DRIVER: 'mysql' }), /DATABASE_DRIVER=mysql .* pg, postgres\.js/);
    assert.equal(poolFromEnv({}), null);
  });
});
