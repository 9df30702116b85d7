// Chat markers (XEP-0333) as QuickBlox uses them: `<received/>` and `<displayed/>` in
// urn:xmpp:chat-markers:0, always `type="chat"` to the message's sender (for group-dialog messages
// too), with `<extraParams><dialog_id>`. Before the marker is routed on, it is recorded in history
// through ChatService.markDelivered / markRead (delivered_ids / read_ids and the unread counters).
// A marker for a message in a dialog the sender is not part of is refused with a stanza error and
// changes nothing; one for a message that is not in history (sent without save_to_history) is only
// relayed; one addressed to oneself is recorded and goes no further.
import type { ModuleApi, RouteContext } from '../../core/api.js';
import type { C2sSession } from '../../core/api.js';
import type { ChatService } from '../../chat/service.js';
import { ApiError } from '../../chat/errors.js';
import type { Element } from '../../xml/element.js';
import { xml } from '../../xml/element.js';
import { NS_CLIENT } from '../../xmpp/ns.js';
import { StanzaError } from '../../xmpp/errors.js';
import { parseUserLocal, type Jid } from '../../xmpp/jid.js';
import { EXTRA_PARAMS, NS_CHAT_MARKERS, compact, getExtraParams, stanzaErrorFor } from '../../qb/index.js';

export function markerOf(stanza: Element): Element | undefined {
  return stanza.getChildren().find((c) => (c.localName === 'received' || c.localName === 'displayed') && c.namespace() === NS_CHAT_MARKERS);
}

/** Puts the server's dialog id into the marker's extraParams (added when missing, replaced when different). */
function setDialogId(stanza: Element, dialogId: string): void {
  let extra = getExtraParams(stanza);
  if (!extra) extra = stanza.append(xml(EXTRA_PARAMS, { xmlns: NS_CLIENT })) as Element;
  const others = extra.children.filter((c) => typeof c === 'string' || c.localName !== 'dialog_id');
  extra.children = [];
  extra.append(xml('dialog_id', null, dialogId));
  for (const child of others) extra.append(child);
}

export function chatMarkersModule(core: ModuleApi, chat: ChatService): void {
  core.addDiscoFeature(NS_CHAT_MARKERS);
  // Before history in the outbound phase, so a marker is never taken for a message to store.
  core.on('message/outbound', 'chat-markers', ({ stanza, from, to, origin }: RouteContext): Promise<true | undefined> | undefined => {
    if (!origin || stanza.attrs.type !== 'chat') return undefined;
    const marker = markerOf(stanza);
    if (!marker) return undefined;
    return record(stanza, marker, from, to, origin);
  });

  const record = async (stanza: Element, marker: Element, from: Jid, to: Jid, origin: C2sSession): Promise<true | undefined> => {
    compact(stanza);
    const messageId = marker.attrs.id;
    if (!messageId) {
      core.bounce(stanza, new StanzaError('bad-request', 'a chat marker needs the id of the message it is about'), origin);
      return true;
    }
    const caller = parseUserLocal(from.local);
    if (caller) {
      try {
        const target = marker.localName === 'received' ? await chat.markDelivered(caller, messageId) : await chat.markRead(caller, messageId);
        setDialogId(stanza, target.dialogId);
      } catch (err) {
        // Not in history (or not an ObjectId): nothing to record, the marker is still the recipient's.
        if (!(err instanceof ApiError && err.status === 404)) {
          core.bounce(stanza, stanzaErrorFor(err), origin);
          return true;
        }
      }
    }
    // The Node SDK acknowledges even its own messages, to itself: recorded above, not echoed back.
    if (to.bare === from.bare) return true;
    return undefined;
  };
}
