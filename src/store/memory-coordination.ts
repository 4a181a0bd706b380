import type { StoreCoordination } from './coordination.js';
import { assertValidKey } from './keys.js';
import { expiredTagKey } from './tags.js';

/**
 * A memory-only store's leases, tag times and version counter: what DynamoDB's reserved items hold
 * across instances, held here among this process's callers.
 */
export class MemoryCoordination implements StoreCoordination {
  private readonly leases = new Map<string, { readonly owner: string; readonly until: number }>();
  private readonly tagTimes = new Map<string, number>();
  private version = 0;

  constructor(
    /** Told of each invalidation once recorded, so that the store can drop what it retired. */
    private readonly onInvalidated: (tags: readonly string[], at: number) => void,
  ) {}

  async acquireLease(key: string, owner: string, leaseMs: number): Promise<boolean> {
    assertValidKey(key);
    const now = Date.now();
    const held = this.leases.get(key);
    if (held !== undefined && held.owner !== owner && held.until > now) return false;
    this.leases.set(key, { owner, until: now + leaseMs });
    return true;
  }

  async releaseLease(key: string, owner: string): Promise<void> {
    if (this.leases.get(key)?.owner === owner) this.leases.delete(key);
  }

  async readVersion(): Promise<number> {
    return this.version;
  }

  async bumpVersion(): Promise<number> {
    return ++this.version;
  }

  async readTagTimes(tags: readonly string[]): Promise<Map<string, number>> {
    const times = new Map<string, number>();
    for (const tag of tags) {
      for (const name of [tag, expiredTagKey(tag)]) {
        const at = this.tagTimes.get(name);
        if (at !== undefined) times.set(name, at);
      }
    }
    return times;
  }

  async writeTagTimes(tags: readonly string[], at: number): Promise<void> {
    for (const tag of tags) this.tagTimes.set(tag, at);
    this.onInvalidated(tags, at);
  }

  /** Stale, not gone: nothing is dropped (fail-safe may still serve what it made stale). */
  async writeTagExpiries(tags: readonly string[], at: number): Promise<void> {
    for (const tag of tags) this.tagTimes.set(expiredTagKey(tag), Math.max(at, this.tagTimes.get(expiredTagKey(tag)) ?? at));
  }
}
