'use strict';
// E-coldstart's serverless case with no framework: node:http and /health alone, nothing of the
// contract's endpoint logic (lib/). One process.

const http = require('node:http');

const body = JSON.stringify({ status: 'ok', stack: process.env.STACK || 'node-http' });
http
  .createServer((req, res) => {
    const health = req.method === 'GET' && req.url === '/health';
    res.writeHead(health ? 200 : 404, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(health ? body : '{"error":"not found"}');
  })
  .listen(Number(process.env.PORT), process.env.HOST || '127.0.0.1');
