import {
  type CallHandler,
  Controller,
  type ExecutionContext,
  Get,
  Header,
  type INestApplication,
  Injectable,
  type NestInterceptor,
  Param,
  Res,
} from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { map } from 'rxjs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHE, Cacheable, type DynamoCache } from '../../src/index.js';
import { cacheModule } from '../support/builders.js';
import { useCacheTable } from '../support/dynamo.js';
import { type PassthroughResponse, setResponseHeader } from '../support/nest-apps.js';

const table = useCacheTable('conditional');
const runs = new Map<string, number>();
const ran = (name: string) => {
  runs.set(name, (runs.get(name) ?? 0) + 1);
  return runs.get(name)!;
};

@Controller('items')
class ItemsController {
  @Get(':id')
  @Cacheable({ ttl: 60_000 })
  item(@Param('id') id: string) {
    ran(id);
    return { id, padding: 'x'.repeat(200) };
  }
}

/** Routes that make their own validator: the cache must keep it, not put its own in its place. */
@Controller('tagged')
class TaggedController {
  @Get('fixed/:id')
  @Header('ETag', '"catalogue-7"')
  @Cacheable({ ttl: 60_000 })
  fixed(@Param('id') id: string) {
    ran(id);
    return { id, edition: 7 };
  }

  @Get('own/:id')
  @Cacheable({ ttl: 60_000 })
  own(@Param('id') id: string, @Res({ passthrough: true }) response: PassthroughResponse) {
    const revision = ran(id);
    setResponseHeader(response, 'ETag', `"rev-${revision}"`);
    return { id, revision };
  }
}

/** Another team's interceptor, outside the cache's: it wraps every body in an envelope. */
@Injectable()
class EnvelopeInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler) {
    return next.handle().pipe(map((data: unknown) => ({ data })));
  }
}

async function expressApp(prefix: string, providers: unknown[] = []): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [cacheModule(table, { partitionKeyPrefix: prefix })],
    controllers: [ItemsController, TaggedController],
    providers: providers as never[],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

async function fastifyApp(prefix: string): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [cacheModule(table, { partitionKeyPrefix: prefix })],
    controllers: [ItemsController, TaggedController],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

describe.each([
  ['Express', () => expressApp('etag-express:')],
  ['Fastify', () => fastifyApp('etag-fastify:')],
])('conditional GETs on a @Cacheable route (%s, defaults)', (platform, start) => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await start();
  });
  afterAll(() => app.close());
  const id = (name: string) => `${platform}-${name}`;

  it('tags the miss and the hit alike, and answers 304 without a body or a handler run to a client holding it', async () => {
    const miss = await request(app.getHttpServer())
      .get(`/items/${id('a')}`)
      .expect(200);
    expect(miss.headers['x-cache']).toBe('MISS');
    const etag = miss.headers.etag as string;
    expect(etag).toMatch(/^W\/"[A-Za-z0-9_-]{22}"$/);

    const hit = await request(app.getHttpServer())
      .get(`/items/${id('a')}`)
      .expect(200);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.headers.etag).toBe(etag);
    expect(hit.body).toEqual(miss.body);
    expect(hit.headers['content-type']).toMatch(/^application\/json/);

    const notModified = await request(app.getHttpServer())
      .get(`/items/${id('a')}`)
      .set('If-None-Match', `"other", ${etag}`)
      .expect(304);
    expect(notModified.text ?? '').toBe('');
    expect(notModified.headers.etag).toBe(etag);
    expect(runs.get(id('a'))).toBe(1);
  });

  it('answers a client that holds the tag and asks for a fresh answer (no-cache) with the whole answer or a 304, never an empty 200', async () => {
    const first = await request(app.getHttpServer())
      .get(`/items/${id('e')}`)
      .expect(200);
    const fresh = await request(app.getHttpServer())
      .get(`/items/${id('e')}`)
      .set('Cache-Control', 'no-cache')
      .set('If-None-Match', first.headers.etag as string);
    expect(fresh.headers['x-cache']).toBe('MISS');
    if (fresh.status === 200) expect(fresh.body).toEqual(first.body);
    else expect(fresh.status).toBe(304);
    expect(runs.get(id('e'))).toBe(2);
  });

  it('answers a tag that does not match, or a HEAD, as usual', async () => {
    const first = await request(app.getHttpServer())
      .get(`/items/${id('b')}`)
      .expect(200);
    const other = await request(app.getHttpServer())
      .get(`/items/${id('b')}`)
      .set('If-None-Match', 'W/"nope"')
      .expect(200);
    expect(other.body).toEqual(first.body);
    await request(app.getHttpServer())
      .head(`/items/${id('b')}`)
      .set('If-None-Match', first.headers.etag as string)
      .expect(304);
    expect(runs.get(id('b'))).toBe(1);
  });

  it('answers 304 on a miss too, when the handler made what the client holds', async () => {
    const first = await request(app.getHttpServer())
      .get(`/items/${id('c')}`)
      .expect(200);
    await app.get<DynamoCache>(CACHE).clear();
    const again = await request(app.getHttpServer())
      .get(`/items/${id('c')}`)
      .set('If-None-Match', first.headers.etag as string)
      .expect(304);
    expect(again.headers['x-cache']).toBe('MISS');
    expect(runs.get(id('c'))).toBe(2);
  });

  /** A GET of `path`, holding `ifNoneMatch` if given: its status checked, its X-Cache and ETag returned. */
  const cacheAndTag = async (path: string, status: number, ifNoneMatch?: string) => {
    const call = request(app.getHttpServer()).get(path);
    const answer = await (ifNoneMatch === undefined ? call : call.set('If-None-Match', ifNoneMatch)).expect(status);
    if (status === 304) expect(answer.text ?? '').toBe('');
    return [answer.headers['x-cache'], answer.headers.etag];
  };

  it("keeps the handler's own ETag (@Header) on the miss and the hit, and answers 304 to a client holding it", async () => {
    const path = `/tagged/fixed/${id('f')}`;
    expect(await cacheAndTag(path, 200)).toEqual(['MISS', '"catalogue-7"']);
    expect(await cacheAndTag(path, 200)).toEqual(['HIT', '"catalogue-7"']);
    expect(await cacheAndTag(path, 304, '"catalogue-7"')).toEqual(['HIT', '"catalogue-7"']);
    expect(runs.get(id('f'))).toBe(1);
  });

  it('stores the ETag a passthrough handler set on its response, sends it on every hit and matches If-None-Match against it', async () => {
    const path = `/tagged/own/${id('o')}`;
    expect(await cacheAndTag(path, 200)).toEqual(['MISS', '"rev-1"']);
    const hit = await request(app.getHttpServer()).get(path).expect(200);
    expect([hit.headers['x-cache'], hit.headers.etag, hit.body]).toEqual(['HIT', '"rev-1"', { id: id('o'), revision: 1 }]);
    expect(await cacheAndTag(path, 304, 'W/"rev-1"')).toEqual(['HIT', '"rev-1"']);
    expect(runs.get(id('o'))).toBe(1);

    // Misses whose handler makes a new tag: the old one no longer answers 304, the one just made does.
    await app.get<DynamoCache>(CACHE).clear();
    expect(await cacheAndTag(path, 200, '"rev-1"')).toEqual(['MISS', '"rev-2"']);
    await app.get<DynamoCache>(CACHE).clear();
    expect(await cacheAndTag(path, 304, '"rev-3"')).toEqual(['MISS', '"rev-3"']);
    expect(runs.get(id('o'))).toBe(3);
  });

  it("leaves a per-user request (bypassed) to the handler: the cache's tag does not answer it", async () => {
    const shared = await request(app.getHttpServer())
      .get(`/items/${id('d')}`)
      .expect(200);
    const personal = await request(app.getHttpServer())
      .get(`/items/${id('d')}`)
      .set('Authorization', 'Bearer someone')
      .set('If-None-Match', shared.headers.etag as string);
    expect(personal.headers['x-cache']).toBe('BYPASS');
    expect(personal.status).not.toBe(304);
    expect(personal.body).toEqual(shared.body);
  });
});

describe('a hit under an interceptor of the app that edits bodies', () => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await expressApp('etag-envelope:', [{ provide: APP_INTERCEPTOR, useClass: EnvelopeInterceptor }]);
  });
  afterAll(() => app.close());

  it('hands that interceptor the body as an object, on the miss and on every hit', async () => {
    const miss = await request(app.getHttpServer()).get('/items/enveloped').expect(200);
    expect(miss.body).toEqual({ data: { id: 'enveloped', padding: 'x'.repeat(200) } });
    for (let hit = 0; hit < 2; hit++) {
      const answer = await request(app.getHttpServer()).get('/items/enveloped').expect(200);
      expect(answer.headers['x-cache']).toBe('HIT');
      expect(answer.body).toEqual(miss.body);
    }
  });
});
