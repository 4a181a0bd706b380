import type { BackplaneMember } from './backplane-port.js';
import type { WarningLogger } from '../store/table-schema.js';
import type { ResolvedBackplaneOptions } from './backplane-options.js';

/**
 * `starting` until the first read succeeds; `healthy` while reads keep up; `degraded` when none has succeeded
 * for `maxLag` (memory was cleared and serves for `memory.maxTtl` only); `stopped` after the module shut
 * down.
 */
export type BackplaneState = 'starting' | 'healthy' | 'degraded' | 'stopped';

/** What `registry.backplane.stats()` reports, and the health indicator and OpenTelemetry read. */
export interface BackplaneStats {
  /** Which backplane: `streams` or `poll`. */
  readonly type: 'streams' | 'poll';
  /** Whether it keeps up: see `BackplaneState`. */
  readonly state: BackplaneState;
  /**
   * The staleness bound in force now, in ms: how long ago the backplane last read everything there
   * was to read. A change older than that is already applied here. Past `maxLag`, memory is cleared.
   */
  readonly lagMs: number;
  /** Keys (streams) or whole caches (poll) dropped from memory because another instance changed them. */
  readonly invalidations: number;
  /** Reads (of the stream, the journal or the version items) that failed since start-up; each is retried on the next interval. */
  readonly failedReads: number;
  /** Streams: whether this instance reads the stream (and publishes the journal) or reads the journal. */
  readonly role?: 'reader' | 'follower';
  /** Streams: the journal reads this instance made (one request each, a follower's one per interval). */
  readonly journalReads?: number;
  /** Streams: the GetRecords calls this instance made (a follower makes none). */
  readonly streamReads?: number;
  /** Streams: how many times this instance took a lane whose reader had stopped or died. */
  readonly takeovers?: number;
}

/**
 * What both backplanes share: a read loop every `intervalMs`, and the staleness bound it keeps.
 * Each successful cycle, begun at t, proves that every change committed before t (less the
 * stream's own propagation) has been applied to memory. When no cycle has succeeded for `maxLag`,
 * memory could serve a value staler than that: every memory tier is cleared and falls back to its
 * own `memory.maxTtl` until a cycle succeeds again, which restores `memoryTtl`.
 */
export abstract class Backplane {
  private state: BackplaneState = 'starting';
  private caughtUpAt = 0;
  private startedAt = 0;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private lastFailureLoggedAt = 0;
  protected invalidations = 0;
  private failedReads = 0;

  constructor(
    protected readonly caches: readonly BackplaneMember[],
    protected readonly options: ResolvedBackplaneOptions,
    protected readonly logger: WarningLogger,
    protected readonly tableName: string,
  ) {}

  /** Connects (finds the stream, reads the versions) and starts the loop; a failure to connect rejects. */
  async start(): Promise<void> {
    this.startedAt = Date.now();
    if (await this.connect()) this.caughtUp(this.startedAt);
    this.schedule();
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    clearTimeout(this.timer);
    await this.running;
    await this.disconnect();
  }

  stats(): BackplaneStats {
    return {
      type: this.options.type,
      state: this.state,
      lagMs: this.caughtUpAt === 0 ? Number.POSITIVE_INFINITY : Date.now() - this.caughtUpAt,
      invalidations: this.invalidations,
      failedReads: this.failedReads,
      ...this.roleStats(),
    };
  }

  /**
   * Resolves to whether every change from now on will reach this instance. When it does not (no
   * reader was reading yet), memory keeps its own `memory.maxTtl` until a cycle proves otherwise.
   */
  protected abstract connect(): Promise<boolean>;
  /**
   * One cycle's read. Resolves to the instant before which every change is now applied to memory
   * (at most `startedAt`), or undefined when this cycle proved nothing new.
   */
  protected abstract readAll(startedAt: number): Promise<number | undefined>;
  protected abstract disconnect(): Promise<void>;

  /** How long to wait before the next cycle. */
  protected nextDelay(): number {
    return this.options.intervalMs;
  }

  protected roleStats(): Partial<BackplaneStats> {
    return {};
  }

  /** Every memory tier forgets everything: what it missed is not known. */
  protected clearAll(): void {
    for (const cache of this.caches) cache.forgetAll();
  }

  private schedule(): void {
    if (this.state === 'stopped') return;
    this.timer = setTimeout(() => {
      this.running = this.cycle().finally(() => this.schedule());
    }, this.nextDelay());
    // The loop must not keep a process alive that has nothing else to do.
    this.timer.unref();
  }

  private async cycle(): Promise<void> {
    const startedAt = Date.now();
    try {
      const through = await this.readAll(startedAt);
      // Not yet coherent at start-up, only news from after the start makes it so.
      const proves = through !== undefined && through > this.caughtUpAt && (this.state !== 'starting' || through >= this.startedAt);
      if (this.state !== 'stopped' && proves) this.caughtUp(Math.min(through, startedAt));
    } catch (error) {
      this.failedReads++;
      if (startedAt - this.lastFailureLoggedAt >= 10_000) {
        this.lastFailureLoggedAt = startedAt;
        this.logger.warn(
          `Backplane (${this.options.type}) on DynamoDB table "${this.tableName}": a read failed: ${(error as Error)?.message ?? String(error)}`,
        );
      }
    }
    if (this.state === 'healthy' && Date.now() - this.caughtUpAt > this.options.maxLagMs) this.degrade();
  }

  /**
   * Asked by memory at a hit older than `memory.maxTtl`: the last complete read began within
   * `maxLag`. The loop's own check runs only on its timer, which a frozen process has not run yet.
   */
  private readonly keepingUp = (now: number): boolean => now - this.caughtUpAt <= this.options.maxLagMs;

  private caughtUp(at: number): void {
    this.caughtUpAt = at;
    // News that was already too old when it came (a journal whose reader died) restores nothing.
    if (this.state === 'healthy' || Date.now() - at > this.options.maxLagMs) return;
    const recovering = this.state === 'degraded';
    this.state = 'healthy';
    for (const cache of this.caches) cache.boundMemory({ maxTtlMs: this.options.memoryTtlMs, keepingUp: this.keepingUp });
    if (recovering)
      this.logger.warn(
        `Backplane (${this.options.type}) on DynamoDB table "${this.tableName}" caught up: memory serves for up to ${this.options.memoryTtlMs} ms again.`,
      );
  }

  private degrade(): void {
    this.state = 'degraded';
    this.clearAll();
    for (const cache of this.caches) cache.boundMemory(undefined);
    this.logger.warn(
      `Backplane (${this.options.type}) on DynamoDB table "${this.tableName}" has not read for ${Date.now() - this.caughtUpAt} ms (maxLag ${this.options.maxLagMs} ms): ` +
        'memory was cleared and keeps entries only for memory.maxTtl until it catches up.',
    );
  }
}
