import 'reflect-metadata';
import { Body, Controller, Get, Inject, Module, Param, Put } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CACHE, type CacheEvent, type DynamoCache, DynamoCacheModule, DynamoCacheRegistry } from '../../src/index.js';

/**
 * One instance of a service in a process of its own, at the module's defaults (memory tier on, the
 * streams backplane at its default intervals), for tests that freeze it with SIGSTOP as an
 * orchestrator or Lambda would. It answers which tier served each read.
 */
@Controller()
class ValuesController {
  private lastTier?: string;

  constructor(
    @Inject(CACHE) private readonly cache: DynamoCache,
    private readonly registry: DynamoCacheRegistry,
  ) {
    cache.on('cache:hit', (event: CacheEvent) => (this.lastTier = event.tier));
  }

  @Get('values/:key')
  async read(@Param('key') key: string) {
    this.lastTier = undefined;
    const value: unknown = await this.cache.get(key);
    return { value: value ?? null, tier: this.lastTier ?? 'miss' };
  }

  @Put('values/:key')
  async write(@Param('key') key: string, @Body() body: { value: unknown }) {
    await this.cache.set(key, body.value, 3_600_000);
    return { written: true };
  }

  @Get('backplane')
  backplane() {
    return this.registry.backplane!.stats();
  }
}

@Module({
  imports: [
    DynamoCacheModule.forRoot({
      tableName: process.env.CACHE_TABLE!,
      endpoint: process.env.DYNAMODB_ENDPOINT!,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      partitionKeyName: 'pk',
      ttlAttributeName: 'ttl',
      backplane: { type: 'streams' },
    }),
  ],
  controllers: [ValuesController],
})
class FrozenInstanceModule {}

async function main() {
  const app = await NestFactory.create(FrozenInstanceModule, { logger: ['error'] });
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  process.on('message', (message: string) => {
    if (message === 'stop') void app.close().then(() => process.exit(0));
  });
  process.send!({ port });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
