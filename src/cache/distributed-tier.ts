import {
  InvalidCacheKeyError,
  InvalidExpirationError,
  InvalidOptionError,
  SerializationError,
  ValueTooLargeError,
} from '../store/errors.js';
import type { CacheConfig } from './cache-config.js';
import { CircuitBreaker, type CircuitState } from './circuit-breaker.js';
import { CircuitOpenError } from './errors.js';

export type Outcome<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

const SKIPPED: Outcome<never> = Object.freeze({ ok: false, error: undefined });

/**
 * The caller's bad input, told apart by this library's own classes: a TypeError from the SDK or the
 * network (a socket gone, a parser's bug) is DynamoDB failing, and is handled as such.
 */
export const isInputError = (error: unknown): boolean =>
  error instanceof InvalidCacheKeyError ||
  error instanceof InvalidExpirationError ||
  error instanceof SerializationError ||
  error instanceof ValueTooLargeError ||
  error instanceof InvalidOptionError;

/** The operations that change what DynamoDB holds for the cache's keys (what a poll backplane announces). */
const WRITE_OPERATIONS: ReadonlySet<string> = new Set(['set', 'mset', 'del', 'mdel', 'clear', 'invalidateTags', 'expire', 'expireTags']);

/**
 * Every call the cache makes to DynamoDB goes through here, so that one policy holds for all: bad
 * input always rejects; a DynamoDB failure is reported once and becomes a failed outcome (or a
 * rejection with `throwOnErrors`); repeated failures open the circuit breaker, which skips DynamoDB
 * until a probe succeeds.
 */
export class DistributedTier {
  private readonly breaker: CircuitBreaker;
  /** Told after each write that reached DynamoDB. */
  afterWrite?: () => void;
  /** Told after each call that DynamoDB answered, while auto-recovery owes it changes. */
  onAnswered?: () => void;
  private readonly throwOnErrors: boolean;
  /** The calls made through here and not yet settled, which `disconnect()` waits for. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly config: CacheConfig,
    private readonly report: (error: unknown, operation: string) => void,
  ) {
    this.throwOnErrors = config.throwOnErrors;
    const { circuitBreaker } = config;
    this.breaker = new CircuitBreaker({
      ...circuitBreaker,
      onStateChange: (state, failures) => this.logState(state, failures, circuitBreaker.durationMs),
    });
  }

  get circuitState(): CircuitState {
    return this.breaker.state;
  }

  /** While the circuit is open: when a call may go to DynamoDB again. */
  get retryAt(): number {
    return this.breaker.retryAt;
  }

  /** `keys` name what the call was about, for the report of its failure. */
  async attempt<R>(operation: string, keys: string | readonly string[] | undefined, work: () => Promise<R>): Promise<Outcome<R>> {
    if (!this.breaker.tryPass()) {
      if (this.throwOnErrors) throw new CircuitOpenError(this.config.tableName, this.breaker.retryAt);
      return SKIPPED;
    }
    try {
      const value = await this.counted(work);
      this.breaker.succeeded();
      if (this.afterWrite !== undefined && WRITE_OPERATIONS.has(operation)) this.afterWrite();
      if (this.onAnswered !== undefined) this.onAnswered();
      return { ok: true, value };
    } catch (error) {
      if (isInputError(error)) {
        this.breaker.abandoned();
        throw error;
      }
      this.breaker.failed();
      this.report(error, operation + describeKeys(keys));
      if (this.throwOnErrors) throw error;
      return { ok: false, error };
    }
  }

  /**
   * A call made beside another that reports for both (the cache's cleared-at time read with an
   * entry): its failure is neither reported nor counted by the breaker, and it is not made at all
   * unless the circuit is closed. The caller makes it again, through `attempt`, if it is still needed.
   */
  async attemptBeside<R>(work: () => Promise<R>): Promise<Outcome<R>> {
    if (this.breaker.state !== 'closed') return SKIPPED;
    try {
      return { ok: true, value: await this.counted(work) };
    } catch (error) {
      if (isInputError(error)) throw error;
      return { ok: false, error };
    }
  }

  /** Writes made outside the operations above (auto-recovery's replay) reached DynamoDB: told once for all. */
  announceWrite(): void {
    this.afterWrite?.();
  }

  /** Resolves once every call in flight now has settled; at once when none is. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  get busy(): boolean {
    return this.inFlight.size > 0;
  }

  private async counted<R>(work: () => Promise<R>): Promise<R> {
    const running = work();
    this.inFlight.add(running);
    try {
      return await running;
    } finally {
      this.inFlight.delete(running);
    }
  }

  private logState(state: CircuitState, failures: number, durationMs: number): void {
    const where = `Cache "${this.config.name}" on DynamoDB table "${this.config.tableName}"`;
    // A probe is no news: only opening (from closed) and closing are logged, once each.
    if (state === 'open' && this.lastLogged !== 'open') {
      this.config.logger.warn(
        `${where}: ${failures} calls failed in a row; DynamoDB is skipped for ${durationMs} ms at a time until a probe succeeds (circuit open). Memory and fail-safe values keep serving.`,
      );
      this.lastLogged = 'open';
    } else if (state === 'closed' && this.lastLogged === 'open') {
      this.config.logger.warn(`${where}: DynamoDB answers again (circuit closed).`);
      this.lastLogged = 'closed';
    }
  }

  private lastLogged: CircuitState = 'closed';
}

/** Names the key (or the first keys) an operation was about, for a log line. */
function describeKeys(keys: string | readonly string[] | undefined): string {
  if (typeof keys === 'string') return ` "${keys}"`;
  if (keys === undefined || keys.length === 0) return '';
  return ` of ${keys.length} keys ("${keys.slice(0, 3).join('", "')}"${keys.length > 3 ? ', …' : ''})`;
}
