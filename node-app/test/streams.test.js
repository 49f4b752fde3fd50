'use strict';
// The streamed bodies without a server: the download's chunks are the contract's pattern at any
// chunk size and offset, and the upload's digest and limit, fed from a plain Readable.

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { Readable } = require('node:stream');
const { describe, it } = require('node:test');

const streams = require('../lib/streams');
const { LIMITS } = require('../lib/limits');

const pattern = (n) => Buffer.from(Array.from({ length: n }, (_, i) => i % 251));

async function collect(readable) {
  const pieces = [];
  for await (const piece of readable) pieces.push(piece);
  return pieces;
}

describe('stream download', () => {
  it('writes the pattern in chunks of the asked size, the last one shorter', async () => {
    const pieces = await collect(streams.patternStream(1000, 7));
    assert.deepEqual(pieces.slice(0, -1).map((p) => p.length), Array(142).fill(7));
    assert.equal(pieces.at(-1).length, 6);
    assert.deepEqual(Buffer.concat(pieces), pattern(1000));
  });

  it('wraps at 251 even when chunks are larger than the period', async () => {
    const body = Buffer.concat(await collect(streams.patternStream(3000, 1000)));
    assert.deepEqual(body, pattern(3000));
  });

  it('sends nothing for zero bytes', async () => {
    assert.deepEqual(await collect(streams.patternStream(0, 65536)), []);
  });
});

describe('stream upload', () => {
  const request = (pieces, headers = {}) => Object.assign(Readable.from(pieces), { headers });

  it('answers the length and SHA-256 of a body that arrives in pieces', async () => {
    const body = pattern(5000);
    const answer = await streams.upload(request([body.subarray(0, 13), body.subarray(13)]));
    assert.deepEqual(answer, { bytes: 5000, sha256: crypto.createHash('sha256').update(body).digest('hex') });
  });

  it('refuses a declared length over the limit before reading anything', async () => {
    const declared = String(LIMITS.streamUploadBytes + 1);
    await assert.rejects(streams.upload(request([], { 'content-length': declared })), { status: 413 });
  });
});
