import { EventEmitter } from 'node:events';
import type { SessionPort } from '../cache/cache-ports.js';
import type { DynamoCache } from '../cache/dynamo-cache.js';
import { InvalidCacheKeyError, InvalidOptionError } from '../store/errors.js';
import { isPositiveDuration, optional } from '../store/store-options.js';
import { expressSessionLoaded, expressSessionStore } from './express-session-loader.js';
import { cookieHasEnded, outlivedItsCookie } from './session-cookie.js';
import { SessionLifetimes, type StoredSession, isStoredSession } from './session-lifetime.js';
import type { DynamoSessionStoreOptions, SessionData } from './session-options.js';
import { namingTable } from './session-store-error.js';

export type { DynamoSessionOptions, DynamoSessionStoreOptions, SessionData } from './session-options.js';

/**
 * A session as `set` and `touch` take it: plain data, or express-session's and @fastify/session's own
 * Session types, which have no index signature and so are no SessionData to TypeScript.
 */
type StorableSession = SessionData | { cookie?: SessionData['cookie'] };

/**
 * What `get` and `load` give back, typed for the frameworks' callbacks: express-session and
 * @fastify/session each pass one that takes their own Session type (with the app's fields), and
 * TypeScript checks a callback's parameters strictly. It is the SessionData `set` was given.
 */
type FoundSession = any;

type Callback<T = void> = (error?: unknown, result?: T) => void;

// express-session's ids are 32 base64url characters; custom genid()s make uuids and the like. '#' begins the store's reserved keys.
const SESSION_ID = /^[\x21\x22\x24-\x7e][\x21-\x7e]{0,255}$/;

/**
 * An express-session `Store` that keeps sessions in DynamoDB, beside the cache. Reads always go to
 * DynamoDB (never a memory tier), so a user whose requests land on any instance keeps one session.
 * Expiry is an idle timeout kept as sliding expiration: neither a read nor `touch` writes until
 * renewing gains a part of the window (the store's `slidingRenewThreshold`). A session whose cookie
 * has expired is gone: saving it deletes it. Concurrent saves of one session: the last write wins,
 * whole (a session is never a mix of two writes).
 */
export class DynamoSessionStore extends EventEmitter {
  private readonly cacheOf: () => DynamoCache;
  private resolvedTable?: SessionPort;
  private readonly lifetimes: SessionLifetimes;
  private readonly readFailure: 'fail' | 'anonymous';

  constructor(options: DynamoSessionStoreOptions) {
    super();
    const raw = options as unknown as Record<string, unknown>;
    this.lifetimes = new SessionLifetimes(
      optional<number>(raw, 'idleTimeout', isPositiveDuration, 'a duration in ms > 0'),
      optional<number>(raw, 'absoluteTimeout', isPositiveDuration, 'a duration in ms > 0'),
    );
    this.readFailure =
      optional<'fail' | 'anonymous'>(raw, 'readFailure', (value) => value === 'fail' || value === 'anonymous', '"fail" or "anonymous"') ??
      'fail';
    const { cache } = options;
    this.cacheOf = typeof cache === 'function' ? cache : () => cache;
  }

  /** A cache that cannot be had (its name taken by another) throws here, to the caller: that is no DynamoDB failure to log and go on from. */
  private get table(): SessionPort {
    return (this.resolvedTable ??= sessionTableOf(this.cacheOf()));
  }

  /** Resolves the cache at once, so that one that cannot be had fails the caller, not a callback. */
  private usable(): this {
    void this.table;
    return this;
  }

  private get tableName(): string {
    return this.table.tableName;
  }

  /**
   * Every DynamoDB call goes through the cache's DynamoDB tier, so sessions share its circuit breaker
   * and error reporting: a failure is reported once there (its 'error' listeners, else its logger),
   * and an open circuit skips DynamoDB rather than waiting on it per request.
   */
  private call<R>(operation: string, sid: string | undefined, work: (store: SessionPort['entries']) => Promise<R>): Promise<R> {
    const { entries } = this.table;
    return this.table.run(`session ${operation}`, sid === undefined ? undefined : shownId(sid), () => work(entries));
  }

  /**
   * express-session asks only for a session whose cookie a request carried. One that cannot be read
   * fails that request (`readFailure: 'fail'`) or is no session for it (`'anonymous'`); nothing
   * stored is overwritten either way.
   */
  get(sid: string, callback: Callback<FoundSession | null>): void {
    if (!isSessionId(sid)) return callback(null, null);
    this.usable()
      .read(sid)
      // express-session rebuilds a found session with createSession, synchronously, right after this callback.
      .then((data) => (data === null ? data : expressSessionLoaded().then(() => data)))
      .then(
        (data) => callback(null, data),
        (error: unknown) =>
          this.readFailure === 'fail'
            ? callback(namingTable(this.tableName, `reading session "${shownId(sid)}"`, error))
            : callback(null, null),
      );
  }

  /**
   * express-session's: writes the session under its id, with the idle timeout (and the absolute
   * bound, if any) as its expiry; a failure reaches the callback as a `SessionStoreError` naming the table.
   */
  set(sid: string, session: StorableSession, callback: Callback = noop): void {
    if (!isSessionId(sid)) return callback(invalidSessionId(sid, this.tableName));
    this.usable()
      .save(sid, session)
      .then(
        () => callback(),
        (error: unknown) => callback(namingTable(this.tableName, `saving session "${shownId(sid)}"`, error)),
      );
  }

  /**
   * Renews the idle timeout without writing the session, and with no call at all while this instance
   * knows that renewing would gain less than the store's `slidingRenewThreshold` of the window.
   */
  touch(sid: string, session: StorableSession, callback: Callback = noop): void {
    if (!isSessionId(sid)) return callback();
    // express-session touches, rather than saves, a session whose only change is its cookie's maxAge set to 0.
    if (cookieHasEnded(session?.cookie, Date.now())) return this.destroy(sid, callback);
    // A renewal that fails (reported by the cache) leaves the session its current expiry.
    this.usable()
      .renew(sid)
      .then(
        () => callback(),
        () => callback(),
      );
  }

  /** express-session's: deletes the session (a logout); a failure reaches the callback naming the table. */
  destroy(sid: string, callback: Callback = noop): void {
    if (!isSessionId(sid)) return callback();
    this.usable()
      .remove(sid)
      .then(
        () => callback(),
        (error: unknown) => callback(namingTable(this.tableName, `deleting session "${shownId(sid)}"`, error)),
      );
  }

  /**
   * Every live session, by id: a Scan of the whole table, which costs read units for the whole
   * table's size, not just the sessions'. For admin pages and tests, not hot paths.
   */
  all(callback: Callback<Record<string, FoundSession>>): void {
    this.usable()
      .liveSessions()
      .then(
        (sessions) => callback(null, sessions),
        (error: unknown) => callback(namingTable(this.tableName, 'listing sessions', error)),
      );
  }

  /** How many sessions are live: a Scan of the whole table, as `all()`. */
  length(callback: Callback<number>): void {
    this.usable()
      .liveSessions()
      .then(
        (sessions) => callback(null, Object.keys(sessions).length),
        (error: unknown) => callback(namingTable(this.tableName, 'counting sessions', error)),
      );
  }

  /** Deletes every session, and nothing else in the table. */
  clear(callback: Callback = noop): void {
    this.lifetimes.forgetAll();
    this.usable()
      .call('clear', undefined, (store) => store.clear())
      .then(
        () => callback(),
        (error: unknown) => callback(namingTable(this.tableName, 'clearing sessions', error)),
      );
  }

  /** express-session's: rebuilds `req.session` from stored data, with its Cookie and Session classes. */
  createSession(request: unknown, data: StorableSession): FoundSession {
    return expressSessionStore().prototype.createSession.call(this, request, data);
  }

  /** express-session's: reads a session and rebuilds it as `req.session` would be (`get`, then `createSession`). */
  load(sid: string, callback: Callback<FoundSession>): void {
    this.get(sid, (error, data) => {
      if (error) return callback(error);
      if (!data) return callback();
      callback(null, this.createSession({ sessionID: sid, sessionStore: this }, data));
    });
  }

  /** express-session's: destroys the request's session and gives it a new one with a new id (after a login). */
  regenerate(request: { sessionID: string }, callback: Callback): void {
    this.destroy(request.sessionID, (error) => {
      (this as unknown as { generate(request: unknown): void }).generate(request);
      callback(error);
    });
  }

  private async read(sid: string): Promise<SessionData | null> {
    const entry = await this.call('get', sid, (store) => store.getEntry<StoredSession>(sid));
    if (entry === undefined || !isStoredSession(entry.value)) return null;
    if (outlivedItsCookie(entry.value.data, entry.value.idleWindow, Date.now())) {
      await this.remove(sid);
      return null;
    }
    this.lifetimes.learn(sid, entry);
    return entry.value.data;
  }

  private async save(sid: string, session: StorableSession): Promise<void> {
    // The app ended it (a maxAge of 0, an expiry past): writing it would keep a session its cookie no longer allows.
    if (cookieHasEnded(session?.cookie, Date.now())) return this.remove(sid);
    // Plain JSON, as every express-session store keeps it: the cookie's Date becomes a string that createSession reads back.
    const data = JSON.parse(JSON.stringify(session)) as SessionData;
    const createdAt = await this.lifetimes.creationOf(sid, () => this.storedCreation(sid));
    const storable = this.lifetimes.storable(data, createdAt, Date.now());
    // Past its lifetime: saving would bring it back; it is gone instead, and the next request starts anew.
    if (storable === undefined) return this.remove(sid);
    const written = await this.call('set', sid, (store) => store.setEntry(sid, storable.stored, storable.expiry));
    this.lifetimes.saved(sid, createdAt, written.expiration);
  }

  private async remove(sid: string): Promise<void> {
    this.lifetimes.forget(sid);
    await this.call('delete', sid, (store) => store.delete(sid));
  }

  /**
   * While this instance knows the session's expiry, a touch that would gain too little sends nothing.
   * Otherwise a read renews it as the store renews any sliding entry it reads: only once renewing
   * gains `slidingRenewThreshold` of the window, and never bringing back a deleted session.
   */
  private async renew(sid: string): Promise<void> {
    if (!this.lifetimes.renewalMayGain(sid, Date.now(), this.table.slidingRenewThreshold)) return;
    const entry = await this.call('touch', sid, (store) => store.getEntry<StoredSession>(sid));
    if (entry === undefined || !isStoredSession(entry.value)) this.lifetimes.forget(sid);
    else this.lifetimes.learn(sid, entry);
  }

  /** A session saved on another instance, or long ago: its creation is read once. */
  private async storedCreation(sid: string): Promise<number> {
    const stored = await this.call('get', sid, (store) => store.get<StoredSession>(sid));
    return isStoredSession(stored) ? stored.createdAt : Date.now();
  }

  private async liveSessions(): Promise<Record<string, SessionData>> {
    const sessions: Record<string, SessionData> = {};
    const now = Date.now();
    const pages = this.table.entries.keys();
    for (;;) {
      const page = await this.call('list', undefined, () => pages.next());
      if (page.done) break;
      const ids = page.value.filter(isSessionId);
      if (ids.length === 0) continue;
      const stored = await this.call('list', undefined, (store) => store.getMany<StoredSession>(ids));
      stored.forEach((session, index) => {
        if (isStoredSession(session) && !outlivedItsCookie(session.data, session.idleWindow, now)) sessions[ids[index]!] = session.data;
      });
    }
    return sessions;
  }
}

const noop = () => undefined;
/**
 * Sessions kept in one process's memory would log a user out on every other instance and at every
 * restart, and hide that from the tests that use them: a memory-only cache is refused.
 */
function sessionTableOf(cache: DynamoCache): SessionPort {
  const table = cache.forSessions();
  if (table === undefined) {
    throw new InvalidOptionError(
      'distributed',
      `is false (memory-only), and DynamoSessionStore needs the DynamoDB table: cache "${cache.name}" has none. ` +
        "In an app's own tests, use express-session's MemoryStore, or a module with a table.",
    );
  }
  return table;
}

/** A session id is a bearer credential: logs and errors show its first characters only. */
const shownId = (sid: string) => `${sid.slice(0, 6)}…`;
const isSessionId = (sid: unknown): sid is string => typeof sid === 'string' && SESSION_ID.test(sid);

function invalidSessionId(sid: unknown, tableName: string): InvalidCacheKeyError {
  const shown =
    typeof sid === 'string' ? `${JSON.stringify(sid.slice(0, 40))}${sid.length > 40 ? ` (${sid.length} characters)` : ''}` : typeof sid;
  return new InvalidCacheKeyError(
    `Session id ${shown} cannot be stored in table "${tableName}": ids are 1 to 256 printable ASCII characters, not beginning with "#".`,
  );
}
