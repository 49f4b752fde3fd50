'use strict';
// The bare node:http stack, the runtime's floor: no framework, only a lookup of the endpoint
// table (lib/endpoints.js) by path and method, node:querystring for the query, a bounded body
// read for POST /cpu/json, and JSON.stringify. Environment, process layout and the server's life
// are lib/config.js, lib/cluster.js and lib/serve.js, exactly as for Express; the answers are
// lib/logic.js and lib/upstream.js. Production settings are explained in node-app/README.md.

const querystring = require('node:querystring');
const { readConfig, ConfigError } = require('../../lib/config');
const { runWorkers } = require('../../lib/cluster');
const { createEndpoints } = require('../../lib/endpoints');
const { HttpError, LIMITS } = require('../../lib/logic');
const { serve } = require('../../lib/serve');
const { createUpstream } = require('../../lib/upstream');

const SERVER_HEADER = 'node';

const MEDIA = { json: 'application/json; charset=utf-8', text: 'text/plain; charset=utf-8' };

function send(res, status, type, body, extraHeaders) {
  const bytes = Buffer.from(body);
  res.writeHead(status, {
    Server: SERVER_HEADER,
    'Content-Type': MEDIA[type],
    'Content-Length': bytes.length,
    ...extraHeaders,
  });
  res.end(bytes);
}

const sendError = (res, status, message, extraHeaders) =>
  send(res, status, 'json', JSON.stringify({ error: message }), extraHeaders);

/** The whole body of a JSON request, refusing other media types (400) and more than the limit (413). */
function readJsonBody(req) {
  const type = req.headers['content-type'];
  if (type === undefined || type.split(';', 1)[0].trim().toLowerCase() !== 'application/json') {
    return Promise.reject(new HttpError(400, `Content-Type must be application/json, got ${type ?? 'none'}`));
  }
  const tooLarge = () => new HttpError(413, `request body exceeds ${LIMITS.jsonBodyBytes} bytes`);
  const declared = Number(req.headers['content-length']);
  if (declared > LIMITS.jsonBodyBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk) => {
      if (refused) return;
      size += chunk.length;
      if (size > LIMITS.jsonBodyBytes) {
        // Keep draining (not pause): the 413 can then be sent on a connection that stays usable.
        refused = true;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) return;
      let doc;
      try {
        doc = JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
      } catch (err) {
        reject(new HttpError(400, `malformed JSON: ${err.message}`));
        return;
      }
      resolve(doc);
    });
    req.on('error', reject);
  });
}

/** The request listener: one Map lookup by path, then by method. */
function buildListener(endpoints) {
  const routes = new Map();
  for (const endpoint of endpoints) {
    if (!routes.has(endpoint.path)) routes.set(endpoint.path, new Map());
    routes.get(endpoint.path).set(endpoint.method, endpoint);
  }
  const allow = new Map([...routes].map(([path, methods]) => [path, [...methods.keys()].join(', ')]));

  const fail = (res, err) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof HttpError) return sendError(res, err.status, err.message);
    console.error(err);
    sendError(res, 500, 'internal error');
  };

  return (req, res) => {
    const mark = req.url.indexOf('?');
    const path = mark === -1 ? req.url : req.url.slice(0, mark);
    const methods = routes.get(path);
    if (methods === undefined) return sendError(res, 404, 'not found');
    const endpoint = methods.get(req.method);
    if (endpoint === undefined) return sendError(res, 405, 'method not allowed', { Allow: allow.get(path) });

    const respond = (value) =>
      send(res, 200, endpoint.type, endpoint.type === 'json' ? JSON.stringify(value) : value);
    try {
      let result;
      if (endpoint.input === 'json') {
        result = readJsonBody(req).then((doc) => endpoint.handle(doc));
      } else {
        const query = endpoint.input === 'query' && mark !== -1 ? querystring.parse(req.url.slice(mark + 1)) : {};
        result = endpoint.handle(query);
      }
      if (result instanceof Promise) result.then(respond, (err) => fail(res, err));
      else respond(result);
    } catch (err) {
      fail(res, err);
    }
  };
}

function main() {
  const config = readConfig(process.env, { defaultStack: 'node-http' });
  runWorkers({ workers: config.workers, name: config.stack, host: config.host, port: config.port }, () => {
    const upstream = createUpstream(config.upstreamUrl);
    const listener = buildListener(createEndpoints({ stack: config.stack, upstream, groups: ['http'] }));
    serve(listener, { host: config.host, port: config.port, serverHeader: SERVER_HEADER, name: config.stack });
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

module.exports = { buildListener };
