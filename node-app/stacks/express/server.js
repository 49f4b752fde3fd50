'use strict';
// The Express 5 stack: routes the endpoint table (lib/endpoints.js) through Express and
// serializes the results; nothing else. Environment, process layout and the server's life are
// lib/config.js, lib/cluster.js and lib/serve.js; the WebSocket paths are lib/realtime.js on the
// same server; the answers themselves are lib/logic.js and
// lib/upstream.js. Production settings are explained in node-app/README.md.

const express = require('express');
const { readConfig, ConfigError } = require('../../lib/config');
const { runWorkers } = require('../../lib/cluster');
const { databaseEndpoints, poolFromEnv } = require('../../lib/db');
const { createEndpoints } = require('../../lib/endpoints');
const { HttpError, LIMITS } = require('../../lib/logic');
const { attachRealtime } = require('../../lib/realtime');
const { serve } = require('../../lib/serve');
const { createUpstream } = require('../../lib/upstream');

const SERVER_HEADER = 'express';

/** The Express application for `endpoints`, configured as the benchmark runs it. */
function buildApp(endpoints) {
  const app = express();
  app.disable('x-powered-by');
  // No ETag: it would hash every body (a cost on /json that TechEmpower's Express entry avoids
  // too) and nothing in the benchmark revalidates.
  app.disable('etag');
  // node:querystring, Express 5's default, named so a future default change cannot slip in
  // qs's nested objects; repeated keys become arrays, and logic.firstValue picks the first.
  app.set('query parser', 'simple');
  // Exact paths only: /json/ and /JSON are outside the contract, so they get its 404.
  app.enable('strict routing');
  app.enable('case sensitive routing');

  app.use((req, res, next) => {
    res.setHeader('Server', SERVER_HEADER);
    next();
  });

  for (const [path, group] of groupByPath(endpoints)) {
    const route = app.route(path);
    for (const endpoint of group) route[endpoint.method.toLowerCase()](...routeHandlers(endpoint));
    route.all(methodNotAllowed(group.map((endpoint) => endpoint.method)));
  }

  app.use((req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use(errorHandler);
  return app;
}

function groupByPath(endpoints) {
  const groups = new Map();
  for (const endpoint of endpoints) {
    if (!groups.has(endpoint.path)) groups.set(endpoint.path, []);
    groups.get(endpoint.path).push(endpoint);
  }
  return groups;
}

const INPUTS = {
  none: () => undefined,
  query: (req) => req.query,
  json: (req) => req.body,
  stream: (req) => req,
};

const SENDERS = {
  json: (res, value) => res.json(value),
  text: (res, value) => res.type('text/plain').send(value),
  html: (res, value) => res.type('text/html; charset=utf-8').send(value),
  // The handler has written the body itself.
  stream: () => {},
};

/** The middleware chain for one endpoint: body parsing where it takes JSON, then the handler. */
function routeHandlers(endpoint) {
  const input = INPUTS[endpoint.input];
  const send = SENDERS[endpoint.type];
  if (endpoint.input === 'query-response') {
    // Express 5 routes the rejection to errorHandler: a 400 before any header went out, else a cut connection.
    return [(req, res) => endpoint.handle(req.query, res)];
  }
  const handler = (req, res) => {
    const result = endpoint.handle(input(req));
    // Only the io handlers return promises; Express 5 routes their rejections to errorHandler.
    if (result instanceof Promise) return result.then((value) => send(res, value));
    send(res, result);
  };
  if (endpoint.input !== 'json') return [handler];
  return [requireJsonBody, express.json({ limit: LIMITS.jsonBodyBytes }), handler];
}

// express.json() silently skips other content types; the contract wants a 400 for them.
function requireJsonBody(req, res, next) {
  const isJson = req.is('application/json');
  if (isJson) return next();
  const got = req.headers['content-type'];
  next(
    new HttpError(
      400,
      isJson === null
        ? 'missing request body: expected Content-Type application/json'
        : `Content-Type must be application/json, got ${got === undefined ? 'none' : got}`,
    ),
  );
}

function methodNotAllowed(methods) {
  const allow = methods.join(', ');
  return (req, res) => {
    res.set('Allow', allow).status(405).json({ error: 'method not allowed' });
  };
}

/** Every error becomes {"error": "..."}: never Express's HTML page, never a stack trace. */
function errorHandler(err, req, res, next) {
  if (res.headersSent) return next(err); // Express then closes the connection; nothing else to do.
  const [status, message] = describeError(err);
  res.status(status).json({ error: message });
}

function describeError(err) {
  if (err instanceof HttpError) return [err.status, err.message];
  // body-parser tags its errors with a type.
  if (err.type === 'entity.too.large') return [413, `request body exceeds ${LIMITS.jsonBodyBytes} bytes`];
  if (err.type === 'entity.parse.failed') return [400, `malformed JSON: ${err.message}`];
  // Any other client error from Express or body-parser (an unsupported charset or encoding, an
  // aborted upload, an undecodable path): the contract only knows 400 for those.
  if (err.expose && err.status >= 400 && err.status < 500) return [400, err.message];
  console.error(err);
  return [500, 'internal error'];
}

function main() {
  const config = readConfig(process.env, { defaultStack: 'express' });
  runWorkers({ workers: config.workers, name: config.stack, host: config.host, port: config.port }, () => {
    const upstream = createUpstream(config.upstreamUrl);
    const endpoints = [...createEndpoints({ stack: config.stack, upstream }), ...databaseEndpoints(poolFromEnv())];
    const app = buildApp(endpoints);
    const server = serve(app, { host: config.host, port: config.port, serverHeader: SERVER_HEADER, name: config.stack });
    attachRealtime(server, { serverHeader: SERVER_HEADER });
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
