import { type AttributeValue, DeleteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { Packr } from 'msgpackr';
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { apiResponse } from '../../bench/api-response.js';
import type { CapacityRecord } from '../../src/store/capacity.js';
import { CHUNK_PAYLOAD_BYTES } from '../../src/store/chunks.js';
import { Compression } from '../../src/store/compression.js';
import { DynamoStore, type DynamoStoreOptions } from '../../src/entries/store.js';
import { InvalidOptionError, SerializationError } from '../../src/store/errors.js';
import { memoryLogger, recordCommands, useCacheTable, cacheTableAttributes } from '../support/dynamo.js';
import { itemsUnder as rawItemsUnder } from './raw-items.js';

const { client, tableName } = useCacheTable('large');
let logger = memoryLogger();

function storeWith(options: Partial<DynamoStoreOptions> = {}) {
  return new DynamoStore({ tableName, client, ...cacheTableAttributes, logger, ...options });
}

afterEach(() => {
  client.middlewareStack.remove('recordCommands');
  client.middlewareStack.remove('failHeadWrite');
  logger = memoryLogger();
});

type Item = Record<string, AttributeValue>;

async function rawItem(pk: string): Promise<Item | undefined> {
  return (await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: pk } }, ConsistentRead: true }))).Item;
}

const itemsUnder = (prefix: string) => rawItemsUnder(client, tableName, prefix);

/** Random bytes do not compress, so a value of them is chunked at its full size. */
const incompressible = (bytes: number) => randomBytes(bytes);
const MiB = 1024 * 1024;

describe('compression', () => {
  it('stores a 10 KB JSON response brotli-compressed to under a third of its bytes, and reads it back equal', async () => {
    const store = storeWith({ partitionKeyPrefix: 'z1:' });
    const value = apiResponse(10 * 1024);
    await store.set('users', value);
    const item = await rawItem('z1:users');
    expect(item!.z!.N).toBe(String(Compression.Brotli));
    expect(item!.v!.B!.byteLength).toBeLessThan(JSON.stringify(value).length / 3);
    expect(await store.get('users')).toEqual(value);
  });

  it('leaves a value under the threshold as it is', async () => {
    const store = storeWith({ partitionKeyPrefix: 'z2:' });
    await store.set('small', { id: 1, name: 'x'.repeat(900) });
    const item = await rawItem('z2:small');
    expect(item!.z).toBeUndefined();
    expect(JSON.parse(Buffer.from(item!.v!.B!).toString())).toEqual({ id: 1, name: 'x'.repeat(900) });
  });

  it('stores incompressible bytes as they are rather than larger', async () => {
    const store = storeWith({ partitionKeyPrefix: 'z3:' });
    const bytes = incompressible(100 * 1024);
    await store.set('image', bytes);
    const item = await rawItem('z3:image');
    expect(item!.z).toBeUndefined();
    expect(Buffer.compare(Buffer.from(item!.v!.B!), bytes)).toBe(0);
    expect(Buffer.compare((await store.get<Buffer>('image'))!, bytes)).toBe(0);
  });

  it('reads items written with or without compression whatever its own setting (deflate, brotli, off)', async () => {
    const value = apiResponse(20 * 1024);
    const writers = {
      brotli: storeWith({ partitionKeyPrefix: 'z4:' }),
      deflate: storeWith({ partitionKeyPrefix: 'z4:', compression: { algorithm: 'deflate', level: 6 } }),
      off: storeWith({ partitionKeyPrefix: 'z4:', compression: false }),
    };
    for (const [name, writer] of Object.entries(writers)) await writer.set(name, value);
    expect((await rawItem('z4:deflate'))!.z!.N).toBe(String(Compression.Deflate));
    expect((await rawItem('z4:off'))!.z).toBeUndefined();
    for (const reader of Object.values(writers)) {
      expect(await reader.getMany(['brotli', 'deflate', 'off'])).toEqual([value, value, value]);
    }
  });

  it('reads an item whose compressed bytes are corrupt as a miss with a warning, and leaves it', async () => {
    const store = storeWith({ partitionKeyPrefix: 'z5:' });
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { pk: { S: 'z5:bad' }, v: { B: Buffer.from('not brotli at all') }, z: { N: '2' } },
      }),
    );
    expect(await store.get('bad')).toBeUndefined();
    expect(logger.warnings.join('\n')).toMatch(/"z5:bad".*does not inflate/);
    expect(await rawItem('z5:bad')).toBeDefined();
  });

  it('stops inflating a foreign item at the largest value any store accepts, and reads it as a miss', async () => {
    const store = storeWith({ partitionKeyPrefix: 'z6:' });
    // 40 MiB of zeros compress to a few hundred bytes: a bomb, were the reader to inflate it whole.
    const bomb = zlib.brotliCompressSync(Buffer.alloc(40 * MiB), { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } });
    await client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'z6:bomb' }, v: { B: bomb }, z: { N: '2' } } }));
    expect(await store.get('bomb')).toBeUndefined();
    expect(logger.warnings.join('\n')).toMatch(/"z6:bomb".*does not inflate.*(buffer|length|larger)/i);
  });

  it.each([
    [{ algorithm: 'zstd' }, 'compression.algorithm'],
    [{ level: 12 }, 'compression.level'],
    [{ algorithm: 'deflate', level: 0 }, 'compression.level'],
    [{ threshold: -1 }, 'compression.threshold'],
    ['yes', 'compression'],
  ])('refuses compression option %j, naming %s', (compression, option) => {
    expect(() => storeWith({ compression: compression as never })).toThrow(InvalidOptionError);
    expect(() => storeWith({ compression: compression as never })).toThrow(new RegExp(`"${option.replace('.', '\\.')}"|${option} `));
  });
});

describe('values past 400 KB', () => {
  it('stores a 2 MB value as chunk items under a small head, and reads it with one GetItem and one BatchGetItem', async () => {
    const store = storeWith({ partitionKeyPrefix: 'c1:' });
    const value = incompressible(2 * MiB);
    await store.set('blob', value, 60_000);
    const items = await itemsUnder('c1:');
    const head = items.find((item) => item.pk!.S === 'c1:blob')!;
    const chunks = items.filter((item) => item.pk!.S!.startsWith('c1:#chunk:'));
    expect(head.v).toBeUndefined();
    expect(Number(head.ch!.N)).toBe(Math.ceil((2 * MiB) / CHUNK_PAYLOAD_BYTES));
    expect(chunks).toHaveLength(Number(head.ch!.N));
    // Orphaned chunks expire with the head.
    for (const chunk of chunks) expect(chunk.ttl!.N).toBe(head.ttl!.N);

    const sent = recordCommands(client);
    expect(Buffer.compare((await store.get<Buffer>('blob'))!, value)).toBe(0);
    expect(sent).toEqual(['GetItemCommand', 'BatchGetItemCommand']);
  });

  it('compresses before chunking: 2 MB of JSON fits one item', async () => {
    const store = storeWith({ partitionKeyPrefix: 'c2:' });
    const value = apiResponse(2 * MiB);
    await store.set('report', value);
    expect(await itemsUnder('c2:#chunk:')).toHaveLength(0);
    expect(await store.get('report')).toEqual(value);
  });

  it('getMany returns chunked and single-item values together, fetching every chunk in one more batch', async () => {
    const store = storeWith({ partitionKeyPrefix: 'c3:' });
    const large = [incompressible(900 * 1024), incompressible(1200 * 1024)];
    await store.setMany([
      { key: 'a', value: large[0] },
      { key: 'b', value: 'small' },
      { key: 'c', value: large[1] },
    ]);
    const sent = recordCommands(client);
    const [a, b, c, missing] = await store.getMany<Buffer | string>(['a', 'b', 'c', 'none']);
    expect(Buffer.compare(a as Buffer, large[0]!)).toBe(0);
    expect(b).toBe('small');
    expect(Buffer.compare(c as Buffer, large[1]!)).toBe(0);
    expect(missing).toBeUndefined();
    expect(sent).toEqual(['BatchGetItemCommand', 'BatchGetItemCommand']);
  });

  it('deletes the chunks an overwrite replaces', async () => {
    const store = storeWith({ partitionKeyPrefix: 'c4:' });
    await store.set('blob', incompressible(800 * 1024));
    const first = (await itemsUnder('c4:#chunk:')).map((item) => item.pk!.S);
    const second = incompressible(500 * 1024);
    await store.set('blob', second);
    const now = (await itemsUnder('c4:#chunk:')).map((item) => item.pk!.S);
    expect(now).toHaveLength(2);
    expect(now.some((key) => first.includes(key))).toBe(false);
    expect(Buffer.compare((await store.get<Buffer>('blob'))!, second)).toBe(0);
  });

  it('never gives a reader a mix of two writes while the value is overwritten again and again', async () => {
    const writer = storeWith({ partitionKeyPrefix: 'c5:' });
    const reader = storeWith({ partitionKeyPrefix: 'c5:' });
    const versions = Array.from({ length: 4 }, () => incompressible(700 * 1024));
    await writer.set('hot', versions[0]);
    let writing = true;
    const writes = (async () => {
      for (let round = 1; round < 12; round++) await writer.set('hot', versions[round % versions.length]);
      writing = false;
    })();
    let reads = 0;
    while (writing) {
      const read = await reader.get<Buffer>('hot');
      reads++;
      // A read may miss while an overwrite deletes what it was reading, but never returns mixed bytes.
      if (read !== undefined) expect(versions.some((version) => Buffer.compare(version, read) === 0)).toBe(true);
    }
    await writes;
    expect(reads).toBeGreaterThan(0);
  });

  it('keeps the previous value readable when the head write fails after the chunks landed', async () => {
    const store = storeWith({ partitionKeyPrefix: 'c6:' });
    const previous = incompressible(600 * 1024);
    await store.set('doc', previous, 60_000);
    // DynamoDB Local cannot fail one chosen call, so a middleware drops the head's PutItem as a lost connection would.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutItemCommand') throw Object.assign(new Error('socket hang up'), { name: 'NetworkError' });
        return next(args);
      },
      { step: 'initialize', name: 'failHeadWrite' },
    );
    await expect(store.set('doc', incompressible(900 * 1024), 60_000)).rejects.toThrow(/socket hang up/);
    client.middlewareStack.remove('failHeadWrite');
    expect(Buffer.compare((await store.get<Buffer>('doc'))!, previous)).toBe(0);
    // The new write's chunks are orphans with a TTL, so DynamoDB deletes them.
    const chunks = await itemsUnder('c6:#chunk:');
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) expect(chunk.ttl?.N).toBeDefined();
  });

  it.each([
    [
      'a missing chunk',
      async (key: string) => client.send(new DeleteItemCommand({ TableName: tableName, Key: { pk: { S: key } } })),
      /chunks are missing/,
    ],
    [
      'a chunk whose value is not binary',
      async (key: string) => client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: key }, v: { S: 'text' } } })),
      /chunk 1 has no binary value/,
    ],
    [
      'a chunk cut short',
      async (key: string) =>
        client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: key }, v: { B: Buffer.from('short') } } })),
      /chunks hold \d+ bytes where the head names \d+/,
    ],
  ])('reads a head with %s as a miss with a warning', async (_case, damage, warning) => {
    const prefix = `c7${randomBytes(3).toString('hex')}:`;
    const store = storeWith({ partitionKeyPrefix: prefix });
    await store.set('blob', incompressible(700 * 1024));
    const chunkKey = (await itemsUnder(`${prefix}#chunk:`)).map((item) => item.pk!.S!).find((key) => key.endsWith(':1'))!;
    await damage(chunkKey);
    expect(await store.get('blob')).toBeUndefined();
    expect(await store.getMany(['blob'])).toEqual([undefined]);
    expect(logger.warnings.join('\n')).toMatch(warning);
  });

  it('reads a head whose chunk reference is malformed as a miss with a warning', async () => {
    const store = storeWith({ partitionKeyPrefix: 'c8:' });
    await client.send(
      new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'c8:x' }, ch: { N: '5000' }, cb: { N: '1' }, cid: { S: '../../etc' } } }),
    );
    expect(await store.get('x')).toBeUndefined();
    expect(logger.warnings.join('\n')).toMatch(/chunk reference .* is malformed/);
  });

  it('lets no caller key address a chunk item', async () => {
    const store = storeWith({ partitionKeyPrefix: 'c9:' });
    await store.set('blob', incompressible(500 * 1024));
    const chunkKey = (await itemsUnder('c9:#chunk:'))[0]!.pk!.S!.slice('c9:'.length);
    expect(await store.get(chunkKey)).toBeUndefined();
    await store.set(chunkKey, 'overwrite?');
    expect((await rawItem(`c9:${chunkKey}`))!.v!.B!.byteLength).toBeGreaterThan(1000);
    expect([...(await collect(store.keys()))]).toEqual(['blob']);
  });

  it('clear() deletes the chunks with their heads', async () => {
    const store = storeWith({ partitionKeyPrefix: 'c10:' });
    await store.set('blob', incompressible(500 * 1024));
    await store.clear();
    expect(await itemsUnder('c10:')).toHaveLength(0);
  });
});

async function collect(pages: AsyncGenerator<string[]>): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of pages) keys.push(...page);
  return keys;
}

describe('a custom serializer', () => {
  const packr = new Packr({ moreTypes: true });
  const msgpack = {
    name: 'msgpackr',
    serialize: (value: unknown) => packr.pack(value),
    deserialize: (bytes: Uint8Array) => packr.unpack(bytes),
  };

  it('writes with it, names it in the item, and reads back exact types', async () => {
    const store = storeWith({ partitionKeyPrefix: 's1:', serializer: msgpack });
    const value = { at: new Date('2026-01-02T03:04:05Z'), tags: new Set(['a', 'b']), count: 3 };
    await store.set('packed', value);
    const item = await rawItem('s1:packed');
    expect(item!.sz!.S).toBe('msgpackr');
    expect(await store.get('packed')).toEqual(value);
  });

  it('reads an item written by another serializer, or by none, as a miss with a warning naming it', async () => {
    await storeWith({ partitionKeyPrefix: 's2:', serializer: msgpack }).set('packed', { a: 1 });
    expect(await storeWith({ partitionKeyPrefix: 's2:' }).get('packed')).toBeUndefined();
    expect(await storeWith({ partitionKeyPrefix: 's2:', serializer: { ...msgpack, name: 'cbor' } }).get('packed')).toBeUndefined();
    expect(logger.warnings.join('\n')).toMatch(/serializer "msgpackr" and none is configured[\s\S]*serializer "msgpackr", not "cbor"/);
  });

  it('turns a serializer that throws or returns no bytes into a SerializationError, and writes nothing', async () => {
    const throwing = storeWith({
      partitionKeyPrefix: 's3:',
      serializer: {
        ...msgpack,
        serialize: () => {
          throw new Error('no');
        },
      },
    });
    await expect(throwing.set('k', 1)).rejects.toThrow(SerializationError);
    await expect(throwing.set('k', 1)).rejects.toThrow(/serializer "msgpackr" refused the value \(no\)/);
    const wrongType = storeWith({ partitionKeyPrefix: 's3:', serializer: { ...msgpack, serialize: () => 'text' as never } });
    await expect(wrongType.set('k', 1)).rejects.toThrow(/returned a string, not a Uint8Array/);
    expect(await rawItem('s3:k')).toBeUndefined();
  });

  it('refuses a serializer without a name or methods at construction', () => {
    expect(() => storeWith({ serializer: { serialize: msgpack.serialize } as never })).toThrow(/"serializer"/);
  });
});

describe('consumed capacity', () => {
  it('counts the read and write units DynamoDB reports, and reports each call', async () => {
    const store = storeWith({ partitionKeyPrefix: 'u1:', returnConsumedCapacity: true });
    const records: CapacityRecord[] = [];
    store.on('capacity', (record: CapacityRecord) => records.push(record));
    await store.set('doc', apiResponse(30 * 1024));
    const afterWrite = store.capacity;
    expect(afterWrite.writeUnits).toBeGreaterThanOrEqual(1);
    // 30 KB of JSON compresses to a few KB: a handful of write units, not 30.
    expect(afterWrite.writeUnits).toBeLessThan(10);
    await store.get('doc');
    expect(store.capacity.readUnits).toBeGreaterThan(0);
    expect(records.map((record) => record.operation)).toEqual(['PutItem', 'GetItem']);
    expect(records[0]!.tableName).toBe(tableName);
    // Batches answer one ConsumedCapacity per table; they are counted too.
    const beforeBatch = store.capacity;
    await store.setMany([
      { key: 'b1', value: 1 },
      { key: 'b2', value: 2 },
    ]);
    await store.getMany(['b1', 'b2']);
    expect(records.slice(2).map((record) => record.operation)).toEqual(['BatchWriteItem', 'BatchGetItem']);
    expect(store.capacity.writeUnits - beforeBatch.writeUnits).toBeGreaterThanOrEqual(2);
    expect(store.capacity.readUnits - beforeBatch.readUnits).toBeGreaterThan(0);
  });

  it('asks for nothing and counts nothing by default', async () => {
    const store = storeWith({ partitionKeyPrefix: 'u2:' });
    const asked: unknown[] = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        asked.push((args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity);
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
    await store.set('a', 1);
    await store.get('a');
    expect(asked).toEqual([undefined, undefined]);
    expect(store.capacity).toEqual({ readUnits: 0, writeUnits: 0 });
  });
});
