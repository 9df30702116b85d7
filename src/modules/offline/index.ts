// Offline storage (XEP-0160): chat and normal messages with a body, for a user with no available
// resource, are stored with an XEP-0203 delay and delivered oldest first after the next initial
// presence. Chat states, headlines and errors are never stored.
//
// A stored message is deleted only once its delivery is confirmed (C2sSession.send's outcome: the
// client's acknowledgement under stream management, else the write); one handed to a session and
// not yet confirmed is not handed to another. Live messages for a session wait until its stored
// ones are out, so none overtakes them.
import type { ModuleApi, RouteContext } from '../../core/api.js';
import type { C2sSession } from '../../core/api.js';
import { xml, type Element } from '../../xml/element.js';
import { parseElement } from '../../xml/stream-parser.js';
import { NS_DELAY } from '../../xmpp/ns.js';
import { StanzaError } from '../../xmpp/errors.js';
import { parseUserLocal } from '../../xmpp/jid.js';
import type { OfflineStore } from '../../storage/types.js';

const FLUSH = Symbol('offline-flush');

/** A session's delivery of stored messages after its initial presence. */
interface Flush {
  done: boolean;
  sending: boolean;
  /** Live messages that arrived meanwhile. */
  held: Element[];
}

export function offlineModule(core: ModuleApi, store: OfflineStore): void {
  const inFlight = new Set<number>();
  let delivered: number[] = [];
  const removeDelivered = (id: number): void => {
    if (delivered.length === 0) {
      queueMicrotask(() => {
        const ids = delivered;
        delivered = [];
        store.remove(ids).catch((err) => core.log.error({ err }, 'removing delivered offline messages failed'));
      });
    }
    delivered.push(id);
  };

  /** Pushes not yet written, per user: a flush starting meanwhile waits for them (the store may write later, or on another connection). */
  const writing = new Map<number, Set<Promise<boolean>>>();
  const keep = (userId: number, stanza: Element): Promise<boolean> => {
    const stored = stanza.clone();
    stored.append(xml('delay', { xmlns: NS_DELAY, from: core.domain, stamp: new Date().toISOString() }, 'Offline Storage'));
    // One sender gets a share of the store, not all of it (the sender is the bare JID the server stamped).
    const from = (stanza.attrs.from ?? '').split('/')[0]!.toLowerCase();
    const sender = from ? { id: from, limit: core.config.offline_limit_per_sender } : undefined;
    const push = store.push(userId, stored.toString(), core.config.offline_limit, sender);
    const pending = writing.get(userId) ?? new Set();
    writing.set(userId, pending.add(push));
    const done = (): void => {
      pending.delete(push);
      if (pending.size === 0 && writing.get(userId) === pending) writing.delete(userId);
    };
    push.then(done, done);
    return push;
  };

  core.on('message/bare', 'offline', async ({ stanza, to, origin }: RouteContext) => {
    const type = stanza.attrs.type ?? 'normal';
    if (type !== 'chat' && type !== 'normal') return undefined;
    if (!stanza.getChild('body')) return true; // chat states and receipts are not kept
    if (!(await keep(parseUserLocal(to.local)!.userId, stanza))) {
      core.bounce(stanza, new StanzaError('service-unavailable', 'the recipient has too many offline messages'), origin);
    }
    return true;
  });

  // An initial presence starts a flush before the presence module makes the session available.
  core.on('presence/broadcast', 'offline', ({ stanza, origin }: RouteContext) => {
    if (origin?.jid && stanza.attrs.type === undefined && !origin.available) origin.data.set(FLUSH, { done: false, sending: false, held: [] } satisfies Flush);
    return undefined;
  });

  core.addOutgoingFilter((session, el) => {
    if (el.name !== 'message') return el;
    const flush = session.data.get(FLUSH) as Flush | undefined;
    if (!flush || flush.done || flush.sending) return el;
    flush.held.push(el);
    return null;
  });

  core.on('presence/initial', 'offline', async ({ session }: { session: C2sSession }) => {
    const flush = (session.data.get(FLUSH) as Flush | undefined) ?? { done: false, sending: false, held: [] };
    session.data.set(FLUSH, flush);
    try {
      const userId = session.user!.userId;
      await Promise.allSettled(writing.get(userId) ?? []);
      const messages = await store.list(userId);
      for (const message of messages) {
        const slow = session.whenDrained();
        if (slow) await slow;
        if (session.state === 'closed') break;
        if (inFlight.has(message.id)) continue;
        const el = parseElement(message.stanza);
        if (!el) {
          removeDelivered(message.id);
          continue;
        }
        inFlight.add(message.id);
        // Only the stored message passes the filter that holds live ones back while waiting for the client to read.
        flush.sending = true;
        session.send(el, (ok) => {
          inFlight.delete(message.id);
          if (ok) removeDelivered(message.id);
        });
        flush.sending = false;
      }
    } finally {
      flush.sending = false;
      flush.done = true;
      for (const el of flush.held.splice(0)) session.send(el);
    }
  });

  // A session that ends before its flush finished: the live messages it held are stored instead.
  core.on('session/closed', 'offline', async ({ session }: { session: C2sSession }) => {
    const flush = session.data.get(FLUSH) as Flush | undefined;
    if (!flush || flush.done) return;
    flush.done = true;
    for (const el of flush.held.splice(0)) {
      const type = el.attrs.type ?? 'normal';
      if ((type === 'chat' || type === 'normal') && el.getChild('body')) await keep(session.user!.userId, el);
    }
  });
}
