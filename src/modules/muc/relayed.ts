// The copy of a groupchat message that a room relays: from the sender's nick, with the stored id,
// and QuickBlox's `dialog_id` (and `date_sent` when it has content) in its extraParams; what a
// sender may not set (forgeable extraParams, a forged stanza-id) is left out.
import { Element, xml } from '../../xml/element.js';
import { NS_CLIENT } from '../../xmpp/ns.js';
import { FORGEABLE } from '../../qb/index.js';
import { isForgedStanzaId } from './bridge.js';

export interface RelayedFields {
  /** The stored message's id, or the sender's. */
  id: string | undefined;
  /** Set when the message has content (a body or attachments). */
  dateSent: string | undefined;
  dialogId: string;
}

export function relayedCopy(stanza: Element, from: string, fields: RelayedFields): Element {
  const extraEl = stanza.getChild('extraParams');
  const relayed = new Element('message', { ...stanza.attrs, from });
  delete relayed.attrs.to;
  if (fields.id) relayed.attrs.id = fields.id;
  for (const child of stanza.children) {
    if (typeof child === 'string' || child === extraEl || isForgedStanzaId(child)) continue;
    relayed.append(child.clone());
  }
  if (fields.dateSent !== undefined || extraEl) {
    const params = xml('extraParams', { xmlns: NS_CLIENT });
    for (const child of extraEl?.getChildren() ?? []) {
      if (!FORGEABLE.has(child.localName) && child.localName !== 'dialog_id' && child.localName !== 'date_sent') params.append(child.clone());
    }
    if (fields.dateSent !== undefined) params.append(xml('date_sent', null, fields.dateSent));
    params.append(xml('dialog_id', null, fields.dialogId));
    relayed.append(params);
  }
  return relayed;
}
