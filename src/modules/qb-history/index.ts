// QuickBlox server-side history for 1-1 chat (stanza reference "Send/Receive chat message"): a
// `type="chat"` message from a client with `<extraParams><save_to_history>1</save_to_history>` is
// stored through ChatService.createMessage (the function REST uses) before it is routed on, and
// what the recipient receives carries the stored id, date_sent and the private dialog's dialog_id.
// A storage failure is answered with a stanza error and nothing is delivered.
//
// Also the REST → XMPP bridge for private dialogs: a message created over REST with
// `send_to_chat=1` is delivered as a `type="chat"` stanza whose id is the stored `_id`.
// (Group dialogs are the MUC module's: it can build the same payload with storedMessagePayload.)
import type { ModuleApi, RouteContext } from '../../core/api.js';
import type { C2sSession } from '../../core/api.js';
import type { ChatService } from '../../chat/service.js';
import type { MessageEvent } from '../../chat/events.js';
import type { MessageView } from '../../chat/views.js';
import { PRIVATE } from '../../chat/access.js';
import type { Element } from '../../xml/element.js';
import { xml } from '../../xml/element.js';
import { NS_CLIENT } from '../../xmpp/ns.js';
import { parseUserLocal, userLocal, type Jid } from '../../xmpp/jid.js';
import {
  CONTROL_FIELDS, FORGEABLE, NS_CHAT_MARKERS, type ParsedExtraParams, clientDateSent, compact, getExtraParams, parseExtraParams, savesToHistory, stanzaErrorFor, storedMessagePayload,
} from '../../qb/index.js';

const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';

/** A chat state or a marker alone is signalling, not a message to keep. */
function isSignalOnly(stanza: Element, hasAttachments: boolean): boolean {
  if (stanza.getChild('body') || hasAttachments) return false;
  return stanza.getChildren().some((c) => {
    const ns = c.namespace();
    return ns === NS_CHATSTATES || (ns === NS_CHAT_MARKERS && c.localName !== 'markable');
  });
}

export function qbHistoryModule(core: ModuleApi, chat: ChatService): void {
  const onChat = ({ stanza, from, to, origin }: RouteContext): Promise<true | undefined> | undefined => {
    if (!origin || stanza.attrs.type !== 'chat') return undefined;
    // Whitespace between elements crashes the Node SDK: what a client pretty-printed goes on compact.
    compact(stanza);
    const extra = getExtraParams(stanza);
    if (!extra) return undefined;
    // Server-owned fields a client sent are neither stored nor passed on.
    for (const child of extra.getChildren()) if (FORGEABLE.has(child.localName)) extra.remove(child);
    if (!savesToHistory(extra)) return undefined;
    const parsed = parseExtraParams(extra, CONTROL_FIELDS);
    if (isSignalOnly(stanza, parsed.attachments.length > 0)) return undefined;
    return store(stanza, extra, parsed, from, to, origin);
  };

  const store = async (
    stanza: Element, extra: Element, { attachments, custom }: ParsedExtraParams, from: Jid, to: Jid, origin: C2sSession,
  ): Promise<true | undefined> => {

    const sender = parseUserLocal(from.local);
    const recipient = parseUserLocal(to.local);
    if (!sender || !recipient) return undefined;
    let stored: MessageView;
    try {
      stored = await chat.createMessage(
        { appId: sender.appId, userId: sender.userId },
        {
          ...custom,
          recipient_id: recipient.userId,
          message: stanza.getChildText('body') ?? '',
          attachments,
          markable: stanza.getChild('markable', NS_CHAT_MARKERS) ? 1 : undefined,
        },
        { id: stanza.attrs.id, dateSent: clientDateSent(extra), origin: 'xmpp' },
      );
    } catch (err) {
      if (stanzaErrorFor(err).condition === 'internal-server-error') core.log.error({ err, stanza: stanza.toString() }, 'storing a chat message failed');
      core.bounce(stanza, stanzaErrorFor(err), origin);
      return true;
    }
    // What the recipient receives: the stored id, then save_to_history, date_sent, dialog_id (the
    // reference's order), then the client's attachments and custom fields as sent.
    stanza.attrs.id = stored._id;
    const rest = extra.getChildren().filter((c) => !['save_to_history', 'date_sent', 'dialog_id'].includes(c.localName));
    extra.children = [];
    extra.append(xml('save_to_history', null, '1'));
    extra.append(xml('date_sent', null, String(stored.date_sent)));
    extra.append(xml('dialog_id', null, stored.chat_dialog_id));
    for (const child of rest) extra.append(child);
    return undefined;
  };
  core.on('message/outbound', 'history', onChat);

  // REST send_to_chat=1 in a private dialog: a chat stanza from the sender to the opponent.
  chat.events.on('message', async (event: MessageEvent) => {
    if (event.origin !== 'rest' || !event.sendToChat || event.system || event.dialog.type !== PRIVATE) return;
    const { record } = event;
    if (!record.recipientId) return;
    const stanza = xml(
      'message',
      {
        xmlns: NS_CLIENT,
        from: `${userLocal({ userId: record.senderId, appId: record.appId })}@${core.domain}`,
        to: `${userLocal({ userId: record.recipientId, appId: record.appId })}@${core.domain}`,
        type: 'chat',
        id: record.id,
      },
      ...storedMessagePayload(record),
    );
    await core.route(stanza);
  });
}
