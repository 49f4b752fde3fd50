'use strict';
// The event stream's framing without a server: an event is `id:`, a data line of exactly the
// asked size whose JSON carries the same sequence number, and a blank line.

const assert = require('node:assert/strict');
const { describe, it } = require('node:test');

const { frame } = require('../lib/sse');

describe('sse frame', () => {
  it('pads the data line to exactly the asked size and repeats the id as seq', () => {
    for (const size of [64, 1024, 65536]) {
      const [idLine, dataLine, blank, end] = frame(41, 1796161224350686, size).split('\n');
      assert.equal(idLine, 'id: 41');
      const data = dataLine.slice('data: '.length);
      assert.equal(Buffer.byteLength(data), size);
      const parsed = JSON.parse(data);
      assert.equal(parsed.seq, 41);
      assert.equal(parsed.sent_us, 1796161224350686);
      assert.match(parsed.pad, /^x*$/);
      assert.deepEqual([blank, end], ['', '']);
    }
  });
});
