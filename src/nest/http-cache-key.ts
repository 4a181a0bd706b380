import { createHash } from 'node:crypto';
import type { CacheableOptions, CacheableRequest } from './interfaces/cacheable-options.js';

type Headers = CacheableRequest['headers'];

/**
 * The key of a route's entry when the route gives none: method, path and the query with its
 * parameters sorted by name, so that `?a=1&b=2` and `?b=2&a=1` share an entry. HEAD shares GET's.
 */
export function defaultRouteKey(method: string, url: string): string {
  const verb = method === 'HEAD' ? 'GET' : method;
  const queryAt = url.indexOf('?');
  if (queryAt < 0) return `${verb} ${url}`;
  return `${verb} ${url.slice(0, queryAt)}?${sortedQuery(url.slice(queryAt + 1))}`;
}

function sortedQuery(query: string): string {
  const params = query.split('&').filter((param) => param.length > 0);
  // A stable sort by name only: `?tag=b&tag=a` keeps its order, which a handler may depend on.
  if (params.length > 1) params.sort((left, right) => compare(paramName(left), paramName(right)));
  return params.join('&');
}

const paramName = (param: string) => {
  const equals = param.indexOf('=');
  return equals < 0 ? param : param.slice(0, equals);
};
const compare = (left: string, right: string) => (left < right ? -1 : left > right ? 1 : 0);

/**
 * Why a request may not share an entry, if it may not: it carries `Authorization` or a cookie and
 * the route neither keys entries per user (`vary`, `key`) nor says the answer is the same for all
 * (`shared`). Such a request is answered by the handler and stores nothing.
 */
export function personalRequestReason(headers: Headers, options: CacheableOptions): string | undefined {
  if (options.shared === true || options.key !== undefined) return undefined;
  if (headers.authorization !== undefined && !options.vary?.includes('authorization')) return 'authorization';
  if (headers.cookie !== undefined && !options.vary?.includes('cookie')) return 'cookie';
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
