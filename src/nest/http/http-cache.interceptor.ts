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
import { asksForFreshAnswer, type CachedResponse } from './cached-response.js';
import { headerSnapshot } from './handler-headers.js';
import { onlyOwnInterceptors } from './outer-interceptors.js';
import { personalRequestReason } from './http-cache-key.js';
import type { CacheableOptions, CacheableRequest, CacheEvictOptions } from '../interfaces/cacheable-options.js';
import { AnswerPolicy, type DescribedAnswer, HandlerRun } from './route-answer.js';
import { answerInMemory, routeKeyOf, variantKey } from './route-keys.js';
import { type RoutePlan, routePlan } from './route-plan.js';
import { mergedVary } from './vary.js';
import { AnswerWriter } from './answer-writer.js';

const isThisInterceptor = (interceptor: unknown) => interceptor === DynamoCacheInterceptor || interceptor instanceof DynamoCacheInterceptor;

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
  private readonly answers: AnswerWriter;
  // GraphQL resolvers and message handlers: their own keys and answers, the same get-or-set.
  private readonly contexts = new ContextCache((name) => this.cacheNamed(name), this.warning);

  constructor(
    @Optional() @Inject(DynamoCacheRegistry) private readonly registry: DynamoCacheRegistry | undefined,
    private readonly adapterHost: HttpAdapterHost,
    @Optional() private readonly moduleRef?: ModuleRef,
  ) {
    this.policy = new AnswerPolicy(adapterHost, this.warning);
    this.answers = new AnswerWriter(adapterHost);
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
    if (personalRequestReason(request.headers, options) !== undefined) return this.answers.mark(response, 'BYPASS', handler.handle());
    if (options.skipIf !== undefined && this.skips(plan, options.skipIf, context))
      return this.answers.mark(response, 'BYPASS', handler.handle());
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
        return of(this.answers.serveStored(request, response, remembered, { shared: false, sendsText }));
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
        return this.answers.answerFresh(request, response, fresh, run.value);
      }
      const entry = await cache.getOrSet<CachedResponse>(key, (context) => run.asFactory(context), plan.getOrSet);
      if (run.ran) return this.answers.answerFresh(request, response, entry as DescribedAnswer, run.value);
      // Another request of this process ran the handler, and its answer was its own (a cookie, say): run ours.
      if ((entry as DescribedAnswer).reason !== undefined) return this.answers.mark(response, 'MISS', runHandler());
      return this.answers.serveStored(request, response, entry, { shared: true, sendsText: false });
    } catch (error) {
      if (error instanceof CallerFailure) throw error.error;
      if (error instanceof FactoryTimeoutError)
        throw new GatewayTimeoutException(`${plan.where} did not answer within its hardTimeout`, { cause: error });
      this.warning.warn(plan.where, `answered without the cache, which failed: ${describe(error)}`);
      return this.answers.mark(response, 'MISS', run.ran ? run.value : runHandler());
    }
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
    return this.answers.mark(response, 'BYPASS', next.handle());
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
