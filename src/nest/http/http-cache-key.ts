import { createHash } from 'node:crypto';
import type { CacheableOptions, CacheableRequest } from '../interfaces/cacheable-options.js';

type Headers = CacheableRequest['headers'];

/**
 * The key of a route's entry when the route gives none: method, path and the query with its
 * parameters sorted by name, so that `?a=1&b=2` and `?b=2&a=1` share an entry. HEAD shares GET's.
 *
 * Names and values are decoded first, as the handler's query parser decodes them (`%61` is `a`,
 * `+` a space), then encoded again one canonical way: two spellings of one query share an entry,
 * and a name or value holding `=` or `&` cannot pass for another split of the same characters.
 */
export function defaultRouteKey(method: string, url: string): string {
  const verb = method === 'HEAD' ? 'GET' : method;
  const queryAt = url.indexOf('?');
  if (queryAt < 0) return `${verb} ${url}`;
  const query = new URLSearchParams(url.slice(queryAt + 1));
  // A stable sort by name only: `?tag=b&tag=a` keeps its order, which a handler may depend on.
  query.sort();
  const sorted = query.toString();
  return sorted === '' ? `${verb} ${url.slice(0, queryAt)}` : `${verb} ${url.slice(0, queryAt)}?${sorted}`;
}

/** The request headers that say who is asking, unless a route names its own (`credentialHeaders`). */
export const DEFAULT_CREDENTIAL_HEADERS: readonly string[] = Object.freeze(['authorization', 'proxy-authorization', 'cookie', 'x-api-key']);

/**
 * Why a request may not share an entry, if it may not: it carries a credential header (the
 * route's `credentialHeaders`, default {@link DEFAULT_CREDENTIAL_HEADERS}) and the route has not
 * said how credentials are handled: `vary` naming that header keys entries by its value, and
 * `shared: true` says the answer is the same for everyone (or that the route's key function tells
 * users apart). A key, fixed or a function, says nothing of who is asking: a key function of the
 * city alone (`city:${req.params.c}`) on a handler that reads Authorization would hand Alice's
 * answer to Bob. Such a request is answered by the handler and stores nothing.
 */
export function personalRequestReason(headers: Headers, options: CacheableOptions): string | undefined {
  if (options.shared === true) return undefined;
  for (const name of options.credentialHeaders ?? DEFAULT_CREDENTIAL_HEADERS) {
    if (headers[name] !== undefined && !options.vary?.includes(name)) return name;
  }
  return undefined;
}

/**
 * The part of the key that the `vary` headers make: a digest of their values, so that no
 * Authorization token or cookie is ever written into the table's keys, where logs and consoles show them.
 */
export function varySuffix(headers: Headers, vary: readonly string[] | undefined): string {
  if (vary === undefined || vary.length === 0) return '';
  const hash = createHash('sha256');
  for (const name of vary) {
    const value = headers[name];
    // A header absent and a header sent empty must not share an entry: the first byte tells them apart.
    hash.update(value === undefined ? '\u0000' : `\u0001${Array.isArray(value) ? value.join(', ') : value}`).update('\u0000');
  }
  return ` vary:${hash.digest('base64url').slice(0, 22)}`;
}
