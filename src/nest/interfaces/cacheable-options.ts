import type { ExecutionContext } from '@nestjs/common';
import type { GetOrSetOptions } from '../../cache/cache-options.js';

/** What a key function of a controller route is handed: the request of Express or Fastify alike. */
export interface CacheableRequest {
  /** The HTTP method, upper case (`GET`, `HEAD`). */
  readonly method: string;
  /** The path and query string as received (`/weather/Oslo?days=3`). */
  readonly url: string;
  /** The request headers, their names in lower case. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The route's path parameters (`:city` gives `params.city`). */
  readonly params: Readonly<Record<string, string>>;
  /** The parsed query string. */
  readonly query: Readonly<Record<string, unknown>>;
}

/**
 * `@Cacheable()` on a controller (every GET route), a route, a provider's method, a GraphQL resolver
 * or a message handler. get-or-set's options (fail-safe, timeouts, eager refresh, jitter, distributed
 * lock) apply as they do to `getOrSet`.
 *
 * @example
 * ```ts
 * @Get(':city/hourly')
 * @Cacheable({ ttl: 60_000, key: (req) => `hourly:${req.params.city}`, vary: ['accept-language'] })
 * hourly(@Param('city') city: string) { … }
 * ```
 */
export interface CacheableOptions extends Omit<GetOrSetOptions, 'ttl' | 'tags'> {
  /**
   * The named cache (`forFeature`) to keep entries in.
   * @defaultValue the default cache (`CACHE`)
   */
  cache?: string;
  /**
   * The entry's time to live: ms (0: never expires), or a function of the value. A function that
   * returns anything but a finite number >= 0 (or throws) has the value served and not stored, with a warning.
   * @defaultValue the cache's `ttl`
   */
  ttl?: number | ((value: any) => number);
  /**
   * The cache key: a string, or a function of the request (routes; async allowed), of the method's
   * arguments, called with the provider as `this` (provider methods), of `(parent, args, context, info)`
   * (GraphQL resolvers) or of `(data, context)` (message handlers).
   * @defaultValue routes: the method, path and query sorted by name (`GET /weather/Oslo?days=3`);
   * provider methods: `<Class>.<method>(<arguments>)`; GraphQL: `graphql <Type>.<field>(<arguments>)`;
   * message handlers: `message <pattern> <data>`
   */
  key?: string | ((...args: any[]) => string | Promise<string>);
  /** Routes and GraphQL resolvers: request headers whose values key the entry apart (`accept-language`, `authorization`). */
  vary?: readonly string[];
  /**
   * Routes and GraphQL resolvers: serve and store one shared entry even for requests that carry a
   * credential header (`credentialHeaders`). Off, such a request is answered by the handler, unless
   * a key function or `vary` naming that header keys it per user.
   * @defaultValue `false`
   */
  shared?: boolean;
  /**
   * Routes and GraphQL resolvers: the request headers that say who is asking; a request carrying one
   * is answered by the handler and stores nothing, unless `shared`, a key function, or `vary` naming that header.
   * A list replaces `DEFAULT_CREDENTIAL_HEADERS` whole: name those too if the route can see them
   * (`[...DEFAULT_CREDENTIAL_HEADERS, 'x-tenant-token']`).
   */
  credentialHeaders?: readonly string[];
  /**
   * Routes: answer this request from its handler, without the cache (`X-Cache: BYPASS`), when it
   * returns true: `skipIf: (context) => context.switchToHttp().getRequest().query.preview === '1'`.
   */
  skipIf?: (context: ExecutionContext) => boolean;
  /**
   * Routes: the 2xx statuses whose responses are stored.
   * @defaultValue `[200]`
   */
  statuses?: readonly number[];
  /**
   * Tags of the entry, for `@CacheEvict({ tags })` and `deleteByTag`: a list, or a function of the
   * request and the body (routes: ``(request, body) => [`user:${body.ownerId}`]``) or of the result
   * and the method's arguments, with the provider as `this` (provider methods), or of the value and
   * the handler's arguments (GraphQL resolvers, message handlers). A function that
   * throws or returns no list of strings has the answer served and not stored, with a warning.
   */
  tags?: readonly string[] | ((...args: any[]) => readonly string[]);
}

/** `@CacheEvict()` on a route or a provider's method: after it succeeds, the keys go, or every entry of the cache. */
export interface CacheEvictOptions {
  /**
   * The named cache to evict from.
   * @defaultValue the default cache (`CACHE`)
   */
  cache?: string;
  /**
   * Keys, or a function of the request (routes), of the method's arguments (provider methods), of
   * `(parent, args, context, info)` (GraphQL resolvers) or of `(data, context)` (message handlers).
   */
  keys?: readonly string[] | ((...args: any[]) => readonly string[] | Promise<readonly string[]>);
  /**
   * Clear the whole cache (its own key prefix only): one write, as `cache.clear()`.
   * @defaultValue `false`
   */
  allEntries?: boolean;
  /**
   * Invalidate every entry carrying one of these tags (`deleteByTag`): a list, or a function of the
   * request (routes) or of the method's arguments (provider methods), as `keys`.
   */
  tags?: readonly string[] | ((...args: any[]) => readonly string[] | Promise<readonly string[]>);
}
