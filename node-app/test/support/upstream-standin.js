'use strict';
// A loopback stand-in for claimbench-upstream, for tests and for running the app by hand before
// the Rust service is built: GET /delay?ms=D answers after D ms with a fixed body of the
// contract's upstream_body_bytes (81), GET /stats reports how many /delay calls it served.
// Run it alone with `node test/support/upstream-standin.js [port]`.

const http = require('node:http');

const BODY_BYTES = 81;
const BODY = (() => {
  const head = '{"upstream":"claimbench-standin","pad":"';
  const tail = '"}';
  return Buffer.from(head + 'x'.repeat(BODY_BYTES - head.length - tail.length) + tail);
})();

/** Starts the stand-in on 127.0.0.1:port (0 = any free port); resolves to { port, hits(), close() }. */
function startStandin(port = 0) {
  let hits = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://standin');
    if (url.pathname === '/delay') {
      hits += 1;
      const ms = Number(url.searchParams.get('ms') ?? 0);
      setTimeout(() => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': BODY.length });
        res.end(BODY);
      }, ms);
    } else if (url.pathname === '/stats') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ hits }));
    } else {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"error":"not found"}');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve({
        port: server.address().port,
        hits: () => hits,
        close: () => {
          server.closeAllConnections();
          return new Promise((done) => server.close(done));
        },
      });
    });
  });
}

if (require.main === module) {
  startStandin(Number(process.argv[2] ?? 41000)).then(({ port }) => {
    console.log(`upstream stand-in on http://127.0.0.1:${port}`);
  });
}

module.exports = { startStandin, BODY_BYTES };
