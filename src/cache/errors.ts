/** A factory that did not finish within `hardTimeout`, with no fail-safe value to serve instead. */
export class FactoryTimeoutError extends Error {
  override readonly name = 'FactoryTimeoutError';
  constructor(
    readonly cacheName: string,
    readonly key: string,
    readonly timeoutMs: number,
  ) {
    super(
      `Cache "${cacheName}": the factory for key "${key}" did not finish within hardTimeout ${timeoutMs} ms, and no fail-safe value was at hand. ` +
        'It goes on in the background and its result will be cached.',
    );
  }
}

/** DynamoDB was skipped because the circuit breaker is open (only seen with `throwOnErrors`). */
export class CircuitOpenError extends Error {
  override readonly name = 'CircuitOpenError';
  constructor(
    readonly tableName: string,
    readonly retryAt: number,
  ) {
    super(
      `DynamoDB table "${tableName}" is skipped until ${new Date(retryAt).toISOString()}: the circuit breaker opened after repeated failures ` +
        '(circuitBreakerThreshold, circuitBreakerDuration).',
    );
  }
}

/** Two registrations of one named cache that disagree, or a name or prefix that cannot be used. */
export class CacheRegistrationError extends Error {
  override readonly name = 'CacheRegistrationError';
  constructor(
    readonly cacheName: string,
    message: string,
  ) {
    super(`Cache "${cacheName}": ${message}`);
  }
}

/**
 * A factory that asked, directly or through other keys' factories, for the key it is computing: it
 * would wait for itself forever. The inner call fails instead; `chain` lists the keys, outermost first.
 */
export class RecursiveFactoryError extends Error {
  override readonly name = 'RecursiveFactoryError';
  constructor(
    readonly cacheName: string,
    readonly chain: readonly string[],
  ) {
    super(
      `Cache "${cacheName}": the factory of key ${chain.map((key) => JSON.stringify(key)).join(' → ')} asked for key "${chain[chain.length - 1]}" ` +
        'while it is being computed, which would wait for itself. Compute the inner value without getOrSet, or give it another key.',
    );
  }
}
