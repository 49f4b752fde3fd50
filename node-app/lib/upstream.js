'use strict';
// The outbound HTTP client behind /io/upstream: one undici Agent (a keep-alive connection pool)
// made once at startup from UPSTREAM_URL, and the fan-out of concurrent GET /delay calls over it.
// Parameter validation is logic.js's; turning the result into a response is the stack's.

const { Agent } = require('undici');
const { HttpError } = require('./logic');

// The same cap as the Python side (aiohttp's TCPConnector(limit=256)): beyond 256 calls in flight
// per process, calls queue inside the pool in both runtimes. A cap in one runtime only would
// decide /io/upstream by configuration; no cap at all let 1,000 client connections open 1,000
// upstream sockets and starve the upstream's one CPU. The contract's `upstream_pool` says so.
const POOL_CONNECTIONS = 256;

/**
 * A client for UPSTREAM_URL (a URL that config.js has checked), or, when it is unset, a stand-in
 * that answers 502 saying so, so the other endpoints still work.
 */
function createUpstream(url) {
  if (!url) {
    const unset = 'UPSTREAM_URL is not set: start the app with UPSTREAM_URL=http://HOST:PORT of the upstream';
    return { fanout: () => Promise.reject(new HttpError(502, unset)) };
  }

  const origin = url.origin;
  const basePath = url.pathname.replace(/\/+$/, '');
  const agent = new Agent({ connections: POOL_CONNECTIONS });

  async function get(path) {
    let response;
    try {
      response = await agent.request({ origin, path, method: 'GET' });
    } catch (err) {
      throw new HttpError(502, `upstream ${origin} failed: ${err.message}`);
    }
    const { statusCode, body } = response;
    let bytes = 0;
    try {
      // Counting chunk by chunk reads the whole body (so the socket goes back to the pool)
      // without concatenating it.
      for await (const chunk of body) bytes += chunk.length;
    } catch (err) {
      throw new HttpError(502, `upstream ${origin} failed while sending its body: ${err.message}`);
    }
    if (statusCode < 200 || statusCode > 299) {
      throw new HttpError(502, `upstream ${origin}${path} answered status ${statusCode}`);
    }
    return bytes;
  }

  /** `calls` concurrent GET /delay?ms=ms; resolves to the total body bytes received. */
  async function fanout(ms, calls) {
    const path = `${basePath}/delay?ms=${ms}`;
    const pending = [];
    for (let i = 0; i < calls; i++) pending.push(get(path));
    // Promise.all rejects on the first failure; the other calls still run to completion and
    // drain their bodies on their own, so no socket is left half-read.
    const sizes = await Promise.all(pending);
    let total = 0;
    for (const size of sizes) total += size;
    return total;
  }

  // No close(): the process exits on shutdown, and with it the pool's sockets.
  return { fanout };
}

module.exports = { createUpstream };
