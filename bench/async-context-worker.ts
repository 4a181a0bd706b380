import 'reflect-metadata';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DynamoCache } from 'nest-dynamo-cache';
import { DynamoStore } from 'nest-dynamo-cache/store';
import { performance } from 'node:perf_hooks';

/**
 * One trial of the async-context benchmark, in a process of its own (async hooks, once on, stay on
 * for the process): a promise-heavy workload timed in rounds, then one cache call (BENCH_ARM: `miss`
 * is a first getOrSet miss, whose factory runs; `miss-detecting` the same on a cache with
 * `detectRecursiveFactories: true`; `control` a set, which runs none), then the same rounds again.
 * Sends its medians to the parent.
 */
export interface TrialResult {
  readonly node: string;
  readonly beforeMs: number;
  readonly afterMs: number;
}

// Enough for the JIT to settle on Nest's and Fastify's paths: with 10, later rounds of the control ran up to 20 % faster.
const WARM_UP_ROUNDS = 40;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);

async function leaf(n: number): Promise<number> {
  return n + 1;
}

async function middle(n: number): Promise<number> {
  const a = await leaf(n);
  const b = await leaf(a);
  return a + b;
}

/** Plain async code: awaits three deep and small Promise.alls, as a service layer makes them. */
async function loopRound(): Promise<number> {
  let sum = 0;
  for (let i = 0; i < 5_000; i++) {
    sum += await middle(i);
    const [x] = await Promise.all([leaf(i), middle(i), leaf(i + 1)]);
    sum += x;
  }
  return sum;
}

@Injectable()
class Users {
  async find(id: number) {
    await Promise.resolve();
    return { id, name: `user ${id}`, roles: await Promise.all([leaf(id), leaf(id + 1)]) };
  }
}

@Controller()
class UsersController {
  constructor(private readonly users: Users) {}

  @Get('users')
  async list() {
    return Promise.all([1, 2, 3, 4].map((id) => this.users.find(id)));
  }
}

@Module({ controllers: [UsersController], providers: [Users] })
class UsersModule {}

/** A Nest Fastify app's route, injected (no socket): Nest's router, pipes and an async handler. */
async function nestWorkload(): Promise<{ round(): Promise<unknown>; close(): Promise<void> }> {
  const app = await NestFactory.create<NestFastifyApplication>(UsersModule, new FastifyAdapter(), { logger: false });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const fastify = app.getHttpAdapter().getInstance();
  return {
    async round() {
      for (let batch = 0; batch < 50; batch++) {
        await Promise.all(Array.from({ length: 8 }, () => fastify.inject({ method: 'GET', url: '/users' })));
      }
    },
    close: () => app.close(),
  };
}

async function timedRounds(round: () => Promise<unknown>, count: number): Promise<number> {
  const times: number[] = [];
  for (let index = 0; index < count; index++) {
    const start = performance.now();
    await round();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function main() {
  const client = new DynamoDBClient({
    endpoint: process.env.DYNAMODB_ENDPOINT,
    region: 'us-east-1',
    credentials: { accessKeyId: 'b', secretAccessKey: 'b' },
  });
  const store = new DynamoStore({
    tableName: process.env.BENCH_TABLE!,
    client,
    partitionKeyName: 'pk',
    ttlAttributeName: 'ttl',
    partitionKeyPrefix: 'async-context:',
  });
  const cache = new DynamoCache(store, process.env.BENCH_ARM === 'miss-detecting' ? { detectRecursiveFactories: true } : {});
  // Connected and its tag times read before the first timing: the cache call itself is not timed.
  const key = `${process.pid}-${Date.now()}`;
  await cache.get(`${key}-warm`);
  const workload = process.env.BENCH_WORKLOAD === 'nest' ? await nestWorkload() : { round: loopRound, close: async () => {} };
  await timedRounds(workload.round, WARM_UP_ROUNDS);
  const beforeMs = await timedRounds(workload.round, ROUNDS);
  if (process.env.BENCH_ARM !== 'control') await cache.getOrSet(key, async () => 'computed', { ttl: 60_000 });
  else await cache.set(key, 'written', { ttl: 60_000 });
  const afterMs = await timedRounds(workload.round, ROUNDS);
  await workload.close();
  await cache.disconnect();
  client.destroy();
  const result: TrialResult = { node: process.version, beforeMs, afterMs };
  process.send!(result, () => process.exit(0));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
