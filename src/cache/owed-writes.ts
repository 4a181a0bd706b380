import type { OwedEntryExpiry } from '../store/entry-store.js';
import { CLEARED_TAG } from '../store/tags.js';

/** An `expire(key)` owed: an entry made at or before `madeAt` is stale from `at`, kept as a fallback until `keepUntil`. */
export type OwedExpiry = OwedEntryExpiry;

/**
 * A change this instance acknowledged while DynamoDB could not take it (circuit open, or the call
 * failed with `throwOnErrors` off). `madeAt` is the change's stamp: when it is sent again it lands
 * only over an item made before it, so a newer write from another instance during the outage wins.
 * An `expire` owed after a set or a delete does not replace it (the value is still owed, stale):
 * it rides with it as `expired`; alone, it applies to whatever DynamoDB holds (kind `expire`,
 * `madeAt` its own).
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
      readonly expired?: OwedExpiry;
    }
  | { readonly kind: 'delete'; readonly key: string; readonly madeAt: number; readonly expired?: OwedExpiry }
  | { readonly kind: 'expire'; readonly key: string; readonly madeAt: number; readonly expired: OwedExpiry };

/** A set or a delete, as a caller owes one (an expire is owed with `oweExpiry`). */
export type OwedWriteOrDelete<Entry> = Exclude<OwedKeyChange<Entry>, { readonly kind: 'expire' }>;

/** When the last of what a key's slot holds was made: its expire's stamp, if one rides with it. */
export const lastChangeOf = (change: OwedKeyChange<unknown>): number => change.expired?.madeAt ?? change.madeAt;

/**
 * What one attempt to pay the debt sends: key changes, tag invalidations (the cache's own tag is a
 * clear) and tag expiries (`expireByTag`), each tag with its instant.
 */
export interface OwedBatch<Entry> {
  readonly keys: ReadonlyArray<OwedKeyChange<Entry>>;
  readonly tags: ReadonlyMap<string, number>;
  readonly tagExpiries: ReadonlyMap<string, number>;
}

/** A tag's invalidation (`deleteByTag`, `clear()`) or expiry (`expireByTag`) owed, as of `at`. */
type OwedTagChange =
  | { readonly kind: 'tag'; readonly tag: string; readonly at: number }
  | { readonly kind: 'tagExpiry'; readonly tag: string; readonly at: number };

type Slot<Entry> = OwedKeyChange<Entry> | OwedTagChange;

// Keys and tags share one map, so that one insertion order says which change is the oldest.
const keySlot = (key: string) => `k${key}`;
const tagSlot = (tag: string) => `t${tag}`;
const tagExpirySlot = (tag: string) => `x${tag}`;
const isTagChange = <Entry>(slot: Slot<Entry>): slot is OwedTagChange => slot.kind === 'tag' || slot.kind === 'tagExpiry';

/**
 * The writes, invalidations and expiries owed to DynamoDB, one slot a key or tag (the latest wins),
 * at most `maxItems` slots: past that the oldest slot is dropped and counted, as FusionCache's
 * auto-recovery does, because the newest changes are the ones a reader is most likely to ask for next.
 *
 * An invalidation supersedes the owed changes it retires: after a tag's invalidation at `at` is owed,
 * an owed value with that tag made at or before `at` would be retired the moment it landed, so it is
 * not kept, nor an owed expiry of the tag as old; after a clear, no older change is.
 */
export class OwedWrites<Entry> {
  private readonly slots = new Map<string, Slot<Entry>>();
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
    return slot === undefined || isTagChange(slot) ? undefined : slot;
  }

  /** The newest owed invalidation of `tag`. */
  owedTagTime(tag: string): number | undefined {
    return this.tagChange(tagSlot(tag));
  }

  /** The newest owed expiry (`expireByTag`) of `tag`. */
  owedTagExpiry(tag: string): number | undefined {
    return this.tagChange(tagExpirySlot(tag));
  }

  /** A set or delete of the key; an expire owed after it (made later) still rides with it. */
  oweKeyChange(change: OwedWriteOrDelete<Entry>): void {
    const current = this.owedFor(change.key);
    if (current !== undefined && current.kind !== 'expire' && current.madeAt > change.madeAt) return;
    const expired = current?.expired !== undefined && current.expired.madeAt > change.madeAt ? current.expired : undefined;
    this.place(keySlot(change.key), expired === undefined ? change : { ...change, expired });
  }

  /** `expire(key)`: it rides with the set or delete owed before it (the value then lands stale), else stands alone. */
  oweExpiry(key: string, expiry: OwedExpiry): void {
    const current = this.owedFor(key);
    if (current !== undefined && lastChangeOf(current) > expiry.madeAt) return;
    const change: OwedKeyChange<Entry> =
      current === undefined || current.kind === 'expire'
        ? { kind: 'expire', key, madeAt: expiry.madeAt, expired: expiry }
        : { ...current, expired: expiry };
    this.place(keySlot(key), change);
  }

  /**
   * This instance's expire of `key` reached DynamoDB: a set or delete owed from before it must land
   * stale too (in place, keeping its age); an older owed expire is moot.
   */
  expiryLanded(key: string, expiry: OwedExpiry): void {
    const current = this.owedFor(key);
    if (current === undefined || lastChangeOf(current) > expiry.madeAt) return;
    if (current.kind === 'expire') this.slots.delete(keySlot(key));
    else this.slots.set(keySlot(key), { ...current, expired: expiry });
  }

  oweTagInvalidation(tags: Iterable<string>, at: number): void {
    const invalidated = new Set(tags);
    for (const tag of invalidated) {
      const current = this.owedTagTime(tag);
      if (current === undefined || current < at) this.place(tagSlot(tag), { kind: 'tag', tag, at });
    }
    const clear = invalidated.has(CLEARED_TAG);
    for (const [slot, owed] of this.slots) {
      if (isTagChange(owed)) {
        // An expiry of the tag as old retires nothing that the invalidation does not.
        const superseded = owed.at <= at && (owed.kind === 'tag' ? clear && owed.tag !== CLEARED_TAG : clear || invalidated.has(owed.tag));
        if (superseded) this.slots.delete(slot);
        continue;
      }
      if (lastChangeOf(owed) > at) continue;
      // A delete or an expire is superseded by a clear only: the tags of the item it changes are not known here.
      const superseded = clear || (owed.kind === 'set' && owed.tags.some((tag) => invalidated.has(tag)));
      if (!superseded) continue;
      // A value retired by a tag still replaced what DynamoDB holds, which may not carry the tag:
      // what is owed is the removal of anything as old (in place, keeping its age). A clear
      // retires that too.
      if (owed.kind === 'set' && !clear)
        this.slots.set(slot, { kind: 'delete', key: owed.key, madeAt: owed.madeAt, expired: owed.expired });
      else this.slots.delete(slot);
    }
  }

  /** `expireByTag`: unless an invalidation of the tag (or a clear) as recent is owed, which retires all it would make stale. */
  oweTagExpiry(tags: Iterable<string>, at: number): void {
    const cleared = this.owedTagTime(CLEARED_TAG) ?? Number.NEGATIVE_INFINITY;
    for (const tag of new Set(tags)) {
      const covered = Math.max(
        cleared,
        this.owedTagTime(tag) ?? Number.NEGATIVE_INFINITY,
        this.owedTagExpiry(tag) ?? Number.NEGATIVE_INFINITY,
      );
      if (covered < at) this.place(tagExpirySlot(tag), { kind: 'tagExpiry', tag, at });
    }
  }

  /**
   * This instance's own change of `key`, made at `at`, reached DynamoDB: an owed change made before
   * it is moot, but an expire owed after it, which now applies to what landed.
   */
  settledKey(key: string, at: number): void {
    const owed = this.owedFor(key);
    if (owed === undefined || owed.madeAt > at) return;
    const { expired } = owed;
    if (expired === undefined || expired.madeAt <= at) this.slots.delete(keySlot(key));
    else this.slots.set(keySlot(key), { kind: 'expire', key, madeAt: expired.madeAt, expired });
  }

  /** `settledKey` for every key owed. */
  settledAllKeys(at: number): void {
    for (const owed of [...this.slots.values()]) if (!isTagChange(owed)) this.settledKey(owed.key, at);
  }

  /** Everything owed now, less values that expired meanwhile (forgotten, not counted as dropped). */
  batch(now: number): OwedBatch<Entry> {
    const keys: Array<OwedKeyChange<Entry>> = [];
    const tags = new Map<string, number>();
    const tagExpiries = new Map<string, number>();
    for (const [slot, owed] of this.slots) {
      if (owed.kind === 'tag') tags.set(owed.tag, owed.at);
      else if (owed.kind === 'tagExpiry') tagExpiries.set(owed.tag, owed.at);
      // One that rides with an expire is sent all the same: the expire may apply to a newer item it loses to.
      else if (owed.kind === 'set' && owed.expired === undefined && owed.expiresAt !== undefined && owed.expiresAt <= now)
        this.slots.delete(slot);
      else keys.push(owed);
    }
    return { keys, tags, tagExpiries };
  }

  /** A change from `batch` reached DynamoDB (or lost to a newer item there): forgotten unless a newer one was owed since. */
  paidKey(change: OwedKeyChange<Entry>): void {
    if (this.slots.get(keySlot(change.key)) === change) this.slots.delete(keySlot(change.key));
  }

  paidTag(tag: string, at: number): void {
    if (this.owedTagTime(tag) === at) this.slots.delete(tagSlot(tag));
  }

  paidTagExpiry(tag: string, at: number): void {
    if (this.owedTagExpiry(tag) === at) this.slots.delete(tagExpirySlot(tag));
  }

  /** Forgets everything (shutdown), answering how many slots were given up. */
  abandon(): number {
    const count = this.slots.size;
    this.slots.clear();
    return count;
  }

  private tagChange(slot: string): number | undefined {
    const owed = this.slots.get(slot);
    return owed !== undefined && isTagChange(owed) ? owed.at : undefined;
  }

  private place(slot: string, owed: Slot<Entry>): void {
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
