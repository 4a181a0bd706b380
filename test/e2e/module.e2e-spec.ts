import { Controller, Get, Inject, Injectable, type INestApplication, Module, Param, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Cache } from 'cache-manager';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import {
  CACHE,
  DynamoCache,
  DynamoCacheModule,
  type DynamoCacheModuleOptions,
  InvalidOptionError,
  TableConfigurationError,
} from '../../src/index.js';
import { DynamoStore } from '../../src/entries/store.js';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  createTable,
  deleteTable,
  dynamoEndpoint,
  localClient,
  uniqueTableName,
  useCacheTable,
  cacheTableAttributes,
} from '../support/dynamo.js';
import { useStoppedClock } from '../support/stopped-clock.js';

const { client, tableName } = useCacheTable('module');
// Where a test reads back the expiry a ttl of seconds gave, it does so on a stopped clock, so that no
// busy machine's delay between the write and the read can eat into it.
const clock = useStoppedClock();

let catalogueCalls = 0;

@Injectable()
class CatalogueService {
  constructor(@Inject(CACHE) private readonly cache: DynamoCache) {}

  product(id: string) {
    return this.cache.wrap(
      `product:${id}`,
      async () => {
        catalogueCalls += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return { id, name: `Product ${id}`, at: new Date(0) };
      },
      60_000,
    );
  }
}

@Controller('products')
class CatalogueController {
  constructor(private readonly catalogue: CatalogueService) {}

  @Get(':id')
  get(@Param('id') id: string) {
    return this.catalogue.product(id);
  }
}

async function boot(cacheModule: ReturnType<typeof DynamoCacheModule.forRoot>, logger?: LoggerService): Promise<INestApplication> {
  const builder = Test.createTestingModule({ imports: [cacheModule], controllers: [CatalogueController], providers: [CatalogueService] });
  if (logger) builder.setLogger(logger);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication({ logger: logger ?? false });
  await app.init();
  return app;
}

describe('DynamoCacheModule', () => {
  it('forRoot gives @Inject(CACHE) a cache that serves the second request from DynamoDB', async () => {
    const app = await boot(DynamoCacheModule.forRoot({ tableName, client, ...cacheTableAttributes, partitionKeyPrefix: 'forroot:' }));
    catalogueCalls = 0;
    const first = await request(app.getHttpServer()).get('/products/7').expect(200);
    const second = await request(app.getHttpServer()).get('/products/7').expect(200);
    expect(first.body).toEqual({ id: '7', name: 'Product 7', at: '1970-01-01T00:00:00.000Z' });
    expect(second.body).toEqual(first.body);
    expect(catalogueCalls).toBe(1);
    const store = app.get(DynamoStore);
    expect(await store.get('product:7')).toEqual({ id: '7', name: 'Product 7', at: new Date(0) });
    await app.close();
  });

  it('runs the factory once for concurrent requests on a cold key', async () => {
    const app = await boot(DynamoCacheModule.forRoot({ tableName, client, ...cacheTableAttributes, partitionKeyPrefix: 'stampede:' }));
    catalogueCalls = 0;
    const responses = await Promise.all(Array.from({ length: 20 }, () => request(app.getHttpServer()).get('/products/9')));
    expect(responses.every((response) => response.status === 200)).toBe(true);
    expect(catalogueCalls).toBe(1);
    await app.close();
  });

  it("gives a cache assignable to cache-manager's Cache", async () => {
    const app = await boot(DynamoCacheModule.forRoot({ tableName, client, ...cacheTableAttributes, partitionKeyPrefix: 'cm:' }));
    const cache: Cache = app.get<DynamoCache>(CACHE);
    clock.stop();
    await cache.set('a', { n: 1 }, 10_000);
    expect(await cache.get('a')).toEqual({ n: 1 });
    expect(await cache.mget(['a', 'nope'])).toEqual([{ n: 1 }, undefined]);
    const expires = await cache.ttl('a');
    expect(expires! - Date.now()).toBeGreaterThan(9_000);
    await cache.mset([
      { key: 'b', value: 2 },
      { key: 'c', value: 3, ttl: 5_000 },
    ]);
    expect(await cache.mget(['b', 'c'])).toEqual([2, 3]);
    expect(await cache.stores[0]!.get('b')).toBe(2);
    await cache.stores[0]!.set('d', 'through keyv', 5_000);
    expect(await cache.get('d')).toBe('through keyv');
    expect(await cache.del('a')).toBe(true);
    expect(await cache.mdel(['b', 'c'])).toBe(true);
    expect(await cache.mget(['a', 'b', 'c'])).toEqual([undefined, undefined, undefined]);
    const raw = await (cache as unknown as DynamoCache).wrap('w', () => 5, { ttl: 1_000, raw: true });
    expect(raw.value).toBe(5);
    expect(raw.expires! - Date.now()).toBeGreaterThan(500);
    expect(await cache.clear()).toBe(true);
    expect(await cache.get('d')).toBeUndefined();
    await app.close();
  });

  it('forRootAsync with useFactory and inject reads options from another provider', async () => {
    const CONFIG = Symbol('config');
    @Module({ providers: [{ provide: CONFIG, useValue: { table: tableName } }], exports: [CONFIG] })
    class ConfigModule {}
    const app = await boot(
      DynamoCacheModule.forRootAsync({
        imports: [ConfigModule],
        inject: [CONFIG],
        useFactory: (config: { table: string }) => ({
          tableName: config.table,
          client,
          ...cacheTableAttributes,
          partitionKeyPrefix: 'async:',
        }),
      }),
    );
    await request(app.getHttpServer()).get('/products/1').expect(200);
    expect(await app.get(DynamoStore).get('product:1')).toMatchObject({ id: '1' });
    expect(app.get(DynamoStore).opts.partitionKeyPrefix).toBe('async:default:');
    await app.close();
  });

  it('forRootAsync with useClass calls its create() method', async () => {
    @Injectable()
    class CacheConfig {
      create(): DynamoCacheModuleOptions {
        return { tableName, client, ...cacheTableAttributes, partitionKeyPrefix: 'class:', ttl: 1_000 };
      }
    }
    const app = await boot(DynamoCacheModule.forRootAsync({ useClass: CacheConfig }));
    const cache = app.get<DynamoCache>(CACHE);
    const setAt = clock.stop();
    await cache.set('k', 'v');
    expect(await cache.ttl('k')).toBe(setAt + 1_000);
    await app.close();
  });

  it('with isGlobal, a module that does not import it can inject CACHE', async () => {
    @Injectable()
    class Elsewhere {
      constructor(@Inject(CACHE) readonly cache: DynamoCache) {}
    }
    @Module({ providers: [Elsewhere], exports: [Elsewhere] })
    class FeatureModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [DynamoCacheModule.forRoot({ tableName, client, ...cacheTableAttributes, isGlobal: true }), FeatureModule],
    }).compile();
    expect(moduleRef.get(Elsewhere).cache).toBeInstanceOf(DynamoCache);
    await moduleRef.close();
  });

  it.each([
    ['a table name DynamoDB refuses', { tableName: 'x' }, 'tableName'],
    ['a negative ttl', { tableName, ttl: -1 }, 'ttl'],
    ['a string for a boolean', { tableName, consistentReads: 'yes' }, 'consistentReads'],
    ['an endpoint that is no URL', { tableName, endpoint: 'not a url' }, 'endpoint'],
    ['a client and a region', { tableName, client, region: 'eu-west-1' }, 'client'],
    ['a renew threshold above 1', { tableName, slidingRenewThreshold: 2 }, 'slidingRenewThreshold'],
  ])('forRoot refuses %s with an error naming the option', (_name, options, option) => {
    expect(() => DynamoCacheModule.forRoot(options as DynamoCacheModuleOptions)).toThrow(InvalidOptionError);
    expect(() => DynamoCacheModule.forRoot(options as DynamoCacheModuleOptions)).toThrow(`option "${option}"`);
  });

  it('forRootAsync fails start-up on an option the factory got wrong, naming it', async () => {
    const failed = boot(DynamoCacheModule.forRootAsync({ useFactory: () => ({ tableName, ttl: Number.NaN }) }));
    await expect(failed).rejects.toThrow(/option "ttl"/);
  });

  it('fails start-up on a missing table, naming it', async () => {
    const failed = boot(DynamoCacheModule.forRoot({ tableName: 'no_such_table', client }));
    await expect(failed).rejects.toThrow(TableConfigurationError);
    await expect(boot(DynamoCacheModule.forRoot({ tableName: 'no_such_table', client }))).rejects.toThrow(/"no_such_table"/);
  });

  it("warns through Nest's Logger when the table has TTL disabled", async () => {
    const noTtl = uniqueTableName('nottl');
    await createTable(client, noTtl, {});
    const warnings: string[] = [];
    const logger: LoggerService = {
      log() {},
      error() {},
      warn: (message: string, context?: string) => void warnings.push(`${context}: ${message}`),
    };
    const app = await boot(DynamoCacheModule.forRoot({ tableName: noTtl, client }), logger);
    expect(warnings.some((warning) => warning.startsWith('DynamoCache: ') && warning.includes('TTL disabled'))).toBe(true);
    await app.close();
    await deleteTable(noTtl);
  });

  it('destroys the client it built at shutdown, and never the one the app passed in', async () => {
    const own = await boot(
      DynamoCacheModule.forRoot({
        tableName,
        endpoint: dynamoEndpoint(),
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
        ...cacheTableAttributes,
      }),
    );
    const ownClient = own.get(DynamoStore).client;
    const destroyOwn = vi.spyOn(ownClient, 'destroy');
    await own.get<DynamoCache>(CACHE).set('own', 1);
    await own.close();
    expect(destroyOwn).toHaveBeenCalledTimes(1);

    const appClient = localClient();
    const destroyApps = vi.spyOn(appClient, 'destroy');
    const shared = await boot(DynamoCacheModule.forRoot({ tableName, client: appClient, ...cacheTableAttributes }));
    await shared.close();
    expect(destroyApps).not.toHaveBeenCalled();
    expect(
      await new DynamoStore({ tableName, client: appClient, ...cacheTableAttributes, partitionKeyPrefix: 'dc:default:' }).get('own'),
    ).toBe(1);
    appClient.destroy();
  });
});

describe('a cache outage', () => {
  const unreachable = () =>
    localClient({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1, requestHandler: { connectionTimeout: 500, requestTimeout: 1_000 } });

  it('never fails a request: the handler answers and the error reaches on("error")', async () => {
    const app = await boot(DynamoCacheModule.forRoot({ tableName, client: unreachable(), ...cacheTableAttributes }));
    const errors: unknown[] = [];
    app.get<DynamoCache>(CACHE).on('error', (error) => errors.push(error));
    catalogueCalls = 0;
    const response = await request(app.getHttpServer()).get('/products/3').expect(200);
    expect(response.body).toMatchObject({ id: '3' });
    expect(catalogueCalls).toBe(1);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(await app.get<DynamoCache>(CACHE).get('x')).toBeUndefined();
    await app.close();
  });

  it('rejects when the cache was asked to, with throwOnErrors', async () => {
    const cache = new DynamoCache(new DynamoStore({ tableName, client: unreachable(), ...cacheTableAttributes }), { throwOnErrors: true });
    cache.on('error', () => undefined);
    await expect(cache.get('x')).rejects.toThrow();
    await expect(cache.set('x', 1)).rejects.toThrow();
  });

  it('still rejects bad input, whatever the error policy', async () => {
    const cache = new DynamoCache(new DynamoStore({ tableName, client, ...cacheTableAttributes }));
    await expect(cache.set('', 1)).rejects.toThrow(TypeError);
    await expect(cache.set('k', 1, -1)).rejects.toThrow(RangeError);
  });
});
