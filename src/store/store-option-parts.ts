import { CHUNK_PAYLOAD_BYTES, MAX_CHUNKS } from './chunks.js';
import { clientProblem } from './dynamodb-client.js';
import type { CompressionAlgorithm, CompressionPolicy } from './compression.js';
import { InvalidOptionError } from './errors.js';
import { ITEM_ATTRIBUTES, isReservedAttributeName } from './item-codec.js';
import { isDuration, isName, optional } from './option-checks.js';
import type { DynamoStoreOptions, StoreConnection } from './store-options.js';
import type { WarningLogger } from './table-schema.js';
import type { ValueSerializer } from './value-serializer.js';

/** DynamoDB's limit on a sort key value, in UTF-8 bytes. */
const SORT_KEY_LIMIT_BYTES = 1024;
/** What one BatchGetItem can name: 100 chunks. */
export const MAX_VALUE_BYTES_LIMIT = MAX_CHUNKS * CHUNK_PAYLOAD_BYTES;

/** The sort key's name must be no attribute a cache item writes, or the item would write its key twice over. */
export function resolveSortKey(
  raw: Record<string, unknown>,
  partitionKeyName: string | undefined,
  ttlAttributeName: string | undefined,
  defaultValue: string,
): { readonly name: string; readonly value: string } | undefined {
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
  return Object.freeze({ name, value: value ?? defaultValue });
}

export function resolveMaxValueBytes(raw: Record<string, unknown>): number | undefined {
  return optional<number>(
    raw,
    'maxValueBytes',
    (value) => Number.isInteger(value) && (value as number) > 0 && (value as number) <= MAX_VALUE_BYTES_LIMIT,
    `an integer from 1 to ${MAX_VALUE_BYTES_LIMIT}`,
  );
}

export function resolveSerializer(raw: Record<string, unknown>): ValueSerializer | undefined {
  return optional<ValueSerializer>(
    raw,
    'serializer',
    isSerializer,
    'an object with a name (1 to 64 letters, digits, "_", ".", "@", "/" or "-"), serialize(value) and deserialize(bytes)',
  );
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

/** `false`: values stored as they are; absent: the defaults; an object: each field over its default. */
export function resolveCompression(
  value: unknown,
  defaults: { readonly algorithm: CompressionAlgorithm; readonly threshold: number; readonly level: number },
): CompressionPolicy | undefined {
  if (value === false) return undefined;
  if (value === undefined)
    return Object.freeze({ algorithm: defaults.algorithm, level: defaults.level, thresholdBytes: defaults.threshold });
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
    ) ?? defaults.algorithm;
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
  return Object.freeze({ algorithm, level: level ?? defaults.level, thresholdBytes: threshold ?? defaults.threshold });
}

export function resolveConnection(options: DynamoStoreOptions): StoreConnection {
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
  const raw = options as unknown as Record<string, unknown>;
  optional(raw, 'region', isName, 'a region name such as "eu-west-1"');
  optional(raw, 'endpoint', (value) => typeof value === 'string' && URL.canParse(value), 'a URL such as "http://localhost:8000"');
  const { client, region, endpoint, credentials } = options;
  return Object.freeze({ client, region, endpoint, credentials });
}

export function resolvePartitionKeyPrefix(raw: Record<string, unknown>): string | undefined {
  return optional<string>(
    raw,
    'partitionKeyPrefix',
    (value) => typeof value === 'string' && value.length <= 1024,
    'a string of at most 1024 characters',
  );
}

export function resolveSlidingRenewThreshold(raw: Record<string, unknown>): number | undefined {
  return optional<number>(
    raw,
    'slidingRenewThreshold',
    (value) => typeof value === 'number' && value >= 0 && value <= 1,
    'a number from 0 to 1',
  );
}

export function resolveLogger(raw: Record<string, unknown>): WarningLogger | undefined {
  return optional<WarningLogger>(
    raw,
    'logger',
    (value) => typeof (value as WarningLogger)?.warn === 'function',
    'an object with a warn(message) method',
  );
}

/** 0 and absent alike: entries never expire. */
export function resolveTtl(raw: Record<string, unknown>): number | undefined {
  return optional<number>(raw, 'ttl', isDuration, 'a duration in ms >= 0 (0: no expiry)') || undefined;
}
