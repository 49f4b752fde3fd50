'use strict';
// The framework-free logic with plain values, no sockets: parameter rules, the kernels against
// independent references, and the /cpu/json aggregate against the payload files, whose expected
// answers fixtures/payloads/generate.py computes with SQL (no app code). The limits: read from the
// contract file, following its edits.

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const { describe, it } = require('node:test');

const logic = require('../lib/logic');
const limits = require('../lib/limits');

const PAYLOADS = path.resolve(__dirname, '..', '..', 'fixtures', 'payloads');
const payload = (name) => fs.readFileSync(path.join(PAYLOADS, name), 'utf8');

function assertBadRequest(fn, pattern) {
  assert.throws(fn, (err) => err instanceof logic.HttpError && err.status === 400 && pattern.test(err.message));
}

describe('integer parameters', () => {
  const spec = { min: 0, max: 35 };

  it('accept digits within the range, leading zeros included', () => {
    assert.equal(logic.intParam({ n: '0' }, 'n', spec), 0);
    assert.equal(logic.intParam({ n: '35' }, 'n', spec), 35);
    assert.equal(logic.intParam({ n: '007' }, 'n', spec), 7);
  });

  it('reject everything else with a message naming the parameter and its range', () => {
    for (const raw of ['', '-1', '+3', '1.5', '12abc', 'abc', '1e1', ' 1', '36', '99999999999999999999999']) {
      assertBadRequest(() => logic.intParam({ n: raw }, 'n', spec), /\bn\b.*0\.\.=35/);
    }
    assertBadRequest(() => logic.intParam({}, 'n', spec), /missing.*\bn\b.*0\.\.=35/);
  });

  it('take the first value of a repeated key', () => {
    assert.equal(logic.intParam({ n: ['3', 'x'] }, 'n', spec), 3);
    assertBadRequest(() => logic.intParam({ n: ['x', '3'] }, 'n', spec), /\bn\b/);
  });

  it('fall back to the default only when the key is absent', () => {
    assert.equal(logic.intParam({}, 'fanout', logic.LIMITS.fanout), 1);
    assertBadRequest(() => logic.intParam({ fanout: '' }, 'fanout', logic.LIMITS.fanout), /fanout.*1\.\.=32/);
  });

  it('restrict a choice parameter to its words', () => {
    assert.equal(logic.choiceParam({ impl: ['pure', 'lib'] }, 'impl', ['lib', 'pure']), 'pure');
    assertBadRequest(() => logic.choiceParam({ impl: 'gpu' }, 'impl', ['lib', 'pure']), /impl.*lib, pure/);
    assertBadRequest(() => logic.choiceParam({}, 'impl', ['lib', 'pure']), /missing.*impl/);
  });
});

describe('limits', () => {
  const contract = () => JSON.parse(fs.readFileSync(limits.CONTRACT_PATH, 'utf8'));
  const writeContract = (doc) => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'claimbench-limits-')), 'contract.json');
    fs.writeFileSync(file, JSON.stringify(doc));
    return file;
  };

  it('are the ones the contract file states, which the stacks use', () => {
    const doc = contract();
    const fib = doc.endpoints.find((e) => e.path === '/cpu/fib').params.find((p) => p.name === 'n');
    assert.deepEqual(logic.LIMITS.fibN, { min: fib.min, max: fib.max });
    assert.equal(logic.LIMITS, limits.LIMITS);
  });

  it('follow an edit of the contract', () => {
    const doc = contract();
    const upstream = doc.endpoints.find((e) => e.path === '/io/upstream');
    Object.assign(upstream.params.find((p) => p.name === 'fanout'), { min: 2, max: 7, default: 3 });
    doc.endpoints.find((e) => e.path === '/cpu/json').request.max_body_bytes = 99;
    const read = limits.readLimits(writeContract(doc));
    assert.deepEqual(read.fanout, { min: 2, max: 7, default: 3 });
    assert.equal(read.jsonBodyBytes, 99);
    assertBadRequest(() => logic.intParam({ fanout: '8' }, 'fanout', read.fanout), /fanout.*2\.\.=7/);
  });

  it('refuse a contract without an endpoint the app serves, naming it', () => {
    const doc = contract();
    doc.endpoints = doc.endpoints.filter((e) => e.path !== '/cpu/hash');
    assert.throws(() => limits.readLimits(writeContract(doc)), /no endpoint GET \/cpu\/hash/);
    assert.throws(() => limits.readLimits('/nonexistent/contract.json'), /cannot read the endpoint limits/);
  });
});

describe('cpu kernels', () => {
  it('fib follows the recurrence from its base cases', () => {
    assert.deepEqual([0, 1, 2, 3, 10, 20, 25].map(logic.fib), [0, 1, 1, 2, 55, 6765, 75025]);
  });

  it('hashChain matches the contract digests and a one-shot SHA-256', () => {
    assert.equal(logic.hashChain(1), crypto.createHash('sha256').update('claimbench').digest('hex'));
    assert.equal(logic.hashChain(1), '39f80b9f2900a996ae68503edaaddabf56e92ea973882da7267d362e30eca58a');
    assert.equal(logic.hashChain(1000), '9705c68a4b24ade9a010f51a0ee59a611b20e9c6cd43645ec6bc0e6f99ed6104');
  });

  it('matmul lib and pure agree with each other and with the contract examples', () => {
    assert.equal(logic.matmulPure(1), -90);
    assert.equal(logic.matmulLib(4), 91);
    assert.equal(logic.matmulPure(16), 1211);
    for (const n of [1, 2, 3, 7, 16, 33, 64, 100]) assert.equal(logic.matmulLib(n), logic.matmulPure(n), `n=${n}`);
  });

  it('matmul returns an exact integer at the largest n', () => {
    const checksum = logic.matmulLib(512);
    assert.ok(Number.isSafeInteger(checksum), String(checksum));
    assert.equal(JSON.stringify({ checksum }), `{"checksum":${checksum}}`);
  });
});

describe('order aggregation', () => {
  for (const name of ['orders-small', 'orders-100k']) {
    it(`reproduces ${name}.expected.json byte for byte`, () => {
      const result = logic.aggregateOrders(JSON.parse(payload(`${name}.json`)));
      assert.equal(JSON.stringify(result), payload(`${name}.expected.json`));
    });
  }

  it('aggregates an empty order list to zeros', () => {
    assert.equal(
      JSON.stringify(logic.aggregateOrders({ orders: [] })),
      '{"order_count":0,"item_count":0,"total_cents":0,"customers":[]}',
    );
  });

  it('breaks total ties by customer name in code-point order, and keeps orders without items', () => {
    const doc = {
      orders: [
        { id: 1, customer: 'b', items: [{ sku: 'x', qty: 1, price_cents: 10 }] },
        { id: 2, customer: 'B', items: [{ sku: 'x', qty: 2, price_cents: 5 }] },
        { id: 3, customer: 'a', items: [] },
        { id: 4, customer: '__proto__', items: [{ sku: 'x', qty: 1, price_cents: 10 }] },
      ],
    };
    const names = logic.aggregateOrders(doc).customers.map((c) => c.customer);
    assert.deepEqual(names, ['B', '__proto__', 'b', 'a']);
  });

  it('treats 3.0 as the integer 3 and ignores unknown keys', () => {
    const doc = JSON.parse('{"extra":1,"orders":[{"id":1.0,"customer":"c","note":"x","items":[{"sku":"A","qty":3.0,"price_cents":5,"w":0}]}]}');
    assert.equal(logic.aggregateOrders(doc).total_cents, 15);
  });

  it('rejects the shapes and values the schema rules out, naming the field', () => {
    const order = (fields) => ({ orders: [{ id: 1, customer: 'c', items: [], ...fields }] });
    const item = (fields) => order({ items: [{ sku: 'A', qty: 1, price_cents: 0, ...fields }] });
    const cases = [
      [[1, 2, 3], /object/],
      [null, /object/],
      [{}, /orders/],
      [{ orders: {} }, /orders/],
      [{ orders: [1] }, /orders\[0\]/],
      [order({ id: '1' }), /orders\[0\]\.id/],
      [order({ id: 1.5 }), /orders\[0\]\.id/],
      [order({ customer: '' }), /customer/],
      [order({ customer: 'x'.repeat(65) }), /customer/],
      [order({ customer: 'has space' }), /customer/],
      [order({ customer: 7 }), /customer/],
      [order({ items: null }), /items/],
      [item({ qty: true }), /qty/],
      [item({ qty: '3' }), /qty/],
      [item({ qty: 0 }), /qty.*1\.\.=10000/],
      [item({ qty: 10001 }), /qty/],
      [item({ price_cents: -1 }), /price_cents/],
      [item({ price_cents: 10000001 }), /price_cents/],
      [item({ price_cents: 0.5 }), /price_cents/],
      [item({ sku: 'é' }), /sku/],
      [JSON.parse(payload('bad-type.json')), /qty/],
    ];
    for (const [doc, pattern] of cases) assertBadRequest(() => logic.aggregateOrders(doc), pattern);
  });

  it('accepts the extremes of every range', () => {
    const doc = {
      orders: [{ id: 0, customer: 'x'.repeat(64), items: [{ sku: 'A-._z9', qty: 10000, price_cents: 10000000 }] }],
    };
    assert.equal(logic.aggregateOrders(doc).total_cents, 1e11);
  });
});
