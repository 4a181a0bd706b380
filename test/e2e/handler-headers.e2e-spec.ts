import fastifyCookie from '@fastify/cookie';
import { Controller, Get, Header, Headers, type INestApplication, Param, Res } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CachedResponse } from '../../src/entries/options.js';
import { CACHE, Cacheable, type DynamoCache } from '../../src/index.js';
import { cacheModule } from '../support/builders.js';
import { memoryLogger, useCacheTable } from '../support/dynamo.js';
import { type PassthroughResponse, setResponseHeader } from '../support/nest-apps.js';
import { seenWithin } from '../support/seen-within.js';

// A @Res({ passthrough: true }) handler answers with its value and with the headers it set on its
// response: a hit must send those headers too, or the client of a paginated list loses its total on
// the second request. Headers set before the handler (CORS's, per request) and one visitor's cookie
// must never be frozen into the entry.
const table = useCacheTable('handler_headers');
const runs = new Map<string, number>();
const ran = (name: string) => {
  runs.set(name, (runs.get(name) ?? 0) + 1);
  return runs.get(name)!;
};
const upstream = { down: false };
const origins = ['https://a.example', 'https://b.example'];

/** A cookie set as each platform's handlers set one: Express's `res.cookie`, @fastify/cookie's `reply.setCookie`. */
type CookieResponse = { cookie(name: string, value: string): void } | { setCookie(name: string, value: string): void };
const setCookie = (response: CookieResponse, name: string, value: string) =>
  'setCookie' in response ? response.setCookie(name, value) : response.cookie(name, value);

@Controller('pages')
class PagesController {
  /** A paginated list: its total and its caching policy in headers, as list APIs do; its version by @Header. */
  @Get('list/:name')
  @Header('X-Api-Version', '3')
  @Cacheable({ ttl: 60_000 })
  list(@Param('name') name: string, @Res({ passthrough: true }) response: PassthroughResponse) {
    const run = ran(`list:${name}`);
    setResponseHeader(response, 'ETag', `"${name}-v1"`);
    setResponseHeader(response, 'X-Total-Count', '42');
    setResponseHeader(response, 'Cache-Control', 'public, max-age=60');
    return { name, run, items: [1, 2, 3] };
  }

  @Get('hops/:name')
  @Cacheable({ ttl: 60_000 })
  hops(@Param('name') name: string, @Res({ passthrough: true }) response: PassthroughResponse) {
    setResponseHeader(response, 'Keep-Alive', 'timeout=17');
    setResponseHeader(response, 'Proxy-Authenticate', 'Basic realm="hops"');
    setResponseHeader(response, 'X-Kept', 'yes');
    return { name, run: ran(`hops:${name}`) };
  }

  @Get('stale/:name')
  @Cacheable({ ttl: 200, failSafe: true, failSafeThrottleDuration: 60_000 })
  stale(@Param('name') name: string, @Res({ passthrough: true }) response: PassthroughResponse) {
    if (upstream.down) throw new Error('upstream down');
    setResponseHeader(response, 'X-Total-Count', '5');
    return { name, run: ran(`stale:${name}`) };
  }
}

/** One path for every visitor (X-Visitor is no credential header, so it does not bypass): each gets a cookie of its own. */
@Controller('visits')
class VisitsController {
  @Get('welcome')
  @Cacheable({ ttl: 60_000 })
  welcome(@Headers('x-visitor') visitor: string, @Res({ passthrough: true }) response: CookieResponse) {
    ran(`welcome:${visitor}`);
    setCookie(response, 'visitor', visitor);
    return { hello: visitor };
  }

  @Get('greeting')
  @Cacheable({ ttl: 60_000 })
  greeting(@Headers('x-visitor') visitor: string, @Res({ passthrough: true }) response: PassthroughResponse) {
    ran(`greeting:${visitor}`);
    setResponseHeader(response, 'Set-Cookie', `visitor=${visitor}; Path=/`);
    return { hello: visitor };
  }
}

async function start(platform: 'Express' | 'Fastify', logger: ReturnType<typeof memoryLogger>): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [cacheModule(table, { partitionKeyPrefix: `headers-${platform}:`, logger })],
    controllers: [PagesController, VisitsController],
  }).compile();
  if (platform === 'Express') {
    const app = moduleRef.createNestApplication({ logger: false });
    app.enableCors({ origin: origins });
    return app.init();
  }
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  app.enableCors({ origin: origins });
  await app.register(fastifyCookie);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

describe.each(['Express', 'Fastify'] as const)('headers a passthrough handler set, on a @Cacheable route (%s)', (platform) => {
  const logger = memoryLogger();
  // Two instances of one service on one table: the second's memory is empty, so its hits come from DynamoDB.
  let first: INestApplication;
  let second: INestApplication;
  beforeAll(async () => {
    first = await start(platform, logger);
    second = await start(platform, logger);
  });
  afterAll(() => Promise.all([first.close(), second.close()]));
  const name = (test: string) => `${platform}-${test}`;
  const get = (app: INestApplication, path: string, headers: Record<string, string> = {}) =>
    request(app.getHttpServer()).get(path).set(headers);
  const stored = (path: string) => first.get<DynamoCache>(CACHE).get<CachedResponse>(`GET ${path}`);
  const lowerCased = (headers: object | undefined) => Object.keys(headers ?? {}).map((header) => header.toLowerCase());

  it('sends them again on a hit from memory and on a hit from DynamoDB, with the @Header() ones', async () => {
    const path = `/pages/list/${name('total')}`;
    const miss = await get(first, path).expect(200);
    expect([miss.headers['x-cache'], miss.headers['x-total-count'], miss.headers['x-api-version']]).toEqual(['MISS', '42', '3']);

    const memoryHits = first.get<DynamoCache>(CACHE).stats().tiers.memory.hits;
    const fromMemory = await get(first, path).expect(200);
    expect(first.get<DynamoCache>(CACHE).stats().tiers.memory.hits).toBe(memoryHits + 1);
    const fromDynamo = await get(second, path).expect(200);
    expect(second.get<DynamoCache>(CACHE).stats().tiers.dynamodb?.hits).toBe(1);
    for (const hit of [fromMemory, fromDynamo]) {
      expect(hit.headers).toMatchObject({
        'x-cache': 'HIT',
        'x-total-count': '42',
        'cache-control': 'public, max-age=60',
        'x-api-version': '3',
        etag: `"${name('total')}-v1"`,
      });
      expect(hit.body).toEqual(miss.body);
    }
    expect(runs.get(`list:${name('total')}`)).toBe(1);
    // Only what the handler set: not @Header()'s (Nest sets it on every answer), nor the cache's ETag, Content-Type or X-Cache.
    expect(lowerCased((await stored(path))?.headers)).toEqual(['x-total-count', 'cache-control']);
  });

  it('sends on a 304, hit or miss, those of them a 304 carries (Cache-Control) and not the others', async () => {
    const path = `/pages/list/${name('revalidated')}`;
    const etag = `"${name('revalidated')}-v1"`;
    await get(first, path).expect(200);
    const fromMemory = await get(first, path, { 'If-None-Match': etag }).expect(304);
    const fromDynamo = await get(second, path, { 'If-None-Match': etag }).expect(304);
    await first.get<DynamoCache>(CACHE).clear();
    const onMiss = await get(first, path, { 'If-None-Match': etag }).expect(304);
    const carried = (answer: request.Response) => [
      answer.headers['x-cache'],
      answer.headers.etag,
      answer.headers['cache-control'],
      answer.headers['x-total-count'],
    ];
    expect([fromMemory, fromDynamo, onMiss].map(carried)).toEqual([
      ['HIT', etag, 'public, max-age=60', undefined],
      ['HIT', etag, 'public, max-age=60', undefined],
      ['MISS', etag, 'public, max-age=60', undefined],
    ]);
  });

  it('sends them with a fail-safe answer (STALE)', async () => {
    const path = `/pages/stale/${name('stale')}`;
    upstream.down = false;
    expect((await get(first, path).expect(200)).headers['x-total-count']).toBe('5');
    upstream.down = true;
    try {
      await seenWithin(async () => (await get(first, path)).headers['x-cache'], 'STALE', 5_000);
      const stale = await get(first, path).expect(200);
      expect([stale.headers['x-cache'], stale.headers['x-total-count']]).toEqual(['STALE', '5']);
    } finally {
      upstream.down = false;
    }
  });

  it("does not freeze CORS's per-origin header into the entry: each origin gets its own on a hit", async () => {
    const path = `/pages/list/${name('cors')}`;
    const fromA = await get(first, path, { Origin: origins[0]! }).expect(200);
    const fromB = await get(first, path, { Origin: origins[1]! }).expect(200);
    const fromBElsewhere = await get(second, path, { Origin: origins[1]! }).expect(200);
    const seen = (answer: request.Response) => [
      answer.headers['x-cache'],
      answer.headers['access-control-allow-origin'],
      answer.headers['x-total-count'],
    ];
    expect([fromA, fromB, fromBElsewhere].map(seen)).toEqual([
      ['MISS', origins[0], '42'],
      ['HIT', origins[1], '42'],
      ['HIT', origins[1], '42'],
    ]);
    expect(lowerCased((await stored(path))?.headers)).not.toContain('access-control-allow-origin');
  });

  it('stores no hop-by-hop header: a hit sends the others, not Keep-Alive or Proxy-Authenticate', async () => {
    const path = `/pages/hops/${name('hops')}`;
    const miss = await get(first, path).expect(200);
    expect([miss.headers['keep-alive'], miss.headers['proxy-authenticate']]).toEqual(['timeout=17', 'Basic realm="hops"']);
    for (const app of [first, second]) {
      const hit = await get(app, path).expect(200);
      expect([hit.headers['x-cache'], hit.headers['x-kept'], hit.headers['proxy-authenticate']]).toEqual(['HIT', 'yes', undefined]);
      expect(hit.headers['keep-alive']).not.toBe('timeout=17');
    }
    expect(lowerCased((await stored(path))?.headers)).toEqual(['x-kept']);
  });

  it.each([
    ['the platform’s cookie call', 'welcome'],
    ['a Set-Cookie header', 'greeting'],
  ])('does not cache an answer that sets a cookie (%s), nor hand it to another visitor, and warns once', async (_how, route) => {
    const path = `/visits/${route}`;
    const visit = (visitor: string) => get(first, path, { 'X-Visitor': `${name(visitor)}` }).expect(200);
    const ann = await visit('ann');
    const ben = await visit('ben');
    const seen = (answer: request.Response) => [answer.headers['x-cache'], answer.body.hello, String(answer.headers['set-cookie'])];
    expect(seen(ann)).toEqual(['MISS', name('ann'), expect.stringContaining(`visitor=${name('ann')}`)]);
    expect(seen(ben)).toEqual(['MISS', name('ben'), expect.stringContaining(`visitor=${name('ben')}`)]);
    expect(await stored(path)).toBeUndefined();
    const warnings = logger.warnings.filter((warning) => warning.includes(`VisitsController.${route}`));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('sets a cookie');
  });
});
