import type { HttpAdapterHost } from '@nestjs/core';
import type { CacheableRequest } from '../interfaces/cacheable-options.js';
import { bodyForHit, type CachedResponse, entityTagOfStored, jsonOfFrozen } from './cached-response.js';
import { ifNoneMatchHolds } from './entity-tag.js';
import { removeUnlessNotModified, sentWithNotModified, type StoredHeaders } from './handler-headers.js';
import { answersNotModified, markNotModified } from './not-modified.js';
import type { DescribedAnswer } from './route-answer.js';

// Plain JSON the memory tier froze (it freezes nothing else); a Buffer, a Map or a Date keeps its own way out.
const isFrozenJson = (body: unknown): body is object =>
  body !== null &&
  typeof body === 'object' &&
  Object.isFrozen(body) &&
  (Array.isArray(body) || Object.getPrototypeOf(body) === Object.prototype);

/** How a response was answered, in the X-Cache header. */
export type XCache = 'HIT' | 'MISS' | 'STALE' | 'BYPASS';

/**
 * Writes a route's answer onto the response: a stored one (its status, headers, Age, ETag and a 304
 * when the client holds it) or the handler's own on a miss, each marked with X-Cache.
 */
export class AnswerWriter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /**
   * `shared`: other requests (that joined one load) hold the same answer object. `sendsText`: no
   * interceptor outside this one, so a body the memory tier holds goes out as its JSON text.
   */
  serveStored(
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
  answerFresh(request: CacheableRequest, response: unknown, answer: DescribedAnswer, value: unknown): unknown {
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
  replay(response: unknown, headers: StoredHeaders, sends: (name: string) => boolean): void {
    const adapter = this.adapterHost.httpAdapter;
    for (const name of Object.keys(headers)) {
      if (!sends(name)) continue;
      const value = headers[name]!;
      // An array the memory tier holds is frozen and shared by every hit: each response gets its own.
      adapter.setHeader(response, name, (typeof value === 'string' ? value : [...value]) as string);
    }
  }

  /** Sets the answer's ETag; true when the request's If-None-Match names it, and the answer is then a bodiless 304. */
  notModified(request: CacheableRequest, response: unknown, etag: string): boolean {
    const adapter = this.adapterHost.httpAdapter;
    adapter.setHeader(response, 'ETag', etag);
    if (!ifNoneMatchHolds(request.headers['if-none-match'], etag) || !answersNotModified(adapter, request.headers['cache-control']))
      return false;
    markNotModified(request, adapter);
    return true;
  }

  mark<T>(response: unknown, state: XCache, value: T): T {
    this.adapterHost.httpAdapter.setHeader(response, 'X-Cache', state);
    return value;
  }
}
