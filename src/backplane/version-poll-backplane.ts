import type { LocalTier } from './backplane-port.js';
import { Backplane } from './backplane.js';

/**
 * The poll backplane, for tables without a stream: each cache has a version item that its every
 * write bumps (one UpdateItem more per write), and each instance reads the versions every
 * `interval`. A version moved by someone else clears that cache's whole memory tier: coarser than
 * the streams backplane, which drops only the keys that changed, and one GetItem per cache per
 * interval per instance.
 */
export class VersionPollBackplane extends Backplane {
  /** The version each cache's memory is known to reflect. */
  private readonly seen = new Map<LocalTier, number>();

  protected async connect(): Promise<void> {
    for (const tier of this.tiers) {
      this.seen.set(tier, await tier.readVersion());
      tier.watchWrites(() => this.announce(tier));
    }
  }

  protected async readAll(): Promise<void> {
    await Promise.all(this.tiers.map(async (tier) => this.observe(tier, await tier.readVersion(), false)));
  }

  protected async disconnect(): Promise<void> {
    for (const tier of this.tiers) tier.watchWrites(() => undefined);
  }

  /** After this instance's own write: bump, and learn from the new value whether anyone else wrote since. */
  private announce(tier: LocalTier): void {
    tier.bumpVersion().then(
      (version) => this.observe(tier, version, true),
      // Without the bump, others keep their copies until their memory bound; the next write bumps again.
      (error: unknown) => this.logger.warn(`Backplane (poll) on DynamoDB table "${this.tableName}": announcing a write of cache "${tier.cacheName}" failed: ${(error as Error)?.message ?? String(error)}`),
    );
  }

  private observe(tier: LocalTier, version: number, ownBump: boolean): void {
    const seen = this.seen.get(tier) ?? 0;
    // One more than seen, from our own bump: only our write happened. Anything else but the same
    // version means another instance wrote (or cleared the cache, deleting the version item).
    if (version === seen || (ownBump && version < seen)) return;
    this.seen.set(tier, ownBump ? Math.max(seen, version) : version);
    if (ownBump && version === seen + 1) return;
    tier.clear();
    this.invalidations++;
  }
}
