import type { ExecutionContext } from '@nestjs/common';
import type { GetOrSetOptions } from '../../cache/cache-options.js';

/** What a key function of a controller route is handed: the request of Express or Fastify alike. */
export interface CacheableRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, unknown>>;
}

/**
 * `@Cacheable()` on a controller (every GET route), a route, or a provider's method. get-or-set's
 * options (fail-safe, timeouts, eager refresh, jitter, distributed lock) apply as they do to `getOrSet`.
 */
export interface CacheableOptions extends Omit<GetOrSetOptions, 'ttl' | 'tags'> {
  /** The named cache (`forFeature`) to keep entries in. Default: the default cache. */
  cache?: string;
  /**
   * ms (0: never expires), or a function of the value. Default: the cache's ttl. A function that
   * returns anything but a finite number >= 0 (or throws) has the value served and not stored, with a warning.
   */
  ttl?: number | ((value: any) => number);
  /**
   * The cache key: a string, or a function of the request (routes; async allowed), of the method's
   * arguments, called with the provider as `this` (provider methods), of `(parent, args, context, info)`
   * (GraphQL resolvers) or of `(data, context)` (message handlers). Default: see the README.
   */
  key?: string | ((...args: any[]) => string | Promise<string>);
  /** Routes and GraphQL resolvers: request headers whose values key the entry apart (`accept-language`, `authorization`). */
  vary?: readonly string[];
  /**
   * Routes and GraphQL resolvers: serve and store one shared entry even for requests that carry a
   * credential header (`credentialHeaders`). Default false: such a request is answered by the
   * handler, unless a key function or `vary` naming that header keys it per user.
   */
  shared?: boolean;
  /**
   * Routes and GraphQL resolvers: the request headers that say who is asking; a request carrying one
   * is answered by the handler and stores nothing, unless `shared`, a key function, or `vary` naming that header.
   * Replaces the default list: `['authorization', 'proxy-authorization', 'cookie', 'x-api-key']`.
   */
  credentialHeaders?: readonly string[];
  /**
   * Routes: answer this request from its handler, without the cache (`X-Cache: BYPASS`), when it
   * returns true: `skipIf: (context) => context.switchToHttp().getRequest().query.preview === '1'`.
   */
  skipIf?: (context: ExecutionContext) => boolean;
  /** Routes: the 2xx statuses whose responses are stored. Default [200]. */
  statuses?: readonly number[];
  /**
   * Tags of the entry, for `@CacheEvict({ tags })` and `deleteByTag`: a list, or a function of the
   * request and the body (routes: `(request, body) => [\`user:${body.ownerId}\`]`) or of the result
   * and the method's arguments, with the provider as `this` (provider methods), or of the value and
   * the handler's arguments (GraphQL resolvers, message handlers). A function that
   * throws or returns no list of strings has the answer served and not stored, with a warning.
   */
  tags?: readonly string[] | ((...args: any[]) => readonly string[]);
}

/** `@CacheEvict()` on a route or a provider's method: after it succeeds, the keys go, or every entry of the cache. */
export interface CacheEvictOptions {
  /** The named cache to evict from. Default: the default cache. */
  cache?: string;
  /**
   * Keys, or a function of the request (routes), of the method's arguments (provider methods), of
   * `(parent, args, context, info)` (GraphQL resolvers) or of `(data, context)` (message handlers).
   */
  keys?: readonly string[] | ((...args: any[]) => readonly string[] | Promise<readonly string[]>);
  /** Clear the whole cache (its own key prefix only). */
  allEntries?: boolean;
  /**
   * Invalidate every entry carrying one of these tags (`deleteByTag`): a list, or a function of the
   * request (routes) or of the method's arguments (provider methods), as `keys`.
   */
  tags?: readonly string[] | ((...args: any[]) => readonly string[] | Promise<readonly string[]>);
}
