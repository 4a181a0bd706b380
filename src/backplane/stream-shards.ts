import type { DynamoDBClientLike } from '../store/dynamodb-client.js';
import type {
  DescribeStreamCommandOutput,
  DynamoDBStreamsClient,
  GetRecordsCommandOutput,
  GetShardIteratorCommandOutput,
  ListStreamsCommandOutput,
  Shard,
} from '@aws-sdk/client-dynamodb-streams';
import { withinBound } from '../store/bounded-call.js';
import { OperationTimeoutError, TableConfigurationError } from '../store/errors.js';
import { type TableSchema, hasCacheSortKey } from '../store/item-key.js';
import { endpointUrl } from '../store/table-schema.js';
import type { StreamsClientLike } from './backplane-options.js';

type StreamsModule = typeof import('@aws-sdk/client-dynamodb-streams');

/** How often the shard list is read again, to follow splits; a closed shard also triggers it. */
const SHARD_DISCOVERY_MS = 30_000;

/**
 * A record's creation time is rounded down (to the second on AWS, to the minute by DynamoDB Local)
 * and the record reaches the stream up to about a second after its write: records stamped this
 * long before a read that found nothing were there to be found by it.
 */
const CREATION_TIME_MARGIN_MS = 120_000;

/**
 * Where a reader is in the stream, saved in the table so that the next reader resumes there.
 * `readAt` is when a read that this position reflects began: in a shard where nothing was read yet
 * (null), no record created well before `readAt` is news.
 */
export interface StreamPosition {
  readonly shards: Readonly<Record<string, string | null>>;
  readonly finished: readonly string[];
  readonly readAt: number;
}

export interface StreamRead {
  /** The partition key of every record read, in order (a key written twice comes twice). */
  readonly partitionKeys: string[];
  /** A position could not be resumed (trimmed past, or older than the stream's 24 h): what it missed is unknown. */
  readonly lost: boolean;
  /** GetRecords calls made. */
  readonly calls: number;
}

interface ShardCursor {
  iterator: string;
  lastSequence: string | null;
  /** Records created before this instant were seen by an earlier read that found the shard empty. */
  skipCreatedBefore?: number;
  /** When the last read of this shard that succeeded began. */
  readAt: number;
}

export interface StreamShardsSetup {
  readonly client: DynamoDBClientLike;
  readonly tableName: string;
  readonly partitionKeyName: string;
  /** On a table of a single-table design: a record of an item with another sort key value is not the cache's. */
  readonly sortKey?: TableSchema['sortKey'];
  readonly operationTimeoutMs: number;
  readonly batchSize: number;
  readonly streamsClient?: StreamsClientLike;
}

/**
 * A reader's view of the table's stream: one cursor per open shard, read once per cycle, and a
 * position it can save and another instance can resume from.
 */
export class StreamShards {
  private readonly cursors = new Map<string, ShardCursor>();
  private readonly finished = new Set<string>();
  private lastDiscoveryAt = 0;
  private discoverySoon = false;
  private lostSinceLastRead = false;
  /** Keys of shards read in a cycle in which another shard's read failed: their cursors have moved on. */
  private readonly unreturned: string[] = [];

  private constructor(
    private readonly sdk: StreamsModule,
    private readonly streams: StreamsClientLike,
    private readonly ownsClient: boolean,
    private readonly streamArn: string,
    private readonly setup: StreamShardsSetup,
  ) {}

  /** Finds the table's stream, or fails with a TableConfigurationError that says how to enable one. */
  static async find(setup: StreamShardsSetup): Promise<StreamShards> {
    const sdk = await loadStreamsSdk();
    const streams = setup.streamsClient ?? (await streamsClientLike(sdk, setup.client));
    const send = <T>(command: object) => boundedSend<T>(streams, setup, command);
    try {
      const listed = await send<ListStreamsCommandOutput>(new sdk.ListStreamsCommand({ TableName: setup.tableName }));
      const arn = listed.Streams?.at(-1)?.StreamArn;
      const description =
        arn === undefined
          ? undefined
          : (await send<DescribeStreamCommandOutput>(new sdk.DescribeStreamCommand({ StreamArn: arn }))).StreamDescription;
      if (!arn || description?.StreamStatus === 'DISABLED' || description?.StreamStatus === 'DISABLING') {
        throw new TableConfigurationError(
          setup.tableName,
          "has no DynamoDB Stream, which backplane: { type: 'streams' } reads. Enable one (UpdateTable, StreamSpecification { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' }), " +
            "let createTableIfNotExists create the table with one, use backplane: { type: 'poll' }, or set backplane.missingStream: 'warn' to run without it.",
        );
      }
      return new StreamShards(sdk, streams, setup.streamsClient === undefined, arn, setup);
    } catch (error) {
      if (setup.streamsClient === undefined) streams.destroy();
      throw error;
    }
  }

  /**
   * Opens every shard: where `from` left it, or, without a position (the first reader of its lane),
   * from now on, since no instance's memory depends on what came before.
   */
  async open(from: StreamPosition | undefined): Promise<void> {
    const now = Date.now();
    const finishedBefore = new Set(from?.finished ?? []);
    for (const shard of await this.allShards()) {
      const id = shard.ShardId!;
      const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
      if (from === undefined) {
        if (closed) this.finished.add(id);
        else await this.openShard(id, 'LATEST', null, now);
      } else if (finishedBefore.has(id)) {
        this.finished.add(id);
      } else if (typeof from.shards[id] === 'string') {
        await this.openShard(id, 'AFTER_SEQUENCE_NUMBER', from.shards[id], now);
      } else if (from.shards[id] === null) {
        await this.openShard(id, 'TRIM_HORIZON', null, now, from.readAt - CREATION_TIME_MARGIN_MS);
      } else {
        // A shard the last reader had not found yet: everything in it is news.
        await this.openShard(id, 'TRIM_HORIZON', null, now);
      }
    }
    this.lastDiscoveryAt = now;
  }

  /**
   * One GetRecords per open shard, in parallel. When one fails, what the others read is kept for
   * the next call, which returns it: their cursors have moved past it.
   */
  async read(): Promise<StreamRead> {
    if (this.discoverySoon || Date.now() - this.lastDiscoveryAt > SHARD_DISCOVERY_MS) await this.discover();
    const perShard = await Promise.allSettled([...this.cursors].map(([shardId, cursor]) => this.readShard(shardId, cursor)));
    for (const result of perShard) if (result.status === 'fulfilled') this.unreturned.push(...result.value);
    const failed = perShard.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const lost = this.lostSinceLastRead;
    this.lostSinceLastRead = false;
    return { partitionKeys: this.unreturned.splice(0), lost, calls: perShard.length };
  }

  position(readAt: number): StreamPosition {
    const shards: Record<string, string | null> = {};
    for (const [id, cursor] of this.cursors) shards[id] = cursor.lastSequence;
    return { shards, finished: [...this.finished], readAt };
  }

  close(): void {
    if (this.ownsClient) this.streams.destroy();
  }

  private async readShard(shardId: string, cursor: ShardCursor): Promise<string[]> {
    const startedAt = Date.now();
    let output: GetRecordsCommandOutput;
    try {
      output = await this.send<GetRecordsCommandOutput>(
        new this.sdk.GetRecordsCommand({ ShardIterator: cursor.iterator, Limit: this.setup.batchSize }),
      );
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'ExpiredIteratorException') {
        // An iterator lives 15 minutes; the position it stood for is still good.
        await (cursor.lastSequence === null
          ? this.openShard(shardId, 'TRIM_HORIZON', null, startedAt, cursor.readAt - CREATION_TIME_MARGIN_MS)
          : this.openShard(shardId, 'AFTER_SEQUENCE_NUMBER', cursor.lastSequence, startedAt));
        return [];
      }
      if (name !== 'TrimmedDataAccessException') throw error;
      this.lostSinceLastRead = true;
      await this.openShard(shardId, 'TRIM_HORIZON', null, startedAt);
      return [];
    }
    const keys: string[] = [];
    for (const record of output.Records ?? []) {
      cursor.lastSequence = record.dynamodb?.SequenceNumber ?? cursor.lastSequence;
      const createdAt = record.dynamodb?.ApproximateCreationDateTime?.getTime();
      if (cursor.skipCreatedBefore !== undefined && createdAt !== undefined && createdAt < cursor.skipCreatedBefore) continue;
      if (!hasCacheSortKey(this.setup, record.dynamodb?.Keys)) continue;
      const partitionKey = record.dynamodb?.Keys?.[this.setup.partitionKeyName]?.S;
      if (partitionKey !== undefined) keys.push(partitionKey);
    }
    cursor.readAt = startedAt;
    if (output.NextShardIterator === undefined || output.NextShardIterator === null) {
      // A closed shard, read to its end: its children hold what follows.
      this.cursors.delete(shardId);
      this.finished.add(shardId);
      this.discoverySoon = true;
    } else {
      cursor.iterator = output.NextShardIterator;
    }
    return keys;
  }

  /** New shards (after a split, or the children of a closed one) are read from their start. */
  private async discover(): Promise<void> {
    const listed = await this.allShards();
    const now = Date.now();
    for (const shard of listed) {
      const id = shard.ShardId!;
      if (!this.cursors.has(id) && !this.finished.has(id)) await this.openShard(id, 'TRIM_HORIZON', null, now);
    }
    // Shards past the stream's 24 h are no longer listed: the saved position need not name them.
    const ids = new Set(listed.map((shard) => shard.ShardId!));
    for (const id of this.finished) if (!ids.has(id)) this.finished.delete(id);
    this.lastDiscoveryAt = now;
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

  private async openShard(
    shardId: string,
    type: 'LATEST' | 'TRIM_HORIZON' | 'AFTER_SEQUENCE_NUMBER',
    sequence: string | null,
    readAt: number,
    skipCreatedBefore?: number,
  ): Promise<void> {
    let output: GetShardIteratorCommandOutput;
    try {
      output = await this.send<GetShardIteratorCommandOutput>(
        new this.sdk.GetShardIteratorCommand({
          StreamArn: this.streamArn,
          ShardId: shardId,
          ShardIteratorType: type,
          SequenceNumber: sequence ?? undefined,
        }),
      );
    } catch (error) {
      // A saved position past the stream's retention: read what is left, and say that some was lost.
      if (type !== 'AFTER_SEQUENCE_NUMBER' || (error as Error).name !== 'TrimmedDataAccessException') throw error;
      this.lostSinceLastRead = true;
      return this.openShard(shardId, 'TRIM_HORIZON', null, readAt);
    }
    if (output.ShardIterator)
      this.cursors.set(shardId, { iterator: output.ShardIterator, lastSequence: sequence, skipCreatedBefore, readAt });
  }

  private send<T>(command: object): Promise<T> {
    return boundedSend<T>(this.streams, this.setup, command);
  }
}

/**
 * Every call bounded as the store's are, as a whole (see `withinBound`), so that a hung stream
 * endpoint, or a streams client whose credentials provider never resolves, shows as a failed read
 * and cannot hold the backplane's cycle, and with it `app.close()`, which waits for that cycle.
 */
function boundedSend<T>(streams: StreamsClientLike, setup: StreamShardsSetup, command: object): Promise<T> {
  const operation = command.constructor.name.replace(/Command$/, '');
  return withinBound(
    setup.operationTimeoutMs,
    (signal) => streams.send(command as never, { abortSignal: signal }) as Promise<T>,
    () => new OperationTimeoutError(setup.tableName, operation, setup.operationTimeoutMs),
  );
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
async function streamsClientLike(sdk: StreamsModule, client: DynamoDBClientLike): Promise<DynamoDBStreamsClient> {
  return new sdk.DynamoDBStreamsClient({
    region: await client.config.region(),
    credentials: client.config.credentials,
    endpoint: await endpointUrl(client),
  });
}
