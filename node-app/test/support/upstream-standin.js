'use strict';
// A loopback stand-in for claimbench-upstream (crates/upstream), so node-app's tests need no Rust
// build: GET /delay?ms=D answers after D ms with the same fixed 81-byte body, GET /stats reports
// {"delay_requests":N,"connections":M} like the real one. It checks nothing the apps send; the
// real service and `claimbench verify` do that. Run it alone with
// `node test/support/upstream-standin.js [port]`.

const http = require('node:http');

// Byte for byte the real service's BODY; its length is the contract's upstream_body_bytes.
const BODY = Buffer.from('{"ok":true,"from":"claimbench-upstream","pad":"0123456789abcdef0123456789abcdef"}');

/** Starts the stand-in on 127.0.0.1:port (0 = any free port). */
function startStandin(port = 0) {
  let delayRequests = 0;
  let connections = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://standin');
    if (url.pathname === '/delay') {
      delayRequests += 1;
      setTimeout(() => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': BODY.length });
        res.end(BODY);
      }, Number(url.searchParams.get('ms') ?? 0));
    } else if (url.pathname === '/stats') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ delay_requests: delayRequests, connections }));
    } else {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"error":"not found"}');
    }
  });
  server.on('connection', () => (connections += 1));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve({
        port: server.address().port,
        delayRequests: () => delayRequests,
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
    console.log(`upstream stand-in listening on http://127.0.0.1:${port}`);
  });
}

module.exports = { startStandin, BODY };
