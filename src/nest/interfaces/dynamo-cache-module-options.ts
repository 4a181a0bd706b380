import type { BackplaneOptions } from '../../backplane/backplane-options.js';
import type { DynamoCacheOptions } from '../../cache/cache-options.js';
import type { DynamoSessionOptions } from '../../session/dynamo-session-store.js';
import type { DynamoStoreOptions } from '../../store/store-options.js';
import type { OpenTelemetryOptions } from '../../observability/open-telemetry.js';

interface ModuleOptions extends Omit<DynamoStoreOptions, 'tableName'>, DynamoCacheOptions {
  /**
   * The session store of express-session and Fastify (`DynamoSessionStore`), its sessions kept under
   * the `session:` prefix of the same table: `{ idleTimeout, absoluteTimeout, readFailure }`. With it,
   * the `session` cache is registered at start-up.
   */
  session?: DynamoSessionOptions;
  /**
   * Keeps every instance's memory tier coherent with the others' writes: `{ type: 'streams', … }` or
   * `{ type: 'poll', … }`.
   */
  backplane?: BackplaneOptions;
  /**
   * Metrics and traces through OpenTelemetry (`@opentelemetry/api`, loaded only then): `true`, or
   * `{ metrics, traces, recordKeys, meterProvider, tracerProvider }`.
   * @defaultValue off
   */
  openTelemetry?: boolean | OpenTelemetryOptions;
}

/** A module on a DynamoDB table (the default). */
export interface DistributedModuleOptions extends ModuleOptions {
  /** The DynamoDB table that holds the cache. */
  tableName: string;
}

/** A memory-only module (`distributed: false`): no table needed, and DynamoDB's options are not used. */
export interface MemoryOnlyModuleOptions extends ModuleOptions {
  /** Names the caches in errors, logs and `cacheId()` only: no table is read or written. */
  tableName?: string;
  /** `false`: every cache of the module is memory-only, with no DynamoDB client, table or backplane. */
  distributed: false;
}

/**
 * `DynamoCacheModule.forRoot()` options: the store's (table, client, key prefix, default ttl…), the
 * cache's (memory tier, failure policy, get-or-set defaults) and the module's own (sessions,
 * backplane, OpenTelemetry). They are checked when the module is declared (when the factory
 * resolves, for `forRootAsync`), and a wrong one throws an `InvalidOptionError` naming it. Warnings
 * go through Nest's Logger unless `logger` says otherwise. Every option and its default: the
 * options reference (docs/reference/options.md).
 *
 * @example
 * ```ts
 * DynamoCacheModule.forRoot({
 *   tableName: 'app_cache',
 *   isGlobal: true,
 *   ttl: 60_000,
 *   memory: { maxTtl: 2_000 },
 *   backplane: { type: 'streams' },
 * });
 * ```
 */
export type DynamoCacheModuleOptions = DistributedModuleOptions | MemoryOnlyModuleOptions;
