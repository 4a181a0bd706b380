/**
 * One cache as a backplane manages it: its memory tier, addressed by key. Caches implement it and
 * register with the backplane; the backplane knows nothing else of them, so imports run one way
 * (cache/ → backplane/). Every method is about this instance's memory: DynamoDB holds the truth.
 */
export interface BackplaneMember {
  readonly cacheName: string;
  readonly partitionKeyPrefix: string;
  /**
   * Another instance changed the key (as stored after the prefix: a digest for a long key): memory
   * drops its copy, a `cache:invalidated` event each.
   */
  forgetKey(key: string): void;
  /**
   * Another instance invalidated the tag (`CLEARED_TAG`: cleared the cache): memory drops the entries
   * that carry it, and reads its time again when next needed.
   */
  forgetTag(tag: string): void;
  /** Every entry and every tag of the cache may have changed: memory drops them all. */
  forgetAll(): void;
  /** The poll backplane's version item of this cache (see `DynamoStore.readVersion`). */
  readVersion(): Promise<number>;
  bumpVersion(): Promise<number>;
  /** `listener` is told after each of this cache's writes that reached DynamoDB; undefined: nobody is. */
  watchWrites(listener: (() => void) | undefined): void;
  /** How long memory may serve an entry while the backplane keeps up; undefined restores `memory.maxTtl` alone. */
  boundMemory(bound: MemoryBound | undefined): void;
}

export interface MemoryBound {
  readonly maxTtlMs: number;
  /** Asked at each hit past `memory.maxTtl`: whether the backplane still keeps up. */
  readonly keepingUp: (now: number) => boolean;
}
