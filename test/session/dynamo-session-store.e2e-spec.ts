import { describe, expect, it } from 'vitest';
import { DynamoCache, InvalidCacheKeyError, InvalidOptionError } from '../../src/index.js';
import { type DynamoSessionOptions, DynamoSessionStore } from '../../src/entries/session.js';
import { DynamoStore } from '../../src/entries/store.js';
import { useCacheTable, cacheTableAttributes } from '../support/dynamo.js';
import { useStoppedClock } from '../support/stopped-clock.js';
import { cookie, sessionStore as sessionStoreOn } from './session-support.js';

const { client, tableName } = useCacheTable('sessions');
// Idle and absolute timeouts of a few hundred ms, crossed on a clock the test moves: in real time, the
// calls made inside them would have to beat them on a busy machine.
const clock = useStoppedClock();
const sessionStore = (prefix: string, options: DynamoSessionOptions = {}) => sessionStoreOn(tableName, client, prefix, options);

describe('DynamoSessionStore', () => {
  it('stores, reads and destroys a session, and lists, counts and clears only its own prefix', async () => {
    const sessions = sessionStore('s1:');
    const neighbour = sessionStore('s1x:');
    await sessions.set('abc', { cookie: cookie(60_000), views: 3 });
    await sessions.set('def', { cookie: cookie(60_000), views: 1 });
    await neighbour.set('abc', { cookie: cookie(60_000), views: 99 });
    expect(await sessions.get('abc')).toEqual({ cookie: expect.objectContaining({ originalMaxAge: 60_000, httpOnly: true }), views: 3 });
    expect(Object.keys(await sessions.all()).sort()).toEqual(['abc', 'def']);
    expect(await sessions.length()).toBe(2);
    await sessions.destroy('abc');
    expect(await sessions.get('abc')).toBeNull();
    await sessions.clear();
    expect(await sessions.length()).toBe(0);
    expect((await neighbour.get('abc'))?.views).toBe(99);
  });

  it('expires a session after its idle timeout (the cookie maxAge) and never returns it, though DynamoDB still holds the item', async () => {
    const sessions = sessionStore('s2:');
    clock.stop();
    await sessions.set('idle', { cookie: cookie(300), views: 1 });
    expect(await sessions.get('idle')).not.toBeNull();
    clock.advance(450);
    expect(await sessions.get('idle')).toBeNull();
    expect((await sessions.all()).idle).toBeUndefined();
  });

  it('ends a session at its absolute timeout, however active, also when another instance saves it', async () => {
    const sessions = sessionStore('s4:', { idleTimeout: 60_000, absoluteTimeout: 400 });
    // Another instance's store, which never read the session: it reads its creation before saving.
    const other = sessionStore('s4:', { idleTimeout: 60_000, absoluteTimeout: 400 });
    clock.stop();
    await sessions.set('capped', { cookie: cookie(60_000), views: 1 });
    clock.advance(200);
    await other.set('capped', { cookie: cookie(60_000), views: 2 });
    expect((await sessions.get('capped'))?.views).toBe(2);
    clock.advance(300);
    expect(await sessions.get('capped')).toBeNull();
    expect(await other.get('capped')).toBeNull();
  });

  it('leaves one whole session when two requests of it save at once: the last write wins', async () => {
    const first = sessionStore('s5:');
    const second = sessionStore('s5:');
    await first.set('shared', { cookie: cookie(60_000), cart: [], owner: 'ada' });
    await Promise.all([
      first.set('shared', { cookie: cookie(60_000), cart: ['book'], step: 'first', owner: 'ada' }),
      second.set('shared', { cookie: cookie(60_000), cart: ['pen', 'ink'], step: 'second', owner: 'ada' }),
    ]);
    const saved = await first.get('shared');
    expect([
      { cart: ['book'], step: 'first' },
      { cart: ['pen', 'ink'], step: 'second' },
    ]).toContainEqual({ cart: saved?.cart, step: saved?.step });
  });

  it('gives no session, and no crash, to ids that are not ours, malformed or oversized', async () => {
    const sessions = sessionStore('s6:');
    for (const sid of ['', 'x'.repeat(10 * 1024), 'has space', '#lock:abc', 'tab\tid', 'é']) expect(await sessions.get(sid)).toBeNull();
    await expect(sessions.set('x'.repeat(10 * 1024), { cookie: cookie(1_000) })).rejects.toThrow(InvalidCacheKeyError);
    await expect(sessions.set('has space', { cookie: cookie(1_000) })).rejects.toThrow(`table "${tableName}"`);
    await expect(sessions.destroy('has space')).resolves.toBeUndefined();
    // An item under the prefix that is not a session reads as none.
    await new DynamoStore({ tableName, client, ...cacheTableAttributes, partitionKeyPrefix: 's6:' }).set('forged', { views: 1 });
    expect(await sessions.get('forged')).toBeNull();
    expect(await sessions.length()).toBe(0);
  });

  it('refuses options of the wrong type, naming them', () => {
    const cache = new DynamoCache(new DynamoStore({ tableName, client, ...cacheTableAttributes }));
    expect(() => new DynamoSessionStore({ cache, idleTimeout: -5 })).toThrow(InvalidOptionError);
    expect(() => new DynamoSessionStore({ cache, absoluteTimeout: 'a day' as never })).toThrow(/absoluteTimeout/);
  });
});
