import { Controller, Get, Injectable, type INestApplication, Module, Param } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  CACHE,
  CacheRegistrationError,
  DynamoCache,
  DynamoCacheModule,
  DynamoCacheRegistry,
  InjectCache,
  InvalidOptionError,
  getCacheToken,
} from '../../src/index.js';
import { DynamoStore } from '../../src/entries/store.js';
import { memoryLogger, useCacheTable, cacheTableAttributes } from '../support/dynamo.js';
import { sleep } from '../support/seen-within.js';

const { client, tableName } = useCacheTable('named');
const root = { tableName, client, ...cacheTableAttributes, logger: memoryLogger() };

@Injectable()
class ForecastService {
  constructor(@InjectCache('weather') readonly weather: DynamoCache) {}
}

@Module({
  imports: [DynamoCacheModule.forFeature({ name: 'weather', ttl: 86_400_000 })],
  providers: [ForecastService],
  exports: [ForecastService],
})
class WeatherModule {}

@Injectable()
class AlertService {
  constructor(@InjectCache('weather') readonly weather: DynamoCache) {}
}

@Module({
  imports: [DynamoCacheModule.forFeature({ name: 'weather', ttl: 86_400_000 })],
  providers: [AlertService],
  exports: [AlertService],
})
class AlertsModule {}

async function boot(imports: unknown[]): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: imports as never[] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

const WEATHER_SETTINGS = 'WEATHER_SETTINGS';

@Module({ providers: [{ provide: WEATHER_SETTINGS, useFactory: async () => ({ ttlMs: 7_200_000 }) }], exports: [WEATHER_SETTINGS] })
class SettingsModule {}

describe('a named cache whose options come from configuration (forFeatureAsync)', () => {
  const weatherFromSettings = (settings: Record<string, unknown>) =>
    DynamoCacheModule.forFeatureAsync({
      name: 'weather',
      imports: [SettingsModule],
      inject: [WEATHER_SETTINGS],
      useFactory: async (injected: { ttlMs: number }) => ({ ttl: injected.ttlMs, ...settings }),
    });

  it('builds the cache from the injected settings, injectable by name like forFeature', async () => {
    @Injectable()
    class Forecasts {
      constructor(@InjectCache('weather') readonly weather: DynamoCache) {}
    }
    @Module({ imports: [weatherFromSettings({})], providers: [Forecasts], exports: [Forecasts] })
    class AsyncWeatherModule {}
    const app = await boot([DynamoCacheModule.forRoot({ ...root, partitionKeyPrefix: 'n6:' }), AsyncWeatherModule]);
    const weather = app.get(Forecasts).weather;
    expect(weather.name).toBe('weather');
    await weather.set('oslo', 'snow');
    const left = (await weather.ttl('oslo'))! - Date.now();
    expect(left).toBeGreaterThan(7_100_000);
    expect(left).toBeLessThanOrEqual(7_200_000);
    expect(await new DynamoStore({ ...root, partitionKeyPrefix: 'n6:weather:' }).get('oslo')).toBe('snow');
    await app.close();
  });

  it('fails start-up naming the option when the factory gives a bad one', async () => {
    await expect(
      boot([DynamoCacheModule.forRoot({ ...root, partitionKeyPrefix: 'n7:' }), weatherFromSettings({ ttl: -5 })]),
    ).rejects.toThrow(/option "ttl"/);
  });
});

describe('named caches', () => {
  it('injects a named cache with @InjectCache, shares one instance between modules, and finds it by token and registry', async () => {
    const app = await boot([DynamoCacheModule.forRoot({ ...root, partitionKeyPrefix: 'n1:' }), WeatherModule, AlertsModule]);
    const weather = app.get(ForecastService).weather;
    expect(weather).toBeInstanceOf(DynamoCache);
    expect(weather.name).toBe('weather');
    expect(app.get(AlertService).weather).toBe(weather);
    expect(app.get(getCacheToken('weather'), { strict: false })).toBe(weather);
    expect(app.get(DynamoCacheRegistry).get('weather')).toBe(weather);
    expect(app.get(DynamoCacheRegistry).get()).toBe(app.get(CACHE));
    expect(getCacheToken()).toBe(CACHE);
    await weather.set('seattle', 'rain');
    expect((await weather.ttl('seattle'))! - Date.now()).toBeGreaterThan(86_000_000); // its own default ttl
    expect(await new DynamoStore({ ...root, partitionKeyPrefix: 'n1:weather:' }).get('seattle')).toBe('rain');
    expect(() => app.get(DynamoCacheRegistry).get('nope')).toThrow(/Register it with DynamoCacheModule.forFeature\(\{ name: 'nope' \}\)/);
    await app.close();
  });

  it("isolates caches: the same key, keys spelled with the other cache's prefix, and clear()", async () => {
    const app = await boot([
      DynamoCacheModule.forRoot({ ...root, partitionKeyPrefix: 'n2:' }),
      DynamoCacheModule.forFeature({ name: 'weather' }),
      DynamoCacheModule.forFeature({ name: 'users' }),
    ]);
    const registry = app.get(DynamoCacheRegistry);
    const [main, weather, users] = [registry.get(), registry.get('weather'), registry.get('users')];
    const tricky = ['x', 'weather:x', 'users:x', '../weather/x', 'weather\u2236x', ':x', '#lock:x'];
    for (const key of tricky) {
      await main.set(key, `main ${key}`, 60_000);
      await weather.set(key, `weather ${key}`, 60_000);
      await users.set(key, `users ${key}`, 60_000);
    }
    for (const key of tricky) {
      expect(await main.get(key)).toBe(`main ${key}`);
      expect(await weather.get(key)).toBe(`weather ${key}`);
      expect(await users.get(key)).toBe(`users ${key}`);
    }
    await weather.clear();
    const fresh = new DynamoCache(new DynamoStore({ ...root, partitionKeyPrefix: 'n2:weather:' }), { memory: false });
    expect(await fresh.mget(tricky)).toEqual(tricky.map(() => undefined));
    expect(await main.mget(tricky)).toEqual(tricky.map((key) => `main ${key}`));
    expect(await users.mget(tricky)).toEqual(tricky.map((key) => `users ${key}`));
    await app.close();
  });

  it('counts consumed capacity per cache, in stats() and cache:capacity events, and lets a cache store its values its own way', async () => {
    const app = await boot([
      DynamoCacheModule.forRoot({ ...root, partitionKeyPrefix: 'n5:', memory: false, returnConsumedCapacity: true }),
      DynamoCacheModule.forFeature({ name: 'reports', compression: false }),
    ]);
    const registry = app.get(DynamoCacheRegistry);
    const [main, reports] = [registry.get(), registry.get('reports')];
    const events: Array<{ cache: string; operation: string; writeUnits: number }> = [];
    reports.on('cache:capacity', (event) => events.push(event));
    const report = { rows: Array.from({ length: 400 }, (_, index) => ({ index, label: `row ${index}` })) };
    await main.set('r', report);
    await reports.set('r', report);
    // The same 10 KB value: compressed in the default cache, stored whole by the one that turned compression off.
    expect(reports.stats().capacity.writeUnits).toBeGreaterThanOrEqual(10);
    expect(main.stats().capacity.writeUnits).toBeLessThan(reports.stats().capacity.writeUnits / 3);
    expect(events).toEqual([
      expect.objectContaining({ cache: 'reports', operation: 'PutItem', writeUnits: reports.stats().capacity.writeUnits }),
    ]);
    expect(await reports.get('r')).toEqual(report);
    expect(reports.stats()).toMatchObject({ capacity: { readUnits: expect.any(Number) }, memory: undefined, circuit: 'closed' });
    await app.close();
  });

  it('fails start-up when one name is registered with different options', async () => {
    const error = await boot([
      DynamoCacheModule.forRoot({ ...root, partitionKeyPrefix: 'n3:' }),
      DynamoCacheModule.forFeature({ name: 'weather', ttl: 1_000 }),
      DynamoCacheModule.forFeature({ name: 'weather', ttl: 2_000 }),
    ]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CacheRegistrationError);
    expect((error as Error).message).toBe(
      'Cache "weather": is registered twice with different options; give both forFeature() calls the same options, or different names.',
    );
  });

  it("refuses a name or key prefix that could overlap another cache's", async () => {
    expect(() => DynamoCacheModule.forFeature({ name: 'a:b' })).toThrow(InvalidOptionError);
    const registry = new DynamoCacheRegistry({ ...root, partitionKeyPrefix: 'n4:' });
    expect(() => registry.register({ name: 'x', keyPrefix: 'a:b:' })).toThrow('option "keyPrefix" of cache "x" must be');
    registry.register({ name: 'orders', keyPrefix: 'o:' });
    expect(() => registry.register({ name: 'other', keyPrefix: 'o:' })).toThrow('key prefix "o:" is already cache "orders"\'s');
    expect(() => registry.register({ name: 'default' })).toThrow(CacheRegistrationError);
  });
});

let reportCalls = 0;
/** While set, a report's factory runs until the second one has begun, rather than for 300 ms. */
let untilTwoFactories: { begun: Promise<void>; second(): void } | undefined;

@Injectable()
class ReportService {
  constructor(@InjectCache() private readonly cache: DynamoCache) {}
  build(id: string) {
    return this.cache.getOrSet(
      `report:${id}`,
      async () => {
        reportCalls += 1;
        if (untilTwoFactories === undefined) await sleep(300);
        else {
          if (reportCalls === 2) untilTwoFactories.second();
          await untilTwoFactories.begun;
        }
        return { id, rows: 42 };
      },
      { ttl: 60_000 },
    );
  }
}

@Controller('reports')
class ReportController {
  constructor(private readonly reports: ReportService) {}
  @Get(':id') get(@Param('id') id: string) {
    return this.reports.build(id);
  }
}

describe('distributedLock across instances', () => {
  async function instance(distributedLock: boolean) {
    const moduleRef = await Test.createTestingModule({
      imports: [DynamoCacheModule.forRoot({ ...root, partitionKeyPrefix: 'lock:', distributedLock })],
      controllers: [ReportController],
      providers: [ReportService],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return app;
  }

  it('runs one factory between two Nest apps sharing the table', async () => {
    const [a, b] = await Promise.all([instance(true), instance(true)]);
    reportCalls = 0;
    const responses = await Promise.all([
      ...Array.from({ length: 5 }, () => request(a.getHttpServer()).get('/reports/q3')),
      ...Array.from({ length: 5 }, () => request(b.getHttpServer()).get('/reports/q3')),
    ]);
    expect(responses.map((response) => response.status)).toEqual(Array(10).fill(200));
    expect(responses.every((response) => response.body.rows === 42)).toBe(true);
    expect(reportCalls).toBe(1);
    await Promise.all([a.close(), b.close()]);
  });

  it('runs one factory per app without it (what the lock saves)', async () => {
    const [a, b] = await Promise.all([instance(false), instance(false)]);
    reportCalls = 0;
    // The first factory runs until the second has begun: however late a busy machine sends the second
    // request, it cannot find the first one's value stored. Were it kept waiting for the first, both
    // would hang.
    let second!: () => void;
    const begun = new Promise<void>((resolve) => (second = resolve));
    untilTwoFactories = { begun, second };
    try {
      await Promise.all([request(a.getHttpServer()).get('/reports/q4'), request(b.getHttpServer()).get('/reports/q4')]);
    } finally {
      untilTwoFactories = undefined;
    }
    expect(reportCalls).toBe(2);
    await Promise.all([a.close(), b.close()]);
  });
});
