'use strict';
// E-coldstart's serverless case for Fastify: the framework and its /health route, nothing of the
// contract's endpoint logic (lib/), as a function's handler module would be. One process.

const fastify = require('fastify');

const app = fastify();
app.get('/health', async () => ({ status: 'ok', stack: process.env.STACK || 'fastify' }));
app.listen({ port: Number(process.env.PORT), host: process.env.HOST || '127.0.0.1' }).catch((err) => {
  console.error(`error: cannot listen: ${err.message}`);
  process.exit(2);
});
