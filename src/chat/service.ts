// ChatService: the one entry point REST and XMPP call for QuickBlox dialogs and messages. Inputs
// named `params` are loose records as `qs` (or a JSON body) produces them; errors are ApiErrors.
import type { Dialog, Store } from '../storage/types.js';
import { canAccess, isManager, isOccupant } from './access.js';
import type { Caller, ChatContext } from './context.js';
import {
  DialogService, type CountOnly, type DeleteResult, type DialogList, type DialogUpdate, type NotificationSettings,
} from './dialogs.js';
import { ChatEvents, type ChatEventMap } from './events.js';
import { MessageService, type CreateMessageOptions, type ListOptions, type MarkerTarget, type MessageList, type UnreadCounts } from './messages.js';
import { DEFAULT_CHAT_LIMITS, type ChatLimits } from './limits.js';
import { normalizeObjectId } from './objectid.js';
import { ReactionService } from './reactions.js';
import type { Params } from './params.js';
import { roomJid, type DialogView, type MessageView } from './views.js';

export type { Caller } from './context.js';

export interface ChatServiceOptions {
  /** The MUC domain of room JIDs (`<app>_<dialog>@<mucDomain>`). */
  mucDomain: string;
  /** Clock in milliseconds; tests pin it. */
  now?: () => number;
  /** Where errors thrown by event listeners go (default: console.error). */
  onListenerError?: (err: unknown, event: keyof ChatEventMap) => void;
  /** Message and page size limits (defaults: DEFAULT_CHAT_LIMITS). */
  limits?: Partial<ChatLimits>;
}

export class ChatService {
  readonly events: ChatEvents;
  /** Message reactions (REST /chat/Message/{id}/reactions.json, include_reactions=1). */
  readonly reactions: ReactionService;
  private readonly ctx: ChatContext;
  private readonly dialogs: DialogService;
  private readonly messages: MessageService;

  /** The MUC domain and limits, for a service that answers the same reads elsewhere (a read worker). */
  readonly settings: { mucDomain: string; limits: ChatLimits };

  constructor(store: Store, options: ChatServiceOptions) {
    this.events = new ChatEvents(options.onListenerError ?? ((err, event) => console.error(`chat ${event} listener failed`, err)));
    this.ctx = { store, events: this.events, mucDomain: options.mucDomain, now: options.now ?? Date.now,
      limits: { ...DEFAULT_CHAT_LIMITS, ...options.limits } };
    this.settings = { mucDomain: this.ctx.mucDomain, limits: this.ctx.limits };
    this.dialogs = new DialogService(this.ctx);
    this.messages = new MessageService(this.ctx, this.dialogs);
    this.reactions = new ReactionService(this.ctx);
  }

  // ---- dialogs (REST) -------------------------------------------------------------------------

  /** POST /chat/Dialog.json → 201 + the dialog (an existing private dialog is returned instead of a new one). */
  createDialog(caller: Caller, params: Params): Promise<DialogView> {
    return this.dialogs.create(caller, params);
  }

  /** GET /chat/Dialog.json → `{total_entries, skip, limit, items}`, or `{items: {count}}` with count=1. */
  listDialogs(caller: Caller, params: Params, options?: ListOptions): Promise<DialogList | CountOnly> {
    return this.dialogs.list(caller, params, options);
  }

  /** GET /chat/Dialog/{id}.json. */
  getDialog(caller: Caller, dialogId: string): Promise<DialogView> {
    return this.dialogs.get(caller, dialogId);
  }

  /** PUT /chat/Dialog/{id}.json → `result.dialog`; `removedUserIds` are also announced as `occupantsRemoved`. */
  updateDialog(caller: Caller, dialogId: string, params: Params): Promise<DialogUpdate> {
    return this.dialogs.update(caller, dialogId, params);
  }

  /** DELETE /chat/Dialog/{ids}.json[?force=1]. REST answers a single id with an empty body. */
  deleteDialogs(caller: Caller, dialogIds: string[], force: boolean): Promise<DeleteResult> {
    return this.dialogs.delete(caller, dialogIds, force);
  }

  /** GET /chat/Dialog/{id}/notifications.json → `{notifications: {enabled}}`. */
  getNotifications(caller: Caller, dialogId: string): Promise<NotificationSettings> {
    return this.dialogs.getNotifications(caller, dialogId);
  }

  /** PUT /chat/Dialog/{id}/notifications.json with `enabled=0|1`. */
  setNotifications(caller: Caller, dialogId: string, params: Params): Promise<NotificationSettings> {
    return this.dialogs.setNotifications(caller, dialogId, params);
  }

  // ---- messages (REST and XMPP) ---------------------------------------------------------------

  /**
   * POST /chat/Message.json → 201 + the message. XMPP saves `save_to_history` messages through the
   * same call: params built from the stanza (chat_dialog_id for groupchat, recipient_id for chat,
   * message, attachments, markable, custom extraParams) and options `{id, dateSent, origin: 'xmpp'}`.
   * A resend of a stored id by the same sender returns the stored message without a new event.
   */
  createMessage(caller: Caller, params: Params, options?: CreateMessageOptions): Promise<MessageView> {
    return this.messages.create(caller, params, options);
  }

  /** GET /chat/Message.json?chat_dialog_id=… → `{skip, limit, items}`, or `{items: {count}}` with count=1. */
  listMessages(caller: Caller, params: Params, options?: ListOptions): Promise<MessageList | CountOnly> {
    return this.messages.list(caller, params, options);
  }

  /** GET /chat/Message/{id}.json. */
  getMessage(caller: Caller, messageId: string): Promise<MessageView> {
    return this.messages.get(caller, messageId);
  }

  /** PUT /chat/Message/{ids}.json (ids) or /chat/Message.json (null: the whole dialog) → 200, empty body. */
  updateMessages(caller: Caller, messageIds: string[] | null, params: Params): Promise<void> {
    return this.messages.update(caller, messageIds, params);
  }

  /** DELETE /chat/Message/{ids}.json[?force=1]. */
  deleteMessages(caller: Caller, messageIds: string[], force: boolean): Promise<DeleteResult> {
    return this.messages.delete(caller, messageIds, force);
  }

  /** GET /chat/Message/unread.json[?chat_dialog_ids=a,b] → `{total, <dialogId>: n}`. */
  unreadCount(caller: Caller, params: Params = {}): Promise<UnreadCounts> {
    return this.messages.unreadCount(caller, params);
  }

  /** XMPP `<received/>` marker; resolves to where the marker is routed, throws ApiError to refuse it. */
  markDelivered(caller: Caller, messageId: string): Promise<MarkerTarget> {
    return this.messages.markDelivered(caller, messageId);
  }

  /** XMPP `<displayed/>` marker; as markDelivered. */
  markRead(caller: Caller, messageId: string): Promise<MarkerTarget> {
    return this.messages.markRead(caller, messageId);
  }

  /** Every stored message of a dialog or application, oldest first per dialog, in batches (for `parley export`). */
  iterateHistory(options: { appId: number; dialogId?: string; batchSize?: number }): AsyncGenerator<MessageView[]> {
    return this.messages.history(options);
  }

  // ---- room helpers (XMPP) --------------------------------------------------------------------

  /** The stored dialog behind a room (no permission check); null when malformed or unknown. */
  async findDialog(appId: number, dialogId: string): Promise<Dialog | null> {
    const id = normalizeObjectId(dialogId);
    return id ? this.ctx.store.chat.getDialog(appId, id) : null;
  }

  roomJid(dialog: Pick<Dialog, 'appId' | 'id'>): string {
    return roomJid(dialog, this.ctx.mucDomain);
  }

  /** Whether the user may join / post in the dialog's room: occupants, and anyone for public dialogs. */
  canUseRoom(dialog: Dialog, userId: number): boolean {
    return canAccess(dialog, userId);
  }

  /** Occupants of a group or private dialog. */
  isOccupant(dialog: Dialog, userId: number): boolean {
    return isOccupant(dialog, userId);
  }

  /** Owner or admin (MUC affiliation `admin`/`owner`). */
  isManager(dialog: Dialog, userId: number): boolean {
    return isManager(dialog, userId);
  }
}
