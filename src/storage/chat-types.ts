// Chat: QuickBlox dialogs and message history.
/** 1 = public group, 2 = group, 3 = private (QuickBlox numbering). */
export type DialogType = 1 | 2 | 3;

export interface Dialog {
  id: string; // 24-hex ObjectId
  appId: number;
  type: DialogType;
  name: string | null;
  photo: string | null;
  ownerId: number;
  /** Ascending; empty for public dialogs. */
  occupantIds: number[];
  /** Ascending. */
  adminIds: number[];
  data: Record<string, unknown> | null;
  isJoinRequired: boolean;
  lastMessage: string | null;
  lastMessageDateSent: number | null;
  lastMessageId: string | null;
  lastMessageUserId: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export type NewDialog = Omit<Dialog, 'lastMessage' | 'lastMessageDateSent' | 'lastMessageId' | 'lastMessageUserId' | 'updatedAt'>;

/** Only the fields present change. Occupant changes are applied atomically against the stored set. */
export interface DialogChanges {
  name?: string | null;
  photo?: string | null;
  data?: Record<string, unknown> | null;
  isJoinRequired?: boolean;
  /** Replaces the admin list (after occupant removals, which also drop admins). */
  adminIds?: number[];
  addOccupants?: number[];
  removeOccupants?: number[];
  updatedAt: Date;
}

/** One user's view of a dialog. A user without stored state gets the defaults (0, false, true). */
export interface DialogMemberState {
  unreadCount: number;
  /** Deleted "for me": hidden from the user's dialog list, history before the deletion gone for them. */
  hidden: boolean;
  notificationsEnabled: boolean;
}

export interface UserDialog {
  dialog: Dialog;
  state: DialogMemberState;
}

export type FilterOp = 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte' | 'in' | 'nin' | 'all' | 'ctn';
export type FilterValue = string | number | boolean | Date | null;

/**
 * One condition of a list query. `in`/`nin`/`all` take arrays; `ctn` is a case-insensitive
 * substring match; on array fields (occupants_ids) `eq`/`ne` mean contains/does not contain and
 * `all` means contains every value. Time fields compare at whole-second precision.
 */
export interface Filter<F extends string> {
  field: F;
  op: FilterOp;
  value: FilterValue | FilterValue[];
}

export interface Sort<F extends string> {
  field: F;
  direction: 'asc' | 'desc';
}

/** `data.<key>` filters on a custom data field (key: letters, digits, underscore). */
export type DialogField =
  | '_id' | 'type' | 'name' | 'user_id' | 'last_message_date_sent' | 'created_at' | 'updated_at' | 'occupants_ids'
  | `data.${string}`;

export interface DialogQuery {
  appId: number;
  /** Lists the dialogs this user occupies plus the application's public dialogs, minus those hidden for them. */
  userId: number;
  filters: Filter<DialogField>[];
  /** Default: most recently updated first. Ties are broken by `_id` in the same direction. */
  sort?: Sort<Exclude<DialogField, 'occupants_ids'>>;
  limit: number;
  skip: number;
}

/** Thrown by ChatStore.insertMessage when the message id is already used (in any application). */
export class DuplicateMessageIdError extends Error {
  constructor(readonly messageId: string) {
    super(`message id ${messageId} is already used`);
    this.name = 'DuplicateMessageIdError';
  }
}

export interface ChatMessage {
  id: string; // 24-hex ObjectId
  appId: number;
  dialogId: string;
  senderId: number;
  /** The opponent in private dialogs, 0 otherwise. */
  recipientId: number;
  body: string;
  /** Unix seconds. */
  dateSent: number;
  /** Every attribute as given. */
  attachments: Record<string, unknown>[];
  /** Custom parameters, returned as top-level message fields. */
  customParams: Record<string, unknown>;
  markable: boolean;
  readIds: number[];
  deliveredIds: number[];
  createdAt: Date;
  updatedAt: Date;
}

export type MessageField = '_id' | 'message' | 'date_sent' | 'sender_id' | 'recipient_id' | 'attachments.type' | 'created_at' | 'updated_at';

export interface MessageQuery {
  dialogId: string;
  /** Messages this user deleted for themselves (one by one, or with the dialog) are left out. */
  viewerId: number;
  filters: Filter<MessageField>[];
  /** Default: `date_sent` ascending. Ties are broken by `_id` in the same direction. */
  sort?: Sort<Exclude<MessageField, 'attachments.type'>>;
  limit: number;
  skip: number;
}

export interface MessageMarks {
  read?: boolean; // true adds the user to read_ids (and delivered_ids), false removes them from read_ids
  delivered?: boolean; // true adds the user to delivered_ids
}

/** Where an export has got to: the last message handed out. */
export interface HistoryCursor {
  dateSent: number;
  id: string;
}

/**
 * Dialogs, per-user dialog state and message history. Unread counters are stored, not computed:
 * a message counts as unread for user U when U is not its sender, U is not in its read_ids, U has
 * not deleted it (or the dialog) for themselves, and it arrived while U was an occupant. Every
 * method keeps the counters true to that definition in the same transaction as its change.
 */
export interface ChatStore {
  /** Inserts a dialog with a state row for each occupant. */
  createDialog(dialog: NewDialog): Promise<Dialog>;
  /**
   * Atomically returns the application's private dialog between the two occupants of `dialog`,
   * inserting `dialog` when there is none.
   */
  findOrCreatePrivateDialog(dialog: NewDialog): Promise<{ dialog: Dialog; created: boolean }>;
  findPrivateDialog(appId: number, userA: number, userB: number): Promise<Dialog | null>;
  getDialog(appId: number, dialogId: string): Promise<Dialog | null>;
  /** Null when the dialog does not exist. Added occupants start with no unread messages. */
  updateDialog(appId: number, dialogId: string, changes: DialogChanges): Promise<Dialog | null>;
  /** Deletes the dialog for everyone, with its history. */
  deleteDialog(appId: number, dialogId: string): Promise<boolean>;
  listDialogs(query: DialogQuery): Promise<UserDialog[]>;
  /**
   * Optional: listDialogs' page with each dialog as the JSON of its QuickBlox view for the caller
   * (chat/views.ts dialogView, JSON.stringify'd), rendered by the store, and what countDialogs would
   * return for the query; null when it cannot render every one of them byte for byte.
   */
  renderDialogs?(query: DialogQuery, options: { mucDomain: string }): Promise<RenderedDialogs | null>;
  /** Counts what listDialogs would return without limit and skip. */
  countDialogs(query: Omit<DialogQuery, 'sort' | 'limit' | 'skip'>): Promise<number>;

  getMemberState(dialogId: string, userId: number): Promise<DialogMemberState>;
  /** Deletes the dialog for one user: hidden, its current history gone for them, no unread messages. */
  hideDialog(dialogId: string, userId: number): Promise<void>;
  /** Shows a hidden dialog again (its old history stays gone for the user). */
  unhideDialog(dialogId: string, userId: number): Promise<void>;
  setNotifications(dialogId: string, userId: number, enabled: boolean): Promise<void>;
  /** The user's unread counts per dialog they occupy and have not hidden (non-zero counts only). */
  unreadCounts(appId: number, userId: number): Promise<Map<string, number>>;

  /**
   * In one transaction: stores the message, makes it the dialog's last message (and bumps
   * updated_at), adds one unread message for each of `unreadFor` and shows the dialog again to
   * each of `unreadFor` and `unhideFor` who had hidden it. Throws DuplicateMessageIdError (and
   * changes nothing) when the id is taken.
   */
  insertMessage(message: ChatMessage, effects: { unreadFor: number[]; unhideFor: number[] }): Promise<void>;
  /**
   * The private chat message in one transaction: finds the application's private dialog between the
   * two occupants of `dialog` or, when there is none and both occupants are users of the application,
   * inserts `dialog`; then stores `message` in it as insertMessage does (setting `message.dialogId`).
   * Returns the dialog as it was before the message (its last-message fields may be out of date), or
   * null, with nothing stored, when there is no such dialog and an occupant is not a user.
   */
  insertPrivateMessage(dialog: NewDialog, message: ChatMessage, effects: { unreadFor: number[]; unhideFor: number[] }):
    Promise<{ dialog: Dialog; created: boolean } | null>;
  /** With `viewerId`, a message that user deleted for themselves is null. */
  getMessage(appId: number, messageId: string, viewerId?: number): Promise<ChatMessage | null>;
  listMessages(query: MessageQuery): Promise<ChatMessage[]>;
  /**
   * Optional: listMessages' page with each message as the JSON of its QuickBlox view (chat/views.ts
   * messageView, JSON.stringify'd), rendered by the store; a message it cannot render byte for byte
   * comes whole instead. `unread` is whether `unreadFor` (null: nobody) lacks it in read_ids or delivered_ids.
   */
  renderMessages?(query: MessageQuery, options: { private: boolean; unreadFor: number | null }): Promise<RenderedMessage[]>;
  countMessages(query: Omit<MessageQuery, 'sort' | 'limit' | 'skip'>): Promise<number>;
  /** Marks the listed messages of the dialog the user can see; returns them as they are afterwards. */
  markMessages(dialogId: string, userId: number, messageIds: string[], marks: MessageMarks): Promise<ChatMessage[]>;
  /** Marks every message of the dialog the user can see (read: all that count as unread). */
  markAllMessages(dialogId: string, userId: number, marks: MessageMarks): Promise<void>;
  /** Changes the text; the dialog's last_message follows when it is the last message. */
  editMessage(dialogId: string, messageId: string, body: string, updatedAt: Date): Promise<ChatMessage | null>;
  /** Deletes messages for one user; returns the ids that were visible to them and now are not. */
  hideMessages(userId: number, messageIds: string[]): Promise<string[]>;
  /** Deletes messages for everyone; the dialogs' last_message falls back to the newest remaining. */
  deleteMessages(messageIds: string[]): Promise<string[]>;
  /** Oldest first (date_sent, then _id), everything stored regardless of per-user deletions. */
  historyBatch(appId: number, dialogId: string, after: HistoryCursor | null, limit: number): Promise<ChatMessage[]>;
  /** The application's dialog ids, oldest first, for exports. */
  dialogIds(appId: number, after: string | null, limit: number): Promise<string[]>;
  /** XEP-0313 archive pages and counts (src/storage/archive-types.ts). */
  archiveMessages(query: import('./archive-types.js').ArchiveQuery): Promise<ChatMessage[]>;
  countArchive(query: import('./archive-types.js').ArchiveFilter): Promise<number>;
}

/**
 * A message of a page rendered by the store (ChatStore.renderMessages): its view's JSON, or the
 * message to render. `id` may be '' for a message rendered as JSON that is not unread.
 */
/** A dialog page as the store rendered it (ChatStore.renderDialogs). */
export interface RenderedDialogs {
  items: string[];
  /** The number of dialogs the query finds without limit and skip (countDialogs). */
  total: number;
}

export type RenderedMessage = { id: string; unread: boolean } & ({ json: string; message?: undefined } | { json?: undefined; message: ChatMessage });
