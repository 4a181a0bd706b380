import type { TagInvalidations } from '../store/coordination.js';
import { expiredEntry } from '../store/entry-expiry.js';
import type { NewerWrites, PreparedEntry } from '../store/entry-store.js';
import { mapWithConcurrency } from '../store/retry.js';
import type { CacheConfig } from './cache-config.js';
import type { DistributedTier } from './distributed-tier.js';
import { type OwedExpiry, type OwedKeyChange, OwedWrites, lastChangeOf } from './owed-writes.js';

/** What the changes owed to DynamoDB are sent with: conditional writes, and tag times that never move back. */
export type RecoveryStore = NewerWrites & TagInvalidations;

/**
 * What became of a change that DynamoDB may not have taken: it did (`landed`), or the change is owed
 * to it (`owed`): acknowledged either way, as `set` acknowledges a value memory keeps through an
 * outage. `failed`: neither (auto-recovery off, or `disconnect()` begun), the change is not kept.
 */
export type ChangeOutcome = 'landed' | 'owed' | 'failed';

/** `stats().autoRecovery`. */
export interface AutoRecoveryStats {
  /** Changes acknowledged while DynamoDB could not take them, not sent yet. */
  readonly owed: number;
  /** Owed changes given up to keep within `autoRecovery.maxItems`, since the cache started. */
  readonly dropped: number;
}

// Conditional writes cannot go in a BatchWriteItem: one call each, this many at a time.
const REPLAY_CONCURRENCY = 8;
// A call that succeeds while changes are owed starts a replay, at most this often.
const REPLAY_MIN_GAP_MS = 200;

/**
 * Auto-recovery (FusionCache's AutoRecovery, bentocache's bus retry queue): the writes, invalidations
 * and expiries this instance acknowledged while DynamoDB could not take them (circuit open, or the
 * call failed with `throwOnErrors` off), kept per key or tag (see OwedWrites) and sent again once
 * DynamoDB answers: when a call succeeds, and every `circuitBreaker.durationMs` while any is owed (the
 * replay itself then is the breaker's probe). Each lands only over an item made before it, so a newer
 * change made meanwhile by another instance wins. Until then, reads of this instance answer as if
 * it had landed (see `owedOver` and owed-reads.ts).
 *
 * Each `owe…` answers whether the change is kept: false once `disconnect()` began, when nothing more
 * is (the caller then answers as without auto-recovery).
 */
export class AutoRecovery {
  private readonly owed: OwedWrites<PreparedEntry>;
  private timer?: NodeJS.Timeout;
  private replaying?: Promise<void>;
  private nextReplayAt = 0;
  private closed = false;

  constructor(
    private readonly store: RecoveryStore,
    private readonly distributed: DistributedTier,
    private readonly config: CacheConfig,
    maxItems: number,
  ) {
    this.owed = new OwedWrites(maxItems);
  }

  get stats(): AutoRecoveryStats {
    return { owed: this.owed.size, dropped: this.owed.dropped };
  }

  oweWrite(prepared: PreparedEntry): boolean {
    const { key, storedAt, tags, expiration } = prepared;
    // Kept for fail-safe past its expiry: sending it is worth it until then.
    const expiresAt = expiration.staleUntil ?? expiration.expiresAt;
    return this.owe(() => this.owed.oweKeyChange({ kind: 'set', key, madeAt: storedAt, entry: prepared, tags: tags ?? [], expiresAt }));
  }

  oweDeletes(keys: readonly string[], at: number): boolean {
    return this.owe(() => {
      for (const key of keys) this.owed.oweKeyChange({ kind: 'delete', key, madeAt: at });
    });
  }

  oweInvalidation(tags: readonly string[], at: number): boolean {
    return this.owe(() => this.owed.oweTagInvalidation(tags, at));
  }

  /** `expire(key)`: a value owed before it then lands stale; alone, it lands on an item made before it. */
  oweExpiry(key: string, expiry: OwedExpiry): boolean {
    return this.owe(() => this.owed.oweExpiry(key, expiry));
  }

  /** `expireByTag(tags)` at `at`. */
  oweTagExpiry(tags: readonly string[], at: number): boolean {
    return this.owe(() => this.owed.oweTagExpiry(tags, at));
  }

  /** This instance's expire of `key` reached DynamoDB: a value still owed from before it must land stale. */
  expiryLanded(key: string, expiry: OwedExpiry): void {
    this.owed.expiryLanded(key, expiry);
  }

  /** This instance's own change of `key`, made at `at`, reached DynamoDB: what it owed for the key before is moot. */
  settled(keys: readonly string[], at: number): void {
    for (const key of keys) this.owed.settledKey(key, at);
  }

  /** As `settled`, for every key: the keyv view's `clear()`, which deleted every item (tags owed still hold). */
  settledAll(at: number): void {
    this.owed.settledAllKeys(at);
  }

  /** The newest invalidation of `tag` owed: a read of tag times must not go back before it. */
  owedTagTime(tag: string): number | undefined {
    return this.owed.owedTagTime(tag);
  }

  /** The newest expiry of `tag` owed (`expireByTag`), likewise. */
  owedTagExpiry(tag: string): number | undefined {
    return this.owed.owedTagExpiry(tag);
  }

  /** The change owed for `key` now, taken when a read begins (see `owedOver`). */
  owedFor(key: string): OwedKeyChange<PreparedEntry> | undefined {
    return this.owed.owedFor(key);
  }

  /**
   * The owed change that a read of `key` must lay over what DynamoDB returned (`found`, undefined for
   * nothing): the newest of what was owed when the read began (`owedAtStart`, which may have landed
   * meanwhile, after the read was answered) and what is owed now, if any of it (an expire riding
   * with it included) was made after the item found. Undefined: DynamoDB's answer stands.
   */
  owedOver(
    key: string,
    owedAtStart: OwedKeyChange<PreparedEntry> | undefined,
    found: { readonly storedAt?: number } | undefined,
  ): OwedKeyChange<PreparedEntry> | undefined {
    const now = this.owed.owedFor(key);
    const owed = now === undefined || (owedAtStart !== undefined && lastChangeOf(owedAtStart) > lastChangeOf(now)) ? owedAtStart : now;
    if (owed === undefined) return undefined;
    return found !== undefined && (found.storedAt ?? 0) >= lastChangeOf(owed) ? undefined : owed;
  }

  /** Sends what is owed, unless a replay is running (then it is that one). */
  replay(): Promise<void> {
    this.nextReplayAt = Date.now() + REPLAY_MIN_GAP_MS;
    return (this.replaying ??= this.send().finally(() => {
      this.replaying = undefined;
      this.watch();
    }));
  }

  /**
   * For `disconnect()`: one last replay, until `deadline` (epoch ms) at most, then whatever is still
   * owed is given up, with a warning naming how much: no other instance will learn of those changes.
   */
  async close(deadline: number): Promise<void> {
    this.closed = true;
    this.watch();
    if (this.owed.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
      await Promise.race([this.replay(), waited]);
      clearTimeout(timer);
    }
    const dropped = this.owed.abandon();
    if (dropped > 0)
      this.config.logger.warn(
        `Cache "${this.config.name}" on DynamoDB table "${this.config.tableName}": disconnect() drops ${dropped} change(s) ` +
          'acknowledged while DynamoDB could not be reached and not sent since (auto-recovery); other instances will not see them.',
      );
  }

  private owe(change: () => void): boolean {
    if (this.closed) return false;
    change();
    this.watch();
    return true;
  }

  /** While anything is owed: a replay after any call that succeeds, and on a timer (the breaker's probe when no call comes). */
  private watch(): void {
    const owing = this.owed.size > 0 && !this.closed;
    this.distributed.onAnswered = owing ? () => this.answered() : undefined;
    if (!owing) {
      clearTimeout(this.timer);
      this.timer = undefined;
    } else if (this.timer === undefined && this.replaying === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.replay();
      }, this.config.circuitBreaker.durationMs);
      this.timer.unref();
    }
  }

  private answered(): void {
    if (this.replaying !== undefined || Date.now() < this.nextReplayAt) return;
    // Not within the call that succeeded (the breaker is mid-change): after it.
    queueMicrotask(() => void this.replay());
  }

  private async send(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const { keys, tags, tagExpiries } = this.owed.batch(Date.now());
    const { store, owed } = this;
    const tagsSent =
      (await this.sendTagTimes(
        'replay invalidateTags',
        tags,
        (names, at) => store.writeTagTimes(names, at),
        (tag, at) => owed.paidTag(tag, at),
      )) &&
      (await this.sendTagTimes(
        'replay expireTags',
        tagExpiries,
        (names, at) => store.writeTagExpiries(names, at),
        (tag, at) => owed.paidTagExpiry(tag, at),
      ));
    // DynamoDB still failing: the rest waits for the next try.
    if (!tagsSent) return;
    let landed = tags.size > 0 || tagExpiries.size > 0;
    await mapWithConcurrency(keys, REPLAY_CONCURRENCY, async (change) => {
      try {
        const outcome = await this.distributed.attempt(`replay ${change.kind}`, change.key, () => this.sendKeyChange(change));
        if (!outcome.ok) return;
        this.owed.paidKey(change);
        landed ||= outcome.value;
      } catch {
        // Refused as input (it was checked when made, so it never lands): given up, not retried forever.
        this.owed.paidKey(change);
      }
    });
    // Other instances learn of the changes as of any: streams see the items, a poll backplane needs its bump.
    if (landed) this.distributed.announceWrite();
  }

  /** Tag times owed, one call per instant; false when DynamoDB still fails (what is left stays owed). */
  private async sendTagTimes(
    operation: string,
    times: ReadonlyMap<string, number>,
    write: (tags: string[], at: number) => Promise<void>,
    paid: (tag: string, at: number) => void,
  ): Promise<boolean> {
    const byTime = new Map<number, string[]>();
    for (const [tag, at] of times) (byTime.get(at) ?? byTime.set(at, []).get(at)!).push(tag);
    for (const [at, names] of byTime) {
      const outcome = await this.distributed.attempt(operation, undefined, () => write(names, at)).catch(() => undefined);
      if (outcome?.ok !== true) return false;
      for (const tag of names) paid(tag, at);
    }
    return true;
  }

  /**
   * One key's owed change, landing only over an item made before it: a value (stale, when an expire
   * rides with it), or a delete; then the expire that rides with it, on a newer item the value or
   * delete lost to but made before the expire. Resolves to whether anything landed.
   */
  private async sendKeyChange(change: OwedKeyChange<PreparedEntry>): Promise<boolean> {
    const { key, expired } = change;
    if (change.kind === 'set') {
      const entry = expired === undefined ? change.entry : expiredEntry(change.entry, expired.at, expired.keepUntil);
      if (await this.store.putEntryIfNewer(entry)) return true;
    } else if (change.kind === 'delete' && (await this.store.deleteUnlessNewer(key, change.madeAt))) return true;
    return expired !== undefined && this.store.expireEntryUnlessNewer(key, expired);
  }
}
