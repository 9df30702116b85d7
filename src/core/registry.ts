// The local session registry: who is connected to this node, by bare JID and resource.
import type { C2sSession } from './session.js';

const NONE: readonly C2sSession[] = Object.freeze([]);

export class SessionRegistry {
  // An account's bound sessions, one per resource: a short array (a Map per account cost an
  // iterator on every message, see `available`). Replaced, never changed in place, so `available`
  // can hand it out: a caller iterating it while a session unbinds still sees the array it got.
  private readonly byBare = new Map<string, readonly C2sSession[]>();
  private readonly all = new Set<C2sSession>();

  get size(): number {
    return this.all.size;
  }

  /** Every connection, bound or not. */
  connections(): IterableIterator<C2sSession> {
    return this.all.values();
  }

  track(session: C2sSession): void {
    this.all.add(session);
  }

  untrack(session: C2sSession): void {
    this.all.delete(session);
    this.unbind(session);
  }

  /** Registers a bound session; returns the session it replaces (same full JID), if any. */
  bind(session: C2sSession): C2sSession | undefined {
    const jid = session.jid!;
    const resources = this.byBare.get(jid.bare);
    if (!resources) {
      this.byBare.set(jid.bare, [session]);
      return undefined;
    }
    const at = resources.findIndex((s) => s.jid!.resource === jid.resource);
    if (at < 0) {
      this.byBare.set(jid.bare, [...resources, session]);
      return undefined;
    }
    const previous = resources[at]!;
    this.byBare.set(jid.bare, resources.map((s, i) => (i === at ? session : s)));
    return previous === session ? undefined : previous;
  }

  unbind(session: C2sSession): void {
    const jid = session.jid;
    if (!jid) return;
    const resources = this.byBare.get(jid.bare);
    const at = resources ? resources.indexOf(session) : -1;
    if (at < 0) return;
    if (resources!.length === 1) this.byBare.delete(jid.bare);
    else this.byBare.set(jid.bare, resources!.filter((s) => s !== session));
  }

  get(bare: string, resource: string): C2sSession | undefined {
    const resources = this.byBare.get(bare);
    if (!resources) return undefined;
    for (const s of resources) if (s.jid!.resource === resource) return s;
    return undefined;
  }

  /** All bound sessions of an account. */
  resources(bare: string): C2sSession[] {
    const resources = this.byBare.get(bare);
    return resources ? resources.slice() : [];
  }

  /**
   * Sessions that sent initial presence and have not gone unavailable. When all of the account's
   * sessions are (nearly always), the registry's own array: no array is made per stanza.
   */
  available(bare: string): readonly C2sSession[] {
    const resources = this.byBare.get(bare);
    if (!resources) return NONE;
    for (let i = 0; i < resources.length; i++) if (!resources[i]!.available) return resources.filter((s) => s.available);
    return resources;
  }

  isOnline(bare: string): boolean {
    return this.byBare.has(bare);
  }
}
