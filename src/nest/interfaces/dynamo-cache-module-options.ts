import type { BackplaneOptions } from '../../backplane/backplane-options.js';
import type { DynamoCacheOptions } from '../../cache/cache-options.js';
import type { DynamoSessionOptions } from '../../session/dynamo-session-store.js';
import type { DynamoStoreOptions } from '../../store/store-options.js';
import type { OpenTelemetryOptions } from '../../observability/open-telemetry.js';

interface ModuleOptions extends Omit<DynamoStoreOptions, 'tableName'>, DynamoCacheOptions {
  /** The express-session store (`DynamoSessionStore`), kept under the `session:` prefix of the same table. */
  session?: DynamoSessionOptions;
  /** Keeps every instance's memory tier coherent: `{ type: 'streams' }` or `{ type: 'poll' }` (see the README). */
  backplane?: BackplaneOptions;
  /**
   * Metrics and traces through OpenTelemetry (`@opentelemetry/api`, loaded only then): `true`, or
   * `{ metrics, traces, recordKeys, meterProvider, tracerProvider }`. Off by default.
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
  tableName?: string;
  distributed: false;
}

/**
 * `DynamoCacheModule.forRoot()` options: the store's (table, client, key prefix, default ttl…) and
 * the cache's (error policy). Warnings go through Nest's Logger unless `logger` says otherwise.
 */
export type DynamoCacheModuleOptions = DistributedModuleOptions | MemoryOnlyModuleOptions;
