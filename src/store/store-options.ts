import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { CompressionAlgorithm, CompressionPolicy } from './compression.js';
import type { DynamoDBClientLike } from './dynamodb-client.js';
import type { ValueSerializer } from './value-serializer.js';
import type { RetryPolicy } from './retry.js';
import type { WarningLogger } from './table-schema.js';

// Kept for the session store and the decorators, which take their checks from here.
export { isBoolean, isDuration, isPositiveDuration, optional } from './option-checks.js';

/**
 * The store's options: which table, how to reach it, how keys and values are written. `new
 * DynamoStore(options)` takes them, and so does `DynamoCacheModule.forRoot()` beside the cache's.
 * Defaults: see the options reference (docs/reference/options.md).
 */
export interface DynamoStoreOptions {
  /**
   * The DynamoDB table that holds the cache. Required; the module's may leave it out only with
   * `distributed: false`.
   */
  tableName: string;
  /**
   * A client the application owns: a `DynamoDBClient`, or a `DynamoDBDocumentClient`
   * (`@aws-sdk/lib-dynamodb`). The store never destroys it. Anything else (`{}`, another service's
   * client) is an `InvalidOptionError` naming `client`. Leave it out to let the store build its own
   * (from `region`, `endpoint`, `credentials`) and destroy it at shutdown.
   */
  client?: DynamoDBClientLike;
  /**
   * The AWS region of the store's own client; not with `client`.
   * @defaultValue the SDK's (`AWS_REGION`, the shared config file)
   */
  region?: string;
  /** The endpoint of the store's own client, e.g. `http://localhost:8000` for DynamoDB Local; not with `client`. */
  endpoint?: string;
  /**
   * The credentials of the store's own client; not with `client`.
   * @defaultValue the SDK's default credential provider chain
   */
  credentials?: DynamoDBClientConfig['credentials'];
  /** Create a missing table at start-up: on-demand billing, a string partition key, TTL enabled. */
  createTableIfNotExists?: boolean;
  /**
   * Strongly consistent reads. `false` halves the read cost, and a read may then miss a write made
   * just before it.
   */
  consistentReads?: boolean;
  /**
   * The table's partition key (a string attribute).
   * @defaultValue found with DescribeTable at start-up (`pk` for a table the store creates)
   */
  partitionKeyName?: string;
  /**
   * The table's TTL attribute, which DynamoDB deletes expired items by.
   * @defaultValue found with DescribeTimeToLive at start-up (`ttl` for a table the store creates)
   */
  ttlAttributeName?: string;
  /**
   * The table's sort key (a string), for a table of a single-table design; absent for a table with
   * a partition key only. Never discovered: a table with a sort key that the options do not name fails start-up.
   */
  sortKeyName?: string;
  /**
   * With `sortKeyName`: what every cache item holds in the sort key. Items with another value there
   * are not the cache's, so the table's other items can share its partition keys.
   */
  sortKeyValue?: string;
  /** Put before every key, so that a shared table can hold other items beside the cache's. */
  partitionKeyPrefix?: string;
  /**
   * Time to live of an entry, in ms, for writes that say nothing about expiry. 0 or absent: entries
   * never expire.
   */
  ttl?: number;
  /**
   * A sliding entry is renewed (written) on a read only once renewing would gain this part of its
   * window, 0..1: reads in quick succession cost one write, not one each.
   */
  slidingRenewThreshold?: number;
  /** How long a batch may retry the items DynamoDB left unprocessed, in ms. */
  batchRetryTimeout?: number;
  /**
   * How long one DynamoDB call may take as a whole, credentials and SDK retries included, in ms
   * (batches and scans get 5× it); `disconnect()` waits 5× it at most.
   */
  operationTimeout?: number;
  /** How long to wait for a created table to become ACTIVE, in ms. */
  tableReadyTimeout?: number;
  /**
   * Where warnings go (a foreign item, TTL disabled): an object with `warn(message)`.
   * @defaultValue Nest's `Logger('DynamoCache')` in the module; `console.warn` for a bare `DynamoStore`
   */
  logger?: WarningLogger;
  /**
   * Compress stored values: of at least `threshold` bytes, with brotli or deflate at `level`. `false`
   * stores every value as it is. Items record how they were written, so changing this never makes
   * an existing item unreadable.
   */
  compression?:
    | false
    | {
        /** `'brotli'` or `'deflate'` (raw deflate). */
        algorithm?: CompressionAlgorithm;
        /** Values of fewer bytes (serialized) are stored as they are: below 1 KB an item is one write unit whatever is done to it. */
        threshold?: number;
        /** Brotli's quality (0 to 11) or deflate's level (1 to 9): higher is smaller and slower. */
        level?: number;
      };
  /**
   * The largest serialized value accepted, in bytes (before compression); at most 38 MiB. A value
   * whose item would pass DynamoDB's 400 KB item limit is split into chunk items.
   */
  maxValueBytes?: number;
  /**
   * Serializes values in place of the built-in JSON (e.g. msgpackr): `{ name, serialize(value),
   * deserialize(bytes) }`. See `ValueSerializer`.
   * @defaultValue the built-in JSON, extended so that `Date`, `Map`, `Set`, `BigInt`, `Buffer`, `Uint8Array`, `NaN` and ±`Infinity` round-trip
   */
  serializer?: ValueSerializer;
  /**
   * When DynamoDB cannot be reached at start-up: `'fail'` fails the app's start with a
   * `CacheStartupError`, within `operationTimeout` per call; `'warn'` logs it and starts, the cache
   * answering misses (handlers answer) until DynamoDB is reachable. A table that answers but is
   * wrong always fails start-up.
   */
  startupCheck?: 'fail' | 'warn';
  /**
   * With `createTableIfNotExists`: create the table with a KEYS_ONLY stream. The streams backplane
   * turns it on.
   */
  tableStream?: boolean;
  /**
   * Ask DynamoDB for the capacity each call consumed, and count it per cache (see
   * `DynamoStore.capacity`, `DynamoCache.stats()`). With it on, DynamoDB Local answered a write 0.1
   * to 0.4 ms later (`npm run bench`, the `returnConsumedCapacity: true` rows).
   */
  returnConsumedCapacity?: boolean;
}

/**
 * Every store option that has a default, under the option's own name: the one place each default is
 * written. The resolver reads it, and the options reference (`npm run docs:options`) shows it.
 */
export const STORE_DEFAULTS = Object.freeze({
  createTableIfNotExists: false,
  consistentReads: true,
  /**
   * Short (it is billed with every item), and the default key prefix's own letters, so that an item
   * reads as the cache's.
   */
  sortKeyValue: 'dc',
  partitionKeyPrefix: 'dc:',
  slidingRenewThreshold: 0.1,
  batchRetryTimeout: 10_000,
  tableReadyTimeout: 60_000,
  /**
   * Long enough for a 16 MB BatchGetItem page (batches get five times it) and a throttled call's SDK
   * retries in most cases (up to 1.5 s of backoff over 3 attempts); short enough that a hung socket
   * costs a request two seconds, not the OS's minutes.
   */
  operationTimeout: 2_000,
  /**
   * Chosen by `npm run bench` (compression table, and the set rows of the SDK comparison) on
   * API-style JSON. Below 1 KB an item is one write unit whatever is done to it. Brotli at quality 1
   * keeps 18 % of 10 KB and 12 % of 100 KB in 22 and 143 µs; quality 4 keeps 14 % and 11 % but takes
   * three times as long, which made a 10 KB set 1.13× the raw SDK's where quality 1 made it 1.04×,
   * for the same 2 write units. Deflate at level 1 is larger and slower than either.
   */
  compression: Object.freeze({ algorithm: 'brotli' as CompressionAlgorithm, threshold: 1024, level: 1 }),
  maxValueBytes: 4 * 1024 * 1024,
  returnConsumedCapacity: false,
  startupCheck: 'fail' as 'fail' | 'warn',
  tableStream: false,
});

/** The store's options checked, their defaults applied and frozen: made once, by `resolveStoreOptions`. */
export interface ResolvedStoreOptions {
  readonly tableName: string;
  /** How the store reaches DynamoDB: the application's client, or what to build its own with. */
  readonly connection: StoreConnection;
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

export interface StoreConnection {
  readonly client?: DynamoDBClientLike;
  readonly region?: string;
  readonly endpoint?: string;
  readonly credentials?: DynamoDBClientConfig['credentials'];
}

/**
 * What a cache sharing a store's table (a named cache's store) may set for itself; the rest it takes
 * from that store. A `client` replaces the connection: a sibling sends with its parent's client.
 */
export type StoreOverrides = Pick<
  DynamoStoreOptions,
  | 'partitionKeyPrefix'
  | 'ttl'
  | 'compression'
  | 'serializer'
  | 'maxValueBytes'
  | 'returnConsumedCapacity'
  | 'client'
  | 'slidingRenewThreshold'
  | 'logger'
>;
