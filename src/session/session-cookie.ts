import type { SessionData } from './session-options.js';

const ONE_DAY_MS = 86_400_000;

type SessionCookie = NonNullable<SessionData['cookie']> & { maxAge?: number | null };

/**
 * Whether the cookie says the session is over: its expiry past, or a maxAge of 0 or less, which is
 * how express-session apps end a session (`req.session.cookie.maxAge = 0`). express-session's
 * MemoryStore and connect-dynamodb treat such a session as gone.
 */
export function cookieHasEnded(cookie: SessionCookie | undefined, now: number): boolean {
  if (cookie === undefined || cookie === null) return false;
  if (typeof cookie.originalMaxAge === 'number' && cookie.originalMaxAge <= 0) return true;
  // A live express-session Cookie's maxAge is a getter, counted down from its expiry; JSON drops it.
  if (typeof cookie.maxAge === 'number' && cookie.maxAge <= 0) return true;
  if (cookie.expires === undefined || cookie.expires === null) return false;
  const expiresAt = new Date(cookie.expires).getTime();
  return !Number.isNaN(expiresAt) && expiresAt <= now;
}

/**
 * The idle window a session is kept with: `idleTimeout`, never longer than its cookie's maxAge, else
 * a day. express-session renews the cookie's expiry on every request, as the idle window is renewed,
 * so a window within the cookie's maxAge ends in DynamoDB no later than the cookie does: an item
 * DynamoDB still returns is then a session whose cookie has not expired, with no copy of the cookie
 * rewritten on every request.
 */
export function idleWindowFor(idleTimeoutMs: number | undefined, cookie: SessionData['cookie']): number {
  const maxAge = typeof cookie?.originalMaxAge === 'number' && cookie.originalMaxAge > 0 ? cookie.originalMaxAge : undefined;
  if (idleTimeoutMs === undefined) return maxAge ?? ONE_DAY_MS;
  return maxAge === undefined ? idleTimeoutMs : Math.min(idleTimeoutMs, maxAge);
}

/**
 * A stored session whose cookie has ended it. Within a window no longer than its cookie's maxAge
 * (see `idleWindowFor`), DynamoDB's expiry has already decided, and the stored cookie's own expiry
 * is that of the last save, not renewed by the requests since: it is not read. A session saved with
 * a longer window (by an earlier version, or by other code) may outlive its cookie: the cookie decides.
 * So does a cookie with no maxAge: none bounds the window, and an expiry it has is a fixed date
 * (@fastify/session's `cookie: { expires }` keeps `originalMaxAge: null`), the same in every save.
 */
export function outlivedItsCookie(data: SessionData, idleWindow: number | undefined, now: number): boolean {
  const maxAge = data.cookie?.originalMaxAge;
  const withinCookie = idleWindow !== undefined && typeof maxAge === 'number' && maxAge > 0 && idleWindow <= maxAge;
  return !withinCookie && cookieHasEnded(data.cookie, now);
}
