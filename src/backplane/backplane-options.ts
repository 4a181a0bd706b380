/**
 * A `DynamoDBStreamsClient` from @aws-sdk/client-dynamodb-streams, typed by shape so that apps
 * without the streams backplane need not install that package for its types.
 */
export interface StreamsClientLike {
  /** Sends a DynamoDB Streams command (DescribeStream, GetShardIterator, GetRecords); aborted at `operationTimeout`. */
  send(command: never, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  /** Called at shutdown for a client the backplane built itself; never for one passed as `client`. */
  destroy(): void;
}
import { InvalidOptionError } from '../store/errors.js';
import { isPositiveDuration, optional } from '../store/option-checks.js';

/**
 * `backplane: { type: 'streams' }`: `streamReaders` instances, elected through a lease item in the
 * table, read its DynamoDB Stream and publish the keys it names in a journal in the table; every
 * other instance reads the journal's head item once per interval and drops those keys from memory.
 */
export interface StreamsBackplaneOptions {
  /** `'streams'`: this backplane, which needs the table's stream (KEYS_ONLY or more). */
  type: 'streams';
  /** How often the stream (by a reader) and the journal (by the others) are read, in ms. */
  pollInterval?: number;
  /**
   * How many instances read the stream at a time: 1 or 2. DynamoDB Streams throttles more than 2
   * readers of a shard; with 2, a reader that dies leaves the other publishing, with no gap.
   */
  streamReaders?: number;
  /**
   * How long a reader's lease holds without renewal (it renews every `pollInterval`), in ms: a reader
   * that died is replaced after at most this plus one `pollInterval`. Longer than `pollInterval`
   * and shorter than `maxLag`.
   * @defaultValue the larger of 2 × `pollInterval` and `maxLag` − 2 × `pollInterval` (3,000 with the
   * defaults), or halfway between them when that is not shorter
   */
  leaseDuration?: number;
  /** Records per GetRecords call, at most 1,000 (GetRecords' own limit). */
  batchSize?: number;
  /**
   * The staleness bound, in ms: without a successful read of every shard for this long, memory is
   * cleared and serves for `memory.maxTtl` only, until the backplane keeps up again. Longer than `pollInterval`.
   */
  maxLag?: number;
  /** How long memory serves an entry while the backplane keeps up, in ms: it replaces `memory.maxTtl` then. */
  memoryTtl?: number;
  /** A table without a stream: `'fail'` fails start-up; `'warn'` logs it and runs without the backplane. */
  missingStream?: 'fail' | 'warn';
  /**
   * A streams client of the application's, which the backplane never destroys.
   * @defaultValue one built from the DynamoDB client's region, endpoint and credentials
   */
  client?: StreamsClientLike;
}

/**
 * `backplane: { type: 'poll' }`, for tables whose stream cannot be enabled: each cache keeps a
 * version item that every write bumps, and each instance reads it every `interval`. A change by
 * another instance clears that cache's whole memory tier: coarser than the streams backplane.
 */
export interface PollBackplaneOptions {
  /** `'poll'`: this backplane, which needs no stream. */
  type: 'poll';
  /** How often the version items are read, in ms: one read per cache per interval, per instance. */
  interval?: number;
  /**
   * The staleness bound, in ms: without a successful read for this long, memory is cleared and
   * serves for `memory.maxTtl` only, until the reads succeed again. Longer than `interval`.
   */
  maxLag?: number;
  /** How long memory serves an entry while the backplane keeps up, in ms: it replaces `memory.maxTtl` then. */
  memoryTtl?: number;
}

/**
 * `backplane`: keeps every instance's memory tier coherent with the others' writes, so that memory
 * can serve for `memoryTtl` rather than `memory.maxTtl`. `{ type: 'streams' }` (from the table's
 * DynamoDB Stream, per key) or `{ type: 'poll' }` (a version item per cache, whole caches).
 */
export type BackplaneOptions = StreamsBackplaneOptions | PollBackplaneOptions;

export interface ResolvedBackplaneOptions {
  readonly type: 'streams' | 'poll';
  readonly intervalMs: number;
  readonly streamReaders: number;
  readonly leaseMs: number;
  readonly batchSize: number;
  readonly maxLagMs: number;
  readonly memoryTtlMs: number;
  readonly missingStream: 'fail' | 'warn';
  readonly client?: StreamsClientLike;
}

/**
 * Every backplane option that has a fixed default, under the option's own name (`interval` is the
 * poll backplane's `pollInterval`). `leaseDuration`'s default is computed from the interval and maxLag.
 */
export const BACKPLANE_DEFAULTS = Object.freeze({
  pollInterval: 1_000,
  streamReaders: 1,
  /** GetRecords' own maximum. */
  batchSize: 1_000,
  maxLag: 5_000,
  memoryTtl: 300_000,
  missingStream: 'fail' as 'fail' | 'warn',
});

const STREAMS_OPTIONS = [
  'type',
  'pollInterval',
  'streamReaders',
  'leaseDuration',
  'batchSize',
  'maxLag',
  'memoryTtl',
  'missingStream',
  'client',
];
const POLL_OPTIONS = ['type', 'interval', 'maxLag', 'memoryTtl'];

export function resolveBackplaneOptions(value: unknown): ResolvedBackplaneOptions | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || !['streams', 'poll'].includes((value as { type?: string }).type!)) {
    throw new InvalidOptionError(
      'backplane',
      `must be { type: 'streams', … } or { type: 'poll', … }, got ${JSON.stringify(value) ?? String(value)}.`,
    );
  }
  const raw = value as Record<string, unknown>;
  const type = raw.type as 'streams' | 'poll';
  // A misspelt option would otherwise be ignored in silence, and its default taken for the user's choice.
  const known = type === 'streams' ? STREAMS_OPTIONS : POLL_OPTIONS;
  const unknown = Object.keys(raw).find((name) => !known.includes(name));
  if (unknown !== undefined) {
    throw new InvalidOptionError(`backplane.${unknown}`, `is not an option of the ${type} backplane, which takes ${known.join(', ')}.`);
  }
  const duration = (name: string) => optional<number>(raw, name, isPositiveDuration, 'a duration in ms > 0', `backplane.${name}`);
  const interval = duration(type === 'streams' ? 'pollInterval' : 'interval') ?? BACKPLANE_DEFAULTS.pollInterval;
  const maxLag = duration('maxLag') ?? BACKPLANE_DEFAULTS.maxLag;
  if (maxLag <= interval) {
    throw new InvalidOptionError(
      'backplane.maxLag',
      `must be longer than the ${type === 'streams' ? 'pollInterval' : 'interval'} (${interval} ms), got ${maxLag}.`,
    );
  }
  const explicitLease = duration('leaseDuration');
  // A reader renews once per interval: a lease no longer than that would lapse between renewals.
  if (explicitLease !== undefined && explicitLease <= interval) {
    throw new InvalidOptionError('backplane.leaseDuration', `must be longer than the pollInterval (${interval} ms), got ${explicitLease}.`);
  }
  // A dead reader's lane is taken once its lease lapses: a lease past maxLag outlasts the staleness bound.
  if (explicitLease !== undefined && explicitLease >= maxLag) {
    throw new InvalidOptionError('backplane.leaseDuration', `must be shorter than maxLag (${maxLag} ms), got ${explicitLease}.`);
  }
  const defaultLease = Math.max(2 * interval, maxLag - 2 * interval);
  const leaseMs = explicitLease ?? (defaultLease < maxLag ? defaultLease : (interval + maxLag) / 2);
  return {
    type,
    intervalMs: interval,
    streamReaders:
      optional<number>(raw, 'streamReaders', (n) => n === 1 || n === 2, '1 or 2', 'backplane.streamReaders') ??
      BACKPLANE_DEFAULTS.streamReaders,
    leaseMs,
    batchSize:
      optional<number>(
        raw,
        'batchSize',
        (n) => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 1_000,
        'an integer from 1 to 1000',
        'backplane.batchSize',
      ) ?? BACKPLANE_DEFAULTS.batchSize,
    maxLagMs: maxLag,
    memoryTtlMs: duration('memoryTtl') ?? BACKPLANE_DEFAULTS.memoryTtl,
    missingStream:
      optional<'fail' | 'warn'>(raw, 'missingStream', (v) => v === 'fail' || v === 'warn', '"fail" or "warn"', 'backplane.missingStream') ??
      BACKPLANE_DEFAULTS.missingStream,
    client: optional(
      raw,
      'client',
      (c) => typeof (c as { send?: unknown })?.send === 'function',
      'a DynamoDBStreamsClient',
      'backplane.client',
    ),
  };
}
