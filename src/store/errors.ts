/**
 * Every error this library raises on purpose has a stable `name`, so that callers can branch on it
 * without importing the class, and a message that names the table, key or option at fault.
 */

/** A key that cannot address an item: not a string, empty, or not valid UTF-16. */
export class InvalidCacheKeyError extends TypeError {
  /** Always `'InvalidCacheKeyError'`: branch on it without importing the class (it survives bundling and a second copy of the package). */
  override readonly name = 'InvalidCacheKeyError';
}

/** An option given to the module or the store that cannot work; the message names the option. */
export class InvalidOptionError extends TypeError {
  /** Always `'InvalidOptionError'`: branch on it without importing the class (it survives bundling and a second copy of the package). */
  override readonly name = 'InvalidOptionError';
  constructor(
    /** The option at fault, by its path (`memory.maxTtl`, `backplane.interval`). */
    readonly option: string,
    message: string,
  ) {
    super(`nest-dynamo-cache: option "${option}" ${message}`);
  }
}

/** A ttl or expiration that is not a finite, non-negative duration or a future date. */
export class InvalidExpirationError extends RangeError {
  /**
   * Always `'InvalidExpirationError'`: branch on it without importing the class (it survives bundling and a
   * second copy of the package).
   */
  override readonly name = 'InvalidExpirationError';
}

/** A value that JSON cannot represent faithfully (circular, a function, a symbol, undefined). */
export class SerializationError extends TypeError {
  /** Always `'SerializationError'`: branch on it without importing the class (it survives bundling and a second copy of the package). */
  override readonly name = 'SerializationError';
  constructor(
    /** The key whose value could not be serialized; nothing was written under it. */
    readonly key: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot cache key "${key}": ${reason}. Nothing was written.`, options);
  }
}

/**
 * A value past `maxValueBytes` (serialized, before compression), or an item DynamoDB would refuse
 * that chunking cannot help (a head item whose very long key alone passes 400 KB). Thrown before
 * anything is written.
 */
export class ValueTooLargeError extends RangeError {
  /** Always `'ValueTooLargeError'`: branch on it without importing the class (it survives bundling and a second copy of the package). */
  override readonly name = 'ValueTooLargeError';
  constructor(
    /** The key whose value was refused; nothing was written under it. */
    readonly key: string,
    /** The size that was over the limit, in bytes: the serialized value, or the item for `limit: 'item'`. */
    readonly valueBytes: number,
    /** The limit it passed, in bytes: `maxValueBytes`, or DynamoDB's 400 KB item limit. */
    readonly limitBytes: number,
    /** Which limit: the `maxValueBytes` option, or DynamoDB's item limit. */
    readonly limit: 'maxValueBytes' | 'item',
  ) {
    super(
      limit === 'maxValueBytes'
        ? `Cannot cache key "${key}": its value serializes to ${valueBytes} bytes, over maxValueBytes (${limitBytes}). ` +
            'Nothing was written. Store a smaller value, or raise maxValueBytes.'
        : `Cannot cache key "${key}": its DynamoDB item would be ${valueBytes} bytes, over the ${limitBytes}-byte item limit. ` +
            'Nothing was written. Use a shorter key.',
    );
  }
}

/** A batch whose unprocessed part DynamoDB kept returning until the retry budget ran out. */
export class UnprocessedItemsError extends Error {
  /**
   * Always `'UnprocessedItemsError'`: branch on it without importing the class (it survives bundling and a
   * second copy of the package).
   */
  override readonly name = 'UnprocessedItemsError';
  constructor(
    /** The table the batch was sent to. */
    readonly tableName: string,
    /** The batch call DynamoDB kept leaving items of unprocessed. */
    readonly operation: 'BatchGetItem' | 'BatchWriteItem',
    /** How many items were still unprocessed when the retries stopped. */
    readonly unprocessedCount: number,
    /** How many items the batch held. */
    readonly totalCount: number,
    /** How long the batch retried, in ms (bounded by `batchRetryTimeout`). */
    readonly elapsedMs: number,
  ) {
    super(
      `${operation} on table "${tableName}": ${unprocessedCount} of ${totalCount} items were still unprocessed ` +
        `after retrying for ${elapsedMs} ms (DynamoDB is throttling or the table is overloaded). ` +
        'Raise batchRetryTimeout or the table capacity.',
    );
  }
}

/** The table is missing, or its key schema or TTL setting cannot hold this cache's items. */
export class TableConfigurationError extends Error {
  /**
   * Always `'TableConfigurationError'`: branch on it without importing the class (it survives bundling and a
   * second copy of the package).
   */
  override readonly name = 'TableConfigurationError';
  constructor(
    /** The table that is missing or cannot hold the cache's items. */
    readonly tableName: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`DynamoDB table "${tableName}": ${message}`, options);
  }
}

/**
 * DynamoDB could not be reached (or did not answer) when the app started and the cache checked its
 * table. A table that answers but is wrong is a TableConfigurationError instead.
 */
export class CacheStartupError extends Error {
  /** Always `'CacheStartupError'`: branch on it without importing the class (it survives bundling and a second copy of the package). */
  override readonly name = 'CacheStartupError';
  /** What went wrong, without the advice: what a `startupCheck: 'warn'` start logs. */
  readonly problem: string;
  constructor(
    /** The table whose check failed. */
    readonly tableName: string,
    where: string,
    /** How long the check tried before it gave up, in ms. */
    readonly elapsedMs: number,
    options: { cause: unknown },
  ) {
    const problem =
      `DynamoDB table "${tableName}"${where} could not be checked at start-up: ${(options.cause as Error)?.message ?? String(options.cause)} ` +
      `(gave up after ${elapsedMs} ms).`;
    super(
      `${problem} Check the endpoint, network and credentials, or set startupCheck: 'warn' to start anyway and answer from handlers until DynamoDB is reachable.`,
      options,
    );
    this.problem = problem;
  }
}

/** DynamoDB kept throttling one call through every retry the client allows. */
export class ThrottledError extends Error {
  /** Always `'ThrottledError'`: branch on it without importing the class (it survives bundling and a second copy of the package). */
  override readonly name = 'ThrottledError';
  constructor(
    /** The table whose capacity is exhausted. */
    readonly tableName: string,
    /** The DynamoDB operation that was throttled (`GetItem`, `PutItem`…). */
    readonly operation: string,
    /** How many attempts the client made, when its `$metadata` says; undefined otherwise. */
    readonly attempts: number | undefined,
    options: { cause: unknown },
  ) {
    super(
      `${operation} on table "${tableName}" was throttled by DynamoDB (${(options.cause as Error).name})` +
        `${attempts === undefined ? '' : ` on all ${attempts} attempts`}. The table's capacity is exhausted: ` +
        'raise it (or use on-demand billing), or give the client more retries (maxAttempts).',
      options,
    );
  }
}

/** A DynamoDB call that did not answer within `operationTimeout`; nothing is known of its outcome. */
export class OperationTimeoutError extends Error {
  /**
   * Always `'OperationTimeoutError'`: branch on it without importing the class (it survives bundling and a
   * second copy of the package).
   */
  override readonly name = 'OperationTimeoutError';
  constructor(
    /** The table the call was sent to. */
    readonly tableName: string,
    /** The DynamoDB operation that did not answer (`GetItem`, `BatchWriteItem`…). */
    readonly operation: string,
    /** The bound it passed, in ms: `operationTimeout`, or five times it for batches and scans. */
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(`${operation} on DynamoDB table "${tableName}" did not answer within ${timeoutMs} ms (operationTimeout).`, options);
  }
}

/**
 * A DynamoDB call still in flight when its store disconnected: abandoned (its socket released, or
 * never used), so that nothing the store sends lands after `disconnect()` resolved.
 */
export class CallAbandonedError extends Error {
  override readonly name = 'CallAbandonedError';
  constructor(readonly tableName: string) {
    super(`A call to DynamoDB table "${tableName}" was abandoned: its store disconnected while it was in flight.`);
  }
}
