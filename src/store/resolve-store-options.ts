import { InvalidOptionError } from './errors.js';
import { isBoolean, isDuration, isName, isPositiveDuration, optional } from './option-checks.js';
import {
  resolveCompression,
  resolveConnection,
  resolveLogger,
  resolveMaxValueBytes,
  resolvePartitionKeyPrefix,
  resolveSerializer,
  resolveSlidingRenewThreshold,
  resolveSortKey,
  resolveTtl,
} from './store-option-parts.js';
import { type DynamoStoreOptions, type ResolvedStoreOptions, STORE_DEFAULTS, type StoreOverrides } from './store-options.js';
import type { WarningLogger } from './table-schema.js';

// The store's options resolved, once, from what a user wrote (store-options.ts declares them).

const consoleLogger: WarningLogger = { warn: (message) => console.warn(`[nest-dynamo-cache] ${message}`) };

// DynamoDB's table name rule: 3 to 255 of these characters.
const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/;

// Only the resolver adds to it: an object in it needs no second resolution.
const resolvedOptions = new WeakSet<object>();

/** Whether `options` came out of `resolveStoreOptions` (or a layering on it), and so is checked and complete. */
export function isResolvedStoreOptions(options: unknown): options is ResolvedStoreOptions {
  return typeof options === 'object' && options !== null && resolvedOptions.has(options);
}

/** Checks every option once, when the module or store is built, so that a mistake fails start-up and names its option. */
export function resolveStoreOptions(options: DynamoStoreOptions): ResolvedStoreOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('options', 'must be an object with at least a tableName.');
  }
  const raw = options as unknown as Record<string, unknown>;
  if (typeof raw.tableName !== 'string' || !TABLE_NAME.test(raw.tableName)) {
    throw new InvalidOptionError(
      'tableName',
      `must be a DynamoDB table name (3 to 255 letters, digits, "_", "-" or "."), got ${JSON.stringify(raw.tableName) ?? String(raw.tableName)}.`,
    );
  }
  const connection = resolveConnection(options);
  const threshold = resolveSlidingRenewThreshold(raw);
  const batchRetryTimeout = optional<number>(raw, 'batchRetryTimeout', isDuration, 'a duration in ms >= 0');
  const partitionKeyPrefix = resolvePartitionKeyPrefix(raw) ?? STORE_DEFAULTS.partitionKeyPrefix;
  const partitionKeyName = optional<string>(raw, 'partitionKeyName', isName, 'a non-empty attribute name');
  const ttlAttributeName = optional<string>(raw, 'ttlAttributeName', isName, 'a non-empty attribute name');
  const flag = (name: keyof typeof STORE_DEFAULTS & keyof DynamoStoreOptions) =>
    optional<boolean>(raw, name, isBoolean, 'true or false') ?? (STORE_DEFAULTS[name] as boolean);
  return settled({
    tableName: raw.tableName,
    connection,
    createTableIfNotExists: flag('createTableIfNotExists'),
    consistentReads: flag('consistentReads'),
    partitionKeyName,
    ttlAttributeName,
    sortKey: resolveSortKey(raw, partitionKeyName, ttlAttributeName, STORE_DEFAULTS.sortKeyValue),
    partitionKeyPrefix,
    ttl: resolveTtl(raw),
    slidingRenewThreshold: threshold ?? STORE_DEFAULTS.slidingRenewThreshold,
    batchRetry: Object.freeze({
      maxDurationMs: batchRetryTimeout ?? STORE_DEFAULTS.batchRetryTimeout,
      baseDelayMs: 25,
      maxDelayMs: 1_000,
    }),
    tableReadyTimeoutMs:
      optional<number>(raw, 'tableReadyTimeout', isDuration, 'a duration in ms >= 0') ?? STORE_DEFAULTS.tableReadyTimeout,
    operationTimeoutMs:
      optional<number>(raw, 'operationTimeout', isPositiveDuration, 'a duration in ms > 0') ?? STORE_DEFAULTS.operationTimeout,
    logger: resolveLogger(raw) ?? consoleLogger,
    compression: resolveCompression(raw.compression, STORE_DEFAULTS.compression),
    maxValueBytes: resolveMaxValueBytes(raw) ?? STORE_DEFAULTS.maxValueBytes,
    serializer: resolveSerializer(raw),
    returnConsumedCapacity: flag('returnConsumedCapacity'),
    startupCheck:
      optional<'fail' | 'warn'>(raw, 'startupCheck', (value) => value === 'fail' || value === 'warn', '"fail" or "warn"') ??
      STORE_DEFAULTS.startupCheck,
    tableStream: flag('tableStream'),
  });
}

/**
 * A store's resolved options with a few of its own layered on (bentocache's `cloneWith`): only the
 * options given are checked, the rest are `base`'s as they were resolved.
 */
export function withStoreOverrides(base: ResolvedStoreOptions, overrides: StoreOverrides): ResolvedStoreOptions {
  const raw = overrides as Record<string, unknown>;
  const given = (name: keyof StoreOverrides) => raw[name] !== undefined;
  return settled({
    ...base,
    ...(given('client') && { connection: resolveConnection({ tableName: base.tableName, client: overrides.client }) }),
    ...(given('partitionKeyPrefix') && { partitionKeyPrefix: resolvePartitionKeyPrefix(raw)! }),
    ...(given('ttl') && { ttl: resolveTtl(raw) }),
    ...(given('compression') && { compression: resolveCompression(raw.compression, STORE_DEFAULTS.compression) }),
    ...(given('maxValueBytes') && { maxValueBytes: resolveMaxValueBytes(raw)! }),
    ...(given('serializer') && { serializer: resolveSerializer(raw) }),
    ...(given('slidingRenewThreshold') && { slidingRenewThreshold: resolveSlidingRenewThreshold(raw)! }),
    ...(given('logger') && { logger: resolveLogger(raw)! }),
    ...(given('returnConsumedCapacity') && {
      returnConsumedCapacity: optional<boolean>(raw, 'returnConsumedCapacity', isBoolean, 'true or false')!,
    }),
  });
}

function settled(resolved: ResolvedStoreOptions): ResolvedStoreOptions {
  resolvedOptions.add(Object.freeze(resolved));
  return resolved;
}
