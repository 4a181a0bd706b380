import type { BackplaneMember, MemoryBound } from '../backplane/backplane-port.js';
import { DIGEST_MARKER, partitionKeyFor } from '../store/keys.js';
import type { CacheCore } from './cache-core.js';
import type { MemoryTier } from './memory-tier.js';

/**
 * This instance's memory tier of one cache, as a backplane manages it. Every piece of news goes
 * through the cache's gated memory, as this instance's own changes do. Made only for a cache with a
 * memory tier over DynamoDB: a memory-only cache's entries are no other instance's to change.
 */
export class LocalTier implements BackplaneMember {
  readonly cacheName: string;
  readonly partitionKeyPrefix: string;

  constructor(
    private readonly core: CacheCore,
    private readonly memory: MemoryTier,
  ) {
    this.cacheName = core.config.name;
    this.partitionKeyPrefix = core.config.partitionKeyPrefix;
  }

  forgetKey(key: string): void {
    if (!key.startsWith(DIGEST_MARKER)) return this.forget(key);
    // A long key is stored as its digest: the memory copies whose stored form it is are found by it.
    const partitionKey = this.partitionKeyPrefix + key;
    for (const held of [...this.memory.keys()])
      if (partitionKeyFor(this.partitionKeyPrefix, held).value === partitionKey) this.forget(held);
  }

  forgetTag(tag: string): void {
    this.core.tags.forget(tag, Date.now());
    this.core.gated.retireTaggedOnNews([tag]);
  }

  // Any tag may have changed with it (a poll backplane cannot tell which): every one is read again.
  forgetAll(): void {
    this.core.gated.retireAllOnNews();
  }

  readVersion(): Promise<number> {
    return this.core.store.readVersion();
  }

  bumpVersion(): Promise<number> {
    return this.core.store.bumpVersion();
  }

  watchWrites(listener: (() => void) | undefined): void {
    this.core.distributed.afterWrite = listener;
  }

  boundMemory(bound: MemoryBound | undefined): void {
    this.memory.maxTtlMs = bound?.maxTtlMs ?? this.memory.options.maxTtlMs;
    this.memory.vouched = bound?.keepingUp ?? NEVER_KEEPING_UP;
  }

  private forget(key: string): void {
    this.core.gated.retireKeysOnNews([key]);
    this.core.events.emitCache('cache:invalidated', key, 'memory');
  }
}

const NEVER_KEEPING_UP = () => false;
