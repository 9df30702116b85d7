// What a room sends as presence: an occupant's presence (with `<x muc#user>` first) and join refusals.
import { randomBytes } from 'node:crypto';
import type { C2sSession } from '../../core/api.js';
import { Element, xml } from '../../xml/element.js';
import { StanzaError, errorReply } from '../../xmpp/errors.js';
import type { Occupant, Room } from './rooms.js';

export const NS_MUC = 'http://jabber.org/protocol/muc';
export const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';

export const newId = (): string => randomBytes(8).toString('hex');

/** A copy of a stanza for one recipient (children shared: they are not changed afterwards). */
export function addressed(stanza: Element, to: string): Element {
  const copy = new Element(stanza.name, { ...stanza.attrs, to }, []);
  copy.children = stanza.children;
  return copy;
}

/** An occupant's presence as the room sends it; `<x muc#user>` is always the first child. */
export function occupantPresence(
  room: Room,
  occupant: Occupant,
  to: string,
  opts: { id?: string; type?: 'unavailable'; statuses?: number[]; actor?: string; gone?: boolean; destroy?: boolean; itemJid?: string } = {},
): Element {
  const x = xml('x', { xmlns: NS_MUC_USER });
  const item = x.c('item', opts.gone
    ? { affiliation: 'none', role: 'none' }
    : { affiliation: occupant.affiliation, role: occupant.role });
  const realJid = opts.itemJid ?? occupant.resources.keys().next().value ?? occupant.remote.keys().next().value;
  if (realJid) item.attrs.jid = realJid;
  item.attrs.nick = String(occupant.userId);
  if (opts.actor) item.c('actor', { jid: opts.actor });
  if (opts.destroy) x.c('destroy');
  for (const code of opts.statuses ?? []) x.c('status', { code: String(code) });
  const presence = xml('presence', { from: `${room.jid.bare}/${occupant.userId}`, to, id: opts.id ?? newId() }, x);
  if (opts.type) presence.attrs.type = opts.type;
  else for (const child of occupant.payload) presence.append(child.clone());
  return presence;
}

/** Join refusals: presence type="error" carrying the join's `<x xmlns=muc>`, with code 500 as QuickBlox sends it. */
export function refuseJoin(stanza: Element, session: C2sSession, error: StanzaError): true {
  const reply = errorReply(stanza, error);
  if (!reply.getChild('x', NS_MUC)) reply.children.unshift(xml('x', { xmlns: NS_MUC }));
  reply.getChild('error')!.attrs.code = '500';
  if (!reply.attrs.id) reply.attrs.id = newId();
  reply.attrs.to = session.jid!.toString();
  session.send(reply);
  return true;
}
