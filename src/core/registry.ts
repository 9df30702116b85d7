// The local session registry: who is connected to this node, by bare JID and resource.
import type { C2sSession } from './session.js';

export class SessionRegistry {
  // An account's bound sessions, one per resource: a short array (a Map per account cost an
  // iterator on every message, see `available`).
  private readonly byBare = new Map<string, C2sSession[]>();
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
      resources.push(session);
      return undefined;
    }
    const previous = resources[at]!;
    resources[at] = session;
    return previous === session ? undefined : previous;
  }

  unbind(session: C2sSession): void {
    const jid = session.jid;
    if (!jid) return;
    const resources = this.byBare.get(jid.bare);
    const at = resources ? resources.indexOf(session) : -1;
    if (at < 0) return;
    resources!.splice(at, 1);
    if (resources!.length === 0) this.byBare.delete(jid.bare);
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

  /** Sessions that sent initial presence and have not gone unavailable. */
  available(bare: string): C2sSession[] {
    const resources = this.byBare.get(bare);
    if (!resources) return [];
    const out: C2sSession[] = [];
    for (let i = 0; i < resources.length; i++) if (resources[i]!.available) out.push(resources[i]!);
    return out;
  }

  isOnline(bare: string): boolean {
    return this.byBare.has(bare);
  }
}
