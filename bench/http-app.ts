import 'reflect-metadata';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import KeyvRedis from '@keyv/redis';
import { CacheInterceptor, CacheModule, CacheTTL } from '@nestjs/cache-manager';
import { Controller, Get, Inject, Module, type ModuleMetadata, UseInterceptors } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CACHE, Cacheable, DynamoCache, DynamoCacheModule } from 'nest-dynamo-cache';
import { apiResponse } from './api-response.js';
import type { ContenderName } from './http-contenders.js';

/**
 * One contender of the HTTP benchmark: a Nest Express app with one GET route, in a process of its
 * own (BENCH_CONTENDER names which), so that no contender's JIT, heap or timers weigh on another's
 * figures and the load generator does not share its event loop.
 */
const ANSWER = apiResponse(2_048);
const TTL = 600_000;

@Controller()
class ConstantController {
  @Get('answer')
  answer() {
    return ANSWER;
  }
}

@Controller()
class CacheableController {
  @Get('answer')
  @Cacheable({ ttl: TTL })
  answer() {
    return ANSWER;
  }
}

@Controller()
class GetOrSetController {
  constructor(@Inject(CACHE) private readonly cache: DynamoCache) {}

  @Get('answer')
  answer() {
    return this.cache.getOrSet('answer', () => ANSWER, { ttl: TTL });
  }
}

@Controller()
class CacheInterceptorController {
  @Get('answer')
  @UseInterceptors(CacheInterceptor)
  @CacheTTL(TTL)
  answer() {
    return ANSWER;
  }
}

function dynamoCacheModule() {
  return DynamoCacheModule.forRoot({
    tableName: process.env.BENCH_TABLE!,
    client: new DynamoDBClient({
      endpoint: process.env.DYNAMODB_ENDPOINT,
      region: 'us-east-1',
      credentials: { accessKeyId: 'b', secretAccessKey: 'b' },
    }),
    partitionKeyName: 'pk',
    ttlAttributeName: 'ttl',
    partitionKeyPrefix: `http-${process.pid}:`,
    // Without a backplane memory vouches for an entry 5 s by default, then a request reads DynamoDB
    // Local again: the L2 path, which other sections measure. Here every request is a memory hit.
    memory: { maxTtl: TTL },
  });
}

// Thunks: only the contender's own module is made (and only it connects anywhere).
const APPS: Record<ContenderName, () => ModuleMetadata> = {
  constant: () => ({ controllers: [ConstantController] }),
  cacheable: () => ({ imports: [dynamoCacheModule()], controllers: [CacheableController] }),
  getOrSet: () => ({ imports: [dynamoCacheModule()], controllers: [GetOrSetController] }),
  cacheInterceptor: () => ({ imports: [CacheModule.register()], controllers: [CacheInterceptorController] }),
  keyvRedis: () => ({
    imports: [CacheModule.register({ stores: [new KeyvRedis(process.env.REDIS_URL)] })],
    controllers: [CacheInterceptorController],
  }),
};

const contender = process.env.BENCH_CONTENDER as ContenderName;
@Module(APPS[contender]())
class BenchAppModule {}

const app = await NestFactory.create(BenchAppModule, { logger: ['error'] });
await app.listen(0, '127.0.0.1');
const address = app.getHttpServer().address() as { port: number };
const stop = async () => {
  await app.close();
  // A normal exit, so that --cpu-prof writes its profile.
  process.exit(0);
};
process.on('message', (message) => message === 'stop' && void stop());
// The bench died without stopping us: nobody is left to send load.
process.on('disconnect', () => void stop());
process.send!({ port: address.port });
