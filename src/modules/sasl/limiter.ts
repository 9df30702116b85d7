// Counts events (failed or attempted authentications) per key in a sliding window.
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  record(key: string): void {
    const now = Date.now();
    const list = (this.failures.get(key) ?? []).filter((t) => t > now - this.windowMs);
    list.push(now);
    // Only the newest `limit` matter for `blocked`: a flood of attempts costs no more memory.
    if (list.length > this.limit) list.splice(0, list.length - this.limit);
    this.failures.set(key, list);
    if (this.failures.size > 10_000) this.prune(now);
  }

  /** True once `limit` events happened within the window. */
  blocked(key: string): boolean {
    const list = this.failures.get(key);
    if (!list) return false;
    const recent = list.filter((t) => t > Date.now() - this.windowMs);
    if (recent.length === 0) this.failures.delete(key);
    return recent.length >= this.limit;
  }

  private prune(now: number): void {
    for (const [key, list] of this.failures) {
      if (list.every((t) => t <= now - this.windowMs)) this.failures.delete(key);
    }
  }
}
