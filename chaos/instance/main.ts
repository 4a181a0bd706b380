import 'reflect-metadata';
import { type DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { CACHE, type CacheEvent, type DynamoCache, DynamoCacheModule, DynamoCacheRegistry } from '../../src/index.js';
import { type InstanceConfig, type InstanceMessage, type RunnerMessage, moduleOptions } from './instance-config.js';
import { Recorder } from './recorder.js';
import { ChaosFactoryError, Workload } from './workload.js';

/**
 * One instance of a chaos run, in a process of its own (the runner freezes, kills and replaces it):
 * an app context whose module imports `DynamoCacheModule.forRoot`, the cache taken by the `CACHE`
 * token, and the workload run on it until the runner says finish.
 */
@Module({})
class ChaosInstanceModule {
  static register(config: InstanceConfig): DynamicModule {
    return { module: ChaosInstanceModule, imports: [DynamoCacheModule.forRoot(moduleOptions(config))] };
  }
}

const send = (message: InstanceMessage) => new Promise<void>((resolve) => process.send!(message, undefined, {}, () => resolve()));

async function main() {
  const config = JSON.parse(process.env.CHAOS_INSTANCE!) as InstanceConfig;
  // An orphan (the runner died) has no one to answer to.
  process.on('disconnect', () => process.exit(2));
  const recorder = new Recorder(config.historyFile);
  const app = await NestFactory.createApplicationContext(ChaosInstanceModule.register(config), { logger: ['error', 'warn'] });
  const cache = app.get<DynamoCache>(CACHE);
  const registry = app.get(DynamoCacheRegistry);
  cache.on('cache:error', (event: CacheEvent) => {
    // A factory's failure is the workload's own, not DynamoDB's.
    if (event.error instanceof ChaosFactoryError) return;
    recorder.write({ t: 'error', instance: config.id, at: Date.now(), name: (event.error as Error)?.name ?? 'Error' });
  });
  const workload = new Workload(cache, recorder, config.id, config.seed, config.workload, config.options);

  process.on('message', (message: RunnerMessage) => {
    if (message.type === 'start') workload.start(message.deadline);
    else if (message.type === 'stats') {
      const stats = registry.backplane?.stats();
      void send({ type: 'stats', role: stats?.role, state: stats?.state, lagMs: stats?.lagMs });
    } else if (message.type === 'finish') void finish(message.graceMs, message.closeWaitMs);
  });

  const finish = async (graceMs: number, closeWaitMs: number) => {
    const unfinished = await workload.stop(graceMs);
    const closing = Date.now();
    const closed = await Promise.race([app.close().then(() => true), sleep(closeWaitMs).then(() => false)]);
    recorder.close();
    await send({ type: 'finished', unfinished, closeTimedOut: !closed, ...(closed ? { closeMs: Date.now() - closing } : {}) });
    process.exit(0);
  };
  await send({ type: 'ready' });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
