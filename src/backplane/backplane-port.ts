/**
 * What a backplane drives of one cache: its memory tier, addressed by key. Caches implement it and
 * register with the backplane; the backplane knows nothing else of them, so imports run one way
 * (cache/ → backplane/).
 */
export interface LocalTier {
  readonly cacheName: string;
  readonly partitionKeyPrefix: string;
  /** Another instance changed the key: drop this instance's copy (a `cache:invalidated` event). */
  invalidate(key: string): void;
  /** As `invalidate`, for a key stored in digest form (a long key), found by its partition key. */
  invalidateDigest(partitionKey: string): void;
  /** Every entry and every tag of the cache may have changed: memory drops them all. */
  clear(): void;
  /**
   * Another instance invalidated the tag (`''`: cleared the cache): memory drops the entries that carry
   * it, and reads its time again when next needed.
   */
  invalidateTag(tag: string): void;
  /** The poll backplane's version item of this cache (see `DynamoStore.readVersion`). */
  readVersion(): Promise<number>;
  bumpVersion(): Promise<number>;
  /** `listener` is told after each of this cache's writes that reached DynamoDB. */
  watchWrites(listener: () => void): void;
  /**
   * How long memory may serve an entry, and the check, made at each hit past `memory.maxTtl`, that
   * the backplane is still keeping up; undefined restores `memory.maxTtl` alone.
   */
  setBound(maxTtlMs: number | undefined, vouched?: (now: number) => boolean): void;
}
