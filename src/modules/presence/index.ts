// Presence (RFC 6121 §4): initial, updated and unavailable presence broadcast to the user's own
// resources and to roster contacts who are subscribed; directed presence to anyone of the same
// application. Sessions that end while available are announced unavailable.
import type { ModuleApi, RouteContext } from '../../core/api.js';
import type { C2sSession } from '../../core/api.js';
import { Element, xml } from '../../xml/element.js';
import type { RosterItem, RosterStore } from '../../storage/types.js';

export function presenceModule(core: ModuleApi, roster: RosterStore): void {
  const broadcast = (session: C2sSession, presence: Element, contacts: RosterItem[]): void => {
    for (const own of core.sessions.available(session.jid!.bare)) own.send(presence);
    if (!session.available && presence.attrs.type === 'unavailable') session.send(presence);
    for (const contact of contacts) {
      if (contact.subscription !== 'from' && contact.subscription !== 'both') continue;
      for (const target of core.sessions.available(contact.jid)) target.send(presence);
    }
  };

  /** On initial presence: the current presence of every contact this user is subscribed to. */
  const sendContactsPresence = (session: C2sSession, contacts: RosterItem[]): void => {
    for (const contact of contacts) {
      if (contact.subscription !== 'to' && contact.subscription !== 'both') continue;
      for (const other of core.sessions.available(contact.jid)) {
        if (other.presence) session.send(withTo(other.presence, session.jid!.toString()));
      }
    }
  };

  core.on('presence/broadcast', 'presence', async ({ stanza, origin }: RouteContext) => {
    const session = origin;
    if (!session?.jid) return true;
    const type = stanza.attrs.type;
    if (type === undefined) {
      const initial = !session.available;
      session.presence = stanza;
      session.priority = Number.parseInt(stanza.getChildText('priority') ?? '0', 10) || 0;
      session.available = true;
      const contacts = await roster.getRoster(session.user!.userId);
      broadcast(session, withTo(stanza, session.jid.bare), contacts);
      if (initial) {
        sendContactsPresence(session, contacts);
        await core.run('presence/initial', { session });
      }
    } else if (type === 'unavailable') {
      if (!session.available) return true;
      session.available = false;
      session.presence = null;
      broadcast(session, withTo(stanza, session.jid.bare), await roster.getRoster(session.user!.userId));
    }
    return true;
  });

  const deliverDirected = ({ stanza, to }: RouteContext): true => {
    const targets = to.isBare ? core.sessions.available(to.bare) : [core.sessions.get(to.bare, to.resource)];
    for (const target of targets) target?.send(stanza);
    return true;
  };
  core.on('presence/bare', 'local', deliverDirected);
  core.on('presence/full', 'local', deliverDirected);

  core.on('session/closed', 'presence', async ({ session }: { session: C2sSession }) => {
    if (!session.available) return;
    const jid = session.jid!;
    // A session replaced by a new login with the same resource: the new one speaks for that JID now.
    if (core.sessions.get(jid.bare, jid.resource)) return;
    session.available = false;
    const unavailable = xml('presence', { type: 'unavailable', from: jid.toString(), to: jid.bare });
    broadcast(session, unavailable, await roster.getRoster(session.user!.userId));
  });
}

function withTo(presence: Element, to: string): Element {
  const copy = new Element(presence.name, { ...presence.attrs, to }, []);
  copy.children = presence.children;
  return copy;
}
