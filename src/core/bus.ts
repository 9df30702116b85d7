// Runs the handlers of the events in events.ts, in the order the catalogue gives their slots.
import { EVENTS, type EventHandler, type EventName, type EventPayloads, type SlotOf } from './events.js';

export interface BusLogger {
  error(obj: object, msg: string): void;
}

interface Entry {
  handler: (payload: never) => unknown;
  rank: number;
}

export class EventBus {
  private readonly handlers = new Map<EventName, Entry[]>();

  constructor(private readonly log?: BusLogger) {}

  on<E extends EventName>(event: E, slot: SlotOf<E>, handler: EventHandler<E>): () => void {
    const slots: readonly string[] = EVENTS[event].slots;
    const rank = slots.indexOf(slot);
    if (rank < 0) throw new Error(`event ${event} has no slot ${slot}`);
    const list = this.handlers.get(event) ?? [];
    const entry: Entry = { handler: handler as Entry['handler'], rank };
    list.push(entry);
    list.sort((a, b) => a.rank - b.rank); // stable: registration order within a slot
    this.handlers.set(event, list);
    return () => {
      const current = this.handlers.get(event);
      if (current) this.handlers.set(event, current.filter((e) => e !== entry));
    };
  }

  /**
   * Runs the handlers until one returns something other than undefined, and returns that. A
   * handler that throws ends the run with its error for `stop` events; for `isolate` events it is
   * logged and the next handler runs.
   */
  async run<E extends EventName>(event: E, payload: EventPayloads[E]): Promise<unknown> {
    const list = this.handlers.get(event);
    if (!list) return undefined;
    const isolate = EVENTS[event].onError === 'isolate';
    for (const { handler } of list) {
      try {
        let result = (handler as (p: EventPayloads[E]) => unknown)(payload);
        // Most handlers decline synchronously: awaiting only real promises saves a microtask per handler on the hot path.
        if (result instanceof Promise) result = await result;
        if (result !== undefined) return result;
      } catch (err) {
        if (!isolate) throw err;
        this.log?.error({ err, event }, 'event handler failed');
      }
    }
    return undefined;
  }
}
