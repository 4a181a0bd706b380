import type { DynamoCache } from '../cache/dynamo-cache.js';

/**
 * How sessions live: the module's `session` option, and what `new DynamoSessionStore()` takes beside
 * its cache.
 */
export interface DynamoSessionOptions {
  /**
   * A session expires after this many ms without a request (sliding, in DynamoDB's TTL attribute),
   * and never later than its cookie's maxAge after the last request.
   * @defaultValue the cookie's maxAge, else a day
   */
  idleTimeout?: number;
  /**
   * A session never lives longer than this many ms from its creation, however active.
   * @defaultValue no bound
   */
  absoluteTimeout?: number;
  /**
   * What a request whose session cannot be read (DynamoDB down, the circuit open) gets. `'fail'`
   * (as other express-session stores do): an error, so express-session fails that request and the
   * user's login survives the outage. `'anonymous'`: no session, so the request is answered, but a
   * route that writes to the session then gives the user a new session cookie in place of the one
   * that held the login.
   * @defaultValue `'fail'`
   */
  readFailure?: 'fail' | 'anonymous';
}

/** What `new DynamoSessionStore(options)` takes: the cache that holds the sessions, and how they live. */
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
  /** The session cookie's settings, which bound how long the session is kept. */
  cookie?: {
    /** The cookie's maxAge when it was set, in ms; null for a browser-session cookie. */
    originalMaxAge?: number | null;
    /** When the cookie expires (a Date, or its ISO string once stored); null for a browser-session cookie. */
    expires?: Date | string | null;
  };
  [field: string]: unknown;
}
