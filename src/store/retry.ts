export interface RetryPolicy {
  /** How long a batch may keep retrying its unprocessed part before it fails. */
  readonly maxDurationMs: number;
  /** The first backoff ceiling; it doubles with each round that makes no progress. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * "Full jitter" backoff: a random delay below a ceiling that doubles with each fruitless round, so
 * that many instances retrying the same throttled table do not retry in step.
 */
export function backoffDelay(policy: RetryPolicy, fruitlessRounds: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** fruitlessRounds);
  return Math.random() * ceiling;
}

/**
 * Runs `work` over `items` with at most `concurrency` calls in flight, keeping the input order. At the
 * first failure no further item is started, and it rejects with that failure only once every call
 * already in flight has settled: a batch write must not land after its caller was told it failed,
 * where it would overwrite what the caller wrote next.
 */
export async function mapWithConcurrency<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { readonly error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  // The workers never reject, so this waits for all of them.
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
