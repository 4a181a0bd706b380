/**
 * Logs a warning at most once per interval, with how many were held back: a cache that fails for
 * every request of a busy route must not bury the log under one line per request.
 */
export class BurstWarning {
  private lastAt = -Infinity;
  private heldBack = 0;

  constructor(
    private readonly logger: { warn(message: string): void },
    private readonly intervalMs = 10_000,
  ) {}

  warn(message: string): void {
    const now = Date.now();
    if (now - this.lastAt < this.intervalMs) {
      this.heldBack++;
      return;
    }
    const suffix = this.heldBack > 0 ? ` (${this.heldBack} more like it in the last burst were not logged)` : '';
    this.lastAt = now;
    this.heldBack = 0;
    this.logger.warn(message + suffix);
  }
}

/** An error as a log line names it: its class and message. */
export function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
