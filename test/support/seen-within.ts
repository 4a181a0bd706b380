export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Asks `read` every 20 ms until it returns `expected`, for what another instance or DynamoDB does
 * in its own time (a backplane's read, a TTL sweep). Resolves to how long that took; fails past
 * `within`, saying what `read` still returned.
 */
export async function seenWithin<T>(read: () => Promise<T>, expected: T, within: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < within) {
    if ((await read()) === expected) return Date.now() - started;
    await sleep(20);
  }
  throw new Error(`not seen within ${within} ms: still ${JSON.stringify(await read())}`);
}

/**
 * Resolves once `backplane` has finished a read that began after `instant`: every change committed
 * before `instant` has then been applied to this instance's memory (what `lagMs` bounds). For a
 * test to wait on instead of a guess at a few intervals.
 */
export async function caughtUpAfter(backplane: { stats(): { lagMs: number } }, instant: number, within: number): Promise<void> {
  // lagMs is measured at least as late as `now`, so a lag under `now - instant` puts the read's start after `instant`.
  await seenWithin(
    async () => {
      const now = Date.now();
      return backplane.stats().lagMs < now - instant;
    },
    true,
    within,
  );
}

/**
 * Resolves once the clock has moved past the millisecond it shows now. Memory keeps no value whose
 * read began in the millisecond of a clear (it cannot tell which came first), so a test that reads,
 * and expects the value kept, right after it has seen a clear happen waits for this first.
 */
export async function pastThisMillisecond(): Promise<void> {
  const now = Date.now();
  while (Date.now() <= now) await sleep(1);
}

/**
 * `promise`'s outcome and how long it took, or a failure saying it was still pending after `ms`: a
 * test of a bound then fails on it, not on the test's own timeout.
 */
export async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<{ value?: T; error?: unknown; ms: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ value, ms: Date.now() - started }),
        (error: unknown) => ({ error, ms: Date.now() - started }),
      ),
      pending,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
