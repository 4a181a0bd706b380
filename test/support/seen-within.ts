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
  await seenWithin(async () => {
    const now = Date.now();
    return backplane.stats().lagMs < now - instant;
  }, true, within);
}
