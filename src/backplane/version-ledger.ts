/** What a cache's memory must do after news of its version item. */
export type LedgerVerdict = 'keep' | 'clear' | 'wait';

/**
 * The poll backplane's bookkeeping for one cache: which version of the cache's version item its
 * memory reflects, and which bumps were this instance's own. Every bump returns the number it made
 * (an atomic ADD), so a version that moved only by numbers this instance made is its own writes,
 * and memory already holds them; any other number is another instance's write. While a bump of
 * this instance is still unanswered, a number not known yet may be that bump's: the verdict waits
 * for the answer rather than guess (a wrong "ours" would miss another's write; a wrong "theirs"
 * would clear memory on every write of this instance).
 */
export class VersionLedger {
  private seen: number;
  private latest: number;
  private pendingBumps = 0;
  private readonly ownVersions = new Set<number>();

  constructor(initialVersion: number) {
    this.seen = initialVersion;
    this.latest = initialVersion;
  }

  bumpStarted(): void {
    this.pendingBumps++;
  }

  /** The number this instance's bump made. */
  bumpAnswered(version: number): LedgerVerdict {
    this.pendingBumps--;
    if (version <= this.seen && !this.ownVersions.has(version)) return this.reset(version);
    this.ownVersions.add(version);
    this.latest = Math.max(this.latest, version);
    return this.decide();
  }

  /** A bump that failed made no number (or one nobody will be told of: the next write bumps again). */
  bumpFailed(): LedgerVerdict {
    this.pendingBumps--;
    return this.decide();
  }

  /** The version a poll read. */
  polled(version: number): LedgerVerdict {
    // Lower than memory reflects: the item was deleted (a clear) and counts again from 0.
    if (version < this.seen) return this.reset(version);
    this.latest = Math.max(this.latest, version);
    return this.decide();
  }

  get reflected(): number {
    return this.seen;
  }

  private decide(): LedgerVerdict {
    if (this.latest === this.seen) return 'keep';
    let own = 0;
    for (const version of this.ownVersions) if (version > this.seen && version <= this.latest) own++;
    const allOwn = own === this.latest - this.seen;
    if (!allOwn && this.pendingBumps > 0) return 'wait';
    this.advanceTo(this.latest);
    return allOwn ? 'keep' : 'clear';
  }

  private reset(version: number): LedgerVerdict {
    this.ownVersions.clear();
    this.seen = version;
    this.latest = version;
    return 'clear';
  }

  private advanceTo(version: number): void {
    this.seen = version;
    for (const own of this.ownVersions) if (own <= version) this.ownVersions.delete(own);
  }
}
