import { Backplane } from './backplane.js';
import type { LocalTier } from './backplane-port.js';
import { type LedgerVerdict, VersionLedger } from './version-ledger.js';

/**
 * The poll backplane, for tables without a stream: each cache has a version item that its every
 * write bumps (one UpdateItem more per write), and each instance reads the versions every
 * `interval`. A version moved by someone else clears that cache's whole memory tier: coarser than
 * the streams backplane, which drops only the keys that changed, and one GetItem per cache per
 * interval per instance.
 */
export class VersionPollBackplane extends Backplane {
  private readonly ledgers = new Map<LocalTier, VersionLedger>();

  protected async connect(): Promise<boolean> {
    for (const tier of this.tiers) {
      this.ledgers.set(tier, new VersionLedger(await tier.readVersion()));
      tier.watchWrites(() => this.announce(tier));
    }
    return true;
  }

  protected async readAll(startedAt: number): Promise<number> {
    await Promise.all(this.tiers.map(async (tier) => this.apply(tier, this.ledgers.get(tier)!.polled(await tier.readVersion()))));
    return startedAt;
  }

  protected async disconnect(): Promise<void> {
    for (const tier of this.tiers) tier.watchWrites(() => undefined);
  }

  /** After this instance's own write: bump, and learn from the number it made whether anyone else wrote since. */
  private announce(tier: LocalTier): void {
    const ledger = this.ledgers.get(tier)!;
    ledger.bumpStarted();
    tier.bumpVersion().then(
      (version) => this.apply(tier, ledger.bumpAnswered(version)),
      (error: unknown) => {
        // Without the bump, others keep their copies until their memory bound; the next write bumps again.
        this.logger.warn(
          `Backplane (poll) on DynamoDB table "${this.tableName}": announcing a write of cache "${tier.cacheName}" failed: ${(error as Error)?.message ?? String(error)}`,
        );
        this.apply(tier, ledger.bumpFailed());
      },
    );
  }

  private apply(tier: LocalTier, verdict: LedgerVerdict): void {
    if (verdict !== 'clear') return;
    tier.clear();
    this.invalidations++;
  }
}
