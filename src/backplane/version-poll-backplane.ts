import { Backplane } from './backplane.js';
import type { BackplaneMember } from './backplane-port.js';
import { type LedgerVerdict, VersionLedger } from './version-ledger.js';

/**
 * The poll backplane, for tables without a stream: each cache has a version item that its every
 * write bumps (one UpdateItem more per write), and each instance reads the versions every
 * `interval`. A version moved by someone else clears that cache's whole memory tier: coarser than
 * the streams backplane, which drops only the keys that changed, and one GetItem per cache per
 * interval per instance.
 */
export class VersionPollBackplane extends Backplane {
  private readonly ledgers = new Map<BackplaneMember, VersionLedger>();
  /** Per cache, the polls whose version memory does not reflect yet (a bump of ours unanswered), oldest first. */
  private readonly unproven = new Map<BackplaneMember, Array<{ readonly version: number; readonly at: number }>>();
  /** Per cache, the start of the latest poll whose version memory reflects: every change before it is applied. */
  private readonly provenThrough = new Map<BackplaneMember, number>();
  /** Caches with a write whose bump failed: announced again at the next cycle. */
  private readonly owed = new Set<BackplaneMember>();
  private readonly failing = new Set<BackplaneMember>();

  protected async connect(): Promise<boolean> {
    for (const cache of this.caches) {
      const startedAt = Date.now();
      this.ledgers.set(cache, new VersionLedger(await cache.readVersion()));
      this.provenThrough.set(cache, startedAt);
      this.unproven.set(cache, []);
      cache.watchWrites(() => this.announce(cache));
    }
    return true;
  }

  /**
   * A poll proves that every change committed before it began is applied once memory reflects the
   * version it read. While a bump of this instance is unanswered, a number it cannot place yet may be
   * another instance's write, held back until the answer comes: the cycle proves nothing new until
   * then, so that the lag (and `maxLag`, past which memory is cleared) keeps counting.
   */
  protected async readAll(startedAt: number): Promise<number | undefined> {
    // A write whose bump failed is announced again each cycle until it lands: until then no other
    // instance can learn of it, and each would go on serving what it replaced for up to memoryTtl.
    for (const cache of [...this.owed]) {
      this.owed.delete(cache);
      this.announce(cache);
    }
    await Promise.all(
      this.caches.map(async (cache) => {
        const version = await cache.readVersion();
        this.unproven.get(cache)!.push({ version, at: startedAt });
        this.apply(cache, this.ledgers.get(cache)!.polled(version));
      }),
    );
    return Math.min(...this.caches.map((cache) => this.provenThrough.get(cache)!));
  }

  protected async disconnect(): Promise<void> {
    for (const cache of this.caches) cache.watchWrites(undefined);
  }

  /** After this instance's own write: bump, and learn from the number it made whether anyone else wrote since. */
  private announce(cache: BackplaneMember): void {
    const ledger = this.ledgers.get(cache)!;
    ledger.bumpStarted();
    cache.bumpVersion().then(
      (version) => {
        this.failing.delete(cache);
        this.apply(cache, ledger.bumpAnswered(version));
      },
      (error: unknown) => {
        // Said once per run of failures, not once per cycle of an outage.
        if (!this.failing.has(cache)) {
          this.failing.add(cache);
          this.logger.warn(
            `Backplane (poll) on DynamoDB table "${this.tableName}": announcing a write of cache "${cache.cacheName}" failed, and is tried again each interval until it lands: ${(error as Error)?.message ?? String(error)}`,
          );
        }
        this.owed.add(cache);
        this.apply(cache, ledger.bumpFailed());
      },
    );
  }

  private apply(cache: BackplaneMember, verdict: LedgerVerdict): void {
    const polls = this.unproven.get(cache)!;
    if (verdict === 'clear') {
      cache.forgetAll();
      this.invalidations++;
      // Memory now holds nothing older than this instant: every poll begun before is proven.
      if (polls.length > 0) this.provenThrough.set(cache, polls[polls.length - 1]!.at);
      polls.length = 0;
      return;
    }
    const reflected = this.ledgers.get(cache)!.reflected;
    while (polls.length > 0 && polls[0]!.version <= reflected) this.provenThrough.set(cache, polls.shift()!.at);
  }
}
