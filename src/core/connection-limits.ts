// Connection limits of the XMPP side, in one place:
// - connections per remote address, counted from the TCP accept (a direct-TLS connection counts
//   before its handshake, so half-open handshakes cannot exceed the cap) until the connection is
//   gone. A session kept detached by stream management keeps its lost connection counted until it
//   is resumed or ends: it still holds server memory on behalf of that address.
// - bound resources per account on this node, detached sessions included; a bind beyond the cap
//   first ends the account's oldest detached session, and fails with resource-constraint when
//   every one is live.
import type { ConnectionGate } from '../transport/types.js';
import { StanzaError } from '../xmpp/errors.js';
import type { SessionRegistry } from './registry.js';
import type { C2sSession } from './session.js';

export class ConnectionLimits implements ConnectionGate {
  private readonly perAddress = new Map<string, number>();
  private readonly holders = new Map<object, string>();

  constructor(private readonly limits: { maxPerAddress: number; maxResourcesPerUser: number }) {}

  /** Counts `holder` against `address`; false (and not counted) when the address is at its cap. */
  admit(holder: object, address: string): boolean {
    if (this.holders.has(holder)) return true;
    const count = this.perAddress.get(address) ?? 0;
    if (count >= this.limits.maxPerAddress) return false;
    this.perAddress.set(address, count + 1);
    this.holders.set(holder, address);
    return true;
  }

  holds(holder: object): boolean {
    return this.holders.has(holder);
  }

  /** What `from` counted now counts for `to` (a TLS socket becoming its XMPP connection). */
  transfer(from: object, to: object): void {
    const address = this.holders.get(from);
    if (address === undefined) return;
    this.holders.delete(from);
    this.holders.set(to, address);
  }

  release(holder: object): void {
    const address = this.holders.get(holder);
    if (address === undefined) return;
    this.holders.delete(holder);
    const left = (this.perAddress.get(address) ?? 1) - 1;
    if (left <= 0) this.perAddress.delete(address);
    else this.perAddress.set(address, left);
  }

  /** Connections (and detached sessions) counted against an address. */
  count(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }

  /** Before `session` binds `resource`: makes room under the per-account cap, or throws resource-constraint. */
  makeRoomToBind(sessions: SessionRegistry, session: C2sSession, bare: string, resource: string): void {
    const bound = sessions.resources(bare);
    if (bound.some((s) => s.jid?.resource === resource)) return; // a replacement, not one more
    let excess = bound.length + 1 - this.limits.maxResourcesPerUser;
    if (excess <= 0) return;
    const detached = bound.filter((s) => s.detached && s !== session).sort((a, b) => a.lastActivity - b.lastActivity);
    for (const old of detached) {
      if (excess <= 0) break;
      old.close();
      excess--;
    }
    if (excess > 0) {
      throw new StanzaError('resource-constraint', `at most ${this.limits.maxResourcesPerUser} resources may be bound at once`);
    }
  }
}
