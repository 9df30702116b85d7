// Routing hooks of the archive, kept in this one file:
// - with the application's `mam_archive_all` on, a chat or groupchat message with content that did
//   not ask for history gets `<save_to_history>1</save_to_history>` added before the history
//   modules run (qb-history at 100 for 1-1, the muc module for rooms), so it is stored the one way
//   QuickBlox messages are;
// - a stored 1-1 message carries `<stanza-id xmlns="urn:xmpp:sid:0">` with its archive id (the
//   QuickBlox `_id`), and a client cannot forge one.
import type { Core, RouteContext } from '../../core/core.js';
import { xml, type Element } from '../../xml/element.js';
import { NS_CLIENT } from '../../xmpp/ns.js';
import { parseUserLocal } from '../../xmpp/jid.js';
import { getExtraParams } from '../qb-extra-params/index.js';
import type { ArchiveSettings } from './settings.js';

export const NS_SID = 'urn:xmpp:sid:0';
/** Above qb-history (100), below chat markers (110) and privacy (1000). */
const ARCHIVE_ALL_PRIORITY = 105;
/** Above the muc module's groupchat handler (0). */
const ARCHIVE_ALL_MUC_PRIORITY = 10;
/** After qb-history (100) stored the message, before carbons (50) copy it and delivery (0). */
const STANZA_ID_PRIORITY = 95;

const hasContent = (stanza: Element): boolean =>
  stanza.getChild('body') !== undefined || (getExtraParams(stanza)?.getChildren('attachment').length ?? 0) > 0;

const savesHistory = (stanza: Element): boolean => ['1', 'true'].includes(getExtraParams(stanza)?.getChildText('save_to_history')?.trim() ?? '');

function askForHistory(stanza: Element): void {
  let extra = getExtraParams(stanza);
  if (!extra) extra = stanza.append(xml('extraParams', { xmlns: NS_CLIENT })) as Element;
  for (const old of extra.getChildren('save_to_history')) extra.remove(old);
  extra.append(xml('save_to_history', null, '1'));
}

export function archiveHooks(core: Core, settings: ArchiveSettings): void {
  const seen = new WeakSet<Element>();
  const archiveAll = (type: string) => async ({ stanza, from, origin }: RouteContext): Promise<undefined> => {
    if (!origin || stanza.attrs.type !== type || seen.has(stanza)) return undefined;
    seen.add(stanza);
    const sender = parseUserLocal(from.local);
    if (!sender || savesHistory(stanza) || !hasContent(stanza)) return undefined;
    if (await settings.archiveAll(sender.appId)) askForHistory(stanza);
    return undefined;
  };
  const chat = archiveAll('chat');
  core.hooks.on('message/bare', chat, ARCHIVE_ALL_PRIORITY);
  core.hooks.on('message/full', chat, ARCHIVE_ALL_PRIORITY);
  core.hooks.on('message/muc', archiveAll('groupchat'), ARCHIVE_ALL_MUC_PRIORITY);

  const stamped = new WeakSet<Element>();
  const stanzaId = ({ stanza, to, origin }: RouteContext): undefined => {
    if (!origin || stamped.has(stanza)) return undefined;
    stamped.add(stanza);
    for (const forged of stanza.getChildren('stanza-id', NS_SID)) stanza.remove(forged);
    if (stanza.attrs.type !== 'chat' || !savesHistory(stanza) || !hasContent(stanza) || !stanza.attrs.id) return undefined;
    if (!getExtraParams(stanza)?.getChild('dialog_id')) return undefined;
    stanza.append(xml('stanza-id', { xmlns: NS_SID, id: stanza.attrs.id, by: to.bare }));
    return undefined;
  };
  core.hooks.on('message/bare', stanzaId, STANZA_ID_PRIORITY);
  core.hooks.on('message/full', stanzaId, STANZA_ID_PRIORITY);
}
