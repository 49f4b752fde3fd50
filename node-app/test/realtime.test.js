'use strict';
// The WebSocket endpoints against the real Express server process with one worker (rooms live
// in one process, as the contract's websocket_workers note says): a room's broadcast reaches
// every member, the sender included, in each sender's order, and nobody outside the room; a
// member that left gets nothing. The per-connection examples (echo, close codes, refusals) are
// the conformance check's (crates/conformance), which runs them at 1 and 2 workers.

const assert = require('node:assert/strict');
const { describe, it, before, after } = require('node:test');
const { WebSocket } = require('ws');

const { startApp } = require('./support/app');

/** Opens a WebSocket and resolves once it is open; `messages` collects what it receives. */
function connect(url) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.messages = [];
    socket.on('message', (data) => socket.messages.push(data.toString()));
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves once `socket` has received `count` messages. */
function receive(socket, count) {
  return new Promise((resolve) => {
    const check = () => {
      if (socket.messages.length >= count) {
        socket.off('message', check);
        resolve(socket.messages.slice(0, count));
      }
    };
    socket.on('message', check);
    check();
  });
}

function closed(socket) {
  return new Promise((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) return resolve();
    socket.once('close', resolve);
    socket.close(1000);
  });
}

describe('express WebSocket rooms with WORKERS=1', () => {
  let app;

  before(async () => {
    app = await startApp({ env: { WORKERS: '1' } });
  });

  after(async () => {
    const { code } = await app.stop();
    assert.equal(code, 0, app.output());
  });

  it('delivers each message to every member, the sender included, in order, and to no other room', async () => {
    const url = `ws://127.0.0.1:${app.port}/ws/room?name=`;
    const [a, b, c] = await Promise.all([connect(`${url}r1`), connect(`${url}r1`), connect(`${url}r1`)]);
    const other = await connect(`${url}r2`);
    const sent = [0, 1, 2].map((seq) => JSON.stringify({ from: 'a', seq, sent_us: seq }));
    for (const message of sent) a.send(message);
    b.send('{"from":"b","seq":0,"sent_us":9}');
    for (const member of [a, b, c]) {
      const got = await receive(member, 4);
      assert.deepEqual(got.filter((m) => m.includes('"a"')), sent, 'a\'s messages in a\'s order');
      assert.equal(got.filter((m) => m.includes('"b"')).length, 1);
    }
    // A message sent to r2 afterwards arrives there; had r2 seen r1's traffic it would come after.
    other.send('{"from":"o","seq":0,"sent_us":1}');
    assert.deepEqual(await receive(other, 1), ['{"from":"o","seq":0,"sent_us":1}']);
    await Promise.all([a, b, c, other].map(closed));
  });

  it('stops sending to a member once it has closed', async () => {
    const url = `ws://127.0.0.1:${app.port}/ws/room?name=leavers`;
    const [stay, leave] = await Promise.all([connect(url), connect(url)]);
    await closed(leave);
    stay.send('after');
    assert.deepEqual(await receive(stay, 1), ['after']);
    assert.equal(leave.messages.length, 0);
    await closed(stay);
  });
});

describe('express WebSocket limits', () => {
  let app;

  before(async () => {
    app = await startApp({ env: { WORKERS: '1' } });
  });

  after(async () => {
    const { code } = await app.stop();
    assert.equal(code, 0, app.output());
  });

  it('closes with 1009 on an oversized message and keeps serving', async () => {
    const socket = await connect(`ws://127.0.0.1:${app.port}/ws/echo`);
    const code = new Promise((resolve) => socket.once('close', resolve));
    socket.send('a'.repeat(1048577));
    assert.equal(await code, 1009);
    const again = await connect(`ws://127.0.0.1:${app.port}/ws/echo`);
    again.send('still here');
    assert.deepEqual(await receive(again, 1), ['still here']);
    await closed(again);
  });
});
