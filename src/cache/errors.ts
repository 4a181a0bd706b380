/** A factory that did not finish within `hardTimeout`, with no fail-safe value to serve instead. */
export class FactoryTimeoutError extends Error {
  /** Always `'FactoryTimeoutError'`: branch on it without importing the class (it survives bundling and a second copy of the package). */
  override readonly name = 'FactoryTimeoutError';
  constructor(
    /** The cache whose factory timed out. */
    readonly cacheName: string,
    /** The key the factory was computing; it goes on in the background. */
    readonly key: string,
    /** The `hardTimeout` it passed, in ms. */
    readonly timeoutMs: number,
  ) {
    super(
      `Cache "${cacheName}": the factory for key "${key}" did not finish within hardTimeout ${timeoutMs} ms, and no fail-safe value was at hand. ` +
        'It goes on in the background and its result will be cached, unless the cache disconnects first.',
    );
  }
}

/** DynamoDB was skipped because the circuit breaker is open (only seen with `throwOnErrors`). */
export class CircuitOpenError extends Error {
  /** Always `'CircuitOpenError'`: branch on it without importing the class (it survives bundling and a second copy of the package). */
  override readonly name = 'CircuitOpenError';
  constructor(
    /** The table that is being skipped. */
    readonly tableName: string,
    /** When a call will probe DynamoDB again, in epoch ms. */
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
  /**
   * Always `'CacheRegistrationError'`: branch on it without importing the class (it survives bundling and a
   * second copy of the package).
   */
  override readonly name = 'CacheRegistrationError';
  constructor(
    /** The named cache whose registration failed. */
    readonly cacheName: string,
    message: string,
  ) {
    super(`Cache "${cacheName}": ${message}`);
  }
}

/** One key of a cycle of factories, and the cache it belongs to. */
export interface FactoryLink {
  /** The cache's name. */
  readonly cache: string;
  /** The key whose factory waits on the next link. */
  readonly key: string;
}

/**
 * A factory that asked, directly or through other keys' factories (in this call or in concurrent
 * ones), for a key whose value waits on it: every call of the cycle would wait for the others
 * forever. The call that would close the cycle fails instead; `chain` lists the keys in the order
 * they wait on each other, the first and last alike.
 */
export class RecursiveFactoryError extends Error {
  /**
   * Always `'RecursiveFactoryError'`: branch on it without importing the class (it survives bundling and a
   * second copy of the package).
   */
  override readonly name = 'RecursiveFactoryError';
  constructor(
    /** The cache of the call that would have closed the cycle. */
    readonly cacheName: string,
    /** The keys in the order they wait on each other, the first and last alike. */
    readonly chain: readonly FactoryLink[],
  ) {
    const oneCache = chain.every((link) => link.cache === cacheName);
    const shown = chain
      .map((link) => (oneCache ? JSON.stringify(link.key) : `${JSON.stringify(link.key)} (cache "${link.cache}")`))
      .join(' → ');
    super(
      `Cache "${cacheName}": factories wait on each other in a cycle, ${shown}: the factory computing the first asked for the last, ` +
        'which waits for it. Compute the inner value without getOrSet, or give it another key.',
    );
  }
}

/** A `getOrSetMany` loader that answered neither a Map nor an array of one value per key asked. */
export class InvalidLoaderResultError extends TypeError {
  /**
   * Always `'InvalidLoaderResultError'`: branch on it without importing the class (it survives bundling and a
   * second copy of the package).
   */
  override readonly name = 'InvalidLoaderResultError';
  constructor(
    /** The cache whose `getOrSetMany` loader answered wrongly. */
    readonly cacheName: string,
    problem: string,
  ) {
    super(
      `Cache "${cacheName}": the getOrSetMany loader ${problem}; it must answer a Map from key to value, or an array ` +
        'of one value per key it was given, in that order. Nothing was stored.',
    );
  }
}

/**
 * A `getOrSet` that joined a `getOrSetMany`'s load of its key (stampede protection), whose loader had no
 * value for it: get-or-set never resolves undefined. `getOrSetMany`'s own callers get undefined instead.
 */
export class MissingLoadedValueError extends Error {
  /**
   * Always `'MissingLoadedValueError'`: branch on it without importing the class (it survives bundling and a
   * second copy of the package).
   */
  override readonly name = 'MissingLoadedValueError';
  constructor(
    /** The cache of the `getOrSetMany` that had no value for the key. */
    readonly cacheName: string,
    /** The key the loader gave no value for. */
    readonly key: string,
  ) {
    super(`Cache "${cacheName}": the getOrSetMany loader this call joined had no value for key "${key}"; nothing was stored for it.`);
  }
}

/**
 * A `ttl` function of getOrSet, wrap or getOrSetMany that threw for a value its factory or loader
 * made: the caller's bad input. Nothing was stored for the key (for getOrSetMany, nothing for any key
 * of the batch, as one bad entry of `mset` writes none); the function's error is the `cause`.
 */
export class TtlFunctionError extends Error {
  /** Always `'TtlFunctionError'`: branch on it without importing the class. */
  override readonly name = 'TtlFunctionError';
  constructor(
    /** The cache whose call it was (`'default'` for the module's own). */
    readonly cacheName: string,
    /** The key whose value the ttl function threw for. */
    readonly key: string,
    cause: unknown,
  ) {
    super(
      `Cache "${cacheName}": the ttl function threw for key "${key}" (${describeThrown(cause)}); nothing was stored. ` +
        'It must return a duration in ms (0: never expires) or entry options for every value it is given.',
      { cause },
    );
  }
}

function describeThrown(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
