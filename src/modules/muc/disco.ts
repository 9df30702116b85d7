// Service discovery on the MUC service and on QuickBlox dialog rooms (XEP-0030 / XEP-0045 §6).
import type { ModuleApi, RouteContext } from '../../core/api.js';
import type { C2sSession } from '../../core/api.js';
import type { ChatService } from '../../chat/service.js';
import type { Dialog } from '../../storage/types.js';
import { xml, type Element } from '../../xml/element.js';
import { Jid, parseUserLocal } from '../../xmpp/jid.js';
import { NS_DISCO_INFO, NS_DISCO_ITEMS } from '../../xmpp/ns.js';
import { StanzaError } from '../../xmpp/errors.js';
import { NS_MUC } from './presences.js';

const PUBLIC_GROUP = 1;
const NS_MAM = 'urn:xmpp:mam:2';
/** XEP-0425, answered by the open rooms module (muc-open) for dialog rooms too. */
const NS_MODERATE = 'urn:xmpp:message-moderate:1';
const NO_SUCH_ROOM = 'There is no such room.';

/** The reply to an IQ get, sent back the way it came. */
export function iqResult(core: ModuleApi, stanza: Element, origin: C2sSession | null, payload: Element): void {
  const reply = xml('iq', { type: 'result', id: stanza.attrs.id ?? '', from: stanza.attrs.to ?? core.mucDomain, to: stanza.attrs.from ?? '' }, payload);
  if (origin) origin.send(reply);
  else void core.route(reply);
}

export function roomDiscoModule(
  core: ModuleApi,
  chat: ChatService,
  lookup: (to: Jid, appId: number) => Promise<{ dialog: Dialog } | null>,
  nicksIn: (bare: string) => Promise<number[]>,
): void {
  core.on('iq/muc', 'rooms', async ({ stanza, from, to, origin }: RouteContext) => {
    const type = stanza.attrs.type;
    if (type === 'result' || type === 'error') return true;
    const payloads = stanza.getChildren();
    const payload = payloads.length === 1 ? payloads[0]! : undefined;
    const ns = payload?.namespace();
    const isGet = type === 'get' && payload?.localName === 'query';
    if (!to.local) {
      if (isGet && ns === NS_DISCO_INFO && !payload!.attrs.node) {
        iqResult(core, stanza, origin, xml('query', { xmlns: NS_DISCO_INFO },
          xml('identity', { category: 'conference', type: 'text', name: 'Group chat' }),
          xml('feature', { var: NS_DISCO_INFO }), xml('feature', { var: NS_DISCO_ITEMS }), xml('feature', { var: NS_MUC })));
        return true;
      }
      if (isGet && ns === NS_DISCO_ITEMS) {
        iqResult(core, stanza, origin, xml('query', { xmlns: NS_DISCO_ITEMS })); // dialog rooms are not listed: they belong to applications
        return true;
      }
      core.bounce(stanza, new StanzaError('service-unavailable'), origin);
      return true;
    }
    const sender = parseUserLocal(from.local);
    const found = sender ? await lookup(to, sender.appId) : null;
    if (!sender || !found) {
      core.bounce(stanza, new StanzaError('item-not-found', NO_SUCH_ROOM), origin);
      return true;
    }
    if (!to.isBare || !isGet || (ns !== NS_DISCO_INFO && ns !== NS_DISCO_ITEMS)) {
      core.bounce(stanza, new StanzaError('service-unavailable'), origin);
      return true;
    }
    const { dialog } = found;
    if (!chat.canUseRoom(dialog, sender.userId)) {
      core.bounce(stanza, new StanzaError('forbidden', 'You are not an occupant of this dialog.'), origin);
      return true;
    }
    if (ns === NS_DISCO_INFO) {
      iqResult(core, stanza, origin, xml('query', { xmlns: NS_DISCO_INFO },
        xml('identity', { category: 'conference', type: 'text', name: dialog.name ?? '' }),
        ...[NS_MUC, NS_MAM, NS_MODERATE, dialog.type === PUBLIC_GROUP ? 'muc_public' : 'muc_membersonly', 'muc_nonanonymous', 'muc_persistent']
          .map((v) => xml('feature', { var: v }))));
      return true;
    }
    const items = (await nicksIn(to.bare)).map((nick) => xml('item', { jid: `${to.bare}/${nick}`, name: String(nick) }));
    iqResult(core, stanza, origin, xml('query', { xmlns: NS_DISCO_ITEMS }, ...items));
    return true;
  });

  core.on('disco/items', 'rooms', ({ query }: { query: Element }) => {
    query.append(xml('item', { jid: core.mucDomain, name: 'Group chat' }));
    return undefined;
  });
}
