// Counts failed authentications per remote address in a sliding window.
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  record(address: string): void {
    const now = Date.now();
    const list = (this.failures.get(address) ?? []).filter((t) => t > now - this.windowMs);
    list.push(now);
    this.failures.set(address, list);
    if (this.failures.size > 10_000) this.prune(now);
  }

  blocked(address: string): boolean {
    const list = this.failures.get(address);
    if (!list) return false;
    const recent = list.filter((t) => t > Date.now() - this.windowMs);
    if (recent.length === 0) this.failures.delete(address);
    return recent.length >= this.limit;
  }

  private prune(now: number): void {
    for (const [address, list] of this.failures) {
      if (list.every((t) => t <= now - this.windowMs)) this.failures.delete(address);
    }
  }
}
