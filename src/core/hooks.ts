// A small event bus with priorities: handlers run from the highest priority down, and the first
// one that returns something other than undefined ends the run (Prosody's model). Handlers may be
// async; a run awaits each in turn so ordering holds. A throwing handler is logged and skipped,
// so one faulty module cannot take down the caller.

export type HookHandler<P = any, R = unknown> = (payload: P) => R | undefined | Promise<R | undefined>;

interface Entry {
  handler: HookHandler;
  priority: number;
}

export interface HookLogger {
  error(obj: object, msg: string): void;
}

export class HookBus {
  private readonly hooks = new Map<string, Entry[]>();

  constructor(private readonly log?: HookLogger) {}

  on<P, R = unknown>(event: string, handler: HookHandler<P, R>, priority = 0): () => void {
    const list = this.hooks.get(event) ?? [];
    const entry = { handler: handler as HookHandler, priority };
    list.push(entry);
    list.sort((a, b) => b.priority - a.priority);
    this.hooks.set(event, list);
    return () => {
      const current = this.hooks.get(event);
      if (current) this.hooks.set(event, current.filter((e) => e !== entry));
    };
  }

  has(event: string): boolean {
    return (this.hooks.get(event)?.length ?? 0) > 0;
  }

  /**
   * Runs handlers until one returns a value; returns that value (undefined when none did). With
   * `maxPriority`, only the handlers at or below that priority run (a stanza that another node
   * already took through the handlers above: the cluster's receiver).
   */
  async run<R = unknown>(event: string, payload: unknown, maxPriority = Infinity): Promise<R | undefined> {
    const list = this.hooks.get(event);
    if (!list) return undefined;
    for (const { handler, priority } of list) {
      if (priority > maxPriority) continue;
      try {
        let result = handler(payload);
        // Most handlers decline synchronously: awaiting only real promises saves a microtask per handler on the hot path.
        if (result instanceof Promise) result = await result;
        if (result !== undefined) return result as R;
      } catch (err) {
        this.log?.error({ err, event }, 'hook handler failed');
      }
    }
    return undefined;
  }
}
