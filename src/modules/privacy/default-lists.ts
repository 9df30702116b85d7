// Users' default privacy lists, as the privacy checks read them. Each entry is read again from the
// store once it is older than `freshMs`, so a list changed on another node of a cluster, or a
// roster change that a group or subscription item depends on, applies within that time; until then
// the previous value stays readable synchronously (the outgoing filter cannot wait). The map is
// bounded: past `capacity` users the least recently loaded go first.
import type { EffectiveList } from '../../chat/privacy.js';
import { coarseNow } from '../../util/coarse-clock.js';

interface Entry {
  value: EffectiveList | null;
  loadedAt: number;
}

export class DefaultLists {
  private readonly entries = new Map<number, Entry>();

  constructor(
    private readonly load: (userId: number) => Promise<EffectiveList | null>,
    private readonly options: { freshMs: number; capacity: number; now?: () => number },
  ) {}

  /** The last value loaded for the user: undefined when never loaded (or dropped), null when the user has none. */
  known(userId: number): EffectiveList | null | undefined {
    return this.entries.get(userId)?.value;
  }

  /** Like `known`, but undefined also when the value is due to be read again. */
  fresh(userId: number): EffectiveList | null | undefined {
    const entry = this.entries.get(userId);
    return entry && this.now() - entry.loadedAt < this.options.freshMs ? entry.value : undefined;
  }

  /** The user's default list, from the store when the known value is missing or older than `freshMs`. */
  async get(userId: number): Promise<EffectiveList | null> {
    const entry = this.entries.get(userId);
    if (entry && this.now() - entry.loadedAt < this.options.freshMs) return entry.value;
    const value = await this.load(userId);
    this.set(userId, value);
    return value;
  }

  /** A value just stored by this node. */
  set(userId: number, value: EffectiveList | null): void {
    this.entries.delete(userId);
    this.entries.set(userId, { value, loadedAt: this.now() });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.options.capacity) break;
      this.entries.delete(oldest);
    }
  }

  forget(userId: number): void {
    this.entries.delete(userId);
  }

  get size(): number {
    return this.entries.size;
  }

  private now(): number {
    return this.options.now ? this.options.now() : coarseNow();
  }
}
