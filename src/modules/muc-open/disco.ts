// Discovery of open rooms: the service lists the public rooms of the requester's application
// (XEP-0045 §6.3), a room tells its features (§6.4) and, to its occupants, who is in it (§6.5).
import { xml, type Element } from '../../xml/element.js';
import { NS_DISCO_INFO, NS_DISCO_ITEMS } from '../../xmpp/ns.js';
import { NS_MUC } from '../muc/index.js';
import type { OpenRoomsContext } from './context.js';
import type { OpenRoom } from './live.js';
import { LISTED_MAX } from './limits.js';
import { NS_MODERATE, NS_MODERATE_0 } from './moderation.js';

const NS_MAM = 'urn:xmpp:mam:2';

export async function listRooms(ctx: OpenRoomsContext, appId: number): Promise<Element> {
  const query = xml('query', { xmlns: NS_DISCO_ITEMS });
  for (const name of (await ctx.store.names(appId)).slice(0, LISTED_MAX)) {
    const doc = await ctx.store.get(appId, name);
    if (doc?.config.public) query.append(xml('item', { jid: `${name}@${ctx.core.mucDomain}`, name: doc.config.title }));
  }
  return query;
}

export function roomInfo(room: OpenRoom): Element {
  const c = room.doc.config;
  const features = [
    NS_MUC, NS_MAM, NS_MODERATE, NS_MODERATE_0, 'muc_nonanonymous',
    c.public ? 'muc_public' : 'muc_hidden',
    c.membersOnly ? 'muc_membersonly' : 'muc_open',
    c.moderated ? 'muc_moderated' : 'muc_unmoderated',
    c.password ? 'muc_passwordprotected' : 'muc_unsecured',
    c.persistent ? 'muc_persistent' : 'muc_temporary',
  ];
  return xml('query', { xmlns: NS_DISCO_INFO },
    xml('identity', { category: 'conference', type: 'text', name: c.title }),
    ...features.map((v) => xml('feature', { var: v })));
}

/** The occupants by nick, for occupants only (others get an empty list, §6.5). */
export function roomItems(room: OpenRoom, userId: number): Element {
  const query = xml('query', { xmlns: NS_DISCO_ITEMS });
  if (!room.byUser.has(userId)) return query;
  for (const nick of room.byNick.keys()) query.append(xml('item', { jid: `${room.bare}/${nick}`, name: nick }));
  return query;
}
