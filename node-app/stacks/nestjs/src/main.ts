// The NestJS stack, on Nest's default platform (Express): one controller whose routes call the
// endpoint table (lib/endpoints.js), one exception filter that turns every error into the
// contract's {"error": ...}, and nothing else. Environment, process layout and the server's life
// are lib/config.js, lib/cluster.js and lib/serve.js, as for the other Node stacks (Nest is
// initialised, then its Express instance is served as a request listener); the answers are
// lib/logic.js and lib/upstream.js. Compiled with tsc during the first-use install
// (`npm run build`) and run with plain node; production settings are in node-app/README.md.

import 'reflect-metadata';
import {
  All,
  ArgumentsHost,
  Body,
  Catch,
  Controller,
  ExceptionFilter,
  Get,
  Header,
  HttpCode,
  HttpException,
  Inject,
  Module,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, NestExpressApplication } from '@nestjs/platform-express';
import express = require('express');

// The shared Node code is CommonJS JavaScript; its shapes are described where they are used.
/* eslint-disable @typescript-eslint/no-require-imports */
const { readConfig, ConfigError } = require('../../../lib/config');
const { runWorkers } = require('../../../lib/cluster');
const { createEndpoints } = require('../../../lib/endpoints');
const { HttpError, LIMITS } = require('../../../lib/logic');
const { serve } = require('../../../lib/serve');
const { createUpstream } = require('../../../lib/upstream');

const SERVER_HEADER = 'nestjs';

interface Endpoint {
  method: string;
  path: string;
  handle: (input: unknown) => unknown;
}

/** The endpoint table, keyed "METHOD /path", as the controller's provider. */
const ENDPOINTS = Symbol('endpoints');
type Table = Map<string, Endpoint>;

/** Every path of the table, for the 405 route (the handlers are not called here). */
const PATHS: string[] = [...new Set<string>(createEndpoints({ stack: '', upstream: null, groups: ['http'] }).map((e: Endpoint) => e.path))];

@Controller()
class ContractController {
  constructor(@Inject(ENDPOINTS) private readonly table: Table) {}

  private call(key: string, input?: unknown): unknown {
    return this.table.get(key)!.handle(input);
  }

  @Get('health')
  health() {
    return this.call('GET /health');
  }

  @Get('json')
  json() {
    return this.call('GET /json');
  }

  @Get('plaintext')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  plaintext() {
    return this.call('GET /plaintext');
  }

  @Get('io/sleep')
  sleep(@Query() query: unknown) {
    return this.call('GET /io/sleep', query);
  }

  @Get('io/upstream')
  upstream(@Query() query: unknown) {
    return this.call('GET /io/upstream', query);
  }

  @Get('cpu/fib')
  fib(@Query() query: unknown) {
    return this.call('GET /cpu/fib', query);
  }

  @Post('cpu/json')
  @HttpCode(200)
  orders(@Req() req: express.Request, @Body() body: unknown) {
    // express.json() skips other media types, leaving no body; the contract wants a 400.
    if (!req.is('application/json')) {
      const got = req.headers['content-type'];
      throw new HttpError(400, `Content-Type must be application/json, got ${got ?? 'none'}`);
    }
    return this.call('POST /cpu/json', body);
  }

  @Get('cpu/hash')
  hash(@Query() query: unknown) {
    return this.call('GET /cpu/hash', query);
  }

  @Get('cpu/matmul')
  matmul(@Query() query: unknown) {
    return this.call('GET /cpu/matmul', query);
  }

  // Declared last, so it only sees the methods the routes above did not take.
  @All(PATHS.map((p) => p.slice(1)))
  notAllowed(@Req() req: express.Request, @Res() res: express.Response) {
    const allow = [...this.table.values()].filter((e) => e.path === req.path).map((e) => e.method);
    res.set('Allow', allow.join(', ')).status(405).json({ error: 'method not allowed' });
  }
}

/** Every error becomes {"error": "..."}: never Nest's {statusCode, message}, never a stack trace. */
@Catch()
class ContractErrors implements ExceptionFilter {
  catch(err: unknown, host: ArgumentsHost) {
    const res = host.switchToHttp().getResponse<express.Response>();
    const [status, message] = describeError(err);
    res.status(status).json({ error: message });
  }
}

function describeError(err: any): [number, string] {
  if (err instanceof HttpError) return [err.status, err.message];
  if (err instanceof HttpException) {
    const status = err.getStatus();
    if (status === 404) return [404, 'not found'];
    if (status === 413) return [413, `request body exceeds ${LIMITS.jsonBodyBytes} bytes`];
    if (status >= 400 && status < 500) return [400, err.message];
  }
  // body-parser's own errors (they reach the Express error middleware below).
  if (err?.type === 'entity.too.large') return [413, `request body exceeds ${LIMITS.jsonBodyBytes} bytes`];
  if (err?.type === 'entity.parse.failed') return [400, `malformed JSON: ${err.message}`];
  if (err?.expose && err.status >= 400 && err.status < 500) return [400, err.message];
  console.error(err);
  return [500, 'internal error'];
}

/** The Express instance Nest runs on, with Nest initialised on it, ready to serve. */
async function buildApp(endpoints: Endpoint[]): Promise<express.Express> {
  const instance = express();
  instance.disable('x-powered-by');
  instance.disable('etag');
  instance.set('query parser', 'simple');
  instance.use((req, res, next) => {
    res.setHeader('Server', SERVER_HEADER);
    next();
  });

  @Module({
    controllers: [ContractController],
    providers: [{ provide: ENDPOINTS, useValue: new Map(endpoints.map((e) => [`${e.method} ${e.path}`, e])) }],
  })
  class AppModule {}

  const app = await NestFactory.create<NestExpressApplication>(AppModule, new ExpressAdapter(instance), {
    bodyParser: false,
    logger: ['error', 'warn'],
  });
  app.useBodyParser('json', { limit: LIMITS.jsonBodyBytes });
  app.useGlobalFilters(new ContractErrors());
  await app.init();
  // body-parser fails before any route, so its errors arrive here rather than at the filter.
  instance.use((err: unknown, req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(err);
    const [status, message] = describeError(err);
    res.status(status).json({ error: message });
  });
  return instance;
}

function main() {
  const config = readConfig(process.env, { defaultStack: 'nestjs' });
  runWorkers({ workers: config.workers, name: config.stack, host: config.host, port: config.port }, () => {
    const upstream = createUpstream(config.upstreamUrl);
    buildApp(createEndpoints({ stack: config.stack, upstream, groups: ['http'] })).then(
      (instance) => serve(instance, { host: config.host, port: config.port, serverHeader: SERVER_HEADER, name: config.stack }),
      (err: Error) => {
        console.error(`error: ${config.stack} could not start: ${err.message}`);
        process.exit(1);
      },
    );
  });
}

try {
  main();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`error: ${(err as Error).message}`);
  process.exit(2);
}
