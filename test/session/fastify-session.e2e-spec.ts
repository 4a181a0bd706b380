import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import fastifyCookie, { Signer } from '@fastify/cookie';
import fastifySession, { type FastifySessionOptions } from '@fastify/session';
import { Controller, Get, Req } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { FastifyRequest } from 'fastify';
import { promisify } from 'node:util';
import request from 'supertest';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { type DynamoSessionOptions, DynamoSessionStore, type SessionData } from '../../src/entries/session.js';
import { localClient, recordCommands, useCacheTable } from '../support/dynamo.js';
import { faultyClient } from '../support/fault-injection.js';
import { useStoppedClock } from '../support/stopped-clock.js';
import { cacheModule } from '../support/builders.js';

// Every test here runs as a Fastify app that never installed express-session, which the store
// loads lazily for express-session's own createSession. No DynamoDB mock: the package's absence.
vi.mock('express-session', () => {
  throw Object.assign(new Error("Cannot find package 'express-session' (absent from this Fastify app)"), { code: 'ERR_MODULE_NOT_FOUND' });
});

const { tableName } = useCacheTable('session_fastify');
const admin = localClient({}, 'admin');
afterAll(() => admin.destroy());
// Idle windows and cookies of a second or two, crossed on a clock the test moves: in real time, the
// requests made inside them would have to beat them on a busy machine.
const clock = useStoppedClock();

const SECRET = 'fastify-session-tests-a-secret-of-32-characters-or-more';
const COOKIE_NAME = 'sessionId';
const COOKIE_MAX_AGE = 60_000;
// The store's default slidingRenewThreshold: a renewal must gain a tenth of the window.
const RENEW_THRESHOLD = 0.1;

type SessionRequest = FastifyRequest & { session: FastifyRequest['session'] & { user?: string } };

@Controller()
class SessionController {
  @Get('login')
  login(@Req() req: SessionRequest) {
    req.session.user = 'ada';
    return { user: 'ada' };
  }

  /** A login as OWASP has it: a new session id, so that an id planted before the login is worth nothing. */
  @Get('login-anew')
  async loginAnew(@Req() req: SessionRequest) {
    await req.session.regenerate();
    (req.session as SessionRequest['session']).user = 'ada';
    return { user: 'ada' };
  }

  @Get('me')
  me(@Req() req: SessionRequest) {
    return { user: req.session.user ?? null };
  }

  @Get('logout')
  async logout(@Req() req: SessionRequest) {
    await req.session.destroy();
    return { user: null };
  }
}

interface FastifyAppOptions {
  /** The module's `session` option. */
  session?: DynamoSessionOptions;
  client?: DynamoDBClient;
  /** @fastify/session's options beside store and secret; else its defaults (rolling, saveUninitialized) and a 60 s cookie. */
  plugin?: Partial<FastifySessionOptions>;
}

const apps: NestFastifyApplication[] = [];
const clients: DynamoDBClient[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  for (const client of clients.splice(0)) client.destroy();
});

/** A client of DynamoDB Local, destroyed after the test. */
function client(): DynamoDBClient {
  const made = localClient();
  clients.push(made);
  return made;
}

/** A Nest app on Fastify with @fastify/session on the module's DynamoSessionStore, closed after the test. */
async function fastifyApp(options: FastifyAppOptions = {}): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [cacheModule({ tableName, client: options.client ?? client() }, { session: options.session ?? {} })],
    controllers: [SessionController],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  apps.push(app);
  await app.register(fastifyCookie);
  // Taken out first: inside the options, Nest's get() would infer its type from them, as unknown.
  const store = app.get(DynamoSessionStore);
  await app.register(fastifySession, {
    store,
    secret: SECRET,
    cookie: { secure: false, maxAge: COOKIE_MAX_AGE },
    ...options.plugin,
  });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

/** The `sessionId=…` pair among a response's cookies. */
const sessionCookieOf = (setCookie: unknown) =>
  ((setCookie as string[] | undefined) ?? []).map((cookie) => cookie.split(';')[0]!).find((cookie) => cookie.startsWith(`${COOKIE_NAME}=`));

/** The session id in a `sessionId=<id>.<signature>` cookie (URI-encoded). */
const sidOf = (cookie: string) => decodeURIComponent(cookie.slice(COOKIE_NAME.length + 1)).replace(/\.[^.]*$/, '');

/** Logs in on `route`; resolves to the cookie to send back and the session's id. */
async function logIn(app: NestFastifyApplication, route = '/login', cookie?: string): Promise<{ cookie: string; sid: string }> {
  const response = await request(app.getHttpServer())
    .get(route)
    .set('Cookie', cookie ?? '')
    .expect(200);
  const sent = sessionCookieOf(response.headers['set-cookie'])!;
  return { cookie: sent, sid: sidOf(sent) };
}

/** Who the app says is logged in for that cookie. */
async function whoIs(app: NestFastifyApplication, cookie: string): Promise<string | null> {
  return (await request(app.getHttpServer()).get('/me').set('Cookie', cookie).expect(200)).body.user;
}

/** The session's item as the table holds it, by a consistent read past every instance: `dc:` (partitionKeyPrefix), `session:`, the id. */
async function storedItem(sid: string) {
  const key = { pk: { S: `dc:session:${sid}` } };
  return (await admin.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;
}

const storeGet = (app: NestFastifyApplication) => {
  const store = app.get(DynamoSessionStore);
  return promisify(store.get.bind(store)) as (sid: string) => Promise<SessionData | null>;
};

const writesIn = (sent: readonly string[]) => sent.filter((name) => name === 'UpdateItemCommand' || name === 'PutItemCommand');

describe('@fastify/session on DynamoSessionStore, in a Fastify app without express-session', () => {
  it('keeps a login stored by one instance for a request on another, and a logout on either deletes it from the table', async () => {
    // What the store's own import of it meets here (vitest wraps the factory's error in one of its own).
    await expect(import('express-session')).rejects.toThrow(/error when mocking a module/);
    const [first, second] = [await fastifyApp(), await fastifyApp()];
    const { cookie, sid } = await logIn(first);
    expect(await storedItem(sid)).toBeDefined();
    expect(await whoIs(second, cookie)).toBe('ada');
    expect(await whoIs(first, cookie)).toBe('ada');
    // The store tried to load express-session once it found a session, and went on without it.
    expect(() => second.get(DynamoSessionStore).createSession({}, {})).toThrow(/needs the express-session package/);
    await request(second.getHttpServer()).get('/logout').set('Cookie', cookie).expect(200);
    expect(await storedItem(sid)).toBeUndefined();
    expect(await whoIs(first, cookie)).toBeNull();
  });

  it('regenerate() at login deletes the session the visitor had and keeps the login under the new id only', async () => {
    const app = await fastifyApp();
    const visit = await request(app.getHttpServer()).get('/me').expect(200);
    const planted = sessionCookieOf(visit.headers['set-cookie'])!;
    expect(await storedItem(sidOf(planted))).toBeDefined();
    const { cookie, sid } = await logIn(app, '/login-anew', planted);
    expect(sid).not.toBe(sidOf(planted));
    expect(await storedItem(sidOf(planted))).toBeUndefined();
    expect(await whoIs(app, cookie)).toBe('ada');
    expect(await whoIs(app, planted)).toBeNull();
  });
});

describe('the idle timeout under @fastify/session', () => {
  it.each([
    ['rolling: true (its default): each request saves the session', true],
    ['rolling: false: the read of the session renews it', false],
  ])('ends a session idle for session.idleTimeout, and a request within it renews it, with %s', async (_case, rolling) => {
    const app = await fastifyApp({ session: { idleTimeout: 2_000 }, plugin: { rolling } });
    const loggedIn = clock.stop();
    const { cookie, sid } = await logIn(app);
    clock.moveTo(loggedIn + 1_500);
    expect(await whoIs(app, cookie)).toBe('ada');
    // Past the 2 s the login had: the request at 1.5 s renewed it.
    clock.moveTo(loggedIn + 3_000);
    expect(await whoIs(app, cookie)).toBe('ada');
    clock.moveTo(loggedIn + 5_100);
    expect(await whoIs(app, cookie)).toBeNull();
    expect(await storeGet(app)(sid)).toBeNull();
  });

  it('writes nothing for requests on an unmodified session within a tenth of the window with rolling: false, and once a request with rolling: true', async () => {
    const recorded = client();
    const sent = recordCommands(recorded);
    const quiet = await fastifyApp({ client: recorded, plugin: { rolling: false } });
    const rolling = await fastifyApp({ client: recorded });
    clock.stop();
    const { cookie } = await logIn(quiet);
    sent.length = 0;
    for (let request = 0; request < 5; request++) {
      clock.advance((COOKIE_MAX_AGE * RENEW_THRESHOLD) / 10);
      expect(await whoIs(quiet, cookie)).toBe('ada');
    }
    expect(writesIn(sent)).toEqual([]);
    for (let request = 0; request < 3; request++) expect(await whoIs(rolling, cookie)).toBe('ada');
    expect(writesIn(sent)).toHaveLength(3);
  });

  it('ends an active session at session.absoluteTimeout, however busy', async () => {
    const app = await fastifyApp({ session: { idleTimeout: 60_000, absoluteTimeout: 1_000 } });
    const loggedIn = clock.stop();
    const { cookie } = await logIn(app);
    while (Date.now() < loggedIn + 900) {
      expect(await whoIs(app, cookie)).toBe('ada');
      clock.advance(150);
    }
    clock.moveTo(loggedIn + 1_000);
    expect(await whoIs(app, cookie)).toBeNull();
  });
});

describe('a cookie that has expired, under @fastify/session', () => {
  it('gives no session once the cookie (maxAge) has expired, though reads kept the item alive, and deletes it', async () => {
    const app = await fastifyApp({ plugin: { rolling: false, cookie: { secure: false, maxAge: 1_000 } } });
    const loggedIn = clock.stop();
    const { cookie, sid } = await logIn(app);
    // With rolling: false the cookie is not sent again: it expires a second after the login, while this read renews the item.
    clock.moveTo(loggedIn + 600);
    expect(await whoIs(app, cookie)).toBe('ada');
    clock.moveTo(loggedIn + 1_100);
    expect(await whoIs(app, cookie)).toBeNull();
    expect(await storedItem(sid)).toBeUndefined();
  });

  it('returns no session from the store once a cookie of a fixed expires (no maxAge) has passed, and deletes it', async () => {
    const loggedIn = clock.stop();
    const app = await fastifyApp({ plugin: { cookie: { secure: false, expires: new Date(loggedIn + 1_000) } } });
    const { cookie, sid } = await logIn(app);
    expect((await storeGet(app)(sid))?.user).toBe('ada');
    clock.moveTo(loggedIn + 1_000);
    // The idle window (a day: no maxAge, no idleTimeout) has long to run: the cookie's date decides.
    expect(await storeGet(app)(sid)).toBeNull();
    expect(await storedItem(sid)).toBeUndefined();
    expect(await whoIs(app, cookie)).toBeNull();
  });
});

describe('@fastify/session through a DynamoDB outage', () => {
  it("fails a logged-in user's request rather than replace their cookie, and keeps the login for after the outage (readFailure: 'fail', the default)", async () => {
    const faulty = client();
    const faults = faultyClient(faulty);
    const app = await fastifyApp({ client: faulty });
    const { cookie } = await logIn(app);
    // A fault DynamoDB Local cannot produce on demand: every call fails as a dropped connection.
    faults.failWhen(() => true);
    const during = await request(app.getHttpServer()).get('/me').set('Cookie', cookie);
    expect(during.status).toBe(500);
    expect(during.headers['set-cookie']).toBeUndefined();
    faults.failWhen(undefined);
    // The circuit the outage opened closes on the next probe; the same cookie is still logged in.
    await expect.poll(() => whoIs(app, cookie), { timeout: 30_000, interval: 200 }).toBe('ada');
  });

  it("with readFailure: 'anonymous', answers as logged out and clears the cookie (saveUninitialized: false), or fails saving a new session", async () => {
    const faulty = client();
    const faults = faultyClient(faulty);
    const keepsNone = await fastifyApp({ client: faulty, session: { readFailure: 'anonymous' }, plugin: { saveUninitialized: false } });
    const savesNew = await fastifyApp({ client: faulty, session: { readFailure: 'anonymous' } });
    const { cookie } = await logIn(keepsNone);
    faults.failWhen(() => true);
    const cleared = await request(keepsNone.getHttpServer()).get('/me').set('Cookie', cookie).expect(200);
    expect(cleared.body.user).toBeNull();
    // @fastify/session clears a cookie whose session it did not load: the login is lost for good.
    expect(sessionCookieOf(cleared.headers['set-cookie'])).toBe(`${COOKIE_NAME}=`);
    const failed = await request(savesNew.getHttpServer()).get('/me').set('Cookie', cookie);
    expect(failed.status).toBe(500);
    expect(failed.headers['set-cookie']).toBeUndefined();
    faults.failWhen(undefined);
  });
});

describe('hostile session cookies under @fastify/session', () => {
  const signer = new Signer(SECRET);
  const HOSTILE: Array<[string, string]> = [
    ['unsigned', 'garbage'],
    ['10 KB long', 'x'.repeat(10 * 1024)],
    ['signed with a forged signature', `${'a'.repeat(32)}.forged`],
    // Signed with the app's secret, as a leaked secret or a custom idGenerator could make them: the store itself refuses them.
    ['signed, of a reserved key', signer.sign('#lock:abc')],
    ['signed, with a space', signer.sign('has space')],
    ['signed, 300 characters long', signer.sign('x'.repeat(300))],
  ];

  it.each(HOSTILE)('a cookie %s is no session: no DynamoDB call without saveUninitialized, a new session with it', async (_case, value) => {
    const recorded = client();
    const sent = recordCommands(recorded);
    const app = await fastifyApp({ client: recorded, plugin: { saveUninitialized: false } });
    const hostile = `${COOKIE_NAME}=${encodeURIComponent(value)}`;
    const answered = await request(app.getHttpServer()).get('/me').set('Cookie', hostile).expect(200);
    expect(answered.body.user).toBeNull();
    expect(sent).toEqual([]);
    const defaults = await fastifyApp();
    const fresh = await request(defaults.getHttpServer()).get('/me').set('Cookie', hostile).expect(200);
    const given = sessionCookieOf(fresh.headers['set-cookie'])!;
    expect(sidOf(given)).toMatch(/^[\w-]{32}$/);
    expect(await storedItem(sidOf(given))).toBeDefined();
  });
});
