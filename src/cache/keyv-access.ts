import type { CacheEntry } from '../store/dynamo-store.js';
import { stamp } from '../store/tags.js';
import type { CacheCore } from './cache-core.js';
import { owedView } from './owed-reads.js';

/** An entry as the keyv view hands it on: its value and the instant it expires. */
export interface KeyvEntry<T> {
  readonly value: T;
  readonly expiresAt?: number;
}

/**
 * What the keyv view (`cache.stores[0]`, see keyv-bridge.ts) needs of its cache, so that its reads
 * and writes keep the cache's rules instead of going around them.
 */
export interface KeyvCacheAccess {
  /**
   * Entries as the cache would serve them: none that an invalidation retired or an expiry made stale,
   * and what this instance owes DynamoDB laid over what `read` found (see owed-reads.ts). `read` is
   * the store's own call, whose failure rejects, as keyv expects; so does a failed read of tag times.
   */
  readEntries<T>(keys: readonly string[], read: () => Promise<Array<CacheEntry<T> | undefined>>): Promise<Array<KeyvEntry<T> | undefined>>;
  /**
   * One of the view's writes (`keys` undefined: its `clear()`, every key): this instance's memory
   * forgets the keys before it is sent and once it is done, as after the cache's own writes; once it
   * landed, what this instance owed DynamoDB for them from before is moot (sent later, an owed value
   * would land over what the view deleted).
   */
  changing<R>(keys: readonly string[] | undefined, write: () => Promise<R>): Promise<R>;
}

export class KeyvAccess implements KeyvCacheAccess {
  constructor(private readonly core: CacheCore) {}

  async readEntries<T>(
    keys: readonly string[],
    read: () => Promise<Array<CacheEntry<T> | undefined>>,
  ): Promise<Array<KeyvEntry<T> | undefined>> {
    const { core } = this;
    const startedAt = stamp();
    const owedAtStart = keys.map((key) => core.recovery?.owedFor(key));
    const views = (await read()).map((found, at) => owedView(core, keys[at]!, owedAtStart[at], found, { allowStale: false }));
    const live = await core.invalidation.withoutRetired(
      views.map((view) => view.found),
      startedAt,
    );
    if (live === undefined) throw new Error(`Reading the invalidation times of cache entries in table "${core.config.tableName}" failed.`);
    return views.map(({ answered }, at) => {
      if (answered !== undefined) return answered.kind === 'hit' ? { value: answered.value, expiresAt: answered.expiresAt } : undefined;
      const entry = live[at];
      return entry && { value: entry.value, expiresAt: entry.expiresAt };
    });
  }

  async changing<R>(keys: readonly string[] | undefined, write: () => Promise<R>): Promise<R> {
    const { gated, recovery } = this.core;
    const forget = () => (keys === undefined ? gated.retireAll() : gated.retireKeys(keys));
    // Before it is sent, and again once done: a read begun meanwhile may have fetched what it replaced.
    forget();
    const at = stamp();
    let result: R;
    try {
      result = await write();
    } finally {
      forget();
    }
    if (keys === undefined) recovery?.settledAll(at);
    else recovery?.settled(keys, at);
    return result;
  }
}
