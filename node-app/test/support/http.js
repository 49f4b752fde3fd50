'use strict';
// A bare node:http client for tests: sends exactly the headers and body given, and returns the
// status, headers, raw body and elapsed time, so tests see what a load generator would.

const http = require('node:http');

const agent = new http.Agent({ keepAlive: true });

function request(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        resolve({
          status: res.statusCode,
          headers: res.headers,
          body: raw.toString('utf8'),
          bytes: raw.length,
          elapsedMs: Number(process.hrtime.bigint() - started) / 1e6,
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

module.exports = { request, agent };
