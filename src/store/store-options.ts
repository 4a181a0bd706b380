import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { type CompressionAlgorithm, type CompressionPolicy, DEFAULT_COMPRESSION } from './compression.js';
import { CHUNK_PAYLOAD_BYTES, MAX_CHUNKS } from './chunks.js';
import { type DynamoDBClientLike, clientProblem } from './dynamodb-client.js';
import { InvalidOptionError } from './errors.js';
import { isBoolean, isDuration, isName, isPositiveDuration, optional } from './option-checks.js';
import { ITEM_ATTRIBUTES, isReservedAttributeName } from './item-codec.js';
import type { ValueSerializer } from './value-serializer.js';
import type { RetryPolicy } from './retry.js';
import type { WarningLogger } from './table-schema.js';

// Kept for the session store and the decorators, which take their checks from here.
export { isBoolean, isDuration, isPositiveDuration, optional } from './option-checks.js';

export interface DynamoStoreOptions {
  /** The DynamoDB table that holds the cache. Required. */
  tableName: string;
  /**
   * A client the application owns, a `DynamoDBClient` or a `DynamoDBDocumentClient` (@aws-sdk/lib-dynamodb);
   * the store never destroys it. Leave out to let the store build its own.
   */
  client?: DynamoDBClientLike;
  /** For the store's own client (when `client` is not given). */
  region?: string;
  /** For the store's own client, e.g. `http://localhost:8000` for DynamoDB Local. */
  endpoint?: string;
  /** For the store's own client; the SDK's default chain when left out. */
  credentials?: DynamoDBClientConfig['credentials'];
  /** Create the table (on-demand, TTL enabled) when it does not exist. Default false. */
  createTableIfNotExists?: boolean;
  /** Strongly consistent reads (twice the read cost of eventually consistent ones). Default true. */
  consistentReads?: boolean;
  /** The table's partition key; found with DescribeTable when left out. */
  partitionKeyName?: string;
  /** The table's TTL attribute; found with DescribeTimeToLive when left out. */
  ttlAttributeName?: string;
  /**
   * The table's sort key (a string), for a table of a single-table design; absent for a table with
   * a partition key only. Never discovered: a table with a sort key that the options do not name fails start-up.
   */
  sortKeyName?: string;
  /**
   * What every cache item holds in the sort key (`sortKeyName`), and what tells the cache's items from
   * the table's other items under the same partition key. Default `'dc'`.
   */
  sortKeyValue?: string;
  /** Put before every key, so that the cache's items can be told apart in a shared table. Default `dc:`. */
  partitionKeyPrefix?: string;
  /** Default time to live of an entry in ms. 0 or absent: entries never expire. */
  ttl?: number;
  /** A sliding entry is renewed on read once renewing would gain this part of its window. Default 0.1. */
  slidingRenewThreshold?: number;
  /** How long a batch may retry what DynamoDB left unprocessed, in ms. Default 10,000. */
  batchRetryTimeout?: number;
  /** How long one DynamoDB call may take before it is abandoned, in ms. Default 2,000. */
  operationTimeout?: number;
  /** How long to wait for a created table to become ACTIVE, in ms. Default 60,000. */
  tableReadyTimeout?: number;
  /** Where warnings go (a foreign item, TTL disabled). Default: console.warn. */
  logger?: WarningLogger;
  /**
   * Compress stored values of at least `threshold` bytes (default 1024) with brotli (default) or
   * deflate. `level` is brotli's quality or deflate's level (default 1: see `DEFAULT_COMPRESSION`). `false` stores every value as it is. Items record how they were written, so
   * changing this never makes an existing item unreadable.
   */
  compression?: false | { algorithm?: CompressionAlgorithm; threshold?: number; level?: number };
  /**
   * The largest serialized value accepted, in bytes (before compression). Values whose item would
   * pass DynamoDB's 400 KB are split into chunk items. Default 4 MiB; at most 38 MiB.
   */
  maxValueBytes?: number;
  /** Serializes values in place of the built-in JSON (e.g. msgpackr). See `ValueSerializer`. */
  serializer?: ValueSerializer;
  /**
   * When DynamoDB cannot be reached at start-up: `'fail'` (default) fails the app's start with a
   * CacheStartupError, within `operationTimeout` per call; `'warn'` logs it and starts, the cache
   * answering misses (handlers answer) until DynamoDB is reachable. A table that answers but is
   * wrong always fails start-up.
   */
  startupCheck?: 'fail' | 'warn';
  /** With `createTableIfNotExists`: create the table with a KEYS_ONLY stream. The streams backplane sets it. */
  tableStream?: boolean;
  /**
   * Ask DynamoDB for the capacity each call consumed, and count it (see `DynamoStore.capacity`,
   * `DynamoCache.stats()`). Default false: with it on, DynamoDB Local answered a write 0.1 to 0.4 ms
   * later (`npm run bench`, the `returnConsumedCapacity: true` rows).
   */
  returnConsumedCapacity?: boolean;
}

export interface ResolvedStoreOptions {
  readonly tableName: string;
  readonly createTableIfNotExists: boolean;
  readonly consistentReads: boolean;
  readonly partitionKeyName?: string;
  readonly ttlAttributeName?: string;
  readonly sortKey?: { readonly name: string; readonly value: string };
  readonly partitionKeyPrefix: string;
  readonly ttl?: number;
  readonly slidingRenewThreshold: number;
  readonly batchRetry: RetryPolicy;
  readonly tableReadyTimeoutMs: number;
  readonly operationTimeoutMs: number;
  readonly logger: WarningLogger;
  readonly compression?: CompressionPolicy;
  readonly maxValueBytes: number;
  readonly serializer?: ValueSerializer;
  readonly returnConsumedCapacity: boolean;
  readonly startupCheck: 'fail' | 'warn';
  readonly tableStream: boolean;
}

export const DEFAULT_MAX_VALUE_BYTES = 4 * 1024 * 1024;
/**
 * The sort key value of the cache's items when `sortKeyValue` is left out: short (it is billed with
 * every item), and the default key prefix's own letters, so that an item reads as the cache's.
 */
export const DEFAULT_SORT_KEY_VALUE = 'dc';
/** DynamoDB's limit on a sort key value, in UTF-8 bytes. */
const SORT_KEY_LIMIT_BYTES = 1024;
/** What one BatchGetItem can name: 100 chunks. */
export const MAX_VALUE_BYTES_LIMIT = MAX_CHUNKS * CHUNK_PAYLOAD_BYTES;

const consoleLogger: WarningLogger = { warn: (message) => console.warn(`[nest-dynamo-cache] ${message}`) };

// DynamoDB's table name rule: 3 to 255 of these characters.
const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/;

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
  const problem = options.client === undefined ? undefined : clientProblem(options.client);
  if (problem !== undefined) {
    throw new InvalidOptionError(
      'client',
      `must be a DynamoDBClient (@aws-sdk/client-dynamodb) or a DynamoDBDocumentClient (@aws-sdk/lib-dynamodb), ${problem}.`,
    );
  }
  if (options.client !== undefined && (options.region ?? options.endpoint ?? options.credentials) !== undefined) {
    throw new InvalidOptionError('client', 'cannot be given together with region, endpoint or credentials; configure the client instead.');
  }
  optional(raw, 'region', isName, 'a region name such as "eu-west-1"');
  optional(raw, 'endpoint', (value) => typeof value === 'string' && URL.canParse(value), 'a URL such as "http://localhost:8000"');
  const threshold = optional<number>(
    raw,
    'slidingRenewThreshold',
    (value) => typeof value === 'number' && value >= 0 && value <= 1,
    'a number from 0 to 1',
  );
  const batchRetryTimeout = optional<number>(raw, 'batchRetryTimeout', isDuration, 'a duration in ms >= 0');
  const prefix = optional<string>(
    raw,
    'partitionKeyPrefix',
    (value) => typeof value === 'string' && value.length <= 1024,
    'a string of at most 1024 characters',
  );
  const partitionKeyName = optional<string>(raw, 'partitionKeyName', isName, 'a non-empty attribute name');
  const ttlAttributeName = optional<string>(raw, 'ttlAttributeName', isName, 'a non-empty attribute name');
  return {
    tableName: raw.tableName,
    createTableIfNotExists: optional<boolean>(raw, 'createTableIfNotExists', isBoolean, 'true or false') ?? false,
    consistentReads: optional<boolean>(raw, 'consistentReads', isBoolean, 'true or false') ?? true,
    partitionKeyName,
    ttlAttributeName,
    sortKey: resolveSortKey(raw, partitionKeyName, ttlAttributeName),
    partitionKeyPrefix: prefix ?? 'dc:',
    ttl: optional<number>(raw, 'ttl', isDuration, 'a duration in ms >= 0 (0: no expiry)') || undefined,
    slidingRenewThreshold: threshold ?? 0.1,
    batchRetry: { maxDurationMs: batchRetryTimeout ?? 10_000, baseDelayMs: 25, maxDelayMs: 1_000 },
    tableReadyTimeoutMs: optional<number>(raw, 'tableReadyTimeout', isDuration, 'a duration in ms >= 0') ?? 60_000,
    // Long enough for a 16 MB BatchGetItem page (batches get five times it) and a throttled call's
    // SDK retries in most cases (up to 1.5 s of backoff over 3 attempts); short enough that a hung
    // socket costs a request two seconds, not the OS's minutes.
    operationTimeoutMs: optional<number>(raw, 'operationTimeout', isPositiveDuration, 'a duration in ms > 0') ?? 2_000,
    logger:
      optional<WarningLogger>(
        raw,
        'logger',
        (value) => typeof (value as WarningLogger)?.warn === 'function',
        'an object with a warn(message) method',
      ) ?? consoleLogger,
    compression: resolveCompression(raw.compression),
    maxValueBytes:
      optional<number>(
        raw,
        'maxValueBytes',
        (value) => Number.isInteger(value) && (value as number) > 0 && (value as number) <= MAX_VALUE_BYTES_LIMIT,
        `an integer from 1 to ${MAX_VALUE_BYTES_LIMIT}`,
      ) ?? DEFAULT_MAX_VALUE_BYTES,
    serializer: optional<ValueSerializer>(
      raw,
      'serializer',
      isSerializer,
      'an object with a name (1 to 64 letters, digits, "_", ".", "@", "/" or "-"), serialize(value) and deserialize(bytes)',
    ),
    returnConsumedCapacity: optional<boolean>(raw, 'returnConsumedCapacity', isBoolean, 'true or false') ?? false,
    startupCheck:
      optional<'fail' | 'warn'>(raw, 'startupCheck', (value) => value === 'fail' || value === 'warn', '"fail" or "warn"') ?? 'fail',
    tableStream: optional<boolean>(raw, 'tableStream', isBoolean, 'true or false') ?? false,
  };
}

/** The sort key's name must be no attribute a cache item writes, or the item would write its key twice over. */
function resolveSortKey(
  raw: Record<string, unknown>,
  partitionKeyName: string | undefined,
  ttlAttributeName: string | undefined,
): ResolvedStoreOptions['sortKey'] {
  const name = optional<string>(raw, 'sortKeyName', isName, 'a non-empty attribute name of up to 255 characters');
  const value = optional<string>(
    raw,
    'sortKeyValue',
    (v) => typeof v === 'string' && v.length > 0 && v.isWellFormed() && Buffer.byteLength(v, 'utf8') <= SORT_KEY_LIMIT_BYTES,
    `a non-empty string of at most ${SORT_KEY_LIMIT_BYTES} UTF-8 bytes`,
  );
  if (name === undefined) {
    if (value !== undefined) {
      throw new InvalidOptionError('sortKeyValue', 'needs sortKeyName, the sort key attribute of the table, to be written in.');
    }
    return undefined;
  }
  if (isReservedAttributeName(name)) {
    throw new InvalidOptionError(
      'sortKeyName',
      `"${name}" is one of the attribute names cache items use (${Object.values(ITEM_ATTRIBUTES).join(', ')}); ` +
        'a table whose sort key has that name cannot hold the cache.',
    );
  }
  for (const [option, other] of [
    ['partitionKeyName', partitionKeyName],
    ['ttlAttributeName', ttlAttributeName],
  ] as const) {
    if (name === other) throw new InvalidOptionError('sortKeyName', `is "${name}", the same as ${option}.`);
  }
  return { name, value: value ?? DEFAULT_SORT_KEY_VALUE };
}

function isSerializer(value: unknown): boolean {
  const serializer = value as ValueSerializer;
  return (
    typeof serializer?.serialize === 'function' &&
    typeof serializer.deserialize === 'function' &&
    typeof serializer.name === 'string' &&
    /^[\w.@/-]{1,64}$/.test(serializer.name)
  );
}

function resolveCompression(value: unknown): CompressionPolicy | undefined {
  if (value === false) return undefined;
  if (value === undefined) return DEFAULT_COMPRESSION;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidOptionError(
      'compression',
      `must be false or { algorithm?, threshold?, level? }, got ${JSON.stringify(value) ?? String(value)}.`,
    );
  }
  const raw = value as Record<string, unknown>;
  const algorithm =
    optional<CompressionAlgorithm>(
      raw,
      'algorithm',
      (a) => a === 'brotli' || a === 'deflate',
      '"brotli" or "deflate"',
      'compression.algorithm',
    ) ?? DEFAULT_COMPRESSION.algorithm;
  const [minLevel, maxLevel] = algorithm === 'brotli' ? [0, 11] : [1, 9];
  const level = optional<number>(
    raw,
    'level',
    (l) => Number.isInteger(l) && (l as number) >= minLevel && (l as number) <= maxLevel,
    `an integer from ${minLevel} to ${maxLevel} for ${algorithm}`,
    'compression.level',
  );
  const threshold = optional<number>(
    raw,
    'threshold',
    (t) => Number.isInteger(t) && (t as number) >= 0,
    'a whole number of bytes >= 0',
    'compression.threshold',
  );
  return { algorithm, level: level ?? DEFAULT_COMPRESSION.level, thresholdBytes: threshold ?? DEFAULT_COMPRESSION.thresholdBytes };
}
