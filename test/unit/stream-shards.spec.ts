import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Shard, _Record } from '@aws-sdk/client-dynamodb-streams';
import { describe, expect, it } from 'vitest';
import type { StreamsClientLike } from '../../src/backplane/backplane-options.js';
import { type StreamPosition, StreamShards } from '../../src/backplane/stream-shards.js';

/**
 * DynamoDB Local gives a table one shard, never closed, that the backplane's own writes keep busy,
 * and it keeps every record: a quiet shard, a closed one, a split and a trimmed position cannot be
 * made there. A scripted stream API stands in for those, and only for those.
 */
class ScriptedStream implements StreamsClientLike {
  readonly iterators: Array<{ ShardId: string; ShardIteratorType: string; SequenceNumber?: string }> = [];
  trimmedBefore?: string;
  failNextRead?: string;

  constructor(
    private readonly shards: Shard[],
    private readonly records: Record<string, _Record[]>,
  ) {}

  async send(command: never): Promise<unknown> {
    const { constructor, input } = command as { constructor: { name: string }; input: Record<string, string> };
    switch (constructor.name) {
      case 'ListStreamsCommand':
        return { Streams: [{ StreamArn: 'arn:stream' }] };
      case 'DescribeStreamCommand':
        return { StreamDescription: { StreamStatus: 'ENABLED', Shards: this.shards } };
      case 'GetShardIteratorCommand': {
        const wanted = { ShardId: input.ShardId!, ShardIteratorType: input.ShardIteratorType!, SequenceNumber: input.SequenceNumber };
        if (
          wanted.ShardIteratorType === 'AFTER_SEQUENCE_NUMBER' &&
          this.trimmedBefore !== undefined &&
          wanted.SequenceNumber! < this.trimmedBefore
        ) {
          throw Object.assign(new Error('trimmed'), { name: 'TrimmedDataAccessException' });
        }
        this.iterators.push(wanted);
        return { ShardIterator: wanted.ShardId };
      }
      case 'GetRecordsCommand':
        if (this.failNextRead === input.ShardIterator) {
          this.failNextRead = undefined;
          throw Object.assign(new Error('connection reset (scripted)'), { name: 'ECONNRESET' });
        }
        return { Records: this.records[input.ShardIterator!] ?? [], NextShardIterator: input.ShardIterator };
      default:
        throw new Error(`unexpected ${constructor.name}`);
    }
  }

  destroy(): void {}
}

const open = (id: string): Shard => ({ ShardId: id, SequenceNumberRange: { StartingSequenceNumber: '1' } });
const closed = (id: string): Shard => ({ ShardId: id, SequenceNumberRange: { StartingSequenceNumber: '1', EndingSequenceNumber: '9' } });
const record = (key: string, sequence: string, stampedAt: number): _Record => ({
  dynamodb: { Keys: { pk: { S: key } }, SequenceNumber: sequence, ApproximateCreationDateTime: new Date(stampedAt) },
});

async function shardsOver(stream: ScriptedStream): Promise<StreamShards> {
  return StreamShards.find({
    client: undefined as unknown as DynamoDBClient,
    tableName: 'cache',
    partitionKeyName: 'pk',
    operationTimeoutMs: 1_000,
    batchSize: 1_000,
    streamsClient: stream,
  });
}

describe("a new reader resuming the last one's stream position", () => {
  const savedAt = Date.UTC(2026, 11, 2, 10, 30, 40);
  const position: StreamPosition = { shards: { busy: '0100', quiet: null }, finished: ['done'], readAt: savedAt };

  it('goes on after the last sequence read, reads a shard it found empty and a shard it never saw from their start, and skips the finished one', async () => {
    const stream = new ScriptedStream([open('busy'), open('quiet'), closed('done'), open('new')], {});
    const shards = await shardsOver(stream);
    await shards.open(position);
    expect(stream.iterators).toEqual([
      { ShardId: 'busy', ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: '0100' },
      { ShardId: 'quiet', ShardIteratorType: 'TRIM_HORIZON', SequenceNumber: undefined },
      { ShardId: 'new', ShardIteratorType: 'TRIM_HORIZON', SequenceNumber: undefined },
    ]);
  });

  it('skips in the empty shard only records stamped well before the read that found it empty, whatever their stamp is rounded to', async () => {
    const roundedToTheMinute = Date.UTC(2026, 11, 2, 10, 30, 0);
    const stream = new ScriptedStream([open('quiet'), open('new')], {
      quiet: [record('dc:old', '0001', savedAt - 10 * 60_000), record('dc:after-the-read', '0002', roundedToTheMinute)],
      new: [record('dc:in-a-new-shard', '0001', savedAt - 10 * 60_000)],
    });
    const shards = await shardsOver(stream);
    await shards.open(position);
    const read = await shards.read();
    expect(read.partitionKeys.sort()).toEqual(['dc:after-the-read', 'dc:in-a-new-shard']);
    expect(read.lost).toBe(false);
    expect(shards.position(savedAt + 1_000).shards).toEqual({ quiet: '0002', new: '0001' });
  });

  it('says a position past the stream retention is lost, and reads what is left', async () => {
    const stream = new ScriptedStream([open('busy')], { busy: [record('dc:k', '0500', savedAt)] });
    stream.trimmedBefore = '0200';
    const shards = await shardsOver(stream);
    await shards.open({ shards: { busy: '0100' }, finished: [], readAt: savedAt });
    expect(stream.iterators.at(-1)).toMatchObject({ ShardId: 'busy', ShardIteratorType: 'TRIM_HORIZON' });
    const read = await shards.read();
    expect(read).toMatchObject({ partitionKeys: ['dc:k'], lost: true });
    expect((await shards.read()).lost).toBe(false);
  });

  it('keeps what one shard read when another shard failed in the same cycle, and returns it with the next read', async () => {
    const stream = new ScriptedStream([open('a'), open('b')], { a: [record('dc:from-a', '0001', savedAt)], b: [] });
    const shards = await shardsOver(stream);
    await shards.open(undefined);
    stream.failNextRead = 'b';
    await expect(shards.read()).rejects.toThrow(/connection reset/);
    expect((await shards.read()).partitionKeys).toEqual(['dc:from-a', 'dc:from-a']);
  });

  it('without a position (the first reader of its lane), reads from now on', async () => {
    const stream = new ScriptedStream([open('a'), closed('b')], {});
    const shards = await shardsOver(stream);
    await shards.open(undefined);
    expect(stream.iterators).toEqual([{ ShardId: 'a', ShardIteratorType: 'LATEST', SequenceNumber: undefined }]);
    expect(shards.position(0)).toEqual({ shards: { a: null }, finished: ['b'], readAt: 0 });
  });
});
