import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cacheable, DynamoCacheModule, NoCache } from '../../src/index.js';
import { memoryLogger, useCacheTable, cacheTableAttributes } from '../support/dynamo.js';

const { client, tableName } = useCacheTable('nocache');
const logger = memoryLogger();
const runs: Record<string, number> = {};
const ran = (route: string) => (runs[route] = (runs[route] ?? 0) + 1);

@Controller('pages')
@Cacheable({ ttl: 60_000 })
class PagesController {
  @Get('cached')
  cached() {
    return { run: ran('cached') };
  }

  @Get('live')
  @NoCache()
  live() {
    return { run: ran('live') };
  }

  @Get('preview')
  @Cacheable({
    ttl: 60_000,
    skipIf: (context) => context.switchToHttp().getRequest<{ query: { preview?: string } }>().query.preview === '1',
  })
  preview() {
    return { run: ran('preview') };
  }

  @Get('broken-skip')
  @Cacheable({
    skipIf: () => {
      throw new Error('skipIf broke');
    },
  })
  brokenSkip() {
    return { run: ran('broken-skip') };
  }
}

let app: INestApplication;
beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [DynamoCacheModule.forRoot({ tableName, client, ...cacheTableAttributes, logger })],
    controllers: [PagesController],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.init();
});
afterAll(() => app.close());

const get = (path: string) => request(app.getHttpServer()).get(path).expect(200);

describe('@NoCache() and skipIf', () => {
  it('leaves a @NoCache() route of a @Cacheable controller out of the cache, while its other routes are cached', async () => {
    expect((await get('/pages/cached')).headers['x-cache']).toBe('MISS');
    expect((await get('/pages/cached')).headers['x-cache']).toBe('HIT');
    const first = await get('/pages/live');
    const second = await get('/pages/live');
    expect([first.body.run, second.body.run]).toEqual([1, 2]);
    expect(second.headers['x-cache']).toBeUndefined();
  });

  it('answers from the handler when skipIf returns true, and caches the requests it lets through', async () => {
    expect((await get('/pages/preview')).headers['x-cache']).toBe('MISS');
    const skipped = await get('/pages/preview?preview=1');
    expect(skipped.headers['x-cache']).toBe('BYPASS');
    expect(skipped.body.run).toBe(2);
    expect((await get('/pages/preview')).headers['x-cache']).toBe('HIT');
  });

  it('answers from the handler, with a warning naming the route, when skipIf throws', async () => {
    const answer = await get('/pages/broken-skip');
    expect(answer.headers['x-cache']).toBe('BYPASS');
    expect(logger.warnings.some((warning) => warning.includes('PagesController.brokenSkip') && warning.includes('skipIf broke'))).toBe(
      true,
    );
  });

  it('refuses a skipIf that is not a function, or credentialHeaders that are not header names, where the decorator is written', () => {
    expect(() => Cacheable({ skipIf: 'yes' as never })).toThrow(/skipIf.*a function of the ExecutionContext/);
    // credentialHeaders too, where it is written, as vary is.
    expect(() => Cacheable({ credentialHeaders: ['x tenant'] })).toThrow(/credentialHeaders.*a list of header names/);
  });
});
