import 'reflect-metadata';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CacheInterceptor, CacheModule, CacheTTL } from '@nestjs/cache-manager';
import { Controller, Get, Module, UseInterceptors } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cacheable, DynamoCacheModule } from 'nest-dynamo-cache';

/**
 * The app the HTTP benchmark loads, in a process of its own so that the load generator does not
 * share its event loop: one answer (a small API response) through three routes of the same app.
 */
const answer = { items: Array.from({ length: 10 }, (_, id) => ({ id, name: `item ${id}`, price: id * 1.5, tags: ['a', 'b'] })) };

@Controller()
class BenchController {
  @Get('plain')
  plain() {
    return answer;
  }

  @Get('cacheable')
  @Cacheable({ ttl: 600_000 })
  cacheable() {
    return answer;
  }

  @Get('nest-cache-manager')
  @UseInterceptors(CacheInterceptor)
  @CacheTTL(600_000)
  nestCacheManager() {
    return answer;
  }
}

@Module({
  imports: [
    CacheModule.register(),
    DynamoCacheModule.forRoot({
      tableName: process.env.BENCH_TABLE!,
      client: new DynamoDBClient({
        endpoint: process.env.DYNAMODB_ENDPOINT,
        region: 'us-east-1',
        credentials: { accessKeyId: 'b', secretAccessKey: 'b' },
      }),
      partitionKeyName: 'pk',
      ttlAttributeName: 'ttl',
      partitionKeyPrefix: 'http:',
    }),
  ],
  controllers: [BenchController],
})
class BenchAppModule {}

const app = await NestFactory.create(BenchAppModule, { logger: ['error'] });
await app.listen(0, '127.0.0.1');
const address = app.getHttpServer().address() as { port: number };
process.send!({ port: address.port });
process.on('message', async (message) => {
  if (message === 'stop') {
    await app.close();
    process.exit(0);
  }
});
