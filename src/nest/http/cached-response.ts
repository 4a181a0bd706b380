import { entityTagOf } from './entity-tag.js';
import type { StoredHeaders } from './handler-headers.js';

/** A route's answer as stored: what a hit needs to answer as the handler did. */
export interface CachedResponse {
  /** The HTTP status the handler answered with (one of the route's `statuses`). */
  readonly status: number;
  /** The Content-Type header the handler's answer had, sent again on a hit. */
  readonly contentType?: string;
  /** What the handler returned, as it serializes (JSON, or a string). */
  readonly body: unknown;
  /** Epoch ms it was stored at, for the Age header. */
  readonly storedAt: number;
  /** Epoch ms it goes stale at; a hit past it is a fail-safe answer (`X-Cache: STALE`). */
  readonly expiresAt?: number;
  /** Its validator (`entityTagOf`), stored with it so that a hit computes nothing; absent in answers stored by 0.1. */
  readonly etag?: string;
  /**
   * The headers the handler itself set (`headersSetSince`: X-Total-Count, Location, Cache-Control…), sent
   * again on every hit. Absent when it set none, and in entries written before there was this field: a hit
   * reads those as having none. They travel in the entry's value, so they count towards its size (compressed,
   * and split into chunk items past DynamoDB's 400 KB item limit, as a large body is).
   */
  readonly headers?: StoredHeaders;
}

const tagsOfUntagged = new WeakMap<CachedResponse, string>();

/** The answer's entity tag: the stored one, or (for an answer stored without) one made once per answer held. */
export function entityTagOfStored(entry: CachedResponse): string {
  if (entry.etag !== undefined) return entry.etag;
  let tag = tagsOfUntagged.get(entry);
  if (tag === undefined) {
    tag = entityTagOf(entry.status, entry.contentType, entry.body);
    tagsOfUntagged.set(entry, tag);
  }
  return tag;
}

const jsonOfHeld = new WeakMap<object, string>();

/**
 * The JSON text of a body the memory tier holds (deeply frozen, shared by every hit), written once
 * per body held: a hit sends it as it is, with no copy of the body and no JSON.stringify per request.
 */
export function jsonOfFrozen(body: object): string {
  let json = jsonOfHeld.get(body);
  if (json === undefined) {
    json = JSON.stringify(body);
    jsonOfHeld.set(body, json);
  }
  return json;
}

type HeaderValue = string | number | string[] | undefined;

/**
 * Why a handler's answer must not be stored, if it must not: no value, a status the route does not
 * cache, a cookie or a private/no-store Cache-Control set for this one client, or a body that would
 * not come back from the cache as it went in.
 */
export function unstorableReason(
  body: unknown,
  status: number,
  statuses: readonly number[],
  header: (name: string) => HeaderValue,
): Unstorable | undefined {
  if (body === undefined || body === null) return { reason: 'the handler returned no value', deliberate: true };
  if (!statuses.includes(status))
    return { reason: `its status ${status} is not one of the route's statuses (${statuses.join(', ')})`, deliberate: true };
  // Not deliberate: an answer with a cookie is one visitor's, so a route that sets one is likely cached by mistake.
  if (header('set-cookie') !== undefined)
    return {
      reason: 'it sets a cookie (Set-Cookie), so it answers one visitor; set cookies on routes that are not cached',
      deliberate: false,
    };
  const cacheControl = String(header('cache-control') ?? '');
  if (/\b(private|no-store)\b/i.test(cacheControl)) return { reason: `it is Cache-Control: ${cacheControl}`, deliberate: true };
  const odd = firstNotPlainData(body, 0);
  if (odd === undefined) return undefined;
  return {
    reason: `it holds a ${odd}, which would come back from the cache as a plain object (or not at all); return plain data to cache it`,
    deliberate: false,
  };
}

export interface Unstorable {
  readonly reason: string;
  /** Whether the route meant it (a cookie, a status); when not, the route is likely cached by mistake and a warning says so. */
  readonly deliberate: boolean;
}

// Deeper than any real response; past it the serializer still refuses what it cannot store.
const MAX_DEPTH = 64;

/**
 * A class instance comes back from the cache as a plain object, so class-transformer's @Exclude (a
 * ClassSerializerInterceptor outside this one) would not apply on a hit and could leak a field it
 * hides on a miss; a stream or StreamableFile cannot be stored at all.
 */
function firstNotPlainData(value: unknown, depth: number): string | undefined {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return undefined;
  if (value instanceof Date || ArrayBuffer.isView(value)) return undefined;
  const children = Array.isArray(value)
    ? value
    : value instanceof Map
      ? [...value.keys(), ...value.values()]
      : value instanceof Set
        ? [...value]
        : isPlainObject(value)
          ? Object.values(value)
          : undefined;
  if (children === undefined) return `${(value as object).constructor?.name ?? 'class'} instance`;
  for (const child of children) {
    const odd = firstNotPlainData(child, depth + 1);
    if (odd !== undefined) return odd;
  }
  return undefined;
}

/** Data, not a class instance: no constructor but Object's (Fastify's query objects have none at all). */
function isPlainObject(value: object): boolean {
  const constructor = (value as { constructor?: unknown }).constructor;
  return constructor === undefined || constructor === Object;
}

/**
 * The body a hit hands to the interceptors outside this one, one it may change without changing
 * another request's. The memory tier's value is deeply frozen and shared by concurrent hits: plain
 * JSON (memory freezes nothing else), copied by a walk several times cheaper than structuredClone,
 * which cost a hit 15 % of its requests per second in the HTTP bench. Any other body is copied when
 * `shared`: requests that joined one in-flight load get one answer object between them (with the
 * memory tier off, or a body it keeps serialized), on a path that has waited for DynamoDB anyway.
 */
export function bodyForHit(body: unknown, shared: boolean): unknown {
  if (body === null || typeof body !== 'object') return body;
  if (Object.isFrozen(body)) return copyOfJson(body);
  if (!shared) return body;
  // structuredClone would hand back a plain Uint8Array, which Express sends as JSON, not as bytes.
  return Buffer.isBuffer(body) ? Buffer.from(body) : structuredClone(body);
}

function copyOfJson(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copyOfJson);
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const child = copyOfJson((value as Record<string, unknown>)[key]);
    // A "__proto__" key that JSON.parse made an own property must stay one, not become the copy's prototype.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: child, enumerable: true, writable: true, configurable: true });
    else copy[key] = child;
  }
  return copy;
}

/** Whether the request asked to skip the cache (`Cache-Control: no-cache`), as a browser's hard reload does. */
export function asksForFreshAnswer(cacheControl: HeaderValue): boolean {
  return typeof cacheControl === 'string' && /\bno-cache\b/i.test(cacheControl);
}
