/**
 * The circuit breaker in front of DynamoDB: `closed` (calls go through), `open` (DynamoDB skipped for
 * `circuitBreakerDuration`), `half-open` (one call probes it).
 */
export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit; 0 turns the breaker off. */
  readonly threshold: number;
  /** How long the circuit stays open before one call probes DynamoDB again, in ms. */
  readonly durationMs: number;
  /** Told of every change of state, once, not per call. */
  readonly onStateChange: (state: CircuitState, consecutiveFailures: number) => void;
}

/**
 * Stops calling a DynamoDB that keeps failing, so that an outage costs each request a skipped call
 * instead of a timeout. After `durationMs` one call at a time probes: its success closes the circuit,
 * its failure opens it for another period.
 */
export class CircuitBreaker {
  private consecutiveFailures = 0;
  private openUntil = 0;
  private probing = false;
  state: CircuitState = 'closed';

  constructor(private readonly options: CircuitBreakerOptions) {}

  /** Whether a call may go to DynamoDB now; a true answer in half-open state reserves the probe. */
  tryPass(now = Date.now()): boolean {
    if (this.state === 'closed') return true;
    if (now < this.openUntil || this.probing) return false;
    this.probing = true;
    this.moveTo('half-open');
    return true;
  }

  /** When a skipped call may be tried again. */
  get retryAt(): number {
    return this.openUntil;
  }

  /** A call that passed but never reached DynamoDB (its input was refused): it proves nothing either way. */
  abandoned(): void {
    this.probing = false;
  }

  succeeded(): void {
    this.consecutiveFailures = 0;
    this.probing = false;
    if (this.state !== 'closed') this.moveTo('closed');
  }

  failed(now = Date.now()): void {
    this.consecutiveFailures += 1;
    this.probing = false;
    const threshold = this.options.threshold;
    if (threshold > 0 && (this.state === 'half-open' || this.consecutiveFailures >= threshold)) {
      this.openUntil = now + this.options.durationMs;
      if (this.state !== 'open') this.moveTo('open');
    }
  }

  private moveTo(state: CircuitState): void {
    this.state = state;
    this.options.onStateChange(state, this.consecutiveFailures);
  }
}
