'use strict';
// The contract's endpoint table for Node: for each path, its method, what it reads from the
// request, and the framework-free handler that turns that input into the value to send. A stack
// (stacks/<name>/server.js) walks this table to register routes and owns only routing, body
// reading and serialization; the logic, the timers and the upstream calls stay here and in logic.js
// and upstream.js, so every Node stack computes exactly the same answers.

const { setTimeout: sleep } = require('node:timers/promises');
const logic = require('./logic');
const sse = require('./sse');
const streams = require('./streams');

const { LIMITS, intParam } = logic;

/**
 * One entry per contract path. `input` says what the stack passes to `handle`:
 *   'none'  -> nothing (the stack need not even parse the query string),
 *   'query' -> the parsed query object (values may be arrays for repeated keys),
 *   'json'  -> the parsed JSON body; the stack enforces Content-Type application/json and
 *              LIMITS.jsonBodyBytes, answering 400 and 413 itself,
 *   'stream' -> the raw node request (unread), for a handler that reads the body itself,
 *   'query-response' -> the parsed query and node's response, for a handler that writes the
 *              body itself (type 'stream'); it returns a promise that settles when it is sent.
 * `type` is the response's media type. `handle` returns the value or a promise of it, and throws
 * (or rejects with) logic.HttpError for client errors. CPU handlers are synchronous on purpose:
 * they block the event loop, as in a plain deployment, and the benchmark measures exactly that.
 * `group` is the contract's endpoint group (absent: 'http'); `groups` keeps only the entries of
 * the groups a stack declares in fixtures/stacks.toml (default: every group here).
 */
function createEndpoints({ stack, upstream, groups = ['http', 'realtime', 'streams'] }) {
  return [
    { method: 'GET', path: '/health', input: 'none', type: 'json', handle: () => ({ status: 'ok', stack }) },
    // TechEmpower rule: a fresh object serialized per request, never a cached string.
    { method: 'GET', path: '/json', input: 'none', type: 'json', handle: () => ({ message: 'Hello, World!' }) },
    { method: 'GET', path: '/plaintext', input: 'none', type: 'text', handle: () => 'Hello, World!' },
    {
      method: 'GET',
      path: '/io/sleep',
      input: 'query',
      type: 'json',
      handle: async (query) => {
        const ms = intParam(query, 'ms', LIMITS.sleepMs);
        await sleep(ms);
        return { slept_ms: ms };
      },
    },
    {
      method: 'GET',
      path: '/io/upstream',
      input: 'query',
      type: 'json',
      handle: async (query) => {
        const ms = intParam(query, 'ms', LIMITS.upstreamMs);
        const calls = intParam(query, 'fanout', LIMITS.fanout);
        const bytes = await upstream.fanout(ms, calls);
        return { calls, ms, bytes };
      },
    },
    { method: 'GET', path: '/cpu/fib', input: 'query', type: 'json', handle: logic.fibResult },
    { method: 'POST', path: '/cpu/json', input: 'json', type: 'json', handle: logic.aggregateOrders },
    { method: 'GET', path: '/cpu/hash', input: 'query', type: 'json', handle: logic.hashResult },
    { method: 'GET', path: '/cpu/matmul', input: 'query', type: 'json', handle: logic.matmulResult },
    // The WebSocket paths (lib/realtime.js serves their upgrades): a plain GET is a 426.
    { method: 'GET', path: '/ws/echo', group: 'realtime', input: 'none', type: 'json', handle: upgradeRequired },
    { method: 'GET', path: '/ws/room', group: 'realtime', input: 'none', type: 'json', handle: upgradeRequired },
    // Server-sent events (lib/sse.js): one shared ticker per rate and size, fanned out.
    { method: 'GET', path: '/sse/ticks', group: 'realtime', input: 'query-response', type: 'stream', handle: sse.ticks },
    // Streamed bodies (lib/streams.js): never buffered whole on either side.
    { method: 'GET', path: '/stream/download', group: 'streams', input: 'query-response', type: 'stream', handle: streams.download },
    { method: 'POST', path: '/stream/upload', group: 'streams', input: 'stream', type: 'json', handle: streams.upload },
  ].filter((endpoint) => groups.includes(endpoint.group || 'http'));
}

function upgradeRequired() {
  throw new logic.HttpError(426, 'this path is a WebSocket: send Upgrade: websocket');
}

module.exports = { createEndpoints };
