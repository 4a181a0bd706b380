/**
 * Logs a warning at most once per interval and per topic (a route, a method), with how many were
 * held back: a cache that fails for every request of a busy route must not bury the log under one
 * line per request, nor hide that another route fails too.
 */
export class BurstWarning {
  private readonly topics = new Map<string, { lastAt: number; heldBack: number }>();
  private readonly said = new Set<string>();

  constructor(
    private readonly logger: { warn(message: string): void },
    private readonly intervalMs = 10_000,
  ) {}

  /** `topic` starts the message, which goes on with `detail`. */
  warn(topic: string, detail: string): void {
    const now = Date.now();
    const state = this.topics.get(topic);
    if (state !== undefined && now - state.lastAt < this.intervalMs) {
      state.heldBack++;
      return;
    }
    const suffix = state !== undefined && state.heldBack > 0 ? ` (and ${state.heldBack} more since the last such warning)` : '';
    this.topics.set(topic, { lastAt: now, heldBack: 0 });
    this.logger.warn(`${topic}: ${detail}${suffix}`);
  }

  /**
   * Logs a warning the first time only, whatever else was said of `topic`: for a fact of the app's
   * set-up (a resolver's context), which saying every 10 seconds would not change, and which another
   * warning's interval must not hold back. `detail` names no value of a call, so a topic says it once.
   */
  warnOnce(topic: string, detail: string): void {
    const message = `${topic}: ${detail}`;
    if (this.said.has(message)) return;
    this.said.add(message);
    this.logger.warn(message);
  }
}

/** An error as a log line names it: its class and message. */
export function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
