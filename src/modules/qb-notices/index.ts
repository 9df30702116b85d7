// QuickBlox live notices (urn:xmpp:notice:0, SDK 2.24): a stream that sends
// `<iq type="set"><enable xmlns="urn:xmpp:notice:0"/></iq>` gets headlines when a message of its
// dialogs is edited or deleted for everyone, a reaction changes, or a dialog it is in changes or
// is deleted; `<disable/>` stops them, and they end with the stream. The changes themselves come
// in over REST; this module only listens to ChatService events. Notices reach the streams on this
// node (in a cluster, each node sends to its own streams only when the event happens there).
import type { C2sSession, ModuleApi } from '../../core/api.js';
import type { ChatService } from '../../chat/service.js';
import { newObjectId } from '../../chat/objectid.js';
import { PRIVATE } from '../../chat/access.js';
import type { ChatMessage, Dialog } from '../../storage/types.js';
import { xml, type Element } from '../../xml/element.js';
import { NS_CLIENT } from '../../xmpp/ns.js';
import { userLocal } from '../../xmpp/jid.js';

export const NS_NOTICE = 'urn:xmpp:notice:0';

type Field = [string, string | number | boolean | null] | Element;

const text = (name: string, value: string | number | boolean | null) => xml(name, {}, value === null ? '' : String(value));

export function qbNoticesModule(core: ModuleApi, chat: ChatService): void {
  const enabled = new WeakSet<C2sSession>();
  const toggle = (on: boolean) => ({ session }: { session: C2sSession | null }) => {
    if (session) {
      if (on) enabled.add(session);
      else enabled.delete(session);
    }
    return null;
  };
  core.handleIq({ scope: 'host', xmlns: NS_NOTICE, name: 'enable', set: toggle(true) });
  core.handleIq({ scope: 'host', xmlns: NS_NOTICE, name: 'disable', set: toggle(false) });
  core.addDiscoFeature(NS_NOTICE);

  const notify = (appId: number, userIds: Iterable<number>, moduleId: string, fields: Field[]) => {
    for (const userId of new Set(userIds)) {
      for (const session of core.sessions.resources(`${userLocal({ userId, appId })}@${core.domain}`)) {
        if (!enabled.has(session) || !session.jid) continue;
        session.send(xml('message', { xmlns: NS_CLIENT, type: 'headline', id: newObjectId(), from: core.domain, to: session.jid.toString() },
          xml('body'),
          xml('extraParams', { xmlns: NS_CLIENT },
            ...fields.map((f) => (Array.isArray(f) ? text(f[0], f[1]) : f)),
            xml('moduleIdentifier', { xmlns: NS_NOTICE }, moduleId))));
      }
    }
  };
  const seconds = () => Math.floor(Date.now() / 1000);
  const messageFields = (m: ChatMessage): Field[] => [['dialog_id', m.dialogId], ['message_id', m.id], ['date_sent', m.dateSent]];

  chat.events.on('messageEdited', async ({ dialog, message }) => {
    const reactions = await chat.reactions.of(message.id);
    notify(dialog.appId, dialog.occupantIds, 'NoticeUpdatedMessage', [
      ...messageFields(message),
      ['message', message.body],
      ['sender_id', message.senderId],
      ...(message.recipientId ? [['recipient_id', message.recipientId] as Field] : []),
      ['read_ids', message.readIds.join(',')],
      ['delivered_ids', message.deliveredIds.join(',')],
      ...(reactions.length ? [xml('reactions', {}, ...reactions.map((r) => xml('reaction', {}, text('name', r.name), text('count', r.count),
        xml('user_ids', {}, ...r.user_ids.map((id) => text('user_id', id))))))] : []),
    ]);
  });

  chat.events.on('messagesDeleted', ({ dialog, messages }) => {
    for (const m of messages) notify(dialog.appId, dialog.occupantIds, 'NoticeDeletedMessage', messageFields(m));
  });

  chat.events.on('reaction', ({ dialog, message, userId, name, action }) => {
    // QuickBlox tells the other participant of a private dialog only (seen on the live service).
    const to = dialog.type === PRIVATE ? dialog.occupantIds.filter((id) => id !== userId) : dialog.occupantIds;
    notify(dialog.appId, to, 'NoticeUpdatedMessage', [
      ...messageFields(message),
      xml('reaction', {}, text('name', name), text('user_id', userId), text('action', action)),
    ]);
  });

  const dialogFields = (d: Dialog): Field[] => [
    ['dialog_id', d.id],
    ['name', d.name],
    ['photo', d.photo],
    ['type', d.type],
    ['occupants_ids', d.occupantIds.join(',')],
    ['is_join_required', d.isJoinRequired ? 1 : 0],
    ['admin_ids', d.adminIds.join(',')],
    ...(d.type !== PRIVATE ? [['xmpp_room_jid', chat.roomJid(d)] as Field] : []),
    ['custom_data', d.data ? JSON.stringify(d.data) : null],
    ['last_message', d.lastMessage],
    ['last_message_id', d.lastMessageId],
    ['last_message_date_sent', d.lastMessageDateSent],
    ['last_message_user_id', d.lastMessageUserId],
  ];

  chat.events.on('dialogUpdated', ({ dialog }) => notify(dialog.appId, dialog.occupantIds, 'NoticeUpdatedDialog', dialogFields(dialog)));
  chat.events.on('occupantsRemoved', ({ dialog, userIds }) => notify(dialog.appId, userIds, 'NoticeUpdatedDialog', dialogFields(dialog)));
  chat.events.on('dialogDeleted', ({ dialog }) => notify(dialog.appId, dialog.occupantIds, 'NoticeDeletedDialog', [['dialog_id', dialog.id], ['date_sent', seconds()]]));
}
