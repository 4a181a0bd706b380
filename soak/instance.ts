import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../sample/app.module.js';
import { configureApp } from '../sample/configure-app.js';

/**
 * One instance of the sample app for the soak run, in a process of its own. It counts unhandled
 * rejections and uncaught exceptions, and answers the harness over IPC: `measure` (RSS after a
 * full GC) and `faults`.
 */
let faults = 0;
process.on('unhandledRejection', (reason) => {
  faults++;
  console.error('unhandled rejection', reason);
});
process.on('uncaughtException', (error) => {
  faults++;
  console.error('uncaught exception', error);
});

async function main() {
  const app = await NestFactory.create(
    AppModule.register({
      tableName: process.env.CACHE_TABLE!,
      endpoint: process.env.DYNAMODB_ENDPOINT!,
      region: 'us-east-1',
      credentials: { accessKeyId: 'soak', secretAccessKey: 'soak' },
      partitionKeyName: 'pk',
      ttlAttributeName: 'ttl',
      ...(process.env.SOAK_BACKPLANE === 'streams' || process.env.SOAK_BACKPLANE === 'poll'
        ? { backplane: { type: process.env.SOAK_BACKPLANE } }
        : {}),
    }),
    { logger: ['error'] },
  );
  configureApp(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  process.on('message', (message: string) => {
    if (message === 'measure') {
      (globalThis as { gc?: () => void }).gc?.();
      const { rss, heapUsed } = process.memoryUsage();
      process.send!({ rss, heapUsed });
    } else if (message === 'faults') {
      process.send!({ faults });
    } else if (message === 'stop') {
      void app.close().then(() => process.exit(0));
    }
  });
  process.send!({ port });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
