// Typed announcements of committed changes to whoever listens. Listeners run in registration order;
// one that throws or rejects is reported to `onError` and never undoes or fails the change.
export type Listener<P> = (payload: P) => void | Promise<void>;

export class Announcer<M extends { [K in keyof M]: unknown }> {
  private readonly listeners = new Map<keyof M, Listener<never>[]>();

  constructor(private readonly onError: (err: unknown, event: keyof M) => void) {}

  /** Returns a function that removes the listener. */
  on<K extends keyof M>(event: K, listener: Listener<M[K]>): () => void {
    const list = this.listeners.get(event) ?? [];
    list.push(listener as Listener<never>);
    this.listeners.set(event, list);
    return () => {
      const i = list.indexOf(listener as Listener<never>);
      if (i >= 0) list.splice(i, 1);
    };
  }

  emit<K extends keyof M>(event: K, payload: M[K]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])] as Listener<M[K]>[]) {
      try {
        const result = listener(payload);
        if (result instanceof Promise) result.catch((err: unknown) => this.onError(err, event));
      } catch (err) {
        this.onError(err, event);
      }
    }
  }
}
