import { Logger } from '@nestjs/common';
import { type ResolvedBackplaneOptions, resolveBackplaneOptions } from '../backplane/backplane-options.js';
import type { ResolvedCacheOptions } from '../cache/cache-options.js';
import { resolveRootOptions } from '../cache/cache-registry.js';
import { InvalidOptionError } from '../store/errors.js';
import type { DynamoSessionOptions } from '../session/dynamo-session-store.js';
import type { ResolvedStoreOptions } from '../store/store-options.js';
import type { DynamoCacheModuleOptions } from './interfaces/dynamo-cache-module-options.js';
import { type OpenTelemetryOptions, resolveOpenTelemetryOptions } from '../observability/telemetry-options.js';

/** The module's options, resolved once per app: what the registry, the lifecycle and the session store are built from. */
export interface DynamoCacheModuleConfig {
  /** What every cache of the module is built from, with the module's own defaults applied. */
  readonly store: ResolvedStoreOptions;
  /** The default cache's; a named cache's are its own laid on these. */
  readonly cache: ResolvedCacheOptions;
  readonly backplane?: ResolvedBackplaneOptions;
  readonly session?: DynamoSessionOptions;
  /** Undefined when telemetry is off (the default): then `@opentelemetry/api` is never loaded. */
  readonly openTelemetry?: OpenTelemetryOptions;
}

export const DYNAMO_CACHE_CONFIG = Symbol('nest-dynamo-cache:config');

/**
 * Checks every option (a mistake names its option) and applies the module's defaults, for forRoot and
 * forRootAsync alike: the one resolution of the module's options, which every cache is built from.
 */
export function resolveModuleConfig(options: DynamoCacheModuleOptions): DynamoCacheModuleConfig {
  const { store, cache } = resolveRootOptions({
    ...options,
    logger: options?.logger ?? new Logger('DynamoCache'),
    // A table the module creates gets the stream its backplane reads.
    tableStream: options?.tableStream ?? options?.backplane?.type === 'streams',
  });
  if (!cache.distributed && options.session !== undefined) {
    throw new InvalidOptionError(
      'session',
      "needs the DynamoDB table, and the module is memory-only (distributed: false). In an app's own tests, use express-session's MemoryStore.",
    );
  }
  return {
    store,
    cache,
    backplane: resolveBackplaneOptions(options.backplane),
    session: options.session,
    openTelemetry: resolveOpenTelemetryOptions(options.openTelemetry),
  };
}
