import type { HttpAdapterHost } from '@nestjs/core';
import type { FactoryContext } from '../../cache/factory-run.js';
import { type BurstWarning, describe } from '../burst-warning.js';
import { CallerFailure, tagsFor } from '../cache-calls.js';
import { entryTtl } from '../entry-ttl.js';
import type { CacheableOptions, CacheableRequest } from '../interfaces/cacheable-options.js';
import { type CachedResponse, bodyForHit, unstorableReason } from './cached-response.js';
import { entityTagOf } from './entity-tag.js';
import { cookiesSetBy, type HeaderSnapshot, headersSetSince } from './handler-headers.js';
import type { RoutePlan } from './route-plan.js';

/** A handler's answer as the cache would store it, and why it must not be, if it must not. */
export type DescribedAnswer = CachedResponse & { readonly reason?: string };

/** One request of a cached route: what the answer policy reads of it. */
export interface RouteRequest {
  readonly plan: RoutePlan;
  readonly options: CacheableOptions;
  readonly request: CacheableRequest;
  readonly response: unknown;
  /**
   * The response's headers as the cache found them, before it or the handler set any (only the route's
   * Vary is set by then, `varying`): what the handler sets on a miss is what differs from them.
   */
  readonly headersBefore: HeaderSnapshot;
}

/**
 * Whether a handler's answer may be stored, and as what: its status, headers and body judged
 * (`unstorableReason`), with the expiry it records for itself (the route's ttl, else the cache's).
 * A route that seems cached by mistake, or whose ttl function fails, is warned of.
 */
export class AnswerPolicy {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly warning: BurstWarning,
  ) {}

  describe({ plan, options, response, headersBefore }: RouteRequest, body: unknown, defaultTtlMs: number | undefined): DescribedAnswer {
    const adapter = this.adapterHost.httpAdapter;
    const status = (response as { statusCode: number }).statusCode;
    const header = (name: string) => adapter.getHeader(response, name);
    const unstorable = unstorableReason(body, status, plan.statuses, (name) =>
      name === 'set-cookie' ? cookiesSetBy(response, header(name)) : header(name),
    );
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
        ttl = routeTtl.ttl ?? defaultTtlMs ?? 0;
      }
    }
    const storedAt = Date.now();
    const contentType = adapter.getHeader(response, 'content-type') as string | undefined;
    // The handler's own validator (@Header('ETag'), res.setHeader, reply.header) is the answer's: it
    // goes out on the miss, is stored for the hits, and is what If-None-Match is matched against.
    const ownTag = adapter.getHeader(response, 'etag');
    const headers = reason === undefined ? headersSetSince(headersBefore, response) : undefined;
    return {
      status,
      // What the cache keeps and hands to requests that joined this load is a copy taken now: this
      // request's own interceptors get the handler's object, and may edit it before the others copy theirs.
      body: reason === undefined ? snapshotOf(body) : body,
      storedAt,
      ...(contentType && { contentType }),
      ...(ttl > 0 && { expiresAt: storedAt + ttl }),
      ...(reason ? { reason } : { etag: typeof ownTag === 'string' && ownTag !== '' ? ownTag : entityTagOf(status, contentType, body) }),
      ...(headers && { headers }),
    };
  }
}

/**
 * The route's handler run on a miss: its value goes to this request whatever the cache does with it,
 * and the answer it makes (described by the policy, with the tags a tags function gives it) to the cache.
 */
export class HandlerRun {
  private produced?: { readonly value: unknown };
  private producedTags?: readonly string[];

  constructor(
    private readonly route: RouteRequest,
    private readonly handle: () => Promise<unknown>,
    private readonly describeAnswer: (body: unknown) => DescribedAnswer,
    private readonly warning: BurstWarning,
  ) {}

  get ran(): boolean {
    return this.produced !== undefined;
  }

  /** The handler's value, once it ran. */
  get value(): unknown {
    return this.produced?.value;
  }

  /** The tags the answer is stored with: the route's, and what its tags function made. */
  get tags(): readonly string[] {
    return [...(this.route.plan.getOrSet?.tags ?? []), ...(this.producedTags ?? [])];
  }

  /** Runs the handler; its own failure reaches the caller as a CallerFailure, never taken for the cache's. */
  async produce(): Promise<DescribedAnswer> {
    const { plan, options, request } = this.route;
    let value: unknown;
    try {
      value = await this.handle();
    } catch (error) {
      throw new CallerFailure(plan.where, error);
    }
    this.produced = { value };
    const answer = this.describeAnswer(value);
    if (answer.reason !== undefined || typeof options.tags !== 'function') return answer;
    try {
      this.producedTags = tagsFor(options.tags, undefined, [request, value]);
      return answer;
    } catch (error) {
      this.warning.warn(plan.where, `its answer is served and not cached: ${describe(error)}.`);
      return { ...answer, reason: describe(error) };
    }
  }

  /** `produce` as get-or-set's factory: an answer that must not be stored is skipped; one that may, with its own ttl and tags. */
  async asFactory(context: FactoryContext<CachedResponse>): Promise<CachedResponse> {
    const answer = await this.produce();
    if (answer.reason !== undefined) context.skip();
    else context.setTtl(answer.expiresAt === undefined ? 0 : answer.expiresAt - answer.storedAt);
    const made = this.producedTags;
    if (made !== undefined && made.length > 0) context.addTags(...made);
    return answer;
  }
}

/** A copy of a body the cache stores, or the body itself when it cannot be copied (the store then refuses it, naming why). */
function snapshotOf(body: unknown): unknown {
  try {
    return bodyForHit(body, true);
  } catch {
    return body;
  }
}
