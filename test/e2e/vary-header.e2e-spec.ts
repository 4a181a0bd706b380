import { Controller, Get, Header, Headers, type INestApplication, Param, Res } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cacheable } from '../../src/index.js';
import { cacheModule } from '../support/builders.js';
import { useCacheTable } from '../support/dynamo.js';
import { type PassthroughResponse, setResponseHeader } from '../support/nest-apps.js';
import { seenWithin } from '../support/seen-within.js';

// A route's `vary` headers key its entries apart; the answer's Vary header must say so to the caches
// in front of the app (a CDN, a browser), on every answer of the route, or they would keep one answer
// for all values of those headers.
const table = useCacheTable('vary_header');
const runs = new Map<string, number>();
const ran = (name: string) => {
  runs.set(name, (runs.get(name) ?? 0) + 1);
  return runs.get(name)!;
};
const upstream = { down: false };

@Controller('greetings')
class GreetingsController {
  @Get('plain/:name')
  @Cacheable({ ttl: 60_000 })
  plain(@Param('name') name: string) {
    return { name, run: ran(`plain:${name}`) };
  }

  @Get('cors/:name')
  @Header('Vary', 'Origin, Accept-Language')
  @Cacheable({ ttl: 60_000, vary: ['accept-language', 'x-tenant'] })
  cors(@Param('name') name: string) {
    return { name, run: ran(`cors:${name}`) };
  }

  @Get('own/:name')
  @Cacheable({ ttl: 60_000, vary: ['accept-language'] })
  own(@Param('name') name: string, @Res({ passthrough: true }) response: PassthroughResponse) {
    setResponseHeader(response, 'Vary', 'Origin');
    return { name, run: ran(`own:${name}`) };
  }

  @Get('stale/:name')
  @Cacheable({ ttl: 200, failSafe: true, failSafeThrottleDuration: 60_000, vary: ['accept-language'] })
  stale(@Param('name') name: string) {
    if (upstream.down) throw new Error('upstream down');
    return { name, run: ran(`stale:${name}`) };
  }

  @Get(':name')
  @Cacheable({
    ttl: 60_000,
    vary: ['accept-language'],
    skipIf: (context) => context.switchToHttp().getRequest<{ query: Record<string, string> }>().query.preview === '1',
  })
  greet(@Param('name') name: string, @Headers('accept-language') language = 'en') {
    return { greeting: language.startsWith('fr') ? `Bonjour ${name}` : `Hello ${name}`, run: ran(`greet:${name}`) };
  }
}

async function start(platform: 'Express' | 'Fastify'): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [cacheModule(table, { partitionKeyPrefix: `vary-${platform}:` })],
    controllers: [GreetingsController],
  }).compile();
  const app =
    platform === 'Express'
      ? moduleRef.createNestApplication({ logger: false })
      : moduleRef.createNestApplication(new FastifyAdapter(), { logger: false });
  await app.init();
  if (platform === 'Fastify') await app.getHttpAdapter().getInstance().ready();
  return app;
}

describe.each(['Express', 'Fastify'] as const)('the Vary header of a route with vary (%s)', (platform) => {
  let app: INestApplication;
  beforeAll(async () => {
    runs.clear();
    app = await start(platform);
  });
  afterAll(() => app.close());

  /** A GET of `path` with `headers`: its X-Cache and Vary. */
  const cacheAndVary = async (path: string, headers: Record<string, string> = {}, status = 200) => {
    const answer = await request(app.getHttpServer()).get(path).set(headers).expect(status);
    return [answer.headers['x-cache'], answer.headers.vary];
  };

  it('names the vary headers on the miss, on the hit and on a 304', async () => {
    const french = { 'Accept-Language': 'fr' };
    expect(await cacheAndVary('/greetings/ada', french)).toEqual(['MISS', 'accept-language']);
    const hit = await request(app.getHttpServer()).get('/greetings/ada').set(french).expect(200);
    expect([hit.headers['x-cache'], hit.headers.vary, hit.body.greeting]).toEqual(['HIT', 'accept-language', 'Bonjour ada']);
    expect(await cacheAndVary('/greetings/ada', { ...french, 'If-None-Match': hit.headers.etag as string }, 304)).toEqual([
      'HIT',
      'accept-language',
    ]);
    expect(runs.get('greet:ada')).toBe(1);
  });

  it('names them on a bypassed request too: a credential header the route does not vary by, or skipIf', async () => {
    expect(await cacheAndVary('/greetings/bob', { Authorization: 'Bearer bob' })).toEqual(['BYPASS', 'accept-language']);
    expect(await cacheAndVary('/greetings/bob?preview=1')).toEqual(['BYPASS', 'accept-language']);
  });

  it('names them on a fail-safe answer (STALE)', async () => {
    upstream.down = false;
    expect(await cacheAndVary('/greetings/stale/cy')).toEqual(['MISS', 'accept-language']);
    upstream.down = true;
    try {
      await seenWithin(async () => (await request(app.getHttpServer()).get('/greetings/stale/cy')).headers['x-cache'], 'STALE', 5_000);
      expect(await cacheAndVary('/greetings/stale/cy')).toEqual(['STALE', 'accept-language']);
    } finally {
      upstream.down = false;
    }
  });

  it('adds them to a Vary already set (@Header), naming each header once whatever its case', async () => {
    expect(await cacheAndVary('/greetings/cors/dee')).toEqual(['MISS', 'Origin, Accept-Language, x-tenant']);
    expect(await cacheAndVary('/greetings/cors/dee')).toEqual(['HIT', 'Origin, Accept-Language, x-tenant']);
  });

  it('adds them to a Vary the handler set on its response, rather than losing either, on the miss and the hit', async () => {
    expect(await cacheAndVary('/greetings/own/eve')).toEqual(['MISS', 'Origin, accept-language']);
    expect(await cacheAndVary('/greetings/own/eve')).toEqual(['HIT', 'Origin, accept-language']);
  });

  it('adds no Vary to a route without vary: credential headers bypass the cache, they do not key its answers', async () => {
    expect(await cacheAndVary('/greetings/plain/fay')).toEqual(['MISS', undefined]);
    expect(await cacheAndVary('/greetings/plain/fay')).toEqual(['HIT', undefined]);
  });
});
