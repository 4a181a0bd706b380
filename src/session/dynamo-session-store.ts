import { EventEmitter } from 'node:events';
import type { CacheCore } from '../cache/cache-core.js';
import type { DynamoCache } from '../cache/dynamo-cache.js';
import { CircuitOpenError } from '../cache/errors.js';
import type { CacheEntry } from '../store/dynamo-store.js';
import type { EntryStore } from '../store/entry-store.js';
import { InvalidCacheKeyError, InvalidOptionError } from '../store/errors.js';
import { MemoryStore } from '../store/memory-store.js';
import { type Expiration, slidingRenewal } from '../store/expiry.js';
import { isPositiveDuration, optional } from '../store/store-options.js';
import { cookieHasEnded, idleWindowFor, outlivedItsCookie } from './session-cookie.js';
import { namingTable } from './session-store-error.js';

export interface DynamoSessionOptions {
  /**
   * A session expires after this many ms without a request (sliding, in DynamoDB's TTL attribute),
   * and never later than its cookie's maxAge after the last request. Default: the cookie's maxAge, else a day.
   */
  idleTimeout?: number;
  /** And never lives longer than this many ms from its creation, however active. Default: no bound. */
  absoluteTimeout?: number;
  /**
   * What a request whose session cannot be read (DynamoDB down, the circuit open) gets. `'fail'`
   * (the default, as other express-session stores do): an error, so express-session fails that
   * request and the user's login survives the outage. `'anonymous'`: no session, so the request
   * is answered, but a route that writes to the session then gives the user a new session cookie
   * in place of the one that held the login.
   */
  readFailure?: 'fail' | 'anonymous';
}

export interface DynamoSessionStoreOptions extends DynamoSessionOptions {
  /**
   * The cache whose table and key prefix hold the sessions; give sessions a cache of their own. Its
   * memory tier is never used. A function is called on the store's first use, for a cache that is
   * registered only if the app uses sessions.
   */
  cache: DynamoCache | (() => DynamoCache);
}

/** What a session store is handed and gives back: express-session's (and @fastify/session's) session data. */
export interface SessionData {
  cookie?: { originalMaxAge?: number | null; expires?: Date | string | null };
  [field: string]: unknown;
}

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

/** A stored session: the data, when the session began (for `absoluteTimeout`), and the idle window it was saved with. */
interface StoredSession {
  readonly data: SessionData;
  readonly createdAt: number;
  /** Absent on sessions saved before the window was bounded by the cookie's maxAge. */
  readonly idleWindow?: number;
}

/** What this instance learnt of a session it saved or read lately. */
interface KnownSession {
  readonly createdAt: number;
  readonly expiration: Expiration;
}

// express-session's ids are 32 base64url characters; custom genid()s make uuids and the like. '#' begins the store's reserved keys.
const SESSION_ID = /^[\x21\x22\x24-\x7e][\x21-\x7e]{0,255}$/;
// Sessions read or saved lately, so that a save does not read its session again and a touch that would gain too little sends nothing.
const REMEMBERED_SESSIONS = 10_000;

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
  private resolvedCore?: CacheCore;
  private readonly idleTimeoutMs?: number;
  private readonly absoluteTimeoutMs?: number;
  private readonly readFailure: 'fail' | 'anonymous';
  private readonly known = new Map<string, KnownSession>();

  constructor(options: DynamoSessionStoreOptions) {
    super();
    const raw = options as unknown as Record<string, unknown>;
    this.idleTimeoutMs = optional<number>(raw, 'idleTimeout', isPositiveDuration, 'a duration in ms > 0');
    this.absoluteTimeoutMs = optional<number>(raw, 'absoluteTimeout', isPositiveDuration, 'a duration in ms > 0');
    this.readFailure =
      optional<'fail' | 'anonymous'>(raw, 'readFailure', (value) => value === 'fail' || value === 'anonymous', '"fail" or "anonymous"') ??
      'fail';
    const { cache } = options;
    this.cacheOf = typeof cache === 'function' ? cache : () => cache;
  }

  /** A cache that cannot be had (its name taken by another) throws here, to the caller: that is no DynamoDB failure to log and go on from. */
  private get core(): CacheCore {
    return (this.resolvedCore ??= distributedCore(this.cacheOf()));
  }

  /** Resolves the cache at once, so that one that cannot be had fails the caller, not a callback. */
  private usable(): this {
    void this.core;
    return this;
  }

  private get tableName(): string {
    return this.core.config.tableName;
  }

  /**
   * Every DynamoDB call goes through the cache's DynamoDB tier, so sessions share its circuit breaker
   * and error reporting: a failure is reported once there (its 'error' listeners, else its logger),
   * and an open circuit skips DynamoDB rather than waiting on it per request.
   */
  private async call<R>(operation: string, sid: string | undefined, work: (store: EntryStore) => Promise<R>): Promise<R> {
    const { distributed, store } = this.core;
    const outcome = await distributed.attempt(`session ${operation}`, sid === undefined ? undefined : shownId(sid), () => work(store));
    if (outcome.ok) return outcome.value;
    throw outcome.error ?? new CircuitOpenError(this.tableName, distributed.retryAt);
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

  destroy(sid: string, callback: Callback = noop): void {
    if (!isSessionId(sid)) return callback();
    this.known.delete(sid);
    this.usable()
      .call('delete', sid, (store) => store.delete(sid))
      .then(
        () => callback(),
        (error: unknown) => callback(namingTable(this.tableName, `deleting session "${shownId(sid)}"`, error)),
      );
  }

  /** Every live session, by id: a Scan of the whole table (see `clear()` in the README for its cost). */
  all(callback: Callback<Record<string, FoundSession>>): void {
    this.usable()
      .liveSessions()
      .then(
        (sessions) => callback(null, sessions),
        (error: unknown) => callback(namingTable(this.tableName, 'listing sessions', error)),
      );
  }

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
    this.known.clear();
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

  load(sid: string, callback: Callback<FoundSession>): void {
    this.get(sid, (error, data) => {
      if (error) return callback(error);
      if (!data) return callback();
      callback(null, this.createSession({ sessionID: sid, sessionStore: this }, data));
    });
  }

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
      this.known.delete(sid);
      await this.call('delete', sid, (store) => store.delete(sid));
      return null;
    }
    this.learn(sid, entry);
    return entry.value.data;
  }

  private async save(sid: string, session: StorableSession): Promise<void> {
    if (cookieHasEnded(session?.cookie, Date.now())) {
      // The app ended it (a maxAge of 0, an expiry past): writing it would keep a session its cookie no longer allows.
      this.known.delete(sid);
      await this.call('delete', sid, (store) => store.delete(sid));
      return;
    }
    // Plain JSON, as every express-session store keeps it: the cookie's Date becomes a string that createSession reads back.
    const data = JSON.parse(JSON.stringify(session)) as SessionData;
    const createdAt = this.known.get(sid)?.createdAt ?? (this.absoluteTimeoutMs === undefined ? Date.now() : await this.creationOf(sid));
    const idleWindow = idleWindowFor(this.idleTimeoutMs, data.cookie);
    const deadline = this.deadlineOf(createdAt);
    if (deadline !== undefined && deadline <= Date.now()) {
      // Past its lifetime: saving would bring it back; it is gone instead, and the next request starts anew.
      this.known.delete(sid);
      await this.call('delete', sid, (store) => store.delete(sid));
      return;
    }
    const stored: StoredSession = { data, createdAt, idleWindow };
    const expiry = { slidingExpiration: idleWindow, ...(deadline !== undefined && { absoluteExpiration: deadline }) };
    const written = await this.call('set', sid, (store) => store.setEntry(sid, stored, expiry));
    this.remember(sid, { createdAt, expiration: written.expiration });
  }

  /**
   * While this instance knows the session's expiry, a touch that would gain too little sends nothing.
   * Otherwise a read renews it as the store renews any sliding entry it reads: only once renewing
   * gains `slidingRenewThreshold` of the window, and never bringing back a deleted session.
   */
  private async renew(sid: string): Promise<void> {
    const known = this.known.get(sid);
    if (known !== undefined && slidingRenewal(known.expiration, Date.now(), this.core.config.slidingRenewThreshold) === undefined) return;
    const entry = await this.call('touch', sid, (store) => store.getEntry<StoredSession>(sid));
    if (entry === undefined || !isStoredSession(entry.value)) this.known.delete(sid);
    else this.learn(sid, entry);
  }

  /** A session saved on another instance, or long ago: its creation is read once. */
  private async creationOf(sid: string): Promise<number> {
    const stored = await this.call('get', sid, (store) => store.get<StoredSession>(sid));
    return isStoredSession(stored) ? stored.createdAt : Date.now();
  }

  /** What the item itself says of its window and deadline, as the store read it: not today's settings. */
  private learn(sid: string, entry: CacheEntry<StoredSession>): void {
    const { createdAt, idleWindow, data } = entry.value;
    const slidingWindow = entry.sliding?.windowMs ?? idleWindow ?? idleWindowFor(this.idleTimeoutMs, data.cookie);
    const absoluteDeadline = entry.sliding === undefined ? this.deadlineOf(createdAt) : entry.sliding.absoluteDeadline;
    this.remember(sid, { createdAt, expiration: { expiresAt: entry.expiresAt, slidingWindow, absoluteDeadline } });
  }

  private remember(sid: string, session: KnownSession): void {
    this.known.delete(sid);
    this.known.set(sid, session);
    if (this.known.size > REMEMBERED_SESSIONS) this.known.delete(this.known.keys().next().value!);
  }

  private deadlineOf(createdAt: number): number | undefined {
    return this.absoluteTimeoutMs === undefined ? undefined : createdAt + this.absoluteTimeoutMs;
  }

  private async liveSessions(): Promise<Record<string, SessionData>> {
    const sessions: Record<string, SessionData> = {};
    const now = Date.now();
    const pages = this.core.store.keys();
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
function distributedCore(cache: DynamoCache): CacheCore {
  if (cache.core.store instanceof MemoryStore) {
    throw new InvalidOptionError(
      'distributed',
      `is false (memory-only), and DynamoSessionStore needs the DynamoDB table: cache "${cache.name}" has none. ` +
        "In an app's own tests, use express-session's MemoryStore, or a module with a table.",
    );
  }
  return cache.core;
}

/** A session id is a bearer credential: logs and errors show its first characters only. */
const shownId = (sid: string) => `${sid.slice(0, 6)}…`;
const isSessionId = (sid: unknown): sid is string => typeof sid === 'string' && SESSION_ID.test(sid);

// An item under the session prefix that is not a session (written by hand, or corrupt) is no session.
function isStoredSession(value: unknown): value is StoredSession {
  const stored = value as StoredSession | undefined;
  return (
    typeof stored === 'object' &&
    stored !== null &&
    typeof stored.createdAt === 'number' &&
    typeof stored.data === 'object' &&
    stored.data !== null
  );
}

function invalidSessionId(sid: unknown, tableName: string): InvalidCacheKeyError {
  const shown =
    typeof sid === 'string' ? `${JSON.stringify(sid.slice(0, 40))}${sid.length > 40 ? ` (${sid.length} characters)` : ''}` : typeof sid;
  return new InvalidCacheKeyError(
    `Session id ${shown} cannot be stored in table "${tableName}": ids are 1 to 256 printable ASCII characters, not beginning with "#".`,
  );
}

type ExpressSessionStore = { prototype: { createSession(this: unknown, request: unknown, data: unknown): unknown } };
let expressSession: { store?: ExpressSessionStore; error?: unknown } | undefined;
let expressSessionLoading: Promise<void> | undefined;

/**
 * express-session is the app's, and only needed by its own calls: loaded (once) when a session is
 * found, so that apps without it (Fastify's) never need it. A dynamic import, because it is the one
 * way to load a package that reads the same in the ESM build and the CommonJS one.
 */
function expressSessionLoaded(): Promise<void> {
  expressSessionLoading ??= import('express-session').then(
    (loaded) => {
      const exported =
        (loaded as { default?: { Store: ExpressSessionStore } }).default ?? (loaded as unknown as { Store: ExpressSessionStore });
      expressSession = { store: exported.Store };
    },
    (error: unknown) => {
      expressSession = { error };
    },
  );
  return expressSessionLoading;
}

function expressSessionStore(): ExpressSessionStore {
  if (expressSession?.store !== undefined) return expressSession.store;
  throw new Error(
    expressSession === undefined
      ? "DynamoSessionStore.createSession is express-session's, called after its get() found the session: call get() first"
      : 'DynamoSessionStore.createSession needs the express-session package: npm install express-session',
    { cause: expressSession?.error },
  );
}
