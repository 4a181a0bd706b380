import { type CallHandler, Controller, type ExecutionContext, Get, type INestApplication, type NestInterceptor } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import request from 'supertest';
import { map, type Observable } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Cacheable } from '../../src/index.js';
import { useCacheTable } from '../support/dynamo.js';
import { useNestApps } from '../support/nest-apps.js';
import { cacheModule } from '../support/builders.js';

const { tableName } = useCacheTable('shared_answers');
const apps = useNestApps();
let handlerRuns = 0;
let arrivals = 0;
let release!: () => void;
const released = new Promise<void>((resolve) => (release = resolve));

/** An app's own global interceptor that edits every answer on its way out. */
class CountsVisits implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    arrivals += 1;
    return next.handle().pipe(map((body: { visits?: number }) => ((body.visits = (body.visits ?? 0) + 1), body)));
  }
}

@Controller('slow')
class SlowController {
  @Get()
  @Cacheable({ ttl: 60_000 })
  async slow() {
    handlerRuns += 1;
    await released;
    return { at: new Date(0), items: ['a'] };
  }
}

let app: INestApplication;
beforeAll(async () => {
  app = await apps.start({
    // memory: false, so that requests joining one load share the answer object the handler made.
    imports: [cacheModule({ tableName }, { memory: false })],
    controllers: [SlowController],
    providers: [{ provide: APP_INTERCEPTOR, useClass: CountsVisits }],
  });
});

describe('requests that join one in-flight load', () => {
  it('each get an answer of their own, which another interceptor may edit without touching the others', async () => {
    const server = app.getHttpServer();
    const answers = Array.from({ length: 4 }, () => request(server).get('/slow'));
    const sent = answers.map((pending) => pending.then((response) => response));
    // Every request has reached the cache (the interceptors run before it, in the same turn) while
    // the first one's handler is still held: the other three joined its load.
    await expect.poll(() => arrivals).toBe(4);
    await new Promise((resolve) => setImmediate(resolve));
    // The first request's read of DynamoDB missed, and its handler runs, held.
    await expect.poll(() => handlerRuns).toBe(1);
    release();
    const responses = await Promise.all(sent);
    expect(handlerRuns).toBe(1);
    expect(responses.map((response) => response.body.visits)).toEqual([1, 1, 1, 1]);
  });
});
