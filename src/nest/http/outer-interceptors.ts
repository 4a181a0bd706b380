import { INTERCEPTORS_METADATA } from '@nestjs/common/constants.js';
import type { ApplicationConfig, ModuleRef } from '@nestjs/core';

/**
 * Whether every interceptor that runs around a route is the cache's own (`isOurs`), global ones
 * included: only then may a hit hand Nest the body's JSON text instead of an object, since no
 * interceptor outside could expect to read or edit an object (one wrapping the body in an envelope
 * would wrap a string). Read from Nest's container, which holds the global interceptors; a Nest
 * that does not expose it is answered "no", the copying path that is always right.
 */
export function onlyOwnInterceptors(
  moduleRef: ModuleRef,
  // Nest's ExecutionContext hands out the controller and handler as `Function`.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  controller: Function,
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  handler: Function,
  isOurs: (interceptor: unknown) => boolean,
): boolean {
  const config = (moduleRef as unknown as { container?: { applicationConfig?: ApplicationConfig } }).container?.applicationConfig;
  if (typeof config?.getGlobalInterceptors !== 'function' || typeof config.getGlobalRequestInterceptors !== 'function') return false;
  // Request-scoped global interceptors (APP_INTERCEPTOR with a scope) are built per request: never ours.
  if (config.getGlobalRequestInterceptors().length > 0) return false;
  const listed = [
    ...config.getGlobalInterceptors(),
    ...((Reflect.getMetadata(INTERCEPTORS_METADATA, controller) ?? []) as unknown[]),
    ...((Reflect.getMetadata(INTERCEPTORS_METADATA, handler) ?? []) as unknown[]),
  ];
  return listed.every(isOurs);
}
