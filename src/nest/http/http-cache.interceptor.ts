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
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { concatMap, defer, lastValueFrom, type Observable, of, tap } from 'rxjs';
import { DynamoCacheRegistry } from '../../cache/cache-registry.js';
import type { DynamoCache } from '../../cache/dynamo-cache.js';
import { FactoryTimeoutError } from '../../cache/errors.js';
import { BurstWarning, describe } from '../burst-warning.js';
import { ContextCache } from '../contexts/context-cache.js';
import { stamp } from '../../store/tags.js';
import { CallerFailure, evictEntries } from '../cache-calls.js';
import { asksForFreshAnswer, bodyForHit, type CachedResponse, entityTagOfStored, jsonOfFrozen } from './cached-response.js';
import { ifNoneMatchHolds } from './entity-tag.js';
import { headerSnapshot, removeUnlessNotModified, sentWithNotModified, type StoredHeaders } from './handler-headers.js';
import { answersNotModified, markNotModified } from './not-modified.js';
import { onlyOwnInterceptors } from './outer-interceptors.js';
import { personalRequestReason } from './http-cache-key.js';
import type { CacheableOptions, CacheableRequest, CacheEvictOptions } from '../interfaces/cacheable-options.js';
import { AnswerPolicy, type DescribedAnswer, HandlerRun } from './route-answer.js';
import { answerInMemory, routeKeyOf, variantKey } from './route-keys.js';
import { type RoutePlan, routePlan } from './route-plan.js';
import { mergedVary } from './vary.js';

const isThisInterceptor = (interceptor: unknown) => interceptor === DynamoCacheInterceptor || interceptor instanceof DynamoCacheInterceptor;

// Plain JSON the memory tier froze (it freezes nothing else); a Buffer, a Map or a Date keeps its own way out.
const isFrozenJson = (body: unknown): body is object =>
  body !== null &&
  typeof body === 'object' &&
  Object.isFrozen(body) &&
  (Array.isArray(body) || Object.getPrototypeOf(body) === Object.prototype);

/** A response being answered without the cache, and why, in the X-Cache header. */
type XCache = 'HIT' | 'MISS' | 'STALE' | 'BYPASS';

// The requests this interceptor handles, so that it applied twice (globally too) acts once. A set,
// not a property: adding one to every request object cost a hit about 3 µs in the HTTP bench.
const handled = new WeakSet<object>();

const fallbackLogger = new Logger('DynamoCache');

/**
 * Serves `@Cacheable()` routes from the cache and runs `@CacheEvict()` after a route succeeds.
 * `@Cacheable()` and `@CacheEvict()` apply it themselves; registering it globally as well is harmless.
 * A cache that fails never fails the request: the handler answers, and a warning is logged once per burst.
 */
@Injectable()
export class DynamoCacheInterceptor implements NestInterceptor {
  private readonly plans = new WeakMap<object, RoutePlan | null>();
  /** Per route: whether a hit may send the body's JSON text (no interceptor but this one around it). */
  private readonly sendsText = new WeakMap<object, boolean>();
  private readonly caches = new Map<string, DynamoCache>();
  // The module's `logger` option, as for the store's own warnings; Nest's Logger without a module.
  private readonly warning = new BurstWarning({
    warn: (message) => (this.registry?.default.forRoutes().logger ?? fallbackLogger).warn(message),
  });
  private readonly policy: AnswerPolicy;
  // GraphQL resolvers and message handlers: their own keys and answers, the same get-or-set.
  private readonly contexts = new ContextCache((name) => this.cacheNamed(name), this.warning);

  constructor(
    @Optional() @Inject(DynamoCacheRegistry) private readonly registry: DynamoCacheRegistry | undefined,
    private readonly adapterHost: HttpAdapterHost,
    @Optional() private readonly moduleRef?: ModuleRef,
  ) {
    this.policy = new AnswerPolicy(adapterHost, this.warning);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return this.contexts.intercept(context, next);
    const plan = this.planFor(context);
    const request = context.switchToHttp().getRequest<CacheableRequest>();
    if (plan === null || handled.has(request)) return next.handle();
    handled.add(request);
    const response = context.switchToHttp().getResponse<unknown>();
    if (plan.evict !== undefined) return next.handle().pipe(concatMap((value) => this.evictAfter(plan, plan.evict!, request, value)));
    const method = this.adapterHost.httpAdapter.getRequestMethod(request);
    const options = plan.cacheable;
    if (options === undefined || (method !== 'GET' && method !== 'HEAD')) return next.handle();
    const handler = this.varying(response, options, next);
    if (personalRequestReason(request.headers, options) !== undefined) return this.mark(response, 'BYPASS', handler.handle());
    if (options.skipIf !== undefined && this.skips(plan, options.skipIf, context)) return this.mark(response, 'BYPASS', handler.handle());
    let base: string | Promise<string>;
    try {
      base = routeKeyOf(options, request, method, () => this.adapterHost.httpAdapter.getRequestUrl(request));
    } catch (error) {
      return this.bypassForKey(plan, response, error, handler);
    }
    // A hit in memory is answered here and now: no promise, no async frame, as cheap as a route without a cache.
    if (
      typeof base === 'string' &&
      plan.getOrSet?.eagerRefreshThreshold === undefined &&
      !asksForFreshAnswer(request.headers['cache-control'])
    ) {
      // A cache that cannot be found fails here silently; the slow path answers from the handler and warns.
      const remembered = this.tryFromMemory(plan, options, base, request.headers);
      if (remembered !== undefined) {
        const sendsText = this.sendsTextFor(context);
        return of(this.serveStored(request, response, remembered, { shared: false, sendsText }));
      }
    }
    return defer(() => this.answer(plan, options, request, response, base, handler));
  }

  /**
   * A route with `vary` names those headers in the Vary of every answer (hit, miss, stale, 304,
   * bypass): set now, before any answer goes, and again after the handler ran, which may have set a
   * Vary of its own. The handler is returned to run in `next`'s place.
   */
  private varying(response: unknown, { vary }: CacheableOptions, next: CallHandler): CallHandler {
    if (vary === undefined || vary.length === 0) return next;
    const adapter = this.adapterHost.httpAdapter;
    const varyBy = () => {
      const merged = mergedVary(adapter.getHeader(response, 'vary'), vary);
      if (merged !== undefined) adapter.setHeader(response, 'Vary', merged);
    };
    varyBy();
    return { handle: () => next.handle().pipe(tap({ next: varyBy, error: varyBy })) };
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
    // Before anything is awaited: a handler that runs later (a background refresh after this request's hit
    // was answered, a distributed lock) still has its own headers told from the middleware's, not from a hit's.
    const headersBefore = headerSnapshot(response);
    let key: string;
    let cache: DynamoCache;
    try {
      cache = this.cacheNamed(plan.cacheName);
      const base = await keyOrPending;
      key = options.vary !== undefined && options.vary.length > 0 ? await variantKey(cache, base, options, request.headers) : base;
    } catch (error) {
      return lastValueFrom(this.bypassForKey(plan, response, error, next), { defaultValue: undefined });
    }
    const route = { plan, options, request, response, headersBefore };
    const defaultTtlMs = cache.forRoutes().defaultTtlMs;
    const run = new HandlerRun(route, runHandler, (body) => this.policy.describe(route, body, defaultTtlMs), this.warning);
    try {
      if (asksForFreshAnswer(request.headers['cache-control'])) {
        // Dated from before the handler ran: an eviction while it ran retires its answer.
        const startedAt = stamp();
        const fresh = await run.produce();
        const ttl = fresh.expiresAt === undefined ? 0 : fresh.expiresAt - fresh.storedAt;
        const tags = run.tags;
        if (fresh.reason === undefined) await cache.forRoutes().setMadeAt(key, fresh, tags.length > 0 ? { ttl, tags } : ttl, startedAt);
        return this.answerFresh(request, response, fresh, run.value);
      }
      const entry = await cache.getOrSet<CachedResponse>(key, (context) => run.asFactory(context), plan.getOrSet);
      if (run.ran) return this.answerFresh(request, response, entry as DescribedAnswer, run.value);
      // Another request of this process ran the handler, and its answer was its own (a cookie, say): run ours.
      if ((entry as DescribedAnswer).reason !== undefined) return this.mark(response, 'MISS', runHandler());
      return this.serveStored(request, response, entry, { shared: true, sendsText: false });
    } catch (error) {
      if (error instanceof CallerFailure) throw error.error;
      if (error instanceof FactoryTimeoutError)
        throw new GatewayTimeoutException(`${plan.where} did not answer within its hardTimeout`, { cause: error });
      this.warning.warn(plan.where, `answered without the cache, which failed: ${describe(error)}`);
      return this.mark(response, 'MISS', run.ran ? run.value : runHandler());
    }
  }

  /**
   * `shared`: other requests (that joined one load) hold the same answer object. `sendsText`: no
   * interceptor outside this one, so a body the memory tier holds goes out as its JSON text.
   */
  private serveStored(
    request: CacheableRequest,
    response: unknown,
    entry: CachedResponse,
    { shared, sendsText }: { readonly shared: boolean; readonly sendsText: boolean },
  ): unknown {
    const adapter = this.adapterHost.httpAdapter;
    const now = Date.now();
    if ((response as { statusCode?: number }).statusCode !== entry.status) adapter.status(response, entry.status);
    adapter.setHeader(response, 'Age', String(Math.max(0, Math.floor((now - entry.storedAt) / 1000))));
    const state = entry.expiresAt !== undefined && entry.expiresAt <= now ? 'STALE' : 'HIT';
    if (this.notModified(request, response, entityTagOfStored(entry))) {
      if (entry.headers !== undefined) this.replay(response, entry.headers, sentWithNotModified);
      return this.mark(response, state, undefined);
    }
    if (entry.headers !== undefined) this.replay(response, entry.headers, () => true);
    const { body } = entry;
    if (sendsText && entry.contentType === undefined && isFrozenJson(body)) {
      adapter.setHeader(response, 'Content-Type', 'application/json; charset=utf-8');
      return this.mark(response, state, jsonOfFrozen(body));
    }
    if (entry.contentType !== undefined && adapter.getHeader(response, 'content-type') === undefined)
      adapter.setHeader(response, 'Content-Type', entry.contentType);
    return this.mark(response, state, bodyForHit(body, shared));
  }

  /** The handler's own answer on a miss, with the tag of what was stored; `304` when the client holds it already. */
  private answerFresh(request: CacheableRequest, response: unknown, answer: DescribedAnswer, value: unknown): unknown {
    if (answer.etag !== undefined && this.notModified(request, response, answer.etag)) {
      if (answer.headers !== undefined) removeUnlessNotModified(response, answer.headers);
      return this.mark(response, 'MISS', undefined);
    }
    return this.mark(response, 'MISS', value);
  }

  /**
   * Sets the headers the handler set on its miss, those `sends` keeps (a 304 carries only some), over
   * what the response has: the same header set before the handler (a middleware's) was replaced by it on the miss too.
   */
  private replay(response: unknown, headers: StoredHeaders, sends: (name: string) => boolean): void {
    const adapter = this.adapterHost.httpAdapter;
    for (const name of Object.keys(headers)) {
      if (!sends(name)) continue;
      const value = headers[name]!;
      // An array the memory tier holds is frozen and shared by every hit: each response gets its own.
      adapter.setHeader(response, name, (typeof value === 'string' ? value : [...value]) as string);
    }
  }

  /** Sets the answer's ETag; true when the request's If-None-Match names it, and the answer is then a bodiless 304. */
  private notModified(request: CacheableRequest, response: unknown, etag: string): boolean {
    const adapter = this.adapterHost.httpAdapter;
    adapter.setHeader(response, 'ETag', etag);
    if (!ifNoneMatchHolds(request.headers['if-none-match'], etag) || !answersNotModified(adapter, request.headers['cache-control']))
      return false;
    markNotModified(request, adapter);
    return true;
  }

  private sendsTextFor(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let sends = this.sendsText.get(handler);
    if (sends === undefined) {
      sends =
        this.moduleRef !== undefined &&
        onlyOwnInterceptors(this.moduleRef, context.getClass(), handler, (interceptor) => isThisInterceptor(interceptor));
      this.sendsText.set(handler, sends);
    }
    return sends;
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
      return answerInMemory(this.cacheNamed(plan.cacheName), base, options, headers);
    } catch {
      return undefined;
    }
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
