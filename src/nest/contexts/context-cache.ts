import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { concatMap, defer, type Observable } from 'rxjs';
import type { DynamoCache } from '../../cache/dynamo-cache.js';
import { type BurstWarning, describe } from '../burst-warning.js';
import { evictEntries } from '../cache-calls.js';
import { resolverCalls } from '../graphql/resolver-calls.js';
import { variantKey } from '../http/route-keys.js';
import type { CacheableOptions, CacheEvictOptions } from '../interfaces/cacheable-options.js';
import { cachedAsync } from '../methods/cached-method.js';
import { messageCalls } from '../rpc/message-calls.js';
import type { CallKey, ContextCalls } from './context-calls.js';
import { type HandlerPlan, handlerPlan } from './handler-plan.js';

/** The contexts cached besides HTTP, by `context.getType()`; any other (`ws`) runs its handler, warned of at start-up. */
const CONTEXTS: Readonly<Record<string, ContextCalls>> = { graphql: resolverCalls, rpc: messageCalls };

/**
 * `@Cacheable()` and `@CacheEvict()` on GraphQL resolvers and message handlers, which Nest calls
 * through its interceptors (never through the provider's own method, which the explorer wraps):
 * DynamoCacheInterceptor hands it every call that is not HTTP. A call is get-or-set under its key,
 * its value stored by the rule provider methods follow (ttl, tags, its own error never cached); a
 * cache that fails never fails the call.
 */
export class ContextCache {
  private readonly plans = new WeakMap<object, HandlerPlan | null>();
  // The arguments of calls being handled: this interceptor applied twice (globally too) acts once.
  private readonly handled = new WeakSet<object>();

  constructor(
    private readonly cacheNamed: (name: string | undefined) => DynamoCache,
    private readonly warning: BurstWarning,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const calls = CONTEXTS[context.getType<string>()];
    if (calls === undefined) return next.handle();
    const plan = this.planFor(context);
    const args = context.getArgs();
    if (plan === null || this.handled.has(args)) return next.handle();
    this.handled.add(args);
    const { evict, cacheable } = plan;
    if (evict !== undefined) return next.handle().pipe(concatMap((value) => this.evictAfter(plan, evict, args, value)));
    if (cacheable === undefined || this.skips(plan, cacheable, context)) return next.handle();
    const key = calls.keyOf(cacheable, context);
    if (key.bypass !== undefined) {
      if (key.warn === 'once') this.warning.warnOnce(plan.where, key.bypass);
      else if (key.warn === 'per burst') this.warning.warn(plan.where, `answered without the cache, ${key.bypass}`);
      return next.handle();
    }
    return defer(() => this.answer(calls, plan, cacheable, key, args, next)).pipe(concatMap((value) => calls.answer(value)));
  }

  private async answer(
    calls: ContextCalls,
    plan: HandlerPlan,
    options: CacheableOptions,
    { key, headers }: Extract<CallKey, { key: unknown }>,
    args: unknown[],
    next: CallHandler,
  ): Promise<unknown> {
    const run = () => calls.run(next);
    let cache: DynamoCache;
    let resolvedKey: string;
    try {
      cache = this.cacheNamed(plan.cacheName);
      const base = await key;
      resolvedKey = options.vary !== undefined && options.vary.length > 0 ? await variantKey(cache, base, options, headers) : base;
    } catch (error) {
      this.warning.warn(plan.where, `answered without the cache, its key could not be made: ${describe(error)}`);
      return run();
    }
    const site = { where: plan.where, cache, warning: this.warning, unstorable: calls.unstorable };
    // Key, ttl and tags functions get the handler's arguments as Nest has them: (parent, args, context, info), (data, context).
    return cachedAsync(run, undefined, args, resolvedKey, options, plan.getOrSet ?? {}, site);
  }

  /** A skipIf that throws skips the cache for that call, with a warning: it never fails the call. */
  private skips(plan: HandlerPlan, { skipIf }: CacheableOptions, context: ExecutionContext): boolean {
    if (skipIf === undefined) return false;
    try {
      return skipIf(context) === true;
    } catch (error) {
      this.warning.warn(plan.where, `answered without the cache, its skipIf threw: ${describe(error)}`);
      return true;
    }
  }

  private async evictAfter(plan: HandlerPlan, evict: CacheEvictOptions, args: unknown[], value: unknown): Promise<unknown> {
    try {
      await evictEntries(this.cacheNamed(plan.cacheName), evict, undefined, args);
    } catch (error) {
      this.warning.warn(plan.where, `@CacheEvict failed, the entries may stay until they expire: ${describe(error)}`);
    }
    return value;
  }

  private planFor(context: ExecutionContext): HandlerPlan | null {
    const handler = context.getHandler();
    let plan = this.plans.get(handler);
    if (plan === undefined) {
      plan = handlerPlan(context.getClass(), handler);
      this.plans.set(handler, plan);
    }
    return plan;
  }
}
