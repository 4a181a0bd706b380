import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { DynamoCache } from '../cache/dynamo-cache.js';
import type { DynamoStore } from '../store/dynamo-store.js';
import { InvalidCacheKeyError } from '../store/errors.js';
import { isPositiveDuration, optional } from '../store/store-options.js';

export interface DynamoSessionOptions {
  /**
   * A session expires after this many ms without a request (sliding, in DynamoDB's TTL attribute).
   * Default: the session cookie's maxAge, else a day.
   */
  idleTimeout?: number;
  /** And never lives longer than this many ms from its creation, however active. Default: no bound. */
  absoluteTimeout?: number;
}

export interface DynamoSessionStoreOptions extends DynamoSessionOptions {
  /** The cache whose table and key prefix hold the sessions; give sessions a cache of their own. Its memory tier is never used. */
  cache: DynamoCache;
}

/** What a session store is handed and gives back: express-session's (and @fastify/session's) session data. */
export interface SessionData {
  cookie?: { originalMaxAge?: number | null; expires?: Date | string | null };
  [field: string]: unknown;
}

type Callback<T = void> = (error?: unknown, result?: T) => void;

/** A stored session: the data, and when the session began, for `absoluteTimeout`. */
interface StoredSession {
  readonly data: SessionData;
  readonly createdAt: number;
}

const ONE_DAY_MS = 86_400_000;
// express-session's ids are 32 base64url characters; custom genid()s make uuids and the like. '#' begins the store's reserved keys.
const SESSION_ID = /^[\x21\x22\x24-\x7e][\x21-\x7e]{0,255}$/;
// The creation instants of sessions read lately, so that a save does not read its session again.
const REMEMBERED_CREATIONS = 10_000;

/**
 * An express-session `Store` that keeps sessions in DynamoDB, beside the cache. Reads always go to
 * DynamoDB (never a memory tier), so a user whose requests land on any instance keeps one session.
 * Expiry is an idle timeout kept as sliding expiration: `touch` writes only once renewing gains a
 * part of the window (`slidingRenewThreshold`), not on every request. Concurrent saves of one
 * session: the last write wins, whole (a session is never a mix of two writes).
 */
export class DynamoSessionStore extends EventEmitter {
  private readonly store: DynamoStore;
  private readonly idleTimeoutMs?: number;
  private readonly absoluteTimeoutMs?: number;
  private readonly createdAt = new Map<string, number>();

  constructor(options: DynamoSessionStoreOptions) {
    super();
    const raw = options as unknown as Record<string, unknown>;
    this.idleTimeoutMs = optional<number>(raw, 'idleTimeout', isPositiveDuration, 'a duration in ms > 0');
    this.absoluteTimeoutMs = optional<number>(raw, 'absoluteTimeout', isPositiveDuration, 'a duration in ms > 0');
    this.store = options.cache.store;
  }

  get(sid: string, callback: Callback<SessionData | null>): void {
    if (!isSessionId(sid)) return callback(null, null);
    this.store.get<StoredSession>(sid).then(
      (stored) => {
        if (!isStoredSession(stored)) return callback(null, null);
        this.remember(sid, stored.createdAt);
        callback(null, stored.data);
      },
      (error: unknown) => {
        // A session that cannot be read is no session: the request goes on, and nothing stored is overwritten.
        this.store.opts.logger.warn(`Session store ${this.store.opts.tableName}: reading a session failed, the request goes on without it: ${(error as Error)?.message ?? String(error)}`);
        callback(null, null);
      },
    );
  }

  set(sid: string, session: SessionData, callback: Callback = noop): void {
    if (!isSessionId(sid)) return callback(invalidSessionId(sid, this.store.opts.tableName));
    this.save(sid, session).then(() => callback(), callback);
  }

  /** Renews the idle timeout without writing the session, and without a write at all until renewing gains enough. */
  touch(sid: string, _session: SessionData, callback: Callback = noop): void {
    if (!isSessionId(sid)) return callback();
    this.store.refresh(sid).then(
      () => callback(),
      (error: unknown) => {
        this.store.opts.logger.warn(`Session store ${this.store.opts.tableName}: renewing a session failed, it keeps its current expiry: ${(error as Error)?.message ?? String(error)}`);
        callback();
      },
    );
  }

  destroy(sid: string, callback: Callback = noop): void {
    if (!isSessionId(sid)) return callback();
    this.createdAt.delete(sid);
    this.store.delete(sid).then(() => callback(), callback);
  }

  /** Every live session, by id: a Scan of the whole table (see `clear()` in the README for its cost). */
  all(callback: Callback<Record<string, SessionData>>): void {
    this.liveSessions().then((sessions) => callback(null, sessions), callback);
  }

  length(callback: Callback<number>): void {
    this.liveSessions().then((sessions) => callback(null, Object.keys(sessions).length), callback);
  }

  /** Deletes every session, and nothing else in the table. */
  clear(callback: Callback = noop): void {
    this.createdAt.clear();
    this.store.clear().then(() => callback(), callback);
  }

  /** express-session's: rebuilds `req.session` from stored data, with its Cookie and Session classes. */
  createSession(request: unknown, data: SessionData): unknown {
    return expressSessionStore().prototype.createSession.call(this, request, data);
  }

  load(sid: string, callback: Callback<unknown>): void {
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

  private async save(sid: string, session: SessionData): Promise<void> {
    // Plain JSON, as every express-session store keeps it: the cookie's Date becomes a string that createSession reads back.
    const data = JSON.parse(JSON.stringify(session)) as SessionData;
    const createdAt = this.createdAt.get(sid) ?? (this.absoluteTimeoutMs === undefined ? Date.now() : await this.creationOf(sid));
    const window = this.idleTimeoutMs ?? positive(data.cookie?.originalMaxAge) ?? ONE_DAY_MS;
    const deadline = this.absoluteTimeoutMs === undefined ? undefined : createdAt + this.absoluteTimeoutMs;
    if (deadline !== undefined && deadline <= Date.now()) {
      // Past its lifetime: saving would bring it back; it is gone instead, and the next request starts anew.
      await this.store.delete(sid);
      return;
    }
    const stored: StoredSession = { data, createdAt };
    await this.store.set(sid, stored, { slidingExpiration: window, ...(deadline !== undefined && { absoluteExpiration: deadline }) });
    this.remember(sid, createdAt);
  }

  /** A session saved on another instance, or long ago: its creation is read once. */
  private async creationOf(sid: string): Promise<number> {
    const stored = await this.store.get<StoredSession>(sid);
    return isStoredSession(stored) ? stored.createdAt : Date.now();
  }

  private remember(sid: string, createdAt: number): void {
    this.createdAt.delete(sid);
    this.createdAt.set(sid, createdAt);
    if (this.createdAt.size > REMEMBERED_CREATIONS) this.createdAt.delete(this.createdAt.keys().next().value!);
  }

  private async liveSessions(): Promise<Record<string, SessionData>> {
    const sessions: Record<string, SessionData> = {};
    for await (const page of this.store.keys()) {
      const ids = page.filter(isSessionId);
      if (ids.length === 0) continue;
      const stored = await this.store.getMany<StoredSession>(ids);
      stored.forEach((session, index) => {
        if (isStoredSession(session)) sessions[ids[index]!] = session.data;
      });
    }
    return sessions;
  }
}

const noop = () => undefined;
const isSessionId = (sid: unknown): sid is string => typeof sid === 'string' && SESSION_ID.test(sid);
const positive = (value: unknown) => (typeof value === 'number' && value > 0 ? value : undefined);

// An item under the session prefix that is not a session (written by hand, or corrupt) is no session.
function isStoredSession(value: unknown): value is StoredSession {
  const stored = value as StoredSession | undefined;
  return typeof stored === 'object' && stored !== null && typeof stored.createdAt === 'number' && typeof stored.data === 'object' && stored.data !== null;
}

function invalidSessionId(sid: unknown, tableName: string): InvalidCacheKeyError {
  const shown = typeof sid === 'string' ? `${JSON.stringify(sid.slice(0, 40))}${sid.length > 40 ? ` (${sid.length} characters)` : ''}` : typeof sid;
  return new InvalidCacheKeyError(`Session id ${shown} cannot be stored in table "${tableName}": ids are 1 to 256 printable ASCII characters, not beginning with "#".`);
}

let expressSession: { prototype: { createSession(this: unknown, request: unknown, data: unknown): unknown } } | undefined;

/** express-session is the app's, and only needed by its own calls: loaded on first use, so that apps without it never load it. */
function expressSessionStore() {
  if (expressSession === undefined) {
    try {
      expressSession = createRequire(import.meta.url)('express-session').Store;
    } catch (error) {
      throw new Error('DynamoSessionStore.createSession needs the express-session package: npm install express-session', { cause: error });
    }
  }
  return expressSession!;
}
