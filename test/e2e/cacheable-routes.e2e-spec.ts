import {
  type CallHandler,
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  Header,
  HttpCode,
  type INestApplication,
  Injectable,
  type NestInterceptor,
  Param,
  Post,
  Query,
  Req,
  Res,
  Scope,
  UseGuards,
} from '@nestjs/common';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { map } from 'rxjs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CacheEvict,
  Cacheable,
  CacheRegistrationError,
  DynamoCacheModule,
  DynamoCacheRegistry,
  InvalidOptionError,
} from '../../src/index.js';
import { DynamoStore } from '../../src/entries/store.js';
import { useCacheTable, cacheTableAttributes } from '../support/dynamo.js';
import { sleep } from '../support/seen-within.js';

const { client, tableName } = useCacheTable('cacheable');
const root = { tableName, client, ...cacheTableAttributes };

/** Counts handler runs per route, so that a test can tell a cached answer from a computed one. */
const runs: Record<string, number> = {};
const ran = (route: string) => (runs[route] = (runs[route] ?? 0) + 1);

class UserView {
  constructor(
    readonly name: string,
    readonly passwordHash: string,
  ) {}
}

@Controller('weather')
@Cacheable({ cache: 'weather', ttl: 86_400_000 })
class WeatherController {
  @Get(':city')
  forecast(@Param('city') city: string, @Query() query: Record<string, string>) {
    return { city, query, run: ran(`forecast:${city}`) };
  }

  @Get(':city/hourly')
  @Cacheable({ ttl: 60_000, key: (req) => `hourly:${req.params.city}`, vary: ['accept-language'] })
  hourly(@Param('city') city: string, @Req() req: { headers: Record<string, string> }) {
    return { city, language: req.headers['accept-language'] ?? 'none', run: ran(`hourly:${city}`) };
  }

  @Get(':city/slow')
  async slow(@Param('city') city: string) {
    await sleep(150);
    return { city, run: ran(`slow:${city}`) };
  }

  @Post(':city')
  @CacheEvict({ keys: (req) => [`hourly:${req.params.city}`] })
  update(@Param('city') city: string) {
    return { updated: city, run: ran(`update:${city}`) };
  }

  @Post()
  @HttpCode(200)
  @CacheEvict({ allEntries: true })
  reset() {
    return { reset: true };
  }

  @Post(':city/report')
  report(@Param('city') city: string) {
    return { city, run: ran(`report:${city}`) };
  }
}

@Controller('me')
class ProfileController {
  @Get()
  @Cacheable({ ttl: 60_000 })
  unkeyed(@Req() req: { headers: Record<string, string> }) {
    return { user: req.headers.authorization ?? 'anonymous', run: ran('me') };
  }

  @Get('keyed')
  @Cacheable({ ttl: 60_000, vary: ['authorization'] })
  keyed(@Req() req: { headers: Record<string, string> }) {
    return { user: req.headers.authorization, run: ran('me:keyed') };
  }

  @Get('public')
  @Cacheable({ ttl: 60_000, shared: true })
  shared() {
    return { motd: 'hello', run: ran('me:public') };
  }
}

@Controller('odd')
@Cacheable({ ttl: 60_000 })
class OddAnswersController {
  @Get('cookie')
  @Header('Set-Cookie', 'session=abc; HttpOnly')
  cookie() {
    return { run: ran('odd:cookie') };
  }

  @Get('private')
  @Header('Cache-Control', 'private, max-age=60')
  privately() {
    return { run: ran('odd:private') };
  }

  @Get('accepted')
  @HttpCode(202)
  accepted() {
    return { run: ran('odd:accepted') };
  }

  @Get('instance')
  instance() {
    ran('odd:instance');
    return new UserView('Ada', 'secret-hash');
  }

  @Get('text')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  text() {
    return `plain text, run ${ran('odd:text')}`;
  }

  @Get('nothing')
  nothing() {
    ran('odd:nothing');
    return undefined;
  }

  @Get('raw')
  raw(@Res() res: { json(body: unknown): void }) {
    res.json({ run: ran('odd:raw') });
  }

  @Get('bad-key')
  @Cacheable({
    key: () => {
      throw new Error('no tenant in the request');
    },
  })
  badKey() {
    return { run: ran('odd:bad-key') };
  }

  @Get('fails')
  fails() {
    ran('odd:fails');
    throw new Error('handler broke');
  }
}

/** Lets in the two clients it knows, by their API key, as an API-key guard of a real app would. */
@Injectable()
class ApiKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const key = context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-api-key'];
    return key === 'key-alice' || key === 'key-bob';
  }
}

const caller = (req: { headers: Record<string, string | undefined> }) =>
  req.headers.authorization ??
  req.headers['x-api-key'] ??
  req.headers['proxy-authorization'] ??
  req.headers['x-tenant-token'] ??
  'anonymous';

@Controller('account')
class AccountController {
  @Get('fixed-key')
  @Cacheable({ ttl: 60_000, key: 'me' })
  fixedKey(@Req() req: { headers: Record<string, string> }) {
    return { user: caller(req), run: ran('account:fixed-key') };
  }

  @Get('city/:city')
  @Cacheable({ ttl: 60_000, key: (req) => `city:${req.params.city}` })
  byCity(@Req() req: { headers: Record<string, string> }) {
    return { user: caller(req), run: ran('account:city') };
  }

  @Get('vouched')
  @Cacheable({ ttl: 60_000, key: (req) => `vouched:${req.headers.authorization}`, shared: true })
  vouched(@Req() req: { headers: Record<string, string> }) {
    return { user: caller(req), run: ran('account:vouched') };
  }

  @Get('proxy')
  @Cacheable({ ttl: 60_000 })
  proxy(@Req() req: { headers: Record<string, string> }) {
    return { user: caller(req), run: ran('account:proxy') };
  }

  @Get('tenant')
  @Cacheable({ ttl: 60_000, credentialHeaders: ['X-Tenant-Token'] })
  tenant(@Req() req: { headers: Record<string, string> }) {
    return { user: caller(req), run: ran('account:tenant') };
  }
}

@Controller('reports')
@UseGuards(ApiKeyGuard)
class ReportsController {
  @Get()
  @Cacheable({ ttl: 60_000 })
  mine(@Req() req: { headers: Record<string, string> }) {
    return { client: caller(req), run: ran('reports') };
  }

  @Get('per-client')
  @Cacheable({ ttl: 60_000, vary: ['x-api-key'] })
  perClient(@Req() req: { headers: Record<string, string> }) {
    return { client: caller(req), run: ran('reports:per-client') };
  }
}

@Controller('answers')
@Cacheable({ ttl: 60_000 })
class AnswersController {
  @Get('with-internal')
  withInternal() {
    return { visible: 'yes', internal: 'for the server only', nested: { items: [1, 2] }, run: ran('answers:with-internal') };
  }

  @Get('negative-ttl')
  @Cacheable({ ttl: () => -5 })
  negativeTtl() {
    return { run: ran('answers:negative-ttl') };
  }

  @Get('nan-ttl')
  @Cacheable({ ttl: () => Number.NaN })
  nanTtl() {
    return { run: ran('answers:nan-ttl') };
  }

  @Get('flaky')
  @Cacheable({ ttl: 1, failSafe: true })
  flaky() {
    if (ran('answers:flaky') > 1) throw new Error('upstream down');
    return { ok: true };
  }
}

/** A global interceptor that edits every answer, as apps do to hide a field: it must work on a hit as on a miss. */
class HideInternalInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler) {
    return next.handle().pipe(
      map((body: unknown) => {
        if (typeof body === 'object' && body !== null && 'internal' in body) delete (body as { internal?: unknown }).internal;
        return body;
      }),
    );
  }
}

const warnings: string[] = [];
const logger = { log() {}, error() {}, debug() {}, verbose() {}, warn: (message: unknown) => void warnings.push(String(message)) };

function appModule(prefix: string) {
  return Test.createTestingModule({
    imports: [DynamoCacheModule.forRoot({ ...root, partitionKeyPrefix: prefix }), DynamoCacheModule.forFeature({ name: 'weather' })],
    controllers: [WeatherController, ProfileController, OddAnswersController, AccountController, ReportsController, AnswersController],
  }).compile();
}

describe('@Cacheable and @CacheEvict on Express', () => {
  let app: INestApplication;
  beforeAll(async () => {
    app = (await appModule('r1:')).createNestApplication({ logger });
    app.useGlobalInterceptors(new HideInternalInterceptor());
    await app.init();
  });
  afterAll(() => app.close());
  const http = () => request(app.getHttpServer());

  it('answers MISS, then HIT from the cache with an Age header, and stores the entry in the named cache', async () => {
    const first = await http().get('/weather/Seattle').expect(200);
    expect(first.headers['x-cache']).toBe('MISS');
    expect(first.body).toEqual({ city: 'Seattle', query: {}, run: 1 });
    const second = await http().get('/weather/Seattle').expect(200);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.headers.age).toBe('0');
    expect(second.headers['content-type']).toMatch(/application\/json/);
    expect(second.body).toEqual(first.body);
    expect(runs['forecast:Seattle']).toBe(1);
    const stored = await new DynamoStore({ ...root, partitionKeyPrefix: 'r1:weather:' }).get<{ status: number; body: unknown }>(
      'GET /weather/Seattle',
    );
    expect(stored).toMatchObject({ status: 200, body: first.body });
  });

  it('shares one entry between the same query parameters in another order', async () => {
    const first = await http().get('/weather/Oslo?units=metric&days=3').expect(200);
    const second = await http().get('/weather/Oslo?days=3&units=metric').expect(200);
    expect(first.headers['x-cache']).toBe('MISS');
    expect(second.headers['x-cache']).toBe('HIT');
    expect(runs['forecast:Oslo']).toBe(1);
    expect((await http().get('/weather/Oslo?days=4&units=metric')).headers['x-cache']).toBe('MISS');
  });

  it('never caches a POST, even under a controller-wide @Cacheable', async () => {
    await http().post('/weather/Lima/report').expect(201);
    const again = await http().post('/weather/Lima/report').expect(201);
    expect(again.headers['x-cache']).toBeUndefined();
    expect(runs['report:Lima']).toBe(2);
  });

  it('keys by a key function and vary headers, and evicts by key after a POST', async () => {
    const english = await http().get('/weather/Paris/hourly').set('Accept-Language', 'en').expect(200);
    const french = await http().get('/weather/Paris/hourly').set('Accept-Language', 'fr').expect(200);
    expect([english.body.language, french.body.language]).toEqual(['en', 'fr']);
    expect((await http().get('/weather/Paris/hourly').set('Accept-Language', 'fr')).body).toEqual(french.body);
    expect(runs['hourly:Paris']).toBe(2);

    await http().post('/weather/Paris').expect(201);
    const afterEvict = await http().get('/weather/Paris/hourly').set('Accept-Language', 'fr').expect(200);
    expect(afterEvict.headers['x-cache']).toBe('MISS');
    expect(runs['hourly:Paris']).toBe(3);
  });

  it('evicts every entry of the cache with allEntries, and only that cache', async () => {
    await http().get('/weather/Rome').expect(200);
    await http().get('/me/public').expect(200);
    await http().post('/weather').expect(200);
    expect((await http().get('/weather/Rome')).headers['x-cache']).toBe('MISS');
    expect((await http().get('/me/public')).headers['x-cache']).toBe('HIT'); // the default cache was not cleared
  });

  it('bypasses the read and refreshes the entry for Cache-Control: no-cache', async () => {
    await http().get('/weather/Bern').expect(200);
    const refreshed = await http().get('/weather/Bern').set('Cache-Control', 'no-cache').expect(200);
    expect(refreshed.headers['x-cache']).toBe('MISS');
    expect(refreshed.body.run).toBe(2);
    const after = await http().get('/weather/Bern').expect(200);
    expect(after.headers['x-cache']).toBe('HIT');
    expect(after.body.run).toBe(2);
  });

  it('never serves one user the response of another: unkeyed routes bypass, vary: authorization keys per user', async () => {
    const ada = await http().get('/me').set('Authorization', 'Bearer ada').expect(200);
    const bob = await http().get('/me').set('Authorization', 'Bearer bob').expect(200);
    expect([ada.body.user, bob.body.user]).toEqual(['Bearer ada', 'Bearer bob']);
    expect([ada.headers['x-cache'], bob.headers['x-cache']]).toEqual(['BYPASS', 'BYPASS']);
    const withCookie = await http().get('/me').set('Cookie', 'sid=carol').expect(200);
    expect(withCookie.headers['x-cache']).toBe('BYPASS');
    // An anonymous answer is stored, and never served to a request that carries credentials.
    await http().get('/me').expect(200);
    expect((await http().get('/me')).headers['x-cache']).toBe('HIT');
    expect((await http().get('/me').set('Authorization', 'Bearer ada')).body.user).toBe('Bearer ada');

    // Concurrent requests of two users on a per-user route, cold: each gets their own answer, every time.
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        http()
          .get('/me/keyed')
          .set('Authorization', index % 2 ? 'Bearer ada' : 'Bearer bob'),
      ),
    );
    for (const [index, answer] of answers.entries()) expect(answer.body.user).toBe(index % 2 ? 'Bearer ada' : 'Bearer bob');
    expect(runs['me:keyed']).toBe(2);
    // The token is in no key of the table: only a digest of it is.
    const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName, ProjectionExpression: 'pk' }));
    const keys = Items.map((item) => item.pk!.S!);
    expect(keys.filter((key) => key.startsWith('r1:default:GET /me/keyed @'))).toHaveLength(2);
    expect(keys.filter((key) => key.includes('Bearer'))).toEqual([]);
  });

  it('serves a shared: true route from one entry whatever the credentials', async () => {
    await http().get('/me/public').set('Authorization', 'Bearer ada').expect(200);
    const other = await http().get('/me/public').set('Authorization', 'Bearer bob').expect(200);
    expect(other.headers['x-cache']).toBe('HIT');
  });

  it('runs the handler once for 50 concurrent cold requests', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => http().get('/weather/Cairo/slow')));
    expect(answers.every((answer) => answer.status === 200 && answer.body.run === 1)).toBe(true);
    expect(runs['slow:Cairo']).toBe(1);
    expect(answers.filter((answer) => answer.headers['x-cache'] === 'MISS')).toHaveLength(1);
  });

  it('does not store answers meant for one client or that would not come back intact', async () => {
    for (const route of ['cookie', 'private', 'accepted', 'instance', 'nothing']) {
      await http().get(`/odd/${route}`);
      await http().get(`/odd/${route}`);
      expect(runs[`odd:${route}`], route).toBe(2);
    }
    // A class instance is never stored as a plain object that would skip class-transformer on a hit.
    const view = await http().get('/odd/instance').expect(200);
    expect(view.headers['x-cache']).toBe('MISS');
    expect(warnings.some((line) => line.includes('OddAnswersController.instance') && line.includes('UserView instance'))).toBe(true);
  });

  it('keeps the status and content type of a text answer', async () => {
    await http().get('/odd/text').expect(200);
    const hit = await http().get('/odd/text').expect(200);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(hit.text).toBe('plain text, run 1');
  });

  it('leaves a @Res() route alone', async () => {
    await http().get('/odd/raw').expect(200);
    const second = await http().get('/odd/raw').expect(200);
    expect(second.body.run).toBe(2);
    expect(second.headers['x-cache']).toBeUndefined();
  });

  it('answers from the handler, with a warning, when the key function throws', async () => {
    const answer = await http().get('/odd/bad-key').expect(200);
    expect(answer.headers['x-cache']).toBe('BYPASS');
    expect(warnings.some((line) => line.includes('OddAnswersController.badKey') && line.includes('no tenant in the request'))).toBe(true);
  });

  it('keeps query parameters apart by their decoded names: an encoded name is the same parameter, in its own place', async () => {
    // Both are a=[2, 1] and a=[1, 2] to the handler: the order of a repeated parameter is part of the answer.
    const first = await http().get('/weather/Quito?a=2&%61=1').expect(200);
    const second = await http().get('/weather/Quito?%61=1&a=2').expect(200);
    expect([first.headers['x-cache'], second.headers['x-cache']]).toEqual(['MISS', 'MISS']);
    expect([first.body.query, second.body.query]).toEqual([{ a: ['2', '1'] }, { a: ['1', '2'] }]);
    expect((await http().get('/weather/Quito?b=1&a=2').expect(200)).headers['x-cache']).toBe('MISS');
    const reordered = await http().get('/weather/Quito?a=2&b=1').expect(200);
    expect(reordered.headers['x-cache']).toBe('HIT');
    expect(reordered.body.query).toEqual({ a: '2', b: '1' });
  });

  it("does not take a fixed string key as keyed per user: Bob is never served Alice's answer", async () => {
    const alice = await http().get('/account/fixed-key').set('Authorization', 'Bearer alice').expect(200);
    const bob = await http().get('/account/fixed-key').set('Authorization', 'Bearer bob').expect(200);
    expect([alice.body.user, bob.body.user]).toEqual(['Bearer alice', 'Bearer bob']);
    expect([alice.headers['x-cache'], bob.headers['x-cache']]).toEqual(['BYPASS', 'BYPASS']);
  });

  it("does not take a key function as keyed per user either: a key of the city alone never hands Alice's answer to Bob", async () => {
    const alice = await http().get('/account/city/oslo').set('Authorization', 'Bearer alice').expect(200);
    const bob = await http().get('/account/city/oslo').set('Authorization', 'Bearer bob').expect(200);
    expect([alice.body.user, bob.body.user]).toEqual(['Bearer alice', 'Bearer bob']);
    expect([alice.headers['x-cache'], bob.headers['x-cache']]).toEqual(['BYPASS', 'BYPASS']);
    // An anonymous request still shares the route's entry.
    expect((await http().get('/account/city/oslo').expect(200)).headers['x-cache']).toBe('MISS');
    expect((await http().get('/account/city/oslo').expect(200)).headers['x-cache']).toBe('HIT');
  });

  it('caches per user through a key function the route vouches for with shared: true', async () => {
    const alice = await http().get('/account/vouched').set('Authorization', 'Bearer alice').expect(200);
    const bob = await http().get('/account/vouched').set('Authorization', 'Bearer bob').expect(200);
    const aliceAgain = await http().get('/account/vouched').set('Authorization', 'Bearer alice').expect(200);
    expect([alice.body.user, bob.body.user, aliceAgain.body.user]).toEqual(['Bearer alice', 'Bearer bob', 'Bearer alice']);
    expect([alice.headers['x-cache'], bob.headers['x-cache'], aliceAgain.headers['x-cache']]).toEqual(['MISS', 'MISS', 'HIT']);
  });

  it("bypasses a request that carries an API key behind an API-key guard: one client never gets another's answer", async () => {
    const alice = await http().get('/reports').set('X-Api-Key', 'key-alice').expect(200);
    const bob = await http().get('/reports').set('X-Api-Key', 'key-bob').expect(200);
    expect([alice.body.client, bob.body.client]).toEqual(['key-alice', 'key-bob']);
    expect([alice.headers['x-cache'], bob.headers['x-cache']]).toEqual(['BYPASS', 'BYPASS']);
    // Proxy-Authorization is a credential too.
    const proxied = await http().get('/account/proxy').set('Proxy-Authorization', 'Basic YWxpY2U6c2VjcmV0').expect(200);
    expect(proxied.headers['x-cache']).toBe('BYPASS');
    expect((await http().get('/account/proxy').set('Proxy-Authorization', 'Basic Ym9iOnNlY3JldA==')).body.user).toBe(
      'Basic Ym9iOnNlY3JldA==',
    );
  });

  it("keys an API-key route per client with vary: ['x-api-key']", async () => {
    expect((await http().get('/reports/per-client').set('X-Api-Key', 'key-alice').expect(200)).headers['x-cache']).toBe('MISS');
    expect((await http().get('/reports/per-client').set('X-Api-Key', 'key-bob').expect(200)).body.client).toBe('key-bob');
    const again = await http().get('/reports/per-client').set('X-Api-Key', 'key-alice').expect(200);
    expect([again.headers['x-cache'], again.body.client]).toEqual(['HIT', 'key-alice']);
    expect(runs['reports:per-client']).toBe(2);
  });

  it('takes the credential headers a route names instead of the default list', async () => {
    const alice = await http().get('/account/tenant').set('X-Tenant-Token', 'alice').expect(200);
    const bob = await http().get('/account/tenant').set('X-Tenant-Token', 'bob').expect(200);
    expect([alice.headers['x-cache'], bob.headers['x-cache'], bob.body.user]).toEqual(['BYPASS', 'BYPASS', 'bob']);
  });

  it("hands a hit's body to the interceptors outside it as a copy they may change, and later hits still get the stored answer", async () => {
    const miss = await http().get('/answers/with-internal').expect(200);
    const hit = await http().get('/answers/with-internal').expect(200);
    const again = await http().get('/answers/with-internal').expect(200);
    expect([miss.headers['x-cache'], hit.headers['x-cache'], again.headers['x-cache']]).toEqual(['MISS', 'HIT', 'HIT']);
    expect(miss.body).toEqual({ visible: 'yes', nested: { items: [1, 2] }, run: 1 });
    expect(hit.body).toEqual(miss.body);
    expect(again.body).toEqual(miss.body);
    const stored = app.get(DynamoCacheRegistry).default.peek<{ body: Record<string, unknown> }>('GET /answers/with-internal');
    expect(stored?.body.internal).toBe('for the server only');
  });

  it('serves and does not store an answer whose ttl function returns a negative or NaN ttl, with a warning naming the route and the ttl', async () => {
    for (const [route, handler, ttl] of [
      ['negative-ttl', 'negativeTtl', '-5'],
      ['nan-ttl', 'nanTtl', 'NaN'],
    ] as const) {
      const first = await http().get(`/answers/${route}`).expect(200);
      const second = await http().get(`/answers/${route}`).expect(200);
      expect([first.headers['x-cache'], second.headers['x-cache']], route).toEqual(['MISS', 'MISS']);
      expect(runs[`answers:${route}`], route).toBe(2);
      expect(
        warnings.some((line) => line.includes(`AnswersController.${handler}`) && line.includes(`its ttl function returned ${ttl}`)),
        route,
      ).toBe(true);
    }
  });

  it('reports a handler\'s own error that fail-safe answered for as an Error that names the route, never "[object Object]"', async () => {
    const reported: unknown[] = [];
    app.get(DynamoCacheRegistry).default.on('cache:error', (event) => void reported.push(event.error));
    expect((await http().get('/answers/flaky').expect(200)).headers['x-cache']).toBe('MISS');
    // The entry's ttl is 1 ms: the next answers are hits until it has passed, then fail-safe's STALE.
    let state: string | undefined;
    for (let attempt = 0; attempt < 50 && state !== 'STALE'; attempt++)
      state = (await http().get('/answers/flaky').expect(200)).headers['x-cache'];
    expect(state).toBe('STALE');
    expect(reported.length).toBeGreaterThan(0);
    const error = reported[0] as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toContain('AnswersController.flaky');
    expect(error.message).toContain('upstream down');
    expect(warnings.filter((line) => line.includes('[object Object]'))).toEqual([]);
  });

  it('passes a handler error through untouched and stores nothing', async () => {
    await http().get('/odd/fails').expect(500);
    await http().get('/odd/fails').expect(500);
    expect(runs['odd:fails']).toBe(2);
  });
});

describe('@Cacheable on Fastify', () => {
  it('answers MISS then HIT, keeps query order apart, and bypasses credentials', async () => {
    const app = (await appModule('r2:')).createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    const http = () => request(app.getHttpServer());
    const before = runs['forecast:Fastify'] ?? 0;
    expect((await http().get('/weather/Fastify?b=2&a=1').expect(200)).headers['x-cache']).toBe('MISS');
    const hit = await http().get('/weather/Fastify?a=1&b=2').expect(200);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.headers.age).toBe('0');
    expect(runs['forecast:Fastify']).toBe(before + 1);
    const ada = await http().get('/me').set('Authorization', 'Bearer ada').expect(200);
    expect(ada.headers['x-cache']).toBe('BYPASS');
    expect(ada.body.user).toBe('Bearer ada');
    await http().get('/odd/text').expect(200);
    const text = await http().get('/odd/text').expect(200);
    expect([text.headers['x-cache'], text.headers['content-type']]).toEqual(['HIT', 'text/plain; charset=utf-8']);
    await app.close();
  });
});

describe('declaring @Cacheable wrong', () => {
  it('refuses bad options where the decorator is written, naming them', () => {
    expect(() => Cacheable({ ttl: -1 })).toThrow(InvalidOptionError);
    expect(() => Cacheable({ ttl: -1 })).toThrow(/"@Cacheable ttl"/);
    expect(() => Cacheable({ statuses: [404] })).toThrow(/"@Cacheable statuses"/);
    expect(() => Cacheable({ vary: ['bad header'] })).toThrow(/"@Cacheable vary"/);
    expect(() => Cacheable({ failSafeMaxDuration: Number.NaN })).toThrow(/"@Cacheable failSafeMaxDuration"/);
    expect(() => CacheEvict({})).toThrow(/"@CacheEvict keys"/);
  });

  it('fails start-up when a route names a cache nobody registered', async () => {
    @Controller('typo')
    class TypoController {
      @Get()
      @Cacheable({ cache: 'wether' })
      get() {
        return 1;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [DynamoCacheModule.forRoot({ ...root, partitionKeyPrefix: 'r3:' })],
      controllers: [TypoController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await expect(app.init()).rejects.toThrow(CacheRegistrationError);
    await expect(app.init()).rejects.toThrow(/named by TypoController.get/);
    await app.close();
  });

  it('warns that a request-scoped provider is not wrapped', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class PerRequestService {
      @Cacheable({ ttl: 1_000 })
      async load() {
        return 1;
      }
    }
    const seen: string[] = [];
    const moduleRef = await Test.createTestingModule({
      imports: [DynamoCacheModule.forRoot({ ...root, partitionKeyPrefix: 'r4:' })],
      providers: [PerRequestService],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: { ...logger, warn: (message: unknown) => void seen.push(String(message)) } });
    await app.init();
    expect(seen.some((line) => line.includes('PerRequestService.load') && line.includes('request-scoped'))).toBe(true);
    await app.close();
  });
});
