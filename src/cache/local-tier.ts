import type { LocalTier } from '../backplane/backplane-port.js';
import { partitionKeyFor } from '../store/keys.js';
import { MemoryStore } from '../store/memory-store.js';
import type { CacheCore } from './cache-core.js';

/**
 * A cache as a backplane drives it: undefined without a memory tier, or for a memory-only cache,
 * whose entries no other instance shares (nothing to keep coherent). Every piece of news goes
 * through the cache's gated memory, as this instance's own changes do.
 */
export function localTierOf(core: CacheCore): LocalTier | undefined {
  const { memory, gated, config, store } = core;
  if (memory === undefined || store instanceof MemoryStore) return undefined;
  const prefix = config.partitionKeyPrefix;
  const invalidate = (key: string) => {
    gated.retireKeys([key]);
    core.events.emitCache('cache:invalidated', key, 'memory');
  };
  return {
    cacheName: config.name,
    partitionKeyPrefix: prefix,
    invalidate,
    invalidateDigest: (partitionKey) => {
      for (const key of [...memory.keys()]) if (partitionKeyFor(prefix, key).value === partitionKey) invalidate(key);
    },
    // Any tag may have changed with it (a poll backplane cannot tell which): every one is read again.
    clear: () => gated.retireAll(),
    invalidateTag: (tag) => {
      core.tags.forget(tag, Date.now());
      gated.retireTagged(new Map([[tag, undefined]]));
    },
    readVersion: () => store.readVersion(),
    bumpVersion: () => store.bumpVersion(),
    watchWrites: (listener) => {
      core.distributed.afterWrite = listener;
    },
    setBound: (maxTtlMs, vouched) => {
      memory.maxTtlMs = maxTtlMs ?? memory.options.maxTtlMs;
      memory.vouched = (maxTtlMs !== undefined && vouched) || (() => false);
    },
  };
}
