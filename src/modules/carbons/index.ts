// Message carbons (XEP-0280), in the shape the QuickBlox JS SDK survives.
//
// Enable/disable is remembered per session. A `type="chat"` message with a body that a client sends
// is copied, as a `<sent/>` carbon, to the sender's other available resources that enabled carbons
// (after qb-history has given it its stored id and dialog_id; not for messages to oneself, nor with
// a `<private/>` or `<no-copy/>` hint; not for markers, chat states or REST-created messages).
//
// Why this shape: the SDK finds elements by local name, depth-first, and its Node build returns the
// *top-level child that contains* a match rather than the match itself. With a plain XEP-0280
// wrapper the Node build reports the `<sent>` element as the body and `{forwarded: …}` as the
// extension, and both builds read a `<received xmlns="urn:xmpp:carbons:2">` wrapper as a delivery
// marker with no id. So:
//   - `<received/>` carbons are never sent. A QuickBlox client addresses the bare JID, so every
//     resource of the recipient gets the message itself anyway.
//   - a `<sent/>` carbon also carries copies of the forwarded message's `<body>` and
//     `<extraParams>` as direct children, placed before `<sent>`, and keeps its id and type. Both
//     SDK builds then report the message (body, extension, dialog_id) as sent by the user itself;
//     the browser build also reads the recipient from the forwarded message. XEP-0280 clients
//     unwrap `<sent>` and ignore the copies.
import type { ModuleApi, RouteContext } from '../../core/api.js';
import type { C2sSession } from '../../core/api.js';
import type { Element } from '../../xml/element.js';
import { xml } from '../../xml/element.js';
import { NS_CARBONS, NS_CLIENT } from '../../xmpp/ns.js';

export const CARBONS = Symbol('carbons');
export const NS_FORWARD = 'urn:xmpp:forward:0';
const NS_HINTS = 'urn:xmpp:hints';

export function carbonsEnabled(session: C2sSession): boolean {
  return session.data.get(CARBONS) === true;
}

/** The `<sent/>` carbon of `stanza` for another resource of its sender. */
export function sentCarbon(stanza: Element, sender: string, resourceJid: string): Element {
  const copies = ['body', 'extraParams'].map((name) => stanza.getChild(name)?.clone()).filter((c): c is Element => c !== undefined);
  const forwarded = stanza.clone();
  forwarded.attrs.xmlns = NS_CLIENT;
  const attrs: Record<string, string> = { xmlns: NS_CLIENT, from: sender, to: resourceJid, type: stanza.attrs.type ?? 'chat' };
  if (stanza.attrs.id) attrs.id = stanza.attrs.id;
  return xml('message', attrs, ...copies, xml('sent', { xmlns: NS_CARBONS }, xml('forwarded', { xmlns: NS_FORWARD }, forwarded)));
}

export function carbonsModule(core: ModuleApi): void {
  core.addDiscoFeature(NS_CARBONS);
  for (const name of ['enable', 'disable'] as const) {
    core.handleIq({
      scope: 'host',
      xmlns: NS_CARBONS,
      name,
      set: ({ session }) => {
        session?.data.set(CARBONS, name === 'enable');
        return null;
      },
    });
  }

  core.carrySessionState('carbons', {
    save: (session) => (carbonsEnabled(session) ? true : undefined),
    restore: (session, saved) => void session.data.set(CARBONS, saved === true),
  });

  // After history has given the stanza its stored id and dialog_id (the catalogue's order).
  core.on('message/outbound', 'carbons', ({ stanza, from, to, origin }: RouteContext): undefined => {
    if (!origin || stanza.attrs.type !== 'chat') return undefined;
    // Nearly always the sender has no other resource that asked for carbons: known before looking into the stanza.
    const copyTo = core.sessions.available(from.bare).filter((session) => session !== origin && carbonsEnabled(session));
    if (copyTo.length === 0) return undefined;
    const hint = stanza.getChildren().find((c) => (c.localName === 'private' && c.namespace() === NS_CARBONS) || (c.localName === 'no-copy' && c.namespace() === NS_HINTS));
    if (hint) return undefined;
    if (!stanza.getChild('body') || to.bare === from.bare) return undefined;
    for (const session of copyTo) session.send(sentCarbon(stanza, from.bare, session.jid!.toString()));
    return undefined;
  });
}
