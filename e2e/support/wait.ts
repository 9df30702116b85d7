// Bounded waiting: every wait in the e2e suite rejects after a timeout instead of hanging.

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (at most `ms`) until `check` holds. */
export async function until(check: () => boolean | Promise<boolean>, ms = 10_000, label = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${label}: not reached within ${ms} ms`);
    await sleep(25);
  }
}

/** Resolves like `promise`, or rejects with "<label>: timed out after <ms> ms". */
export function withTimeout<T>(promise: Promise<T>, ms: number, label: string | (() => string) = 'wait'): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${typeof label === 'function' ? label() : label}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Items arriving over time (stanzas, chunks of text), taken by predicate: `take` returns the first
 * matching item already received or waits for one; taken items are removed, so order is preserved.
 */
export class Inbox<T> {
  readonly items: T[] = [];
  private readonly waiters = new Set<{ match: (item: T) => boolean; resolve: (item: T) => void }>();

  push(item: T): void {
    for (const waiter of this.waiters) {
      if (waiter.match(item)) {
        this.waiters.delete(waiter);
        waiter.resolve(item);
        return;
      }
    }
    this.items.push(item);
  }

  take(match: (item: T) => boolean, ms = 3000, label = 'inbox'): Promise<T> {
    const i = this.items.findIndex(match);
    if (i >= 0) return Promise.resolve(this.items.splice(i, 1)[0]!);
    let waiter!: { match: (item: T) => boolean; resolve: (item: T) => void };
    const found = new Promise<T>((resolve) => this.waiters.add((waiter = { match, resolve })));
    return withTimeout(found, ms, label).finally(() => this.waiters.delete(waiter));
  }

  /** Waits `ms` and returns (and removes) everything matching that arrived meanwhile or before. */
  async drain(match: (item: T) => boolean, ms: number): Promise<T[]> {
    await sleep(ms);
    const out = this.items.filter(match);
    for (const item of out) this.items.splice(this.items.indexOf(item), 1);
    return out;
  }
}
