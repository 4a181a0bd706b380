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

/** Runs `work` over `items` with at most `concurrency` calls in flight, keeping the input order. */
export async function mapWithConcurrency<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
