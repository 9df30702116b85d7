// The JSON shapes QuickBlox returns for dialogs and messages (field names and types exactly).
import type { ChatMessage, Dialog, DialogType } from '../storage/types.js';
import { isoSeconds } from '../util/iso-seconds.js';
import { PRIVATE, PUBLIC_GROUP } from './access.js';

export { isoSeconds };

export const roomJid = (dialog: Pick<Dialog, 'appId' | 'id'>, mucDomain: string): string => `${dialog.appId}_${dialog.id}@${mucDomain}`;

export interface DialogView {
  _id: string;
  user_id: number;
  type: DialogType;
  name: string | null;
  photo: string | null;
  xmpp_room_jid: string | null;
  occupants_ids: number[];
  admin_ids: number[];
  last_message: string | null;
  last_message_date_sent: number | null;
  last_message_id: string | null;
  last_message_user_id: number | null;
  unread_messages_count: number;
  is_join_required: 0 | 1 | null;
  is_joinable: 0 | 1;
  data: Record<string, unknown> | null;
  created_at: string;
  updated_at: string;
}

/** A dialog as one user sees it (`unreadCount` is that user's). */
export function dialogView(dialog: Dialog, unreadCount: number, mucDomain: string): DialogView {
  const isPrivate = dialog.type === PRIVATE;
  return {
    _id: dialog.id,
    user_id: dialog.ownerId,
    type: dialog.type,
    name: dialog.name,
    photo: dialog.photo,
    xmpp_room_jid: isPrivate ? null : roomJid(dialog, mucDomain),
    occupants_ids: dialog.type === PUBLIC_GROUP ? [] : dialog.occupantIds,
    admin_ids: isPrivate ? [] : dialog.adminIds,
    last_message: dialog.lastMessage,
    last_message_date_sent: dialog.lastMessageDateSent,
    last_message_id: dialog.lastMessageId,
    last_message_user_id: dialog.lastMessageUserId,
    unread_messages_count: unreadCount,
    // is_join_required is the newer name and only meaningful for groups; is_joinable the older one.
    is_join_required: dialog.type === 2 ? (dialog.isJoinRequired ? 1 : 0) : null,
    is_joinable: isPrivate ? 0 : dialog.type === PUBLIC_GROUP || dialog.isJoinRequired ? 1 : 0,
    data: dialog.data,
    created_at: isoSeconds(dialog.createdAt),
    updated_at: isoSeconds(dialog.updatedAt),
  };
}

export interface MessageView {
  _id: string;
  chat_dialog_id: string;
  message: string;
  date_sent: number;
  sender_id: number;
  recipient_id: number;
  read_ids: number[];
  delivered_ids: number[];
  /** Deprecated: 1 once the opponent of a private dialog has read it. */
  read: 0 | 1;
  attachments: Record<string, unknown>[];
  markable?: 1;
  created_at: string;
  updated_at: string;
  /** Custom parameters, at top level. */
  [custom: string]: unknown;
}

export function messageView(message: ChatMessage, dialogType: DialogType): MessageView {
  const view: MessageView = {
    _id: message.id,
    chat_dialog_id: message.dialogId,
    message: message.body,
    date_sent: message.dateSent,
    sender_id: message.senderId,
    recipient_id: message.recipientId,
    read_ids: message.readIds,
    delivered_ids: message.deliveredIds,
    read: dialogType === PRIVATE && message.readIds.includes(message.recipientId) ? 1 : 0,
    attachments: message.attachments,
    created_at: isoSeconds(message.createdAt),
    updated_at: isoSeconds(message.updatedAt),
  };
  if (message.markable) view.markable = 1;
  for (const [key, value] of Object.entries(message.customParams)) {
    if (!(key in view) && key !== 'markable') view[key] = value;
  }
  return view;
}
