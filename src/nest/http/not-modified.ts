import type { AbstractHttpAdapter } from '@nestjs/core';

/** Fastify requests (raw) answered `304 Not Modified`: the onSend hook below turns their reply into one. */
const notModifiedRequests = new WeakSet<object>();
const hookedInstances = new WeakSet<object>();

interface FastifyLike {
  addHook(
    name: 'onSend',
    hook: (request: { raw: object }, reply: { code(status: number): unknown }, payload: unknown) => Promise<unknown>,
  ): unknown;
}

/**
 * Nest replies with the route's status whatever an interceptor set, so a 304 cannot be set from one.
 * Express turns a response into a bodiless 304 by itself when its ETag matches the request (`req.fresh`);
 * Fastify gets a hook, added at start-up, before it is ready.
 */
export function installNotModifiedHook(adapter: AbstractHttpAdapter | undefined): void {
  if (adapter?.getType() !== 'fastify') return;
  const instance = adapter.getInstance<FastifyLike>();
  if (hookedInstances.has(instance)) return;
  hookedInstances.add(instance);
  instance.addHook('onSend', async (request, reply, payload) => {
    if (!notModifiedRequests.has(request.raw)) return payload;
    reply.code(304);
    return '';
  });
}

/**
 * Whether a matching If-None-Match can be answered 304 on this platform. Express's check
 * (`req.fresh`) is false for a request that says `Cache-Control: no-cache`: there the answer goes
 * out whole, or the client would get an empty 200.
 */
export function answersNotModified(adapter: AbstractHttpAdapter, cacheControl: string | string[] | undefined): boolean {
  const type = adapter.getType();
  if (type === 'express') return !/\bno-cache\b/i.test(String(cacheControl ?? ''));
  return type === 'fastify' && hookedInstances.has(adapter.getInstance());
}

/** The answer goes out as a bodiless 304 (the caller returns no body). */
export function markNotModified(request: object, adapter: AbstractHttpAdapter): void {
  if (adapter.getType() === 'fastify') notModifiedRequests.add((request as { raw?: object }).raw ?? request);
}
