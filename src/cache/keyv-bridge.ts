import { EventEmitter } from 'node:events';
import Keyv, { type KeyvStoreAdapter, type StoredData } from 'keyv';
import type { EntryOptions } from '../store/expiry.js';
import { BATCH_GET_LIMIT } from '../store/batches.js';
import type { EntryStore } from '../store/entry-store.js';
import type { KeyvCacheAccess, KeyvEntry } from './keyv-access.js';

type KeyvRecord = { value: unknown; expires?: number | null };

/**
 * Lets a Keyv read and write the same entries as the cache: Keyv, with serialization off, hands its
 * store `{ value, expires }` records, which this bridge maps to the store's own entries. So
 * `cache.stores[0].get(key)` sees what `cache.set(key, …)` wrote, as cache-manager users expect. Its
 * reads answer as the cache's do (retired entries, and what this instance owes DynamoDB), and its
 * writes are the cache's own changes for memory and auto-recovery (see KeyvCacheAccess).
 */
class KeyvBridge extends EventEmitter implements KeyvStoreAdapter {
  // Keyv reads `dialect` and `url` of any store that has an iterator.
  opts: { dialect: string; url: string };
  namespace?: string;

  constructor(
    private readonly store: EntryStore,
    private readonly cache: KeyvCacheAccess,
  ) {
    super();
    this.opts = { dialect: store.opts.dialect, url: store.opts.url };
  }

  /**
   * Every live entry of the cache as Keyv's `[key, { value, expires }]`, a page of keys at a time
   * (a Scan of the whole table, billed as `clear()` is), 100 values a BatchGetItem.
   */
  async *iterator<Value>(): AsyncGenerator<Array<string | Value | undefined>, void> {
    for await (const page of this.store.keys()) {
      for (let start = 0; start < page.length; start += BATCH_GET_LIMIT) {
        const keys = page.slice(start, start + BATCH_GET_LIMIT);
        const entries = await this.cache.readEntries(keys, () => this.store.getManyEntries<Value>(keys));
        for (let index = 0; index < keys.length; index++) {
          const entry = entries[index];
          // Keyv's type says [key, value]; with serialization off it reads the record it stores, { value, expires }.
          if (entry !== undefined) yield [keys[index]!, { value: entry.value, expires: entry.expiresAt } as Value];
        }
      }
    }
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const [entry] = await this.cache.readEntries([key], async () => [await this.store.getEntry<Value>(key)]);
    return recordOf(entry);
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    const entries = await this.cache.readEntries(keys, () => this.store.getManyEntries<Value>(keys));
    return entries.map(recordOf);
  }

  async set(key: string, record: KeyvRecord, ttl?: number): Promise<boolean> {
    return this.cache.changing([key], () => this.store.set(key, record.value, ttlOf(record, ttl)));
  }

  async setMany(entries: Array<{ key: string; value: KeyvRecord; ttl?: number }>): Promise<void> {
    const keys = entries.map((entry) => entry.key);
    await this.cache.changing(keys, () =>
      this.store.setMany(entries.map(({ key, value, ttl }) => ({ key, value: value.value, ttl: ttlOf(value, ttl) }))),
    );
  }

  delete(key: string): Promise<boolean> {
    return this.cache.changing([key], () => this.store.delete(key));
  }

  deleteMany(keys: string[]): Promise<boolean> {
    return this.cache.changing(keys, () => this.store.deleteMany(keys));
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  clear(): Promise<void> {
    return this.cache.changing(undefined, () => this.store.clear());
  }
}

const recordOf = <Value>(entry: KeyvEntry<Value> | undefined): StoredData<Value> | undefined =>
  entry && { value: entry.value, expires: entry.expiresAt };

function ttlOf(record: KeyvRecord, ttl: number | undefined): number | EntryOptions {
  // Keyv passes no ttl for "never expires"; the store would read that as "use the default".
  if (ttl !== undefined) return ttl;
  return typeof record.expires === 'number' ? { absoluteExpiration: record.expires } : 0;
}

export function keyvOver(store: EntryStore, cache: KeyvCacheAccess): Keyv {
  const bridge = new KeyvBridge(store, cache);
  // No namespace: the cache's keys are the Keyv's keys, and clear() stays the cache's whole prefix.
  const keyv = new Keyv({ store: bridge, namespace: undefined, serialize: undefined, deserialize: undefined, useKeyPrefix: false });
  // Keyv 5 attaches a store's iterator only for the adapters it lists; cache-manager users iterate
  // `cache.stores[0]`, so this one is attached here.
  keyv.iterator ??= keyv.generateIterator(bridge.iterator.bind(bridge) as never);
  return keyv;
}
