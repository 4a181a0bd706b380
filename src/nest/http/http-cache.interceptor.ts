import {
  type CallHandler,
  type ExecutionContext,
  GatewayTimeoutException,
  Inject,
  Injectable,
  Logger,
  type NestInterceptor,
  Optional,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { HttpAdapterHost } from '@nestjs/core';
import { concatMap, defer, lastValueFrom, type Observable, of } from 'rxjs';
import { DynamoCacheRegistry } from '../../cache/cache-registry.js';
import type { DynamoCache } from '../../cache/dynamo-cache.js';
import { FactoryTimeoutError } from '../../cache/errors.js';
import type { FactoryContext } from '../../cache/factory-run.js';
import { BurstWarning, describe } from '../burst-warning.js';
import { stamp } from '../../store/tags.js';
import { CallerFailure, checkedKey, evictEntries, tagsFor } from '../cache-calls.js';
import { asksForFreshAnswer, bodyForHit, type CachedResponse, unstorableReason } from './cached-response.js';
import { entryTtl } from '../entry-ttl.js';
import { defaultRouteKey, personalRequestReason, varySuffix } from './http-cache-key.js';
import type { CacheableOptions, CacheableRequest, CacheEvictOptions } from '../interfaces/cacheable-options.js';
import { type RoutePlan, routePlan } from './route-plan.js';

/** A response being answered without the cache, and why, in the X-Cache header. */
type XCache = 'HIT' | 'MISS' | 'STALE' | 'BYPASS';

// Set on a request this interceptor handles, so that it applied twice (globally too) acts once.
const HANDLED = Symbol('nest-dynamo-cache:handled');

/**
 * Serves `@Cacheable()` routes from the cache and runs `@CacheEvict()` after a route succeeds.
 * `@Cacheable()` and `@CacheEvict()` apply it themselves; registering it globally as well is harmless.
 * A cache that fails never fails the request: the handler answers, and a warning is logged once per burst.
 */
const fallbackLogger = new Logger('DynamoCache');

@Injectable()
export class DynamoCacheInterceptor implements NestInterceptor {
  private readonly plans = new WeakMap<object, RoutePlan | null>();
  private readonly caches = new Map<string, DynamoCache>();
  // The module's `logger` option, as for the store's own warnings; Nest's Logger without a module.
  private readonly warning = new BurstWarning({
    warn: (message) => (this.registry?.default.forRoutes().logger ?? fallbackLogger).warn(message),
  });

  constructor(
    @Optional() @Inject(DynamoCacheRegistry) private readonly registry: DynamoCacheRegistry | undefined,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const plan = this.planFor(context);
    const request = context.switchToHttp().getRequest<CacheableRequest & { [HANDLED]?: true }>();
    if (plan === null || request[HANDLED]) return next.handle();
    request[HANDLED] = true;
    const response = context.switchToHttp().getResponse<unknown>();
    if (plan.evict !== undefined) return next.handle().pipe(concatMap((value) => this.evictAfter(plan, plan.evict!, request, value)));
    const method = this.adapterHost.httpAdapter.getRequestMethod(request);
    const options = plan.cacheable;
    if (options === undefined || (method !== 'GET' && method !== 'HEAD')) return next.handle();
    if (personalRequestReason(request.headers, options) !== undefined) return this.mark(response, 'BYPASS', next.handle());
    if (options.skipIf !== undefined && this.skips(plan, options.skipIf, context)) return this.mark(response, 'BYPASS', next.handle());
    let base: string | Promise<string>;
    try {
      base = this.keyOf(options, request, method);
    } catch (error) {
      return this.bypassForKey(plan, response, error, next);
    }
    // A hit in memory is answered here and now: no promise, no async frame, as cheap as a route without a cache.
    if (
      typeof base === 'string' &&
      plan.getOrSet?.eagerRefreshThreshold === undefined &&
      !asksForFreshAnswer(request.headers['cache-control'])
    ) {
      // A cache that cannot be found fails here silently; the slow path answers from the handler and warns.
      const remembered = this.tryFromMemory(plan, options, base, request.headers);
      if (remembered !== undefined) return of(this.serveStored(response, remembered, false));
    }
    return defer(() => this.answer(plan, options, request, response, base, next));
  }

  private async answer(
    plan: RoutePlan,
    options: CacheableOptions,
    request: CacheableRequest,
    response: unknown,
    keyOrPending: string | Promise<string>,
    next: CallHandler,
  ): Promise<unknown> {
    const runHandler = () => lastValueFrom(next.handle(), { defaultValue: undefined });
    let key: string;
    let cache: DynamoCache;
    try {
      cache = this.cacheNamed(plan.cacheName);
      const base = await keyOrPending;
      key = options.vary !== undefined && options.vary.length > 0 ? await this.variantKey(cache, base, options, request.headers) : base;
    } catch (error) {
      return lastValueFrom(this.bypassForKey(plan, response, error, next), { defaultValue: undefined });
    }

    let produced: { value: unknown } | undefined;
    let producedTags: readonly string[] | undefined;
    const produce = async (): Promise<CachedResponse & { reason?: string }> => {
      let value: unknown;
      try {
        value = await runHandler();
      } catch (error) {
        throw new CallerFailure(plan.where, error);
      }
      produced = { value };
      const answer = this.describeAnswer(plan, options, response, value, cache);
      if (answer.reason !== undefined || typeof options.tags !== 'function') return answer;
      try {
        producedTags = tagsFor(options.tags, undefined, [request, value]);
        return answer;
      } catch (error) {
        this.warning.warn(plan.where, `its answer is served and not cached: ${describe(error)}.`);
        return { ...answer, reason: describe(error) };
      }
    };

    try {
      if (asksForFreshAnswer(request.headers['cache-control'])) {
        // Dated from before the handler ran: an eviction while it ran retires its answer.
        const startedAt = stamp();
        const fresh = await produce();
        const ttl = fresh.expiresAt === undefined ? 0 : fresh.expiresAt - fresh.storedAt;
        const tags = [...(plan.getOrSet?.tags ?? []), ...(producedTags ?? [])];
        if (fresh.reason === undefined) await cache.forRoutes().setMadeAt(key, fresh, tags.length > 0 ? { ttl, tags } : ttl, startedAt);
        return this.mark(response, 'MISS', produced!.value);
      }
      const entry = await cache.getOrSet<CachedResponse>(
        key,
        (context) => this.storedOrSkipped(produce, context, () => producedTags),
        plan.getOrSet,
      );
      if (produced !== undefined) return this.mark(response, 'MISS', produced.value);
      // Another request of this process ran the handler, and its answer was its own (a cookie, say): run ours.
      if ((entry as { reason?: string }).reason !== undefined) return this.mark(response, 'MISS', runHandler());
      // Other requests that joined this load hold the same answer object.
      return this.serveStored(response, entry, true);
    } catch (error) {
      if (error instanceof CallerFailure) throw error.error;
      if (error instanceof FactoryTimeoutError)
        throw new GatewayTimeoutException(`${plan.where} did not answer within its hardTimeout`, { cause: error });
      this.warning.warn(plan.where, `answered without the cache, which failed: ${describe(error)}`);
      return this.mark(response, 'MISS', produced !== undefined ? produced.value : runHandler());
    }
  }

  private async storedOrSkipped(
    produce: () => Promise<CachedResponse & { reason?: string }>,
    context: FactoryContext<CachedResponse>,
    tags: () => readonly string[] | undefined,
  ): Promise<CachedResponse> {
    const answer = await produce();
    if (answer.reason !== undefined) context.skip();
    else context.setTtl(answer.expiresAt === undefined ? 0 : answer.expiresAt - answer.storedAt);
    const made = tags();
    if (made !== undefined && made.length > 0) context.addTags(...made);
    return answer;
  }

  private describeAnswer(
    plan: RoutePlan,
    options: CacheableOptions,
    response: unknown,
    body: unknown,
    cache: DynamoCache,
  ): CachedResponse & { reason?: string } {
    const adapter = this.adapterHost.httpAdapter;
    const status = (response as { statusCode: number }).statusCode;
    const unstorable = unstorableReason(body, status, plan.statuses, (name) => adapter.getHeader(response, name));
    if (unstorable !== undefined && !unstorable.deliberate)
      this.warning.warn(plan.where, `its answer is not cached: ${unstorable.reason}.`);
    let reason = unstorable?.reason;
    let ttl = 0;
    if (reason === undefined) {
      const routeTtl = entryTtl(options.ttl, body);
      if (routeTtl.problem !== undefined) {
        this.warning.warn(plan.where, `its answer is served and not cached: ${routeTtl.problem}.`);
        reason = routeTtl.problem;
      } else {
        // The answer records its own expiry (for Age, STALE and eager refresh): a route without a ttl takes the cache's.
        ttl = routeTtl.ttl ?? cache.forRoutes().defaultTtlMs ?? 0;
      }
    }
    const storedAt = Date.now();
    const contentType = adapter.getHeader(response, 'content-type') as string | undefined;
    return {
      status,
      body,
      storedAt,
      ...(contentType && { contentType }),
      ...(ttl > 0 && { expiresAt: storedAt + ttl }),
      ...(reason && { reason }),
    };
  }

  private serveStored(response: unknown, entry: CachedResponse, shared: boolean): unknown {
    const adapter = this.adapterHost.httpAdapter;
    const now = Date.now();
    if ((response as { statusCode?: number }).statusCode !== entry.status) adapter.status(response, entry.status);
    if (entry.contentType !== undefined && adapter.getHeader(response, 'content-type') === undefined)
      adapter.setHeader(response, 'Content-Type', entry.contentType);
    adapter.setHeader(response, 'Age', String(Math.max(0, Math.floor((now - entry.storedAt) / 1000))));
    return this.mark(response, entry.expiresAt !== undefined && entry.expiresAt <= now ? 'STALE' : 'HIT', bodyForHit(entry.body, shared));
  }

  private mark<T>(response: unknown, state: XCache, value: T): T {
    this.adapterHost.httpAdapter.setHeader(response, 'X-Cache', state);
    return value;
  }

  /** A skipIf that throws skips the cache for that request, with a warning: it never fails the request. */
  private skips(plan: RoutePlan, skipIf: NonNullable<CacheableOptions['skipIf']>, context: ExecutionContext): boolean {
    try {
      return skipIf(context) === true;
    } catch (error) {
      this.warning.warn(plan.where, `answered without the cache, its skipIf threw: ${describe(error)}`);
      return true;
    }
  }

  private bypassForKey(plan: RoutePlan, response: unknown, error: unknown, next: CallHandler): Observable<unknown> {
    this.warning.warn(plan.where, `answered without the cache, its key could not be made: ${describe(error)}`);
    return this.mark(response, 'BYPASS', next.handle());
  }

  private tryFromMemory(
    plan: RoutePlan,
    options: CacheableOptions,
    base: string,
    headers: CacheableRequest['headers'],
  ): CachedResponse | undefined {
    try {
      return this.fromMemory(plan, options, base, headers);
    } catch {
      return undefined;
    }
  }

  /** The stored answer this instance holds in memory, fresh, or undefined: then the slow path asks DynamoDB. */
  private fromMemory(
    plan: RoutePlan,
    options: CacheableOptions,
    base: string,
    headers: CacheableRequest['headers'],
  ): CachedResponse | undefined {
    const cache = this.cacheNamed(plan.cacheName);
    let key = base;
    if (options.vary !== undefined && options.vary.length > 0) {
      const generation = cache.forRoutes().peekHit(base);
      if (typeof generation !== 'string') return undefined;
      key = variantOf(base, generation, headers, options.vary);
    }
    const stored = cache.forRoutes().peekHit<CachedResponse>(key);
    return typeof stored === 'object' && stored !== null && typeof stored.storedAt === 'number' ? stored : undefined;
  }

  /** The route's key: a string at once unless the key function is async. */
  private keyOf(options: CacheableOptions, request: CacheableRequest, method: string): string | Promise<string> {
    if (options.key === undefined) return defaultRouteKey(method, this.adapterHost.httpAdapter.getRequestUrl(request));
    if (typeof options.key === 'string') return options.key;
    const key = options.key(request);
    return checkedKey(key);
  }

  /**
   * A table without a sort key cannot list the variants of a key (one per value of the `vary`
   * headers), so the key itself holds a generation that every variant's key contains: evicting the
   * key starts a new generation, and old variants are never read again (their TTL removes them).
   */
  private async variantKey(
    cache: DynamoCache,
    base: string,
    options: CacheableOptions,
    headers: CacheableRequest['headers'],
  ): Promise<string> {
    const routeTtl = typeof options.ttl === 'number' ? options.ttl : (cache.forRoutes().defaultTtlMs ?? 0);
    // Twice the entries' ttl: a generation that expired early would only cost a recomputation.
    const generation = await cache.getOrSet<unknown>(base, () => randomBytes(6).toString('base64url'), { ttl: routeTtl * 2 });
    return variantOf(base, typeof generation === 'string' ? generation : '0', headers, options.vary!);
  }

  private async evictAfter(plan: RoutePlan, evict: CacheEvictOptions, request: CacheableRequest, value: unknown): Promise<unknown> {
    try {
      await evictEntries(this.cacheNamed(evict.cache ?? plan.cacheName), evict, undefined, [request]);
    } catch (error) {
      this.warning.warn(plan.where, `@CacheEvict failed, the entries may stay until they expire: ${describe(error)}`);
    }
    return value;
  }

  private cacheNamed(name: string | undefined): DynamoCache {
    const known = this.caches.get(name ?? '');
    if (known !== undefined) return known;
    if (this.registry === undefined) {
      throw new TypeError("@Cacheable and @CacheEvict need DynamoCacheModule.forRoot() (or forRootAsync()) among the app's imports");
    }
    const cache = this.registry.get(name);
    this.caches.set(name ?? '', cache);
    return cache;
  }

  private planFor(context: ExecutionContext): RoutePlan | null {
    const handler = context.getHandler();
    let plan = this.plans.get(handler);
    if (plan === undefined) {
      plan = routePlan(context.getClass(), handler);
      this.plans.set(handler, plan);
    }
    return plan;
  }
}

function variantOf(base: string, generation: string, headers: CacheableRequest['headers'], vary: readonly string[]): string {
  return `${base} @${generation}${varySuffix(headers, vary)}`;
}
