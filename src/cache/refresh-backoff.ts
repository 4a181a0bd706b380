/** Keys whose last background refresh failed, and when each may be tried again. */
export class RefreshBackoff {
  private readonly retryAt = new Map<string, number>();

  constructor(private readonly maxKeys = 10_000) {}

  mayTry(key: string, now: number): boolean {
    const at = this.retryAt.get(key);
    if (at === undefined) return true;
    if (now < at) return false;
    this.retryAt.delete(key);
    return true;
  }

  failed(key: string, retryAt: number): void {
    this.retryAt.delete(key);
    this.retryAt.set(key, retryAt);
    // Oldest first: past the bound, the longest-known failures are forgotten (tried again on a hit).
    if (this.retryAt.size > this.maxKeys) this.retryAt.delete(this.retryAt.keys().next().value!);
  }

  succeeded(key: string): void {
    this.retryAt.delete(key);
  }
}
