import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type {
  DescribeStreamCommandOutput,
  DynamoDBStreamsClient,
  GetRecordsCommandOutput,
  GetShardIteratorCommandOutput,
  ListStreamsCommandOutput,
  Shard,
  _Record,
} from '@aws-sdk/client-dynamodb-streams';
import type { LocalTier } from './backplane-port.js';
import { TableConfigurationError } from '../store/errors.js';
import { DIGEST_MARKER, RESERVED_KEY_START } from '../store/keys.js';
import { type WarningLogger, endpointUrl } from '../store/table-schema.js';
import { Backplane } from './backplane.js';
import type { ResolvedBackplaneOptions, StreamsClientLike } from './backplane-options.js';

type StreamsModule = typeof import('@aws-sdk/client-dynamodb-streams');

/** How often the shard list is read again, to follow splits; a closed shard also triggers it. */
const SHARD_DISCOVERY_MS = 30_000;

interface ShardCursor {
  iterator: string;
  lastSequence?: string;
}

export interface StreamsBackplaneSetup {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly partitionKeyName: string;
  readonly operationTimeoutMs: number;
}

/**
 * The streams backplane: reads every shard of the table's stream (KEYS_ONLY is enough) and drops
 * from the matching cache's memory tier each key a record names, whatever the record's event:
 * INSERT, MODIFY, REMOVE, and TTL deletions, which DynamoDB Local reports under an event name the
 * SDK does not know. An instance's own writes come back too and drop its own copy; the next read
 * fetches it again once.
 */
export class StreamsBackplane extends Backplane {
  private sdk!: StreamsModule;
  private streams!: StreamsClientLike;
  private ownsClient = false;
  private streamArn!: string;
  private readonly cursors = new Map<string, ShardCursor>();
  private readonly finishedShards = new Set<string>();
  private lastDiscoveryAt = 0;
  private discoverySoon = false;
  /** Longest prefix first, so that a cache whose prefix extends another's gets its own keys. */
  private readonly byPrefix: readonly LocalTier[];

  constructor(
    tiers: readonly LocalTier[],
    options: ResolvedBackplaneOptions,
    logger: WarningLogger,
    private readonly setup: StreamsBackplaneSetup,
  ) {
    super(tiers, options, logger, setup.tableName);
    this.byPrefix = [...tiers].sort((a, b) => b.partitionKeyPrefix.length - a.partitionKeyPrefix.length);
  }

  protected async connect(): Promise<void> {
    this.sdk = await loadStreamsSdk();
    this.ownsClient = this.options.client === undefined;
    this.streams = this.options.client ?? (await streamsClientLike(this.sdk, this.setup.client));
    const listed = await this.send<ListStreamsCommandOutput>(new this.sdk.ListStreamsCommand({ TableName: this.setup.tableName }));
    const arn = listed.Streams?.at(-1)?.StreamArn;
    const description =
      arn === undefined
        ? undefined
        : (await this.send<DescribeStreamCommandOutput>(new this.sdk.DescribeStreamCommand({ StreamArn: arn }))).StreamDescription;
    if (!arn || description?.StreamStatus === 'DISABLED' || description?.StreamStatus === 'DISABLING') {
      throw new TableConfigurationError(
        this.setup.tableName,
        "has no DynamoDB Stream, which backplane: { type: 'streams' } reads. Enable one (UpdateTable, StreamSpecification { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' }), " +
          "let createTableIfNotExists create the table with one, use backplane: { type: 'poll' }, or set backplane.missingStream: 'warn' to run without it.",
      );
    }
    this.streamArn = arn;
    // Shards open now are read from now on; the stream's past is of no interest to a memory that starts empty.
    for (const shard of await this.allShards()) {
      if (shard.SequenceNumberRange?.EndingSequenceNumber === undefined) await this.open(shard.ShardId!, 'LATEST');
      else this.finishedShards.add(shard.ShardId!);
    }
    this.lastDiscoveryAt = Date.now();
  }

  protected async readAll(): Promise<void> {
    if (this.discoverySoon || Date.now() - this.lastDiscoveryAt > SHARD_DISCOVERY_MS) await this.discover();
    await Promise.all([...this.cursors].map(([shardId, cursor]) => this.readShard(shardId, cursor)));
  }

  protected async disconnect(): Promise<void> {
    if (this.ownsClient) this.streams?.destroy();
  }

  private async readShard(shardId: string, cursor: ShardCursor): Promise<void> {
    let output: GetRecordsCommandOutput;
    try {
      output = await this.send<GetRecordsCommandOutput>(
        new this.sdk.GetRecordsCommand({ ShardIterator: cursor.iterator, Limit: this.options.batchSize }),
      );
    } catch (error) {
      const name = (error as Error).name;
      if (name !== 'ExpiredIteratorException' && name !== 'TrimmedDataAccessException') throw error;
      // Resumed after the last record applied when there is one; otherwise what was missed is unknown.
      if (cursor.lastSequence === undefined || name === 'TrimmedDataAccessException') this.clearAll();
      await this.open(shardId, cursor.lastSequence === undefined ? 'LATEST' : 'AFTER_SEQUENCE_NUMBER', cursor.lastSequence);
      return;
    }
    for (const record of output.Records ?? []) {
      this.apply(record);
      cursor.lastSequence = record.dynamodb?.SequenceNumber ?? cursor.lastSequence;
    }
    if (output.NextShardIterator === undefined || output.NextShardIterator === null) {
      // A closed shard, read to its end: its children hold what follows.
      this.cursors.delete(shardId);
      this.finishedShards.add(shardId);
      this.discoverySoon = true;
    } else {
      cursor.iterator = output.NextShardIterator;
    }
  }

  private apply(record: _Record): void {
    const partitionKey = record.dynamodb?.Keys?.[this.setup.partitionKeyName]?.S;
    if (partitionKey === undefined) return;
    const tier = this.byPrefix.find((candidate) => partitionKey.startsWith(candidate.partitionKeyPrefix));
    if (tier === undefined) return;
    const key = partitionKey.slice(tier.partitionKeyPrefix.length);
    if (key.startsWith(DIGEST_MARKER)) tier.invalidateDigest(partitionKey);
    // Chunks, leases and version items are the cache's own; a head item's record carries the news.
    else if (key.startsWith(RESERVED_KEY_START)) return;
    else tier.invalidate(key);
    this.invalidations++;
  }

  /** New shards (after a split, or the children of a closed one) are read from their start. */
  private async discover(): Promise<void> {
    for (const shard of await this.allShards()) {
      const id = shard.ShardId!;
      if (!this.cursors.has(id) && !this.finishedShards.has(id)) await this.open(id, 'TRIM_HORIZON');
    }
    this.lastDiscoveryAt = Date.now();
    this.discoverySoon = false;
  }

  private async allShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const page = await this.send<DescribeStreamCommandOutput>(
        new this.sdk.DescribeStreamCommand({ StreamArn: this.streamArn, ExclusiveStartShardId: start }),
      );
      shards.push(...(page.StreamDescription?.Shards ?? []));
      start = page.StreamDescription?.LastEvaluatedShardId;
    } while (start !== undefined);
    return shards;
  }

  private async open(shardId: string, type: 'LATEST' | 'TRIM_HORIZON' | 'AFTER_SEQUENCE_NUMBER', sequence?: string): Promise<void> {
    const output = await this.send<GetShardIteratorCommandOutput>(
      new this.sdk.GetShardIteratorCommand({
        StreamArn: this.streamArn,
        ShardId: shardId,
        ShardIteratorType: type,
        SequenceNumber: sequence,
      }),
    );
    if (output.ShardIterator) this.cursors.set(shardId, { iterator: output.ShardIterator, lastSequence: sequence });
  }

  /** Every call bounded like the store's, so that a hung stream endpoint shows as a failed read. */
  private send<T>(command: object): Promise<T> {
    return this.streams.send(command as never, { abortSignal: AbortSignal.timeout(this.setup.operationTimeoutMs) }) as Promise<T>;
  }
}

async function loadStreamsSdk(): Promise<StreamsModule> {
  try {
    return await import('@aws-sdk/client-dynamodb-streams');
  } catch (error) {
    throw new Error(
      "backplane: { type: 'streams' } needs the package @aws-sdk/client-dynamodb-streams: npm install @aws-sdk/client-dynamodb-streams",
      { cause: error },
    );
  }
}

/** A streams client with the DynamoDB client's region, endpoint and credentials. */
async function streamsClientLike(sdk: StreamsModule, client: DynamoDBClient): Promise<DynamoDBStreamsClient> {
  return new sdk.DynamoDBStreamsClient({
    region: await client.config.region(),
    credentials: client.config.credentials,
    endpoint: await endpointUrl(client),
  });
}
