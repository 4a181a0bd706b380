import type { TagInvalidations } from '../store/coordination.js';
import type { NewerWrites, PreparedEntry } from '../store/entry-store.js';
import { mapWithConcurrency } from '../store/retry.js';
import type { CacheConfig } from './cache-config.js';
import type { DistributedTier } from './distributed-tier.js';
import { type OwedKeyChange, OwedWrites } from './owed-writes.js';

/** What the changes owed to DynamoDB are sent with: conditional writes, and tag times that never move back. */
export type RecoveryStore = NewerWrites & TagInvalidations;

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
 * Auto-recovery (FusionCache's AutoRecovery, bentocache's bus retry queue): the writes and
 * invalidations this instance acknowledged while DynamoDB could not take them (circuit open, or the
 * call failed with `throwOnErrors` off), kept per key (see OwedWrites) and sent again once DynamoDB
 * answers: when a call succeeds, and every `circuitBreaker.durationMs` while any is owed (the replay
 * itself then is the breaker's probe). Each lands only over an item made before it, so a newer
 * change made meanwhile by another instance wins. Until then, reads of this instance answer as if
 * it had landed (see `owedOver`).
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

  oweWrite(prepared: PreparedEntry): void {
    const { key, storedAt, tags, expiration } = prepared;
    // Kept for fail-safe past its expiry: sending it is worth it until then.
    const expiresAt = expiration.staleUntil ?? expiration.expiresAt;
    this.owe(() => this.owed.oweKeyChange({ kind: 'set', key, madeAt: storedAt, entry: prepared, tags: tags ?? [], expiresAt }));
  }

  oweDeletes(keys: readonly string[], at: number): void {
    this.owe(() => {
      for (const key of keys) this.owed.oweKeyChange({ kind: 'delete', key, madeAt: at });
    });
  }

  oweInvalidation(tags: readonly string[], at: number): void {
    this.owe(() => this.owed.oweTagInvalidation(tags, at));
  }

  /** This instance's own change of `key`, made at `at`, reached DynamoDB: what it owed for the key before is moot. */
  settled(keys: readonly string[], at: number): void {
    for (const key of keys) this.owed.settledKey(key, at);
  }

  /** The newest invalidation of `tag` owed: a read of tag times must not go back before it. */
  owedTagTime(tag: string): number | undefined {
    return this.owed.owedTagTime(tag);
  }

  /** The change owed for `key` now, taken when a read begins (see `owedOver`). */
  owedFor(key: string): OwedKeyChange<PreparedEntry> | undefined {
    return this.owed.owedFor(key);
  }

  /**
   * The owed change that a read of `key` must answer with instead of what DynamoDB returned (made at
   * `foundMadeAt`, undefined for nothing): the newest of what was owed when the read began
   * (`owedAtStart`, which may have landed meanwhile, after the read was answered) and what is owed
   * now, if it was made after the item found. Undefined: DynamoDB's answer stands.
   */
  owedOver(
    key: string,
    owedAtStart: OwedKeyChange<PreparedEntry> | undefined,
    found: { readonly storedAt?: number } | undefined,
  ): OwedKeyChange<PreparedEntry> | undefined {
    const now = this.owed.owedFor(key);
    const owed = now === undefined || (owedAtStart !== undefined && owedAtStart.madeAt > now.madeAt) ? owedAtStart : now;
    if (owed === undefined) return undefined;
    return found !== undefined && (found.storedAt ?? 0) >= owed.madeAt ? undefined : owed;
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

  private owe(change: () => void): void {
    if (this.closed) return;
    change();
    this.watch();
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
    const { keys, tags } = this.owed.batch(Date.now());
    let landed = false;
    const byTime = new Map<number, string[]>();
    for (const [tag, at] of tags) (byTime.get(at) ?? byTime.set(at, []).get(at)!).push(tag);
    for (const [at, names] of byTime) {
      const outcome = await this.distributed
        .attempt('replay invalidateTags', undefined, () => this.store.writeTagTimes(names, at))
        .catch(() => undefined);
      // DynamoDB still failing: the rest waits for the next try.
      if (outcome?.ok !== true) return;
      for (const tag of names) this.owed.paidTag(tag, at);
      landed = true;
    }
    await mapWithConcurrency(keys, REPLAY_CONCURRENCY, async (change) => {
      try {
        const outcome = await this.distributed.attempt(`replay ${change.kind}`, change.key, () =>
          change.kind === 'set' ? this.store.putEntryIfNewer(change.entry) : this.store.deleteUnlessNewer(change.key, change.madeAt),
        );
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
}
