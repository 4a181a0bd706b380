import { describe, expect, it } from 'vitest';
import { localClient, recordCommands, useCacheTable } from '../support/dynamo.js';
import { useStoppedClock } from '../support/stopped-clock.js';
import { cookie, logIn, sessionStore, useSessionApps, whoIs, writesIn } from './session-support.js';

const { tableName } = useCacheTable('session_touch');
// The store's default slidingRenewThreshold: a renewal must gain a tenth of the window.
const RENEW_THRESHOLD = 0.1;
// Past the threshold by this much: past it, not on it.
const MARGIN_MS = 100;
// Windows of seconds, crossed on a clock the test moves: in real time, the calls made inside them
// would have to beat them on a busy machine.
const clock = useStoppedClock();

describe('DynamoSessionStore.touch', () => {
  it('sends no write for 5 touches 20 ms apart within a tenth of a 60 s idle window, from the instance that saved it or another', async () => {
    const counted = localClient();
    const sent = recordCommands(counted);
    const saver = sessionStore(tableName, counted, 't1:', { idleTimeout: 60_000 });
    const other = sessionStore(tableName, counted, 't1:', { idleTimeout: 60_000 });
    clock.stop();
    await saver.set('busy', { cookie: cookie(60_000), views: 1 });
    sent.length = 0;
    for (const sessions of [saver, other]) {
      for (let touch = 0; touch < 5; touch++) {
        clock.advance(20);
        await sessions.touch('busy', { cookie: cookie(60_000) });
      }
    }
    expect(writesIn(sent)).toEqual([]);
    expect((await other.get('busy'))?.views).toBe(1);
    counted.destroy();
  });

  it('writes exactly once for a touch after renewing has come to gain a tenth of a 2 s window, and keeps the session past its first window', async () => {
    const counted = localClient();
    const sent = recordCommands(counted);
    const sessions = sessionStore(tableName, counted, 't2:', { idleTimeout: 2_000 });
    const savedAt = clock.stop();
    await sessions.set('active', { cookie: cookie(2_000), views: 1 });
    clock.moveTo(savedAt + 2_000 * RENEW_THRESHOLD + MARGIN_MS);
    sent.length = 0;
    await sessions.touch('active', { cookie: cookie(2_000) });
    expect(writesIn(sent)).toEqual(['UpdateItemCommand']);
    // Alive past the 2 s it had when saved: the touch pushed it out.
    clock.moveTo(savedAt + 2_000 + MARGIN_MS);
    expect((await sessions.get('active'))?.views).toBe(1);
    counted.destroy();
  });
});

describe('DynamoSessionStore.touch through express-session (resave: false, rolling: false)', () => {
  const { sent, start } = useSessionApps(tableName);

  it('sends no write for 5 requests on an unmodified session within a tenth of a 60 s window', async () => {
    const app = await start({ session: { idleTimeout: 60_000 }, cookieMaxAge: 60_000 });
    clock.stop();
    const { cookie: sessionCookie } = await logIn(app);
    sent.length = 0;
    for (let request = 0; request < 5; request++) expect(await whoIs(app, sessionCookie)).toBe('ada');
    expect(writesIn(sent)).toEqual([]);
  });

  it('writes exactly once for a request after renewing has come to gain a tenth of a 2 s window', async () => {
    const app = await start({ session: { idleTimeout: 2_000 }, cookieMaxAge: 2_000 });
    clock.stop();
    const { cookie: sessionCookie } = await logIn(app);
    clock.advance(2_000 * RENEW_THRESHOLD + MARGIN_MS);
    sent.length = 0;
    expect(await whoIs(app, sessionCookie)).toBe('ada');
    expect(writesIn(sent)).toEqual(['UpdateItemCommand']);
  });
});
