// E-coldstart's serverless case for NestJS: Nest on its default platform (Express) with one
// controller serving /health, nothing of the contract's endpoint logic (lib/), as a function's
// handler module would be. Compiled with main.ts; one process.

import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

@Controller()
class HealthController {
  @Get('health')
  health() {
    return { status: 'ok', stack: process.env.STACK || 'nestjs' };
  }
}

@Module({ controllers: [HealthController] })
class MinimalModule {}

async function main() {
  const app = await NestFactory.create(MinimalModule, { logger: false });
  await app.listen(Number(process.env.PORT), process.env.HOST || '127.0.0.1');
}

main().catch((err: Error) => {
  console.error(`error: ${err.message}`);
  process.exit(1);
});
