import type { CacheEntry } from '../store/dynamo-store.js';
import { type EntryOptions, type Expiration, slidingRenewal } from '../store/expiry.js';
import type { SessionData } from './session-options.js';
import { idleWindowFor } from './session-cookie.js';

/** A stored session: the data, when the session began (for `absoluteTimeout`), and the idle window it was saved with. */
export interface StoredSession {
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

// Sessions read or saved lately, so that a save does not read its session again and a touch that would gain too little sends nothing.
const REMEMBERED_SESSIONS = 10_000;

/**
 * How long a session lives: an idle window (`idleTimeout`, within its cookie's maxAge) kept as
 * sliding expiration, and never past `absoluteTimeout` from its creation. Holds what this instance
 * knows of the sessions it saved or read lately, the least recently seen forgotten first.
 */
export class SessionLifetimes {
  private readonly known = new Map<string, KnownSession>();

  constructor(
    private readonly idleTimeoutMs: number | undefined,
    private readonly absoluteTimeoutMs: number | undefined,
  ) {}

  /**
   * When the session began: as known here, else now for a session new to the store, unless
   * `absoluteTimeout` bounds it: then its stored creation counts (`readCreation`, one read).
   */
  async creationOf(sid: string, readCreation: () => Promise<number>): Promise<number> {
    return this.known.get(sid)?.createdAt ?? (this.absoluteTimeoutMs === undefined ? Date.now() : await readCreation());
  }

  /** The session's data as stored, and the expiry to store it with; undefined when it is past its lifetime already. */
  storable(data: SessionData, createdAt: number, now: number): { stored: StoredSession; expiry: EntryOptions } | undefined {
    const idleWindow = idleWindowFor(this.idleTimeoutMs, data.cookie);
    const deadline = this.deadlineOf(createdAt);
    if (deadline !== undefined && deadline <= now) return undefined;
    const expiry = { slidingExpiration: idleWindow, ...(deadline !== undefined && { absoluteExpiration: deadline }) };
    return { stored: { data, createdAt, idleWindow }, expiry };
  }

  /** Whether a touch may renew the session: unless this instance knows that renewing would gain too little. */
  renewalMayGain(sid: string, now: number, slidingRenewThreshold: number): boolean {
    const known = this.known.get(sid);
    return known === undefined || slidingRenewal(known.expiration, now, slidingRenewThreshold) !== undefined;
  }

  /** What the item itself says of its window and deadline, as the store read it: not today's settings. */
  learn(sid: string, entry: CacheEntry<StoredSession>): void {
    const { createdAt, idleWindow, data } = entry.value;
    const slidingWindow = entry.sliding?.windowMs ?? idleWindow ?? idleWindowFor(this.idleTimeoutMs, data.cookie);
    const absoluteDeadline = entry.sliding === undefined ? this.deadlineOf(createdAt) : entry.sliding.absoluteDeadline;
    this.remember(sid, { createdAt, expiration: { expiresAt: entry.expiresAt, slidingWindow, absoluteDeadline } });
  }

  /** A save landed: its creation and expiry are known. */
  saved(sid: string, createdAt: number, expiration: Expiration): void {
    this.remember(sid, { createdAt, expiration });
  }

  forget(sid: string): void {
    this.known.delete(sid);
  }

  forgetAll(): void {
    this.known.clear();
  }

  private remember(sid: string, session: KnownSession): void {
    this.known.delete(sid);
    this.known.set(sid, session);
    if (this.known.size > REMEMBERED_SESSIONS) this.known.delete(this.known.keys().next().value!);
  }

  private deadlineOf(createdAt: number): number | undefined {
    return this.absoluteTimeoutMs === undefined ? undefined : createdAt + this.absoluteTimeoutMs;
  }
}

// An item under the session prefix that is not a session (written by hand, or corrupt) is no session.
export function isStoredSession(value: unknown): value is StoredSession {
  const stored = value as StoredSession | undefined;
  return (
    typeof stored === 'object' &&
    stored !== null &&
    typeof stored.createdAt === 'number' &&
    typeof stored.data === 'object' &&
    stored.data !== null
  );
}
