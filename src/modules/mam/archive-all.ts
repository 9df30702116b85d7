// Routing hooks of the archive, kept in this one file:
// - with the application's `mam_archive_all` on, a chat or groupchat message with content that did
//   not ask for history gets `<save_to_history>1</save_to_history>` added before the history
//   modules run (qb-history at 100 for 1-1, the muc module for rooms), so it is stored the one way
//   QuickBlox messages are;
// - a stored 1-1 message carries `<stanza-id xmlns="urn:xmpp:sid:0">` with its archive id (the
//   QuickBlox `_id`, which is also the routed message's id), and a client cannot forge one.
import type { ModuleApi as Core, RouteContext } from '../../core/api.js';
import { xml, type Element } from '../../xml/element.js';
import { NS_CLIENT } from '../../xmpp/ns.js';
import { parseUserLocal } from '../../xmpp/jid.js';
import { getExtraParams, savesToHistory } from '../../qb/index.js';
import type { ArchiveSettings } from './settings.js';

export const NS_SID = 'urn:xmpp:sid:0';
// Slots (core/events.ts): 'archive-all' runs before 'history' (1-1) and 'rooms' (groupchat);
// 'archive-ids' after 'history' stored the message and before 'carbons' copy it.

const hasContent = (stanza: Element): boolean =>
  stanza.getChild('body') !== undefined || (getExtraParams(stanza)?.getChildren('attachment').length ?? 0) > 0;

const savesHistory = (stanza: Element): boolean => savesToHistory(getExtraParams(stanza));

function askForHistory(stanza: Element): void {
  let extra = getExtraParams(stanza);
  if (!extra) extra = stanza.append(xml('extraParams', { xmlns: NS_CLIENT })) as Element;
  for (const old of extra.getChildren('save_to_history')) extra.remove(old);
  extra.append(xml('save_to_history', null, '1'));
}

export function archiveHooks(core: Core, settings: ArchiveSettings): void {
  // The outbound phase and message/muc run once per stanza: nothing here needs to remember stanzas.
  // Every chat message passes here: with the setting cached (nearly always), no promise is made.
  const archiveAll = (type: string) => ({ stanza, from, origin }: RouteContext): Promise<undefined> | undefined => {
    if (!origin || stanza.attrs.type !== type) return undefined;
    const sender = parseUserLocal(from.local);
    if (!sender || savesHistory(stanza) || !hasContent(stanza)) return undefined;
    const known = settings.known(sender.appId);
    if (known !== undefined) {
      if (known) askForHistory(stanza);
      return undefined;
    }
    return settings.archiveAll(sender.appId).then((on) => {
      if (on) askForHistory(stanza);
      return undefined;
    });
  };
  const chat = archiveAll('chat');
  core.on('message/outbound', 'archive-all', chat);
  core.on('message/muc', 'archive-all', archiveAll('groupchat'));

  const stanzaId = ({ stanza, to, origin }: RouteContext): undefined => {
    if (!origin) return undefined;
    for (const forged of stanza.getChildren('stanza-id', NS_SID)) stanza.remove(forged);
    if (stanza.attrs.type !== 'chat' || !savesHistory(stanza) || !hasContent(stanza) || !stanza.attrs.id) return undefined;
    if (!getExtraParams(stanza)?.getChild('dialog_id')) return undefined;
    // Before extraParams: QuickBlox's receive format ends with extraParams, and the SDKs look
    // nothing up by this name.
    const id = xml('stanza-id', { xmlns: NS_SID, id: stanza.attrs.id, by: to.bare });
    const at = stanza.children.findIndex((c) => typeof c !== 'string' && c.localName === 'extraParams');
    if (at < 0) stanza.append(id);
    else stanza.children.splice(at, 0, id);
    return undefined;
  };
  core.on('message/outbound', 'archive-ids', stanzaId);
}
