'use strict';
// The contract's endpoint logic, written once for every Node stack: parameter validation, the
// CPU kernels (fib, hash, matmul), and the /cpu/json order aggregate. Everything here is pure and
// synchronous, and knows nothing of HTTP frameworks: a stack hands in a query object and gets back
// a plain value to serialize, or an HttpError carrying the status the contract asks for. Timers
// and sockets live in endpoints.js and upstream.js.

const crypto = require('node:crypto');

const { LIMITS } = require('./limits');

/** An error the client caused (or an upstream failure), with the HTTP status to answer. */
class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
  }
}

const badRequest = (message) => new HttpError(400, message);

// ---------------------------------------------------------------------------------------------
// Query parameters

const DIGITS = /^[0-9]+$/;

/**
 * The first value of a query key. Framework query parsers (node:querystring, which Express 5's
 * "simple" parser and Fastify use) turn a repeated key into an array; the contract says the first
 * value wins.
 */
function firstValue(raw) {
  return Array.isArray(raw) ? raw[0] : raw;
}

/**
 * An integer parameter per the contract: ^[0-9]+$ and within [min, max]. `spec.default` makes it
 * optional. Messages name the parameter and the range so a failing benchmark explains itself.
 */
function intParam(query, name, spec) {
  const range = `an integer in ${spec.min}..=${spec.max}`;
  const raw = firstValue(query[name]);
  if (raw === undefined) {
    if (spec.default !== undefined) return spec.default;
    throw badRequest(`missing query parameter ${name}: expected ${range}`);
  }
  // The regex rejects '', '-1', '+3', '1.5', '12abc' and '1e3' before Number() could accept them.
  if (!DIGITS.test(raw)) throw badRequest(`query parameter ${name} must be ${range}, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (value < spec.min || value > spec.max) {
    throw badRequest(`query parameter ${name} must be ${range}, got ${raw}`);
  }
  return value;
}

/** A required parameter restricted to a fixed set of words. */
function choiceParam(query, name, choices) {
  const raw = firstValue(query[name]);
  const expected = `one of ${choices.join(', ')}`;
  if (raw === undefined) throw badRequest(`missing query parameter ${name}: expected ${expected}`);
  if (!choices.includes(raw)) throw badRequest(`query parameter ${name} must be ${expected}, got ${JSON.stringify(raw)}`);
  return raw;
}

// ---------------------------------------------------------------------------------------------
// CPU kernels

/** Naive recursive Fibonacci: the contract wants the exponential call tree, not a fast fib. */
function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

const HASH_SEED = Buffer.from('claimbench', 'utf8');

/** SHA-256 applied `rounds` times, each round hashing the previous round's 32 raw bytes. */
function hashChain(rounds) {
  let digest = HASH_SEED;
  for (let i = 0; i < rounds; i++) {
    digest = crypto.createHash('sha256').update(digest).digest();
  }
  return digest.toString('hex');
}

const matA = (i, j) => ((7 * i + 3 * j) % 11) - 5;
const matB = (i, j) => ((5 * i + 2 * j) % 13) - 6;
const weight = (i, j) => ((3 * i + j) % 7) - 3;

/**
 * impl=lib: flat Float64Array storage and the cache-friendly i-k-j loop order, the closest Node
 * has to numpy without a native addon.
 */
function matmulLib(n) {
  const a = new Float64Array(n * n);
  const b = new Float64Array(n * n);
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      a[i * n + j] = matA(i, j);
      b[i * n + j] = matB(i, j);
    }
  }
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a[row + k];
      const bRow = k * n;
      for (let j = 0; j < n; j++) c[row + j] += aik * b[bRow + j];
    }
  }
  let checksum = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) checksum += c[i * n + j] * weight(i, j);
  }
  return checksum;
}

/**
 * impl=pure: arrays of row arrays and the textbook i-j-k triple loop, the way the matrix product
 * is written without thinking about memory layout (the counterpart of Python's nested lists).
 */
function matmulPure(n) {
  const a = [];
  const b = [];
  for (let i = 0; i < n; i++) {
    const aRow = [];
    const bRow = [];
    for (let j = 0; j < n; j++) {
      aRow.push(matA(i, j));
      bRow.push(matB(i, j));
    }
    a.push(aRow);
    b.push(bRow);
  }
  const c = [];
  for (let i = 0; i < n; i++) {
    const cRow = [];
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += a[i][k] * b[k][j];
      cRow.push(sum);
    }
    c.push(cRow);
  }
  let checksum = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) checksum += c[i][j] * weight(i, j);
  }
  return checksum;
}

const MATMUL = { lib: matmulLib, pure: matmulPure };

// ---------------------------------------------------------------------------------------------
// /cpu/json: validation and aggregation

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// Number.isInteger is false for booleans, strings, NaN and Infinity, and true for 3.0 (which
// JSON.parse already turned into 3): exactly the contract's "integral JSON number".
function checkInteger(value, path, min, max) {
  if (!Number.isInteger(value)) throw badRequest(`${path} must be an integer`);
  if (min !== undefined && (value < min || value > max)) {
    throw badRequest(`${path} must be an integer in ${min}..=${max}, got ${value}`);
  }
}

function checkName(value, path) {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw badRequest(`${path} must be a string of 1 to 64 characters from [A-Za-z0-9_.-]`);
  }
}

/**
 * Validates a parsed /cpu/json body against the contract's schema and computes its aggregate.
 * The result's key order is the contract's, so JSON.stringify gives the byte-identical answer.
 */
function aggregateOrders(doc) {
  if (!isObject(doc)) throw badRequest('body must be a JSON object with an "orders" array');
  const { orders } = doc;
  if (!Array.isArray(orders)) throw badRequest('orders must be an array');

  // A Map, not an object: "__proto__" is a valid customer NAME.
  const perCustomer = new Map();
  let itemCount = 0;
  let totalCents = 0;
  for (let o = 0; o < orders.length; o++) {
    const order = orders[o];
    const at = `orders[${o}]`;
    if (!isObject(order)) throw badRequest(`${at} must be an object`);
    checkInteger(order.id, `${at}.id`);
    checkName(order.customer, `${at}.customer`);
    const { items } = order;
    if (!Array.isArray(items)) throw badRequest(`${at}.items must be an array`);

    let orderQty = 0;
    let orderTotal = 0;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      const itemAt = `${at}.items[${i}]`;
      if (!isObject(item)) throw badRequest(`${itemAt} must be an object`);
      checkName(item.sku, `${itemAt}.sku`);
      checkInteger(item.qty, `${itemAt}.qty`, 1, 10000);
      checkInteger(item.price_cents, `${itemAt}.price_cents`, 0, 10000000);
      orderQty += item.qty;
      orderTotal += item.qty * item.price_cents;
    }

    let entry = perCustomer.get(order.customer);
    if (entry === undefined) {
      entry = { customer: order.customer, orders: 0, items: 0, total_cents: 0 };
      perCustomer.set(order.customer, entry);
    }
    entry.orders += 1;
    entry.items += orderQty;
    entry.total_cents += orderTotal;
    itemCount += orderQty;
    totalCents += orderTotal;
  }

  // Names are ASCII, so comparing UTF-16 code units is the same order as Python's str ordering;
  // localeCompare would not be.
  const customers = [...perCustomer.values()].sort(
    (x, y) => y.total_cents - x.total_cents || (x.customer < y.customer ? -1 : x.customer > y.customer ? 1 : 0),
  );
  return { order_count: orders.length, item_count: itemCount, total_cents: totalCents, customers };
}

// ---------------------------------------------------------------------------------------------
// Request-level functions: a query (or parsed body) in, the response value out

function fibResult(query) {
  const n = intParam(query, 'n', LIMITS.fibN);
  return { n, value: fib(n) };
}

function hashResult(query) {
  const rounds = intParam(query, 'rounds', LIMITS.hashRounds);
  return { rounds, digest: hashChain(rounds) };
}

function matmulResult(query) {
  const n = intParam(query, 'n', LIMITS.matmulN);
  const impl = choiceParam(query, 'impl', LIMITS.matmulImpls);
  return { n, impl, checksum: MATMUL[impl](n) };
}

module.exports = {
  HttpError,
  LIMITS,
  firstValue,
  intParam,
  choiceParam,
  fib,
  hashChain,
  matmulLib,
  matmulPure,
  aggregateOrders,
  fibResult,
  hashResult,
  matmulResult,
};
