import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { DynamoCacheRegistry } from '../../src/index.js';
import { type SessionData } from '../../src/entries/session.js';
import { localClient, recordCommands, useCacheTable } from '../support/dynamo.js';
import { useStoppedClock } from '../support/stopped-clock.js';
import { ONE_DAY_MS, cookie, logIn, sessionStore, useSessionApps, whoIs, writesIn } from './session-support.js';

const { client, tableName } = useCacheTable('session_expired');
// Cookies of well under 2 s, crossed on a clock the test moves: in real time, the requests made while
// they live would have to beat them on a busy machine.
const clock = useStoppedClock();

const past = () => new Date(Date.now() - 1_000).toISOString();
const ENDED_COOKIES: Array<[string, () => SessionData['cookie'] & { maxAge?: number }]> = [
  ['expires in the past', () => ({ originalMaxAge: 60_000, expires: past() })],
  ['originalMaxAge 0', () => ({ originalMaxAge: 0, expires: new Date().toISOString() })],
  ['originalMaxAge negative', () => ({ originalMaxAge: -5_000, expires: past() })],
  ['maxAge 0 (a live Cookie)', () => ({ originalMaxAge: 60_000, maxAge: 0, expires: new Date(Date.now() + 60_000).toISOString() })],
];

describe('DynamoSessionStore and a cookie that has expired', () => {
  it.each(ENDED_COOKIES)('set of a session whose cookie has %s deletes it and writes nothing', async (_case, endedCookie) => {
    const counted = localClient();
    const sent = recordCommands(counted);
    const sessions = sessionStore(tableName, counted, 'e1:');
    await sessions.set('ending', { cookie: cookie(60_000), user: 'ada' });
    sent.length = 0;
    await sessions.set('ending', { cookie: endedCookie(), user: 'ada' });
    expect(writesIn(sent)).toEqual([]);
    expect(sent).toContain('DeleteItemCommand');
    expect(await sessions.get('ending')).toBeNull();
    expect(await sessions.cache.store.get('ending')).toBeUndefined();
    counted.destroy();
  });

  it('get of a session whose cookie expires before its idle timeout gives null once the cookie has expired', async () => {
    const sessions = sessionStore(tableName, client, 'e2:', { idleTimeout: 60_000 });
    clock.stop();
    const sessionCookie = cookie(400);
    await sessions.set('short', { cookie: sessionCookie, user: 'ada' });
    expect((await sessions.get('short'))?.user).toBe('ada');
    clock.moveTo(Date.parse(sessionCookie.expires));
    expect(await sessions.get('short')).toBeNull();
  });

  it('get of a stored session whose cookie.expires is past gives null and deletes it, though its idle window has a day to run', async () => {
    const sessions = sessionStore(tableName, client, 'e3:', { idleTimeout: ONE_DAY_MS });
    // As an earlier version saved them: the session under a day's window, its cookie already past.
    for (const [sid, endedCookie] of [
      ['expired', { originalMaxAge: 60_000, expires: past() }],
      ['ended', { originalMaxAge: 0, expires: past() }],
    ] as const) {
      await sessions.cache.store.set(
        sid,
        { data: { cookie: endedCookie, user: 'ada' }, createdAt: Date.now() },
        { slidingExpiration: ONE_DAY_MS },
      );
      expect(await sessions.get(sid)).toBeNull();
      expect(await sessions.cache.store.get(sid)).toBeUndefined();
    }
  });
});

describe('a cookie that has expired, through express-session', () => {
  const { sent, start } = useSessionApps(tableName);

  it.each(['end', 'end-and-save'])(
    'a request that sets the cookie maxAge to 0 (/%s) ends the session: deleted, nothing written, the next request has none',
    async (route) => {
      const app = await start({ session: {} });
      const { cookie: sessionCookie, sid } = await logIn(app);
      sent.length = 0;
      await request(app.getHttpServer()).get(`/${route}`).set('Cookie', sessionCookie).expect(200);
      expect(writesIn(sent)).toEqual([]);
      expect(await app.get(DynamoCacheRegistry).get('session').store.get(sid)).toBeUndefined();
      expect(await whoIs(app, sessionCookie)).toBeNull();
    },
  );

  it('a cookie replayed after it expired gets no session, though the idle timeout is longer', async () => {
    const app = await start({ session: { idleTimeout: 60_000 }, cookieMaxAge: 500 });
    const loggingIn = clock.stop();
    const { cookie: sessionCookie } = await logIn(app);
    expect(await whoIs(app, sessionCookie)).toBe('ada');
    clock.moveTo(loggingIn + 500);
    expect(await whoIs(app, sessionCookie)).toBeNull();
  });

  it('a rolling session kept busy by requests outlives the expiry its cookie had when it was saved', async () => {
    const app = await start({ session: {}, cookieMaxAge: 1_500, rolling: true });
    const loggedIn = clock.stop();
    const { cookie: sessionCookie } = await logIn(app);
    // Unmodified requests are touched, never saved: the stored cookie keeps the expiry of the login.
    while (Date.now() < loggedIn + 2_500) {
      expect(await whoIs(app, sessionCookie)).toBe('ada');
      clock.advance(100);
    }
  });
});
