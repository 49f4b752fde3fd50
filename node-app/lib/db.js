'use strict';
// The database endpoints (TechEmpower's /db, /queries, /updates, /fortunes) for every Node stack,
// on node-postgres (`pg`) and its Pool, the driver most Node users run. Owns the one pool each
// worker process opens (lazily, DATABASE_POOL connections), the SQL, the queries=N rule and the
// fortunes template (mustache, which HTML-escapes every {{value}}). Leaves routing and
// serialization to the stack, which mounts the entries of `databaseEndpoints` like any other.
// DATABASE_DRIVER=postgres.js swaps in postgres.js (the `postgres` package) behind the same
// `query(text, params)` shape, with the same pool size and prepared statements, so the two
// drivers can be measured against each other (python-app/README.md has no such switch: asyncpg
// is both the most used and the fastest there).

const Mustache = require('mustache');
const { Pool } = require('pg');

const { HttpError, firstValue } = require('./logic');

// TechEmpower's bounds: queries=N is clamped to 1..=500, and anything that is not digits is 1.
const MAX_QUERIES = 500;
const WORLD_ROWS = 10000;
// Connections per worker process; claimbench hands over the same DATABASE_POOL to every stack.
const DEFAULT_POOL = 16;

const SELECT_WORLD = 'SELECT id, randomnumber FROM world WHERE id = $1';
const SELECT_FORTUNES = 'SELECT id, message FROM fortune';
const ADDED_FORTUNE = 'Additional fortune added at request time.';

const FORTUNES_TEMPLATE =
  '<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>' +
  '<tr><th>id</th><th>message</th></tr>' +
  '{{#fortunes}}<tr><td>{{id}}</td><td>{{message}}</td></tr>{{/fortunes}}' +
  '</table></body></html>';
Mustache.parse(FORTUNES_TEMPLATE);

/** TechEmpower's queries=N: digits clamped to 1..=500; missing, empty or anything else is 1. */
function queryCount(query) {
  const raw = firstValue(query.queries);
  if (typeof raw !== 'string' || !/^[0-9]+$/.test(raw)) return 1;
  return Math.min(MAX_QUERIES, Math.max(1, Number(raw)));
}

const randomId = () => 1 + Math.floor(Math.random() * WORLD_ROWS);

/** The drivers DATABASE_DRIVER may name; the first is the default. */
const DRIVERS = ['pg', 'postgres.js'];

/**
 * The pool from DATABASE_URL, DATABASE_SCHEMA, DATABASE_POOL and DATABASE_DRIVER, or null
 * without a URL. Either driver answers `query(text, params)` with `{ rows }`.
 */
function poolFromEnv(env = process.env) {
  if (!env.DATABASE_URL) return null;
  const size = Number.parseInt(env.DATABASE_POOL || '', 10);
  const max = Number.isInteger(size) && size > 0 ? size : DEFAULT_POOL;
  const schema = env.DATABASE_SCHEMA || 'claimbench';
  const driver = env.DATABASE_DRIVER || DRIVERS[0];
  if (driver === 'pg') {
    return new Pool({ connectionString: env.DATABASE_URL, max, options: `-c search_path=${schema}` });
  }
  if (driver === 'postgres.js') {
    const postgres = require('postgres');
    const sql = postgres(env.DATABASE_URL, { max, prepare: true, connection: { search_path: schema } });
    return { query: async (text, params) => ({ rows: await sql.unsafe(text, params, { prepare: true }) }) };
  }
  throw new Error(`DATABASE_DRIVER=${driver} is not a driver this app knows: use one of ${DRIVERS.join(', ')}`);
}

/** The endpoint table entries of the database group, answering 503 when there is no pool. */
function databaseEndpoints(pool) {
  const need = () => {
    if (!pool) throw new HttpError(503, 'no database: DATABASE_URL is not set');
    return pool;
  };
  const world = async (db) => {
    const { rows } = await db.query(SELECT_WORLD, [randomId()]);
    return { id: rows[0].id, randomNumber: rows[0].randomnumber };
  };
  const worlds = (db, n) => Promise.all(Array.from({ length: n }, () => world(db)));
  return [
    { method: 'GET', path: '/db', input: 'none', type: 'json', handle: () => world(need()) },
    {
      method: 'GET',
      path: '/queries',
      input: 'query',
      type: 'json',
      handle: (query) => worlds(need(), queryCount(query)),
    },
    {
      method: 'GET',
      path: '/updates',
      input: 'query',
      type: 'json',
      handle: async (query) => {
        const db = need();
        const rows = await worlds(db, queryCount(query));
        // A row drawn twice gets one new number, so the answer matches what is written.
        const fresh = new Map();
        for (const row of rows) {
          if (!fresh.has(row.id)) fresh.set(row.id, randomId());
          row.randomNumber = fresh.get(row.id);
        }
        await db.query(...batchUpdate(rows));
        return rows;
      },
    },
    {
      method: 'GET',
      path: '/fortunes',
      input: 'none',
      type: 'html',
      handle: async () => {
        const { rows } = await need().query(SELECT_FORTUNES);
        rows.push({ id: 0, message: ADDED_FORTUNE });
        rows.sort((a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
        return Mustache.render(FORTUNES_TEMPLATE, { fortunes: rows });
      },
    },
  ];
}

/**
 * One UPDATE for all rows of a request. Ids are sorted so that concurrent batches lock rows in
 * the same order (no deadlocks), and an id drawn twice is written once.
 */
function batchUpdate(rows) {
  const latest = new Map(rows.map((row) => [row.id, row.randomNumber]));
  const ids = [...latest.keys()].sort((a, b) => a - b);
  const values = ids.map((_, i) => `($${2 * i + 1}::int, $${2 * i + 2}::int)`).join(', ');
  const params = ids.flatMap((id) => [id, latest.get(id)]);
  const sql = `UPDATE world SET randomnumber = v.r FROM (VALUES ${values}) AS v(id, r) WHERE world.id = v.id`;
  return [sql, params];
}

module.exports = { databaseEndpoints, poolFromEnv, queryCount, batchUpdate };
