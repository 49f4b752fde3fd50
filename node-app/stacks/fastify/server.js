'use strict';
// The Fastify 5 stack: routes the endpoint table (lib/endpoints.js) through Fastify, with a JSON
// response schema per route so Fastify serializes with its own compiled serializer
// (fast-json-stringify), as Fastify's documentation advises for speed. Environment, process
// layout and the server's life are lib/config.js, lib/cluster.js and lib/serve.js (Fastify gets
// the node:http server through its serverFactory); the answers are lib/logic.js and
// lib/upstream.js. Production settings are explained in node-app/README.md.

const http = require('node:http');
const Fastify = require('fastify');
const { readConfig, ConfigError } = require('../../lib/config');
const { runWorkers } = require('../../lib/cluster');
const { createEndpoints } = require('../../lib/endpoints');
const { HttpError, LIMITS } = require('../../lib/logic');
const { listen, clientErrorResponder } = require('../../lib/serve');
const { createUpstream } = require('../../lib/upstream');

const SERVER_HEADER = 'fastify';

const integer = { type: 'integer' };
const string = { type: 'string' };
const object = (properties) => ({ type: 'object', properties, required: Object.keys(properties) });

/**
 * The 200 body of each JSON route, for fast-json-stringify. Properties are listed in the
 * contract's key order, which is the order the serializer writes them in.
 */
const RESPONSE_SCHEMAS = {
  '/health': object({ status: string, stack: string }),
  '/json': object({ message: string }),
  '/io/sleep': object({ slept_ms: integer }),
  '/io/upstream': object({ calls: integer, ms: integer, bytes: integer }),
  '/cpu/fib': object({ n: integer, value: integer }),
  '/cpu/json': object({
    order_count: integer,
    item_count: integer,
    total_cents: integer,
    customers: {
      type: 'array',
      items: object({ customer: string, orders: integer, items: integer, total_cents: integer }),
    },
  }),
  '/cpu/hash': object({ rounds: integer, digest: string }),
  '/cpu/matmul': object({ n: integer, impl: string, checksum: integer }),
};

// The methods a path outside its own list answers 405 to. HEAD is Fastify's own for GET routes.
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

const INPUTS = {
  none: () => undefined,
  query: (req) => req.query,
  json: (req) => req.body,
};

/** The Fastify instance for `endpoints`, configured as the benchmark runs it (not yet ready). */
function buildApp(endpoints) {
  const app = Fastify({
    logger: false,
    bodyLimit: LIMITS.jsonBodyBytes,
    // JSON.parse's semantics, as the other Node stacks have: "__proto__" is only a key.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    serverFactory: (handler) => http.createServer(handler),
    clientErrorHandler: clientErrorResponder(SERVER_HEADER),
  });
  // Only application/json bodies: any other media type is Fastify's 415, which the contract
  // answers as 400 (errorHandler below).
  app.removeContentTypeParser(['text/plain']);

  app.addHook('onRequest', (req, reply, done) => {
    reply.header('server', SERVER_HEADER);
    done();
  });

  const byPath = new Map();
  for (const endpoint of endpoints) {
    if (!byPath.has(endpoint.path)) byPath.set(endpoint.path, []);
    byPath.get(endpoint.path).push(endpoint);
    app.route({
      method: endpoint.method,
      url: endpoint.path,
      schema: endpoint.type === 'json' ? { response: { 200: RESPONSE_SCHEMAS[endpoint.path] } } : undefined,
      handler: routeHandler(endpoint),
    });
  }
  for (const [path, group] of byPath) {
    const own = group.map((endpoint) => endpoint.method);
    const others = METHODS.filter((m) => !own.includes(m) && !(m === 'HEAD' && own.includes('GET')));
    const allow = own.join(', ');
    app.route({
      method: others,
      url: path,
      handler: (req, reply) => {
        reply.code(405).header('allow', allow).send({ error: 'method not allowed' });
      },
    });
  }

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: 'not found' });
  });
  app.setErrorHandler(errorHandler);
  return app;
}

function routeHandler(endpoint) {
  const input = INPUTS[endpoint.input];
  const text = endpoint.type === 'text';
  return (req, reply) => {
    const result = endpoint.handle(input(req));
    // Only the io handlers return promises; Fastify sends what they resolve to.
    if (result instanceof Promise) return result;
    if (text) reply.type('text/plain; charset=utf-8');
    reply.send(result);
    return reply;
  };
}

/** Every error becomes {"error": "..."}: never Fastify's own error shape, never a stack trace. */
function errorHandler(err, req, reply) {
  const [status, message] = describeError(err, req);
  reply.code(status).send({ error: message });
}

function describeError(err, req) {
  if (err instanceof HttpError) return [err.status, err.message];
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return [413, `request body exceeds ${LIMITS.jsonBodyBytes} bytes`];
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return [400, `Content-Type must be application/json, got ${req.headers['content-type'] ?? 'none'}`];
  }
  // Malformed or empty JSON, a bad charset, an aborted upload: the contract only knows 400.
  if (err.statusCode >= 400 && err.statusCode < 500) return [400, err.message];
  console.error(err);
  return [500, 'internal error'];
}

function main() {
  const config = readConfig(process.env, { defaultStack: 'fastify' });
  runWorkers({ workers: config.workers, name: config.stack, host: config.host, port: config.port }, () => {
    const upstream = createUpstream(config.upstreamUrl);
    const app = buildApp(createEndpoints({ stack: config.stack, upstream, groups: ['http'] }));
    app.ready().then(
      () => listen(app.server, { host: config.host, port: config.port, name: config.stack }),
      (err) => {
        console.error(`error: ${config.stack} could not start: ${err.message}`);
        process.exit(1);
      },
    );
  });
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`error: ${err.message}`);
    process.exit(2);
  }
}

module.exports = { buildApp };
