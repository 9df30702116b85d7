// What another view of the same dialogs (the open rooms of standard clients) plugs into the dialog
// rooms, and the stanza id (XEP-0359) a stored room message carries.
import type { Dialog } from '../../storage/types.js';
import { xml, type Element } from '../../xml/element.js';
import type { StanzaError } from '../../xmpp/errors.js';

export const NS_SID = 'urn:xmpp:sid:0';

export interface RoomBridge {
  /** A further rule on joining a dialog's room: the error refusing the user, or null. */
  admit(dialog: Dialog, userId: number): Promise<StanzaError | null>;
  /** A message the dialog's room relayed (groupchat or REST), for the other view's occupants. */
  relayed(dialog: Dialog, message: Element, senderId: number): void;
}

/** `<stanza-id by=room>` = the stored `_id`, put before extraParams (QuickBlox's receive format ends with it). */
export function addStanzaId(message: Element, id: string, by: string): void {
  const el = xml('stanza-id', { xmlns: NS_SID, id, by });
  el.parent = message;
  const at = message.children.findIndex((c) => typeof c !== 'string' && c.localName === 'extraParams');
  if (at < 0) message.children.push(el);
  else message.children.splice(at, 0, el);
}

export const isForgedStanzaId = (child: Element): boolean => child.localName === 'stanza-id' && child.attrs.xmlns === NS_SID;
