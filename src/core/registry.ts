// The local session registry: who is connected to this node, by bare JID and resource.
import type { C2sSession } from './session.js';

export class SessionRegistry {
  private readonly byBare = new Map<string, Map<string, C2sSession>>();
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
    let resources = this.byBare.get(jid.bare);
    if (!resources) {
      resources = new Map();
      this.byBare.set(jid.bare, resources);
    }
    const previous = resources.get(jid.resource);
    resources.set(jid.resource, session);
    return previous === session ? undefined : previous;
  }

  unbind(session: C2sSession): void {
    const jid = session.jid;
    if (!jid) return;
    const resources = this.byBare.get(jid.bare);
    if (resources?.get(jid.resource) === session) {
      resources.delete(jid.resource);
      if (resources.size === 0) this.byBare.delete(jid.bare);
    }
  }

  get(bare: string, resource: string): C2sSession | undefined {
    return this.byBare.get(bare)?.get(resource);
  }

  /** All bound sessions of an account. */
  resources(bare: string): C2sSession[] {
    const resources = this.byBare.get(bare);
    return resources ? [...resources.values()] : [];
  }

  /** Sessions that sent initial presence and have not gone unavailable. */
  available(bare: string): C2sSession[] {
    const resources = this.byBare.get(bare);
    if (!resources) return [];
    const out: C2sSession[] = [];
    for (const s of resources.values()) if (s.available) out.push(s);
    return out;
  }

  isOnline(bare: string): boolean {
    return this.byBare.has(bare);
  }
}
