'use strict';
// E-coldstart's serverless case for Express: the framework and its /health route, nothing of the
// contract's endpoint logic (lib/), as a function's handler module would be. One process; the
// supervisor gives HOST, PORT and STACK as it does to server.js.

const express = require('express');

const app = express();
app.disable('x-powered-by');
app.get('/health', (req, res) => res.json({ status: 'ok', stack: process.env.STACK || 'express' }));
app.listen(Number(process.env.PORT), process.env.HOST || '127.0.0.1');
