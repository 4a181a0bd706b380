import { type AttributeValue, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { batchGetAll } from '../store/batches.js';
import { conditionHeld } from '../store/conditional-write.js';
import type { ReservedItemAccess } from '../store/coordination.js';
import { ttlSecondsFor } from '../store/expiry.js';
import { ITEM_ATTRIBUTES, itemKey } from '../store/item-codec.js';
import type { JournalEntry, JournalHead } from './journal.js';
import type { StreamPosition } from './stream-shards.js';

type Item = Record<string, AttributeValue>;
interface Condition {
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  readonly ExpressionAttributeValues?: Item;
}

const A = ITEM_ATTRIBUTES;
/** How long an entry stays readable: a follower further behind than this has cleared its memory anyway (past `maxLag`). */
const ENTRY_RETENTION_MS = 60 * 60_000;
/** The stream keeps records 24 h: a saved position older than that cannot be resumed. */
const POSITION_RETENTION_MS = 48 * 60 * 60_000;
const HEAD_RETENTION_MS = 7 * 24 * 60 * 60_000;

const n = (value: number): AttributeValue => ({ N: String(value) });
const num = (item: Item, name: string): number => Number(item[name]?.N ?? 0);

/**
 * The journal's items in the table, under the default cache's reserved key space, where no caller's
 * key reaches: `<prefix>#bp:<lane>` (the head), `<prefix>#bp:<lane>:<seq>` (an entry) and
 * `<prefix>#bp:<lane>:position` (where the lane's reader is in the stream). Every read is strongly
 * consistent: an entry read stale could be an older term's, and a head read stale hides news.
 */
export class JournalTable {
  private readonly base: string;

  constructor(private readonly access: ReservedItemAccess) {
    this.base = access.journalPrefix;
  }

  /** This journal's items come back through the stream too, and no instance needs news of them. */
  isJournalItem(partitionKey: string): boolean {
    return partitionKey.startsWith(this.base);
  }

  /**
   * The heads of `lanes` lanes and, in the same BatchGetItem, the entries a follower expects next:
   * one request per interval in the common case, whatever the number of caches or shards.
   */
  async readHeads(
    lanes: number,
    expected: ReadonlyArray<{ lane: number; seq: number }>,
  ): Promise<{
    heads: Array<JournalHead | undefined>;
    entries: JournalEntry[][];
  }> {
    const keys = [
      ...Array.from({ length: lanes }, (_, lane) => this.headKey(lane)),
      ...expected.map(({ lane, seq }) => this.entryKey(lane, seq)),
    ];
    const items = await this.batchGet(keys);
    const heads = Array.from({ length: lanes }, (_, lane) => {
      const item = items.get(this.headKey(lane));
      return item === undefined ? undefined : decodeHead(item);
    });
    const entries = Array.from({ length: lanes }, () => [] as JournalEntry[]);
    for (const { lane, seq } of expected) {
      const item = items.get(this.entryKey(lane, seq));
      if (item !== undefined) entries[lane]!.push(decodeEntry(item));
    }
    return { heads, entries };
  }

  async readEntries(lane: number, seqs: readonly number[]): Promise<JournalEntry[]> {
    const items = await this.batchGet(seqs.map((seq) => this.entryKey(lane, seq)));
    return [...items.values()].map(decodeEntry);
  }

  /**
   * Takes a lane whose lease has lapsed (or that has no head yet): one conditional write, so that
   * of many followers that saw it lapse one wins. The new term continues the lane's numbering.
   */
  async takeLane(lane: number, observed: JournalHead | undefined, owner: string, leaseMs: number): Promise<JournalHead | undefined> {
    const now = Date.now();
    const head: JournalHead = {
      owner,
      // Past every term before it, even one whose head expired (after a week unread) while its entries had not.
      term: Math.max((observed?.term ?? 0) + 1, now),
      leaseUntil: now + leaseMs,
      seq: observed?.seq ?? 0,
      through: observed?.through ?? 0,
      publishedAt: observed?.publishedAt ?? 0,
      termStart: observed?.seq ?? 0,
    };
    const condition: Condition =
      observed === undefined
        ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': this.access.schema.partitionKeyName } }
        : {
            ConditionExpression: '#term = :term AND #lease < :now',
            ExpressionAttributeNames: { '#term': A.journalTerm, '#lease': A.journalLeaseUntil },
            ExpressionAttributeValues: { ':term': n(observed.term), ':now': n(now) },
          };
    return (await this.conditionalPut(this.headItem(lane, head), condition)) ? head : undefined;
  }

  /**
   * The reader's cycle made public: its entry (when it read anything) and then its head, each written
   * only under the reader's own term. False when the lease was taken by another instance.
   */
  async publish(lane: number, head: JournalHead, entry: JournalEntry | undefined): Promise<boolean> {
    if (entry !== undefined) {
      const written = await this.conditionalPut(
        {
          ...itemKey(this.access.schema, this.entryKey(lane, entry.seq)),
          [A.journalSeq]: n(entry.seq),
          [A.journalTerm]: n(entry.term),
          [A.journalKeys]: { S: JSON.stringify(entry.keys) },
          [A.journalClear]: { S: JSON.stringify(entry.clear) },
          [this.access.schema.ttlAttributeName]: n(ttlSecondsFor(Date.now() + ENTRY_RETENTION_MS)),
        },
        {
          // A replaced reader's late entry must not overwrite its successor's at the same number; a
          // reader's own, from a publication whose head write failed, it rewrites.
          ConditionExpression: 'attribute_not_exists(#pk) OR #term <= :term',
          ExpressionAttributeNames: { '#pk': this.access.schema.partitionKeyName, '#term': A.journalTerm },
          ExpressionAttributeValues: { ':term': n(entry.term) },
        },
      );
      if (!written) return false;
    }
    return this.conditionalPut(this.headItem(lane, head), this.ownTerm(head));
  }

  /** Lets the lane go at once (shutdown): the next follower to read its head takes it. */
  async release(lane: number, head: JournalHead): Promise<void> {
    await this.conditionalPut(this.headItem(lane, { ...head, leaseUntil: 0 }), this.ownTerm(head));
  }

  async readPosition(lane: number): Promise<{ term: number; position: StreamPosition } | undefined> {
    const output = await this.access.sender.send(
      new GetItemCommand({
        TableName: this.access.tableName,
        Key: itemKey(this.access.schema, this.positionKey(lane)),
        ConsistentRead: true,
      }),
    );
    const saved = output.Item?.[A.journalPosition]?.S;
    if (saved === undefined) return undefined;
    return { term: num(output.Item!, A.journalTerm), position: JSON.parse(saved) as StreamPosition };
  }

  /** Saved after the head that covers it, so that a successor re-reads rather than misses. An older term cannot overwrite it. */
  async savePosition(lane: number, term: number, position: StreamPosition): Promise<void> {
    // An older term's save loses to the newer one already there.
    await conditionHeld(() =>
      this.access.sender.send(
        new UpdateItemCommand({
          TableName: this.access.tableName,
          Key: itemKey(this.access.schema, this.positionKey(lane)),
          UpdateExpression: 'SET #term = :term, #pos = :pos, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#term) OR #term <= :term',
          ExpressionAttributeNames: { '#term': A.journalTerm, '#pos': A.journalPosition, '#ttl': this.access.schema.ttlAttributeName },
          ExpressionAttributeValues: {
            ':term': n(term),
            ':pos': { S: JSON.stringify(position) },
            ':ttl': n(ttlSecondsFor(Date.now() + POSITION_RETENTION_MS)),
          },
        }),
      ),
    );
  }

  private ownTerm(head: JournalHead) {
    return {
      ConditionExpression: '#own = :own AND #term = :term',
      ExpressionAttributeNames: { '#own': A.journalOwner, '#term': A.journalTerm },
      ExpressionAttributeValues: { ':own': { S: head.owner }, ':term': n(head.term) },
    };
  }

  private headItem(lane: number, head: JournalHead): Item {
    return {
      ...itemKey(this.access.schema, this.headKey(lane)),
      [A.journalOwner]: { S: head.owner },
      [A.journalTerm]: n(head.term),
      [A.journalLeaseUntil]: n(head.leaseUntil),
      [A.journalSeq]: n(head.seq),
      [A.journalThrough]: n(head.through),
      [A.journalPublishedAt]: n(head.publishedAt),
      [A.journalTermStart]: n(head.termStart),
      [this.access.schema.ttlAttributeName]: n(ttlSecondsFor(Date.now() + HEAD_RETENTION_MS)),
    };
  }

  private async conditionalPut(item: Item, condition: Condition): Promise<boolean> {
    return conditionHeld(() => this.access.sender.send(new PutItemCommand({ TableName: this.access.tableName, Item: item, ...condition })));
  }

  private async batchGet(partitionKeys: readonly string[]): Promise<Map<string, Item>> {
    const { sender, tableName, schema, batchRetry } = this.access;
    const items = await batchGetAll(
      sender,
      tableName,
      partitionKeys.map((key) => itemKey(schema, key)),
      true,
      batchRetry,
    );
    return new Map(items.map((item) => [item[schema.partitionKeyName]!.S!, item]));
  }

  private headKey(lane: number): string {
    return `${this.base}${lane}`;
  }

  private entryKey(lane: number, seq: number): string {
    return `${this.base}${lane}:${seq}`;
  }

  private positionKey(lane: number): string {
    return `${this.base}${lane}:position`;
  }
}

function decodeHead(item: Item): JournalHead {
  return {
    owner: item[A.journalOwner]?.S ?? '',
    term: num(item, A.journalTerm),
    leaseUntil: num(item, A.journalLeaseUntil),
    seq: num(item, A.journalSeq),
    through: num(item, A.journalThrough),
    publishedAt: num(item, A.journalPublishedAt),
    termStart: num(item, A.journalTermStart),
  };
}

function decodeEntry(item: Item): JournalEntry {
  return {
    seq: num(item, A.journalSeq),
    term: num(item, A.journalTerm),
    keys: JSON.parse(item[A.journalKeys]?.S ?? '[]') as string[],
    clear: JSON.parse(item[A.journalClear]?.S ?? '[]') as string[],
  };
}
