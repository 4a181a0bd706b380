import { CLEARED_TAG } from '../store/tags.js';

/**
 * A change this instance acknowledged while DynamoDB could not take it (circuit open, or the call
 * failed with `throwOnErrors` off). `madeAt` is the change's stamp: when it is sent again it lands
 * only over an item made before it, so a newer write from another instance during the outage wins.
 */
export type OwedKeyChange<Entry> =
  | {
      readonly kind: 'set';
      readonly key: string;
      readonly madeAt: number;
      readonly entry: Entry;
      readonly tags: readonly string[];
      /** Epoch ms after which the value is gone anyway, so nothing needs sending. */
      readonly expiresAt: number | undefined;
    }
  | { readonly kind: 'delete'; readonly key: string; readonly madeAt: number };

/** What one attempt to pay the debt sends: key changes, and tag invalidations (the cache's own tag is a clear). */
export interface OwedBatch<Entry> {
  readonly keys: ReadonlyArray<OwedKeyChange<Entry>>;
  readonly tags: ReadonlyMap<string, number>;
}

interface OwedTagInvalidation {
  readonly kind: 'tag';
  readonly tag: string;
  readonly at: number;
}

// Keys and tags share one map, so that one insertion order says which change is the oldest.
const keySlot = (key: string) => `k${key}`;
const tagSlot = (tag: string) => `t${tag}`;

/**
 * The writes and invalidations owed to DynamoDB, one slot a key or tag (the latest wins), at most
 * `maxItems` slots: past that the oldest slot is dropped and counted, as FusionCache's auto-recovery
 * does, because the newest changes are the ones a reader is most likely to ask for next.
 *
 * An invalidation supersedes the owed values it retires: after a tag's invalidation at `at` is owed,
 * an owed value with that tag made at or before `at` would be retired the moment it landed, so it is
 * not kept; after a clear, no older value or invalidation is.
 */
export class OwedWrites<Entry> {
  private readonly slots = new Map<string, OwedKeyChange<Entry> | OwedTagInvalidation>();
  private droppedCount = 0;

  constructor(private readonly maxItems: number) {}

  get size(): number {
    return this.slots.size;
  }

  /** Slots dropped to keep within `maxItems`, since the cache started. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** The newest change this instance owes for `key`, which a read of `key` must not contradict. */
  owedFor(key: string): OwedKeyChange<Entry> | undefined {
    const slot = this.slots.get(keySlot(key));
    return slot === undefined || slot.kind === 'tag' ? undefined : slot;
  }

  /** The newest owed invalidation of `tag`. */
  owedTagTime(tag: string): number | undefined {
    const slot = this.slots.get(tagSlot(tag));
    return slot?.kind === 'tag' ? slot.at : undefined;
  }

  oweKeyChange(change: OwedKeyChange<Entry>): void {
    const current = this.owedFor(change.key);
    if (current !== undefined && current.madeAt > change.madeAt) return;
    this.place(keySlot(change.key), change);
  }

  oweTagInvalidation(tags: Iterable<string>, at: number): void {
    const invalidated = new Set(tags);
    for (const tag of invalidated) {
      const current = this.owedTagTime(tag);
      if (current === undefined || current < at) this.place(tagSlot(tag), { kind: 'tag', tag, at });
    }
    const clear = invalidated.has(CLEARED_TAG);
    for (const [slot, owed] of this.slots) {
      if ((owed.kind === 'tag' ? owed.at : owed.madeAt) > at) continue;
      // A delete is superseded by a clear only: the tags of the item it deletes are not known here.
      const superseded =
        owed.kind === 'tag'
          ? clear && owed.tag !== CLEARED_TAG
          : clear || (owed.kind === 'set' && owed.tags.some((tag) => invalidated.has(tag)));
      if (!superseded) continue;
      // A value retired by a tag still replaced what DynamoDB holds, which may not carry the tag:
      // what is owed is the removal of anything as old (in place, keeping its age). A clear
      // retires that too.
      if (owed.kind === 'set' && !clear) this.slots.set(slot, { kind: 'delete', key: owed.key, madeAt: owed.madeAt });
      else this.slots.delete(slot);
    }
  }

  /** This instance's own change of `key`, made at `at`, reached DynamoDB: an owed change made before it is moot. */
  settledKey(key: string, at: number): void {
    const owed = this.owedFor(key);
    if (owed !== undefined && owed.madeAt <= at) this.slots.delete(keySlot(key));
  }

  /** Everything owed now, less values that expired meanwhile (forgotten, not counted as dropped). */
  batch(now: number): OwedBatch<Entry> {
    const keys: Array<OwedKeyChange<Entry>> = [];
    const tags = new Map<string, number>();
    for (const [slot, owed] of this.slots) {
      if (owed.kind === 'tag') tags.set(owed.tag, owed.at);
      else if (owed.kind === 'set' && owed.expiresAt !== undefined && owed.expiresAt <= now) this.slots.delete(slot);
      else keys.push(owed);
    }
    return { keys, tags };
  }

  /** A change from `batch` reached DynamoDB (or lost to a newer item there): forgotten unless a newer one was owed since. */
  paidKey(change: OwedKeyChange<Entry>): void {
    if (this.slots.get(keySlot(change.key)) === change) this.slots.delete(keySlot(change.key));
  }

  paidTag(tag: string, at: number): void {
    if (this.owedTagTime(tag) === at) this.slots.delete(tagSlot(tag));
  }

  /** Forgets everything (shutdown), answering how many slots were given up. */
  abandon(): number {
    const count = this.slots.size;
    this.slots.clear();
    return count;
  }

  private place(slot: string, owed: OwedKeyChange<Entry> | OwedTagInvalidation): void {
    // Re-inserted so that insertion order stays the order of the latest change, the oldest first.
    this.slots.delete(slot);
    this.slots.set(slot, owed);
    while (this.slots.size > this.maxItems) {
      const oldest = this.slots.keys().next().value as string;
      this.slots.delete(oldest);
      this.droppedCount += 1;
    }
  }
}
