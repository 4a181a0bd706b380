import { describe, expect, it } from 'vitest';
import { DynamoCache } from '../../src/index.js';
import { DynamoStore } from '../../src/entries/store.js';
import { memoryLogger, useCacheTable, cacheTableAttributes } from '../support/dynamo.js';

// Bytes are mutable: a cache that kept the caller's Buffer, or handed every reader a view of the
// same bytes, would let one caller's change show up in every later read.
const { client, tableName } = useCacheTable('copies');

/** A cache with its default options, so the memory tier is on. */
const cacheUnder = (prefix: string) =>
  new DynamoCache(new DynamoStore({ tableName, client, ...cacheTableAttributes, partitionKeyPrefix: prefix, logger: memoryLogger() }));

type Shape = 'Buffer' | 'Uint8Array' | 'Buffer in an object';
const valueOf = (shape: Shape, bytes: number[]): unknown =>
  shape === 'Buffer' ? Buffer.from(bytes) : shape === 'Uint8Array' ? new Uint8Array(bytes) : { name: 'avatar', image: Buffer.from(bytes) };
const bytesOf = (shape: Shape, value: unknown): Uint8Array =>
  shape === 'Buffer in an object' ? (value as { image: Buffer }).image : (value as Uint8Array);

describe.each<Shape>(['Buffer', 'Uint8Array', 'Buffer in an object'])('a stored %s', (shape) => {
  it('keeps the bytes it was given at set, and hands each get a copy of its own', async () => {
    const cache = cacheUnder(`c1${shape.length}:`);
    const value = valueOf(shape, [1, 2, 3, 4]);
    await cache.set('avatar', value);
    bytesOf(shape, value).fill(9);

    const first = await cache.get('avatar');
    const second = await cache.get('avatar');
    expect(Array.from(bytesOf(shape, first))).toEqual([1, 2, 3, 4]);
    bytesOf(shape, first).fill(7);

    expect(Array.from(bytesOf(shape, second))).toEqual([1, 2, 3, 4]);
    const third = await cache.get('avatar');
    expect(Array.from(bytesOf(shape, third))).toEqual([1, 2, 3, 4]);
    expect(bytesOf(shape, third)).toBeInstanceOf(shape === 'Uint8Array' ? Uint8Array : Buffer);
  });

  it('hands out copies when the value was read from DynamoDB into an empty memory tier', async () => {
    const prefix = `c2${shape.length}:`;
    await cacheUnder(prefix).set('avatar', valueOf(shape, [5, 6, 7]));
    const reader = cacheUnder(prefix);

    const first = await reader.get('avatar');
    bytesOf(shape, first).fill(0);
    const second = await reader.get('avatar');
    expect(Array.from(bytesOf(shape, second))).toEqual([5, 6, 7]);
    bytesOf(shape, second).fill(0);
    expect(Array.from(bytesOf(shape, await reader.get('avatar')))).toEqual([5, 6, 7]);
  });
});
