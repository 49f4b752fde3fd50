'use strict';
// The life of one node:http server, for stacks whose framework is a request listener (Express,
// raw node:http, NestJS on Express, Fastify through its serverFactory): listen, answer malformed requests with the contract's JSON error shape, and shut
// down quickly on SIGTERM/SIGINT. Routing is the stack's; forking workers is cluster.js's.

const cluster = require('node:cluster');
const http = require('node:http');

// After SIGTERM, connections still busy this long are cut: the supervisor wants the port back
// quickly and a benchmark run is over anyway.
const FORCE_EXIT_MS = 2000;
// How often shutdown closes connections that have gone idle since: server.close() only closes
// the keep-alive connections idle at the moment it is called.
const IDLE_SWEEP_MS = 50;

/**
 * A node:http server for `listener` that answers unparseable requests with the contract's JSON
 * error shape. Frameworks that own their server (Fastify's `serverFactory`) take it from here too.
 */
function createServer(listener, { serverHeader }) {
  const server = http.createServer(listener);
  server.on('clientError', clientErrorResponder(serverHeader));
  return server;
}

/**
 * Listens with `server` on host:port until SIGTERM or SIGINT, then exits 0. A failure to listen
 * prints the reason and exits 2.
 */
function listen(server, { host, port, name }) {
  server.on('error', (err) => {
    console.error(`error: ${name} cannot listen on ${host}:${port}: ${err.message}`);
    process.exit(2);
  });
  server.listen(port, host, () => {
    // Under cluster the primary reports once all workers listen; one line per worker is noise.
    if (cluster.isPrimary) console.log(`${name} listening on http://${host}:${port}`);
  });

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS).unref();
    setTimeout(() => {
      console.error(`${name}: connections still open ${FORCE_EXIT_MS} ms after the shutdown signal; exiting anyway`);
      process.exit(0);
    }, FORCE_EXIT_MS).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return server;
}

/** `createServer` then `listen`: the whole life of a request-listener stack (Express, node:http). */
function serve(listener, options) {
  return listen(createServer(listener, options), options);
}

const CLIENT_ERRORS = {
  HPE_HEADER_OVERFLOW: [431, 'request headers too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request timed out'],
};

/**
 * Node answers a request it cannot parse with a bare status line; the contract wants every error
 * as a JSON object with the usual headers, so write that to the socket ourselves.
 */
function clientErrorResponder(serverHeader) {
  return (err, socket) => {
    // Same guard as Node's default handler: nothing to answer on a dead socket, or once a
    // response has started on it.
    if (err.code === 'ECONNRESET' || !socket.writable || socket._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, message] = CLIENT_ERRORS[err.code] ?? [400, 'malformed HTTP request'];
    const body = JSON.stringify({ error: message });
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n` +
        `Server: ${serverHeader}\r\n` +
        `Date: ${new Date().toUTCString()}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  };
}

module.exports = { serve, createServer, listen, clientErrorResponder, FORCE_EXIT_MS };
