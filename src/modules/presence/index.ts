// Presence (RFC 6121 §4): initial, updated and unavailable presence broadcast to the user's own
// resources and to roster contacts who are subscribed; directed presence to anyone of the same
// application. Sessions that end while available are announced unavailable.
import type { Core, RouteContext } from '../../core/core.js';
import type { C2sSession } from '../../core/session.js';
import { Element, xml } from '../../xml/element.js';
import { parseUserLocal } from '../../xmpp/jid.js';
import type { RosterStore } from '../../storage/types.js';

export function presenceModule(core: Core, roster: RosterStore): void {
  /** Contacts whose subscription lets them see this user's presence. */
  const subscribers = async (bare: string): Promise<string[]> => {
    const user = parseUserLocal(bare.split('@')[0]!);
    if (!user) return [];
    const items = await roster.getRoster(user.userId);
    return items.filter((i) => i.subscription === 'from' || i.subscription === 'both').map((i) => i.jid);
  };

  const publishedTo = async (bare: string): Promise<string[]> => {
    const user = parseUserLocal(bare.split('@')[0]!);
    if (!user) return [];
    const items = await roster.getRoster(user.userId);
    return items.filter((i) => i.subscription === 'to' || i.subscription === 'both').map((i) => i.jid);
  };

  const broadcast = async (session: C2sSession, presence: Element): Promise<void> => {
    const bare = session.jid!.bare;
    for (const own of core.sessions.available(bare)) own.send(presence);
    if (!session.available && presence.attrs.type === 'unavailable') session.send(presence);
    for (const contact of await subscribers(bare)) {
      for (const target of core.sessions.available(contact)) target.send(presence);
    }
  };

  core.hooks.on('presence/broadcast', async ({ stanza, origin }: RouteContext) => {
    const session = origin;
    if (!session?.jid) return true;
    const type = stanza.attrs.type;
    if (type === undefined) {
      const initial = !session.available;
      session.presence = stanza;
      session.priority = Number.parseInt(stanza.getChildText('priority') ?? '0', 10) || 0;
      session.available = true;
      await broadcast(session, withTo(stanza, session.jid.bare));
      if (initial) {
        await sendContactsPresence(session);
        await core.hooks.run('presence/initial', { session });
      }
    } else if (type === 'unavailable') {
      if (!session.available) return true;
      session.available = false;
      session.presence = null;
      await broadcast(session, withTo(stanza, session.jid.bare));
    }
    return true;
  });

  const sendContactsPresence = async (session: C2sSession): Promise<void> => {
    for (const contact of await publishedTo(session.jid!.bare)) {
      for (const other of core.sessions.available(contact)) {
        if (other.presence) session.send(withTo(other.presence, session.jid!.toString()));
      }
    }
  };

  const deliverDirected = ({ stanza, to }: RouteContext): true => {
    const targets = to.isBare ? core.sessions.available(to.bare) : [core.sessions.get(to.bare, to.resource)];
    for (const target of targets) target?.send(stanza);
    return true;
  };
  core.hooks.on('presence/bare', deliverDirected);
  core.hooks.on('presence/full', deliverDirected);

  core.hooks.on('session/closed', async ({ session }: { session: C2sSession }) => {
    if (!session.available) return;
    const jid = session.jid!;
    // A session replaced by a new login with the same resource: the new one speaks for that JID now.
    if (core.sessions.get(jid.bare, jid.resource)) return;
    session.available = false;
    await broadcast(session, xml('presence', { type: 'unavailable', from: session.jid!.toString(), to: session.jid!.bare }));
  });
}

function withTo(presence: Element, to: string): Element {
  const copy = new Element(presence.name, { ...presence.attrs, to }, []);
  copy.children = presence.children;
  return copy;
}
