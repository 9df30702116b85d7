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
  run<E extends EventName>(event: E, payload: EventPayloads[E]): Promise<unknown> {
    try {
      return Promise.resolve(this.dispatch(event, payload));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * `run` without a promise while every handler answers synchronously (nearly every stanza on the
   * hot path): returns the result itself, or a promise from the first handler that returned one.
   * A `stop` event's handler that throws synchronously throws here.
   */
  dispatch<E extends EventName>(event: E, payload: EventPayloads[E]): unknown {
    const list = this.handlers.get(event);
    return list ? this.runFrom(list, 0, event, payload) : undefined;
  }

  private runFrom<E extends EventName>(list: Entry[], from: number, event: E, payload: EventPayloads[E]): unknown {
    for (let i = from; i < list.length; i++) {
      let result: unknown;
      try {
        result = (list[i]!.handler as (p: EventPayloads[E]) => unknown)(payload);
      } catch (err) {
        this.failed(event, err);
        continue;
      }
      if (result instanceof Promise) return this.settle(list, i, result, event, payload);
      if (result !== undefined) return result;
    }
    return undefined;
  }

  private async settle<E extends EventName>(list: Entry[], at: number, pending: Promise<unknown>, event: E, payload: EventPayloads[E]): Promise<unknown> {
    let result: unknown;
    try {
      result = await pending;
    } catch (err) {
      this.failed(event, err);
    }
    return result !== undefined ? result : this.runFrom(list, at + 1, event, payload);
  }

  /** A handler threw: the run ends with its error (`stop`), or it is logged and the run goes on (`isolate`). */
  private failed(event: EventName, err: unknown): void {
    if (EVENTS[event].onError !== 'isolate') throw err;
    this.log?.error({ err, event }, 'event handler failed');
  }
}
