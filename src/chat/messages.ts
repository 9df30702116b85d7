// Message operations shared by REST and XMPP: create (by dialog or by private recipient), list with
// read marking, get, update (read/unread/delivered/edit), XMPP markers, delete, unread counts and
// a batched history export.
import { DuplicateMessageIdError, type ChatMessage, type Dialog, type MessageQuery } from '../storage/types.js';
import { canAccess, PRIVATE, PUBLIC_GROUP, tracksReads } from './access.js';
import { loadAccessibleDialog, loadDialog, type Caller, type ChatContext } from './context.js';
import { emptyDeleteResult, type CountOnly, type DeleteResult, type DialogService } from './dialogs.js';
import { ApiError } from './errors.js';
import type { Origin } from './events.js';
import { newObjectId, normalizeObjectId } from './objectid.js';
import {
  indexedValues, isIndexKeyed, parseBoolean, parseFilters, parseInteger, parseList, parsePaging, parseSort,
  type FilterKind, type Params,
} from './params.js';
import { checkCustomSize, checkMessageText, itemJsonBytes, JsonItem, takeWithinBytes, type ChatLimits } from './limits.js';
import { usersBlocking } from './privacy.js';
import { stripXmlInvalid } from './text.js';
import { messageView, type MessageView } from './views.js';
import { RESERVED_MESSAGE_PARAMETERS } from './message-fields.js';

export const MESSAGE_PAGE = 100;
export const MESSAGE_PAGE_MAX = 1000;

const MESSAGE_FILTERS = {
  _id: 'objectId', message: 'string', date_sent: 'number', sender_id: 'integer', recipient_id: 'integer',
  'attachments.type': 'string', created_at: 'time', updated_at: 'time',
} as const satisfies Record<string, FilterKind>;
const MESSAGE_SORTS = ['_id', 'message', 'date_sent', 'sender_id', 'recipient_id', 'created_at', 'updated_at'] as const;

export interface CreateMessageOptions {
  /** The stanza id of an XMPP message; used as `_id` when it is an ObjectId, otherwise one is generated. */
  id?: string;
  /** Unix seconds to keep (XMPP); REST leaves it out so the server's clock is used. */
  dateSent?: number;
  origin?: Origin;
}

export interface ListOptions {
  /**
   * Items may be JsonItems (JSON the store wrote, see ChatStore.renderMessages/renderDialogs) rather than views:
   * for a caller that only serialises the page.
   */
  rendered?: boolean;
}

export interface MessageList {
  skip: number;
  limit: number;
  items: MessageView[];
}

/** Where a read/delivered marker goes: the message's sender. */
export interface MarkerTarget {
  messageId: string;
  dialogId: string;
  senderId: number;
}

export type UnreadCounts = { total: number } & Record<string, number>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Attachments as an array or an index-keyed object ({"0": {...}}), or a JSON string of either; attributes kept as given. */
export function parseAttachments(value: unknown): Record<string, unknown>[] {
  if (typeof value === 'string' && value.trim().startsWith('[')) {
    try {
      return parseAttachments(JSON.parse(value));
    } catch {
      return [];
    }
  }
  const items = Array.isArray(value) ? value : isIndexKeyed(value) ? indexedValues(value) : isRecord(value) ? [value] : [];
  return items.filter(isRecord).map((a) => ({ ...a }));
}

function customParams(params: Params): Record<string, unknown> {
  const custom: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) if (!RESERVED_MESSAGE_PARAMETERS.has(key) && value !== undefined) custom[key] = value;
  return custom;
}

/** A client sending a message it already sent (same id, sender and dialog) gets the stored one back. */
const isResend = (stored: ChatMessage, caller: Caller, dialog: Dialog): boolean =>
  stored.senderId === caller.userId && stored.dialogId === dialog.id;

function parseBody(value: unknown, limits: ChatLimits): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    const text = String(value);
    checkMessageText(text, limits); // before stripping, so the work done is bounded too
    return stripXmlInvalid(text);
  }
  throw new ApiError('invalidField', 'is invalid', 'message');
}

/** Messages fetched this many at a time while a page fills, so a page of huge messages is never all in memory. */
const PAGE_CHUNK = 100;

export class MessageService {
  constructor(private readonly ctx: ChatContext, private readonly dialogs: DialogService) {}

  /** The dialog a new message goes to: `chat_dialog_id`, or the private dialog with `recipient_id`. */
  private async targetDialog(caller: Caller, params: Params): Promise<Dialog> {
    if (params.chat_dialog_id !== undefined && params.chat_dialog_id !== '') return loadAccessibleDialog(this.ctx, caller, params.chat_dialog_id);
    if (params.recipient_id !== undefined && params.recipient_id !== '') {
      const recipient = parseInteger(params.recipient_id);
      if (recipient === undefined || recipient <= 0) throw new ApiError('invalidField', 'is invalid', 'recipient_id');
      return this.dialogs.privateDialog(caller, recipient);
    }
    throw new ApiError('invalidField', "can't be blank", 'chat_dialog_id');
  }

  /** The private dialog's opponent when the message goes by `recipient_id` (and not `chat_dialog_id`). */
  private privateRecipient(caller: Caller, params: Params): number | undefined {
    if ((params.chat_dialog_id !== undefined && params.chat_dialog_id !== '') || params.recipient_id === undefined || params.recipient_id === '') return undefined;
    const recipient = parseInteger(params.recipient_id);
    if (recipient === undefined || recipient <= 0 || recipient === caller.userId) throw new ApiError('invalidField', 'is invalid', 'recipient_id');
    return recipient;
  }

  async create(caller: Caller, params: Params, options: CreateMessageOptions = {}): Promise<MessageView> {
    const system = parseBoolean(params.system) === true;
    // A stored message by recipient: its private dialog is found or created in the message's own transaction.
    const recipient = system ? undefined : this.privateRecipient(caller, params);
    let dialog = recipient === undefined ? await this.targetDialog(caller, params) : null;
    if (system && dialog!.type !== PRIVATE) throw new ApiError('invalid', 'System messages can be sent to private dialogs only.');
    const now = this.ctx.now();
    // A taken id is found by the insert (a resend by the same sender gets the stored message back).
    const id = normalizeObjectId(options.id) ?? newObjectId(now);
    const type = dialog?.type ?? PRIVATE;
    const isPublic = type === PUBLIC_GROUP;
    const body = parseBody(params.message, this.ctx.limits);
    const attachments = parseAttachments(params.attachments);
    const custom = customParams(params);
    checkCustomSize('custom_parameters', this.ctx.limits, custom, attachments);
    const message: ChatMessage = {
      id,
      appId: caller.appId,
      dialogId: dialog?.id ?? '',
      senderId: caller.userId,
      recipientId: recipient ?? (type === PRIVATE ? dialog!.occupantIds.find((u) => u !== caller.userId) ?? 0 : 0),
      body,
      dateSent: options.dateSent !== undefined && Number.isFinite(options.dateSent) ? Math.trunc(options.dateSent) : Math.floor(now / 1000),
      attachments,
      customParams: custom,
      markable: parseBoolean(params.markable) === true,
      readIds: isPublic ? [] : [caller.userId],
      deliveredIds: isPublic ? [] : [caller.userId],
      createdAt: new Date(now),
      updatedAt: new Date(now),
    };
    // System notifications are delivered, not kept in history.
    if (!system) {
      const others = isPublic ? [] : recipient !== undefined ? [recipient] : dialog!.occupantIds.filter((u) => u !== caller.userId);
      // Occupants whose privacy list blocks the sender: not counted unread, and hidden from their history.
      const blocking = options.origin === 'rest' || options.origin === undefined
        ? await usersBlocking(this.ctx.store, this.ctx.mucDomain, caller.appId, caller.userId, others)
        : new Set<number>();
      const effects = {
        unreadFor: others.filter((u) => !blocking.has(u)),
        unhideFor: isPublic ? [] : [caller.userId],
      };
      const insert = async (): Promise<Dialog> => {
        if (recipient === undefined) {
          await this.ctx.store.chat.insertMessage(message, effects);
          return dialog!;
        }
        const found = await this.ctx.store.chat.insertPrivateMessage({
          id: newObjectId(now), appId: caller.appId, type: PRIVATE, name: null, photo: null, data: null, ownerId: caller.userId,
          occupantIds: [caller.userId, recipient], adminIds: [], isJoinRequired: false, createdAt: new Date(now),
        }, message, effects);
        if (!found) throw new ApiError('occupantsNotFound');
        return found.dialog;
      };
      try {
        dialog = await insert();
      } catch (err) {
        if (!(err instanceof DuplicateMessageIdError)) throw err;
        // The id is used elsewhere (another application), or this is a resend (or a concurrent one stored it first).
        dialog ??= await this.targetDialog(caller, params);
        const stored = await this.ctx.store.chat.getMessage(caller.appId, message.id);
        if (stored && isResend(stored, caller, dialog)) return messageView(stored, dialog.type);
        message.id = newObjectId(now);
        dialog = await insert();
      }
      for (const userId of blocking) await this.ctx.store.chat.hideMessages(userId, [message.id]);
    }
    dialog = dialog!;
    const view = messageView(message, dialog.type);
    const after: Dialog = system ? dialog : {
      ...dialog, lastMessage: message.body, lastMessageDateSent: message.dateSent, lastMessageId: message.id,
      lastMessageUserId: message.senderId, updatedAt: message.createdAt,
    };
    this.ctx.events.emit('message', {
      message: view, record: message, dialog: after, system, origin: options.origin ?? 'rest',
      sendToChat: parseBoolean(params.send_to_chat) === true,
    });
    return view;
  }

  /**
   * A page of a dialog's history (oldest first unless sorted otherwise). The returned messages
   * are marked read and delivered for the caller unless `mark_as_read=0`.
   */
  async list(caller: Caller, params: Params, options: ListOptions = {}): Promise<MessageList | CountOnly> {
    if (params.chat_dialog_id === undefined || params.chat_dialog_id === '') throw new ApiError('invalidField', "can't be blank", 'chat_dialog_id');
    const dialog = await loadAccessibleDialog(this.ctx, caller, params.chat_dialog_id);
    const query = { dialogId: dialog.id, viewerId: caller.userId, filters: parseFilters(params, MESSAGE_FILTERS) };
    if (parseBoolean(params.count) === true) return { items: { count: await this.ctx.store.chat.countMessages(query) } };
    const paging = parsePaging(params, MESSAGE_PAGE, MESSAGE_PAGE_MAX);
    const { skip } = paging;
    const markRead = parseBoolean(params.mark_as_read) !== false && tracksReads(dialog, caller.userId);
    const page = await this.pageWithinBytes({ ...query, sort: parseSort(params, MESSAGE_SORTS) }, paging, dialog.type,
      options.rendered === true, markRead ? caller.userId : null);
    let views = page.views;
    // A page cut short by its size says so in `limit`, so that skip + limit is where the next one starts.
    const limit = page.cut ? views.length : paging.limit;
    const unread = page.entries.filter((e) => e.unread).map((e) => e.id);
    if (markRead && unread.length) {
      const marked = new Map((await this.ctx.store.chat.markMessages(dialog.id, caller.userId, unread, { read: true })).map((m) => [m.id, m]));
      views = page.entries.map((e, i) => {
        const changed = marked.get(e.id);
        return changed ? messageView(changed, dialog.type) : views[i]!;
      });
    }
    return { skip, limit, items: views };
  }

  /**
   * Up to `limit` messages from `skip`, fetched in chunks, stopping before their views pass the page
   * byte budget; with `rendered`, as JSON the store writes when it can (ChatStore.renderMessages).
   * `unread` tells which ones `unreadFor` lacks in read_ids or delivered_ids.
   */
  private async pageWithinBytes(
    query: Omit<MessageQuery, 'limit' | 'skip'>, paging: { limit: number; skip: number }, dialogType: Dialog['type'], rendered: boolean,
    unreadFor: number | null,
  ): Promise<{ entries: { id: string; unread: boolean }[]; views: MessageView[]; cut: boolean }> {
    const entries: { id: string; unread: boolean }[] = [];
    const views: MessageView[] = [];
    const chat = this.ctx.store.chat;
    const render = rendered && chat.renderMessages ? chat.renderMessages.bind(chat) : null;
    let bytes = 0;
    while (entries.length < paging.limit) {
      const want = Math.min(PAGE_CHUNK, paging.limit - entries.length);
      const chunkQuery = { ...query, limit: want, skip: paging.skip + entries.length };
      let chunk: { id: string; unread: boolean }[];
      let chunkViews: MessageView[];
      if (render) {
        const items = await render(chunkQuery, { private: dialogType === PRIVATE, unreadFor });
        chunk = items;
        chunkViews = items.map((r) => (r.json !== undefined ? new JsonItem(r.json, r.id) as unknown as MessageView : messageView(r.message, dialogType)));
      } else {
        const messages = await chat.listMessages(chunkQuery);
        chunk = messages.map((m) => ({
          id: m.id, unread: unreadFor !== null && (!m.readIds.includes(unreadFor) || !m.deliveredIds.includes(unreadFor)),
        }));
        chunkViews = messages.map((m) => messageView(m, dialogType));
      }
      const fit = takeWithinBytes(chunkViews, itemJsonBytes, this.ctx.limits.pageMaxBytes, bytes);
      entries.push(...chunk.slice(0, fit.taken.length));
      views.push(...fit.taken);
      bytes = fit.bytes;
      if (fit.full) return { entries, views, cut: true };
      if (chunk.length < want) break;
    }
    return { entries, views, cut: false };
  }

  /** The message with its dialog; 404 for unknown or self-deleted messages, 403 without access to the dialog. */
  private async loadMessage(caller: Caller, rawId: unknown): Promise<{ message: ChatMessage; dialog: Dialog }> {
    const id = normalizeObjectId(rawId);
    const message = id ? await this.ctx.store.chat.getMessage(caller.appId, id, caller.userId) : null;
    if (!message) throw new ApiError('notFound');
    const dialog = await loadDialog(this.ctx, caller.appId, message.dialogId);
    if (!canAccess(dialog, caller.userId)) throw new ApiError('forbidden');
    return { message, dialog };
  }

  async get(caller: Caller, messageId: string): Promise<MessageView> {
    const { message, dialog } = await this.loadMessage(caller, messageId);
    return messageView(message, dialog.type);
  }

  /**
   * PUT /chat/Message/{ids}: `chat_dialog_id` is required; `read=1|0`, `delivered=1`, and
   * `message=<text>` (the sender only; needs ids). `messageIds` null means every message of the dialog.
   */
  async update(caller: Caller, messageIds: string[] | null, params: Params): Promise<void> {
    if (params.chat_dialog_id === undefined || params.chat_dialog_id === '') throw new ApiError('invalidField', "can't be blank", 'chat_dialog_id');
    const dialog = await loadAccessibleDialog(this.ctx, caller, params.chat_dialog_id);
    const read = parseBoolean(params.read);
    const delivered = parseBoolean(params.delivered) === true ? true : undefined;
    const marks = { read, delivered };
    const trackMarks = tracksReads(dialog, caller.userId) && (read !== undefined || delivered !== undefined);
    if (messageIds === null) {
      if (params.message !== undefined) throw new ApiError('badRequest', 'A message id is required to edit a message.');
      if (trackMarks) await this.ctx.store.chat.markAllMessages(dialog.id, caller.userId, marks);
      return;
    }
    const messages: ChatMessage[] = [];
    for (const rawId of new Set(messageIds)) {
      const id = normalizeObjectId(rawId);
      const message = id ? await this.ctx.store.chat.getMessage(caller.appId, id, caller.userId) : null;
      if (message && message.dialogId === dialog.id) messages.push(message);
    }
    if (messages.length === 0) throw new ApiError('notFound');
    if (params.message !== undefined) {
      if (messages.some((m) => m.senderId !== caller.userId)) throw new ApiError('forbidden');
      const body = parseBody(params.message, this.ctx.limits);
      const at = new Date(this.ctx.now());
      for (const m of messages) {
        const edited = await this.ctx.store.chat.editMessage(dialog.id, m.id, body, at);
        if (edited) this.ctx.events.emit('messageEdited', { dialog, message: edited, actor: caller.userId });
      }
    }
    if (trackMarks) await this.ctx.store.chat.markMessages(dialog.id, caller.userId, messages.map((m) => m.id), marks);
  }

  private async mark(caller: Caller, messageId: string, marks: { read?: boolean; delivered?: boolean }): Promise<MarkerTarget> {
    const { message, dialog } = await this.loadMessage(caller, messageId);
    if (tracksReads(dialog, caller.userId)) await this.ctx.store.chat.markMessages(dialog.id, caller.userId, [message.id], marks);
    return { messageId: message.id, dialogId: dialog.id, senderId: message.senderId };
  }

  /** XMPP `received` marker: records delivery; throws 404/403 (refuse the marker) for a message outside the caller's dialogs. */
  markDelivered(caller: Caller, messageId: string): Promise<MarkerTarget> {
    return this.mark(caller, messageId, { delivered: true });
  }

  /** XMPP `displayed` marker: records reading (and delivery); same refusals as markDelivered. */
  markRead(caller: Caller, messageId: string): Promise<MarkerTarget> {
    return this.mark(caller, messageId, { read: true });
  }

  /**
   * Deletes each message for the caller only, or with `force` for everyone (its sender only).
   * Malformed, unknown and self-deleted ids are NotFound; others the caller may not delete are WrongPermissions.
   */
  async delete(caller: Caller, messageIds: string[], force: boolean): Promise<DeleteResult> {
    const result = emptyDeleteResult();
    for (const rawId of new Set(messageIds)) {
      const id = normalizeObjectId(rawId);
      const message = id ? await this.ctx.store.chat.getMessage(caller.appId, id, caller.userId) : null;
      const dialog = message ? await this.ctx.store.chat.getDialog(caller.appId, message.dialogId) : null;
      if (!message || !dialog) {
        result.NotFound.ids.push(rawId);
      } else if (!canAccess(dialog, caller.userId) || (force && message.senderId !== caller.userId)) {
        result.WrongPermissions.ids.push(rawId);
      } else {
        await (force ? this.ctx.store.chat.deleteMessages([message.id]) : this.ctx.store.chat.hideMessages(caller.userId, [message.id]));
        result.SuccessfullyDeleted.ids.push(rawId);
        if (force) this.ctx.events.emit('messagesDeleted', { dialog, messages: [message], actor: caller.userId });
      }
    }
    return result;
  }

  /** `{total, <dialogId>: n}`: total over all the caller's dialogs, plus each dialog asked for in `chat_dialog_ids`. */
  async unreadCount(caller: Caller, params: Params): Promise<UnreadCounts> {
    const counts = await this.ctx.store.chat.unreadCounts(caller.appId, caller.userId);
    const result: UnreadCounts = { total: [...counts.values()].reduce((a, b) => a + b, 0) };
    for (const raw of parseList(params.chat_dialog_ids) ?? []) {
      const id = normalizeObjectId(raw);
      if (raw !== 'total') result[raw] = id ? counts.get(id) ?? 0 : 0;
    }
    return result;
  }

  /** Every stored message of one dialog or of the whole application, oldest first per dialog, in batches. */
  async *history(options: { appId: number; dialogId?: string; batchSize?: number }): AsyncGenerator<MessageView[]> {
    const batchSize = options.batchSize ?? 500;
    const dialogIds = options.dialogId !== undefined ? [options.dialogId] : this.allDialogIds(options.appId, batchSize);
    for await (const dialogId of dialogIds) {
      const dialog = await this.ctx.store.chat.getDialog(options.appId, dialogId);
      if (!dialog) continue;
      let cursor = null;
      for (;;) {
        const batch: ChatMessage[] = await this.ctx.store.chat.historyBatch(options.appId, dialog.id, cursor, batchSize);
        if (batch.length === 0) break;
        yield batch.map((m) => messageView(m, dialog.type));
        const last = batch[batch.length - 1];
        cursor = { dateSent: last.dateSent, id: last.id };
      }
    }
  }

  private async *allDialogIds(appId: number, batchSize: number): AsyncGenerator<string> {
    let after: string | null = null;
    for (;;) {
      const ids = await this.ctx.store.chat.dialogIds(appId, after, batchSize);
      yield* ids;
      if (ids.length < batchSize) return;
      after = ids[ids.length - 1];
    }
  }
}
