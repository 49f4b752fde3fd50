'use strict';
// The contract's parameter and body limits for Node, read once at startup from
// fixtures/contract/contract.json, which is their only home: a limit changed there changes what
// every stack accepts, and nothing here repeats a number. Owns finding the contract file and
// turning its params into the specs logic.intParam takes; leaves the checking to logic.js. A
// contract that lacks an endpoint or parameter the apps serve stops the process at startup with
// a message naming it, instead of accepting anything.

const fs = require('node:fs');
const path = require('node:path');

/** The contract, found from this file's place in the repository (node-app/lib/). */
const CONTRACT_PATH = path.resolve(__dirname, '..', '..', 'fixtures', 'contract', 'contract.json');

/** The limits as logic.js and the stacks use them: `{min, max, default?}` per integer parameter. */
function readLimits(file = CONTRACT_PATH) {
  let contract;
  try {
    contract = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the endpoint limits from ${file}: ${err.message}`);
  }
  const endpoint = (method, route) => {
    const found = (contract.endpoints || []).find((e) => e.method === method && e.path === route);
    if (!found) throw new Error(`${file} has no endpoint ${method} ${route}, which the Node app serves`);
    return found;
  };
  const param = (route, name) => {
    const found = (endpoint('GET', route).params || []).find((p) => p.name === name);
    if (!found) throw new Error(`${file}: ${route} has no parameter ${name}, which the Node app reads`);
    return found;
  };
  const range = (route, name) => {
    const p = param(route, name);
    if (!Number.isInteger(p.min) || !Number.isInteger(p.max)) {
      throw new Error(`${file}: ${route} parameter ${name} needs integer min and max`);
    }
    const spec = { min: p.min, max: p.max };
    if (!p.required) spec.default = p.default;
    return Object.freeze(spec);
  };
  const choices = param('/cpu/matmul', 'impl').one_of;
  if (!Array.isArray(choices)) throw new Error(`${file}: /cpu/matmul parameter impl needs one_of`);
  const body = endpoint('POST', '/cpu/json').request;
  if (!body || !Number.isInteger(body.max_body_bytes)) {
    throw new Error(`${file}: POST /cpu/json needs request.max_body_bytes`);
  }
  const upload = endpoint('POST', '/stream/upload').request;
  if (!upload || !Number.isInteger(upload.max_body_bytes)) {
    throw new Error(`${file}: POST /stream/upload needs request.max_body_bytes`);
  }
  const wsMaxBytes = (route) => {
    const spec = endpoint('GET', route).websocket;
    if (!spec || !Number.isInteger(spec.max_message_bytes)) {
      throw new Error(`${file}: GET ${route} needs websocket.max_message_bytes`);
    }
    return spec.max_message_bytes;
  };
  return Object.freeze({
    sleepMs: range('/io/sleep', 'ms'),
    upstreamMs: range('/io/upstream', 'ms'),
    fanout: range('/io/upstream', 'fanout'),
    fibN: range('/cpu/fib', 'n'),
    hashRounds: range('/cpu/hash', 'rounds'),
    matmulN: range('/cpu/matmul', 'n'),
    matmulImpls: Object.freeze([...choices]),
    jsonBodyBytes: body.max_body_bytes,
    wsEchoMaxBytes: wsMaxBytes('/ws/echo'),
    wsRoomMaxBytes: wsMaxBytes('/ws/room'),
    sseHz: range('/sse/ticks', 'hz'),
    sseBytes: range('/sse/ticks', 'bytes'),
    streamBytes: range('/stream/download', 'bytes'),
    streamChunk: range('/stream/download', 'chunk'),
    streamUploadBytes: upload.max_body_bytes,
  });
}

/** The limits of the repository's contract, read when the app starts. */
const LIMITS = readLimits();

module.exports = { CONTRACT_PATH, LIMITS, readLimits };
