/** A header's value as Node, Express and Fastify hold it (a number is written as its digits). */
type HeaderValue = string | number | readonly string[] | undefined;

/** The headers a handler set on its response, stored with its answer and sent again with every hit: name, value. */
export type StoredHeaders = Readonly<Record<string, string | readonly string[]>>;

/** What a response held as the cache began on it, before the handler ran: each header's value (as text), by its lower-cased name. */
export type HeaderSnapshot = ReadonlyMap<string, string>;

/** Express's response (Node's ServerResponse) and Fastify's reply both have these. */
interface HeaderHolder {
  getHeaders?(): Record<string, HeaderValue>;
  getRawHeaderNames?(): string[];
  removeHeader?(name: string): unknown;
}

/** Headers never stored, whoever set them. */
const NEVER_STORED = new Set([
  // Hop-by-hop (RFC 9110 §7.6.1, RFC 2616 §13.5.1): they describe one connection, not the answer.
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // This one message's: Node and the frameworks write them for what they send.
  'content-length',
  'date',
  // The cache's own: kept in the entry's fields (etag, contentType) or made per answer (Age, X-Cache).
  'etag',
  'content-type',
  'age',
  'x-cache',
  // One visitor's: an answer that sets a cookie is not stored at all (unstorableReason).
  'set-cookie',
]);

/**
 * The headers a 304 carries of those its 200 would have (RFC 9110 §15.4.5): the ones that update a
 * stored answer in a cache in front. Date and ETag are written apart; the others the handler set are left out.
 */
const SENT_WITH_NOT_MODIFIED = new Set(['cache-control', 'content-location', 'expires', 'vary']);

const asText = (value: HeaderValue) => (Array.isArray(value) ? value.join('\n') : String(value));

/**
 * The response's headers now, taken as the cache begins on a request: what was set before (middleware,
 * guards, @Header()) is not the handler's.
 */
export function headerSnapshot(response: unknown): HeaderSnapshot {
  const headers = (response as HeaderHolder).getHeaders?.() ?? {};
  const snapshot = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) snapshot.set(name, asText(value));
  return snapshot;
}

/**
 * The headers the handler set (or changed) since `before`: a passthrough handler's `res.setHeader`,
 * Fastify's `reply.header`, and an interceptor inside the cache's. A header that middleware set per
 * request (CORS's Access-Control-Allow-Origin) is the same before and after, so it is not frozen into
 * the entry: on a hit, the middleware sets it for that request again. Names keep the case they were set
 * with where the response tells it (Node's, so Express's), lower case on Fastify, which sends them so.
 * Undefined when the handler set none.
 */
export function headersSetSince(before: HeaderSnapshot, response: unknown): StoredHeaders | undefined {
  const holder = response as HeaderHolder;
  const headers = holder.getHeaders?.() ?? {};
  // Headers named in Connection are hop-by-hop too (RFC 9110 §7.6.1).
  const connectionOnly = new Set(
    asText(headers.connection ?? '')
      .split(/[\n,]/)
      .map((name) => name.trim().toLowerCase()),
  );
  const rawNames = new Map((holder.getRawHeaderNames?.() ?? []).map((name) => [name.toLowerCase(), name]));
  let stored: Record<string, string | readonly string[]> | undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || NEVER_STORED.has(name) || connectionOnly.has(name) || before.get(name) === asText(value)) continue;
    stored ??= {};
    stored[rawNames.get(name) ?? name] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return stored;
}

/** Whether a 304 sends this stored header (RFC 9110 §15.4.5); a 200 sends them all. */
export const sentWithNotModified = (name: string) => SENT_WITH_NOT_MODIFIED.has(name.toLowerCase());

/** Takes off the response the headers the handler set that its 304 does not carry, so that a miss's 304 is a hit's. */
export function removeUnlessNotModified(response: unknown, headers: StoredHeaders): void {
  for (const name of Object.keys(headers)) if (!sentWithNotModified(name)) (response as HeaderHolder).removeHeader?.(name);
}

// @fastify/cookie's reply.setCookie keeps the cookies under this symbol and writes Set-Cookie only as
// the reply is sent (its onSend hook), after every interceptor: read from there, or it would be missed.
const FASTIFY_PENDING_COOKIES = 'fastify.reply.setCookies';

/** The cookies the response will set: its Set-Cookie header, or those @fastify/cookie holds until it sends. */
export function cookiesSetBy(response: unknown, header: HeaderValue): HeaderValue {
  if (header !== undefined || response === null || typeof response !== 'object') return header;
  for (const symbol of Object.getOwnPropertySymbols(response)) {
    if (symbol.description !== FASTIFY_PENDING_COOKIES) continue;
    const pending = (response as Record<symbol, unknown>)[symbol];
    if (pending instanceof Map && pending.size > 0) return [...pending.keys()].map(String);
  }
  return undefined;
}
