import { Controller, Get, type INestApplication, Req } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHE, Cacheable, type DynamoCache, DynamoCacheModule, DynamoCacheRegistry } from '../../src/index.js';
import { DynamoSessionStore } from '../../src/entries/session.js';
import { useCacheTable } from '../support/dynamo.js';
import { cacheModule } from '../support/builders.js';

const { client, tableName } = useCacheTable('isolation');
let app: INestApplication;

/** Who is asking, from the Authorization header or the `user` cookie: the answer no one else may get. */
function caller(req: { headers: Record<string, string | undefined> }): string {
  return req.headers.authorization ?? /user=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? 'anonymous';
}

@Controller('me')
class MeController {
  @Get('per-user')
  @Cacheable({ ttl: 60_000, vary: ['authorization', 'cookie'] })
  async perUser(@Req() req: { headers: Record<string, string | undefined> }) {
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
    return { user: caller(req) };
  }

  @Get('default')
  @Cacheable({ ttl: 60_000 })
  async byDefault(@Req() req: { headers: Record<string, string | undefined> }) {
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
    return { user: caller(req) };
  }
}

beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [
      cacheModule({ tableName, client }, { session: {} }),
      DynamoCacheModule.forFeature({ name: 'users' }),
      DynamoCacheModule.forFeature({ name: 'orders', keyPrefix: 'ord:' }),
    ],
    controllers: [MeController],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.init();
});
afterAll(() => app?.close());

/** Keys that try to reach another cache's items: its prefix, separators, traversal, look-alikes of ':'. */
const HOSTILE_KEYS = [
  'x',
  'users:x',
  'session:x',
  'default:x',
  'ord:x',
  ':x',
  '::',
  '../users/x',
  '..',
  'users\u2236x', // RATIO, looks like ':'
  'users\uFF1Ax', // FULLWIDTH COLON
  'users\uFE55x', // SMALL COLON
  'u\u0455ers:x', // Cyrillic dze for 's'
  '#lock:x',
  '#chunk:x',
  '#sha256:x',
  'dc:users:x',
];

describe('isolation between named caches and the session store', () => {
  it("no cache reads, overwrites or deletes another's items, whatever the key", async () => {
    const registry = app.get(DynamoCacheRegistry);
    const caches: DynamoCache[] = [app.get(CACHE), registry.get('users'), registry.get('orders'), registry.get('session')];
    for (const cache of caches) await cache.mset(HOSTILE_KEYS.map((key) => ({ key, value: `${cache.name}|${key}` })));
    for (const cache of caches) expect(await cache.mget(HOSTILE_KEYS)).toEqual(HOSTILE_KEYS.map((key) => `${cache.name}|${key}`));

    // Deleting every hostile key in one cache leaves the others whole.
    const [main, users, orders, sessions] = caches;
    for (const key of HOSTILE_KEYS) await main!.del(key);
    await users!.mdel(HOSTILE_KEYS);
    expect(await main!.mget(HOSTILE_KEYS)).toEqual(HOSTILE_KEYS.map(() => undefined));
    for (const cache of [orders!, sessions!])
      expect(await cache.mget(HOSTILE_KEYS)).toEqual(HOSTILE_KEYS.map((key) => `${cache.name}|${key}`));
    // clear() reaches its own prefix only.
    await orders!.clear();
    expect(await sessions!.mget(HOSTILE_KEYS)).toEqual(HOSTILE_KEYS.map((key) => `session|${key}`));
  });

  it('the session store reads and destroys only sessions, never a cache entry under the same key', async () => {
    const store = app.get(DynamoSessionStore);
    const main = app.get<DynamoCache>(CACHE);
    const call = <T>(work: (done: (error: unknown, value?: T) => void) => void) =>
      new Promise<T | undefined>((resolve, reject) => work((error, value) => (error ? reject(error) : resolve(value))));
    for (const sid of ['abc', 'users:abc', 'default:abc']) {
      await main.set(sid, { cookie: {}, user: 'cache entry' });
      expect(await call((done) => store.get(sid, done))).toBeNull();
      await call((done) => store.set(sid, { cookie: {}, user: `session ${sid}` } as never, done));
      await call((done) => store.destroy(sid, done));
      expect(await main.get(sid)).toEqual({ cookie: {}, user: 'cache entry' });
    }
  });
});

describe("@Cacheable never serves one user's answer to another, even under concurrency", () => {
  const USERS = Array.from({ length: 12 }, (_, index) => `user-${index}`);

  async function hammer(path: string, credentials: (user: string) => Record<string, string>) {
    const requests = Array.from({ length: 240 }, (_, index) => USERS[(index * 7) % USERS.length]!);
    const answers = await Promise.all(
      requests.map(async (user) => {
        const answer = await request(app.getHttpServer()).get(path).set(credentials(user));
        return { user, body: answer.body as { user: string }, cache: answer.headers['x-cache'] as string };
      }),
    );
    return answers;
  }

  it.each([
    ['Authorization', (user: string) => ({ authorization: user })],
    ['cookie', (user: string) => ({ cookie: `user=${user}` })],
  ])(
    "per-user entries (vary) keyed by %s: every answer is the caller's own, and entries are shared per user",
    async (_name, credentials) => {
      const answers = await hammer('/me/per-user', credentials);
      expect(answers.filter((answer) => answer.body.user !== answer.user)).toEqual([]);
      expect(answers.some((answer) => answer.cache === 'HIT')).toBe(true);
    },
  );

  it.each([
    ['Authorization', (user: string) => ({ authorization: user })],
    ['cookie', (user: string) => ({ cookie: `user=${user}` })],
  ])('a route without vary bypasses the cache for requests with %s', async (_name, credentials) => {
    await request(app.getHttpServer()).get('/me/default').expect(200); // an anonymous entry exists
    const answers = await hammer('/me/default', credentials);
    expect(answers.filter((answer) => answer.body.user !== answer.user)).toEqual([]);
    expect(new Set(answers.map((answer) => answer.cache))).toEqual(new Set(['BYPASS']));
  });
});
