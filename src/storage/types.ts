// Store interfaces. Each feature owns the interface it needs; drivers (sqlite/, later postgres/)
// implement all of them. Every method is async so that a networked driver fits the same shape.

import type { StoreHealth } from './health-types.js';
import type { ApplicationAdminStore } from './application-admin-types.js';
export interface Application {
  id: number;
  name: string;
  authKey: string;
  authSecret: string;
  accountKey: string;
  createdAt: Date;
}

export interface User {
  id: number; // unique per installation, not per application
  appId: number;
  login: string;
  email: string | null;
  fullName: string | null;
  phone: string | null;
  website: string | null;
  externalUserId: string | null;
  facebookId: string | null;
  twitterId: string | null;
  blobId: number | null;
  customData: string | null;
  tags: string[];
  lastRequestAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The profile fields a client may set; absent fields are left alone by updates. */
export interface UserProfile {
  login?: string;
  email?: string | null;
  fullName?: string | null;
  phone?: string | null;
  website?: string | null;
  externalUserId?: string | null;
  facebookId?: string | null;
  twitterId?: string | null;
  blobId?: number | null;
  customData?: string | null;
  tags?: string[];
}

/** Fields users can be found by, one match at most per application (external ids are not unique, the first wins). */
export type UserKey = 'login' | 'email' | 'externalUserId' | 'facebookId' | 'twitterId' | 'phone';

export type UserField = 'id' | 'login' | 'email' | 'fullName' | 'phone' | 'website' | 'externalUserId' | 'facebookId' | 'twitterId' | 'blobId' | 'createdAt' | 'updatedAt' | 'lastRequestAt';

export interface UserCondition {
  field: UserField;
  op: 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'between' | 'in' | 'contains';
  /** Dates as epoch milliseconds; 'between' takes two values, 'in' any number. */
  values: (string | number)[];
}

export interface UserQuery {
  conditions?: UserCondition[];
  /** Users carrying at least one of these tags. */
  anyTag?: string[];
  order?: { field: UserField; desc: boolean };
  limit: number;
  offset: number;
}

export type ScramHash = 'sha1' | 'sha256';

/** What a server needs to verify a SCRAM exchange without the password (RFC 5802 §3). */
export interface ScramCredential {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

export interface NewUser extends UserProfile {
  login: string;
  password: string;
}

/** A unique user field (login or email) already belongs to another user of the application. */
export class DuplicateUserError extends Error {
  constructor(readonly field: 'login' | 'email', readonly value: string) {
    super(`${field} "${value}" is already taken`);
    this.name = 'DuplicateUserError';
  }
}

export class DuplicateLoginError extends DuplicateUserError {
  constructor(readonly login: string) {
    super('login', login);
    this.name = 'DuplicateLoginError';
  }
}

export interface AccountStore {
  createApplication(input: { name?: string }): Promise<Application>;
  getApplication(id: number): Promise<Application | null>;
  getApplicationByAuthKey(authKey: string): Promise<Application | null>;
  listApplications(): Promise<Application[]>;

  /** Throws DuplicateUserError (DuplicateLoginError for the login) when a unique field is taken in that application. */
  createUser(appId: number, input: NewUser): Promise<User>;
  getUser(appId: number, userId: number): Promise<User | null>;
  getUserByLogin(appId: number, login: string): Promise<User | null>;
  getUserBy(appId: number, key: UserKey, value: string): Promise<User | null>;
  listUsers(appId: number, page?: { limit?: number; offset?: number }): Promise<User[]>;
  /** Users matching every condition, with the total before paging. */
  queryUsers(appId: number, query: UserQuery): Promise<{ total: number; users: User[] }>;
  /** Throws DuplicateUserError like createUser; null when the user does not exist. */
  updateUser(appId: number, userId: number, profile: UserProfile): Promise<User | null>;
  /** Records activity (REST requests, presence); cheap enough to call often. */
  touchUser(appId: number, userId: number, at: Date): Promise<void>;
  deleteUser(appId: number, userId: number): Promise<boolean>;
  setPassword(appId: number, userId: number, password: string): Promise<void>;
  verifyPassword(appId: number, userId: number, password: string): Promise<boolean>;
  getScramCredential(appId: number, userId: number, hash: ScramHash): Promise<ScramCredential | null>;
}

export interface OfflineMessage {
  id: number;
  userId: number;
  stanza: string; // serialized XML of the stanza as it will be delivered
  storedAt: Date;
}

export interface OfflineStore {
  /** Stores the stanza for a user; returns false (and stores nothing) when the user already has `limit`. */
  push(userId: number, stanza: string, limit: number): Promise<boolean>;
  /** Oldest first. */
  list(userId: number): Promise<OfflineMessage[]>;
  remove(ids: number[]): Promise<void>;
  count(userId: number): Promise<number>;
}

export type Subscription = 'none' | 'to' | 'from' | 'both';

export interface RosterItem {
  jid: string; // bare JID of the contact
  name: string | null;
  subscription: Subscription;
  ask: boolean; // a subscription request sent by the owner is pending
  groups: string[];
}

export interface RosterStore {
  getRoster(userId: number): Promise<RosterItem[]>;
  getItem(userId: number, jid: string): Promise<RosterItem | null>;
  setItem(userId: number, item: RosterItem): Promise<void>;
  removeItem(userId: number, jid: string): Promise<boolean>;
}

/** One rule of a privacy list (XEP-0016). */
export interface PrivacyItem {
  /** No type: the item matches every sender. */
  type: 'jid' | 'group' | 'subscription' | null;
  value: string | null;
  action: 'allow' | 'deny';
  /** Unique within a list; lower first. */
  order: number;
  /** The stanza kinds the item applies to; empty means all of them (and outgoing messages and IQs too). */
  stanzas: ('message' | 'iq' | 'presence-in' | 'presence-out')[];
}

export interface PrivacyList {
  name: string;
  /** Sorted by order. */
  items: PrivacyItem[];
}

export interface PrivacyStore {
  /** Names of the user's lists, sorted. */
  listNames(userId: number): Promise<string[]>;
  getList(userId: number, name: string): Promise<PrivacyList | null>;
  /** Creates or replaces a list (its items sorted by order); a default list stays the default. */
  setList(userId: number, list: PrivacyList): Promise<void>;
  /** False when there was no such list; removing the default list leaves the user without one. */
  removeList(userId: number, name: string): Promise<boolean>;
  getDefault(userId: number): Promise<PrivacyList | null>;
  /** Makes an existing list the default (null: no default); false when there is no such list. */
  setDefault(userId: number, name: string | null): Promise<boolean>;
}

/** A REST API session (QB-Token): an application session, or a user session when userId is set. */
export interface ApiSession {
  id: number;
  token: string;
  appId: number;
  userId: number | null;
  nonce: number;
  ts: number;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date;
}

export interface SessionStore {
  createSession(input: { token: string; appId: number; userId: number | null; nonce: number; ts: number; expiresAt: Date }): Promise<ApiSession>;
  /** The session, expired or not; the caller decides. */
  getSession(token: string): Promise<ApiSession | null>;
  /** Moves the expiry (sliding lifetime). */
  extendSession(token: string, expiresAt: Date): Promise<void>;
  /** Upgrades (a user id) or downgrades (null) the same token. */
  setSessionUser(token: string, userId: number | null, expiresAt: Date): Promise<void>;
  deleteSession(token: string): Promise<boolean>;
  /** Live user sessions of one user, newest first. */
  userSessions(appId: number, userId: number, now: Date, limit: number): Promise<ApiSession[]>;
  /** Records a signed request's (timestamp, nonce); false when that pair was already used by the application. */
  claimNonce(appId: number, ts: number, nonce: string): Promise<boolean>;
  /** Drops expired sessions and nonces older than `noncesBefore` (unix seconds). */
  purge(now: Date, noncesBefore: number): Promise<void>;
}

/** An uploaded file (QuickBlox "blob"). The bytes live outside the database, named by `uid`. */
export interface Blob {
  id: number;
  /** 32 lowercase hex characters, random: the public name of the file in download URLs. */
  uid: string;
  appId: number;
  /** The owner. Blobs outlive their owner so that attachments in other users' histories keep working. */
  userId: number;
  name: string;
  contentType: string;
  /** Bytes; null until the upload is completed. */
  size: number | null;
  public: boolean;
  tags: string[];
  /** null while the file is being uploaded, 'complete' once the client declared it uploaded. */
  status: 'complete' | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

export interface NewBlob {
  appId: number;
  userId: number;
  uid: string;
  name: string;
  contentType: string;
  public: boolean;
  tags: string[];
  /** The digest of the key that may upload the file, and when that key stops working. */
  uploadKeyHash: string;
  uploadExpiresAt: Date;
}

export interface BlobStore {
  createBlob(input: NewBlob): Promise<Blob>;
  getBlob(appId: number, id: number): Promise<Blob | null>;
  /** By uid, in any application (uids are unique per installation); the caller checks the application. */
  getBlobByUid(uid: string): Promise<Blob | null>;
  /** The blob an upload key opens: the key matches, has not expired, and the blob is not complete. */
  blobForUpload(uploadKeyHash: string, now: Date): Promise<Blob | null>;
  /** One owner's blobs, oldest first, with the total before paging. */
  listBlobs(appId: number, userId: number, page: { limit: number; offset: number }): Promise<{ total: number; blobs: Blob[] }>;
  renameBlob(appId: number, id: number, name: string): Promise<Blob | null>;
  /** Marks the blob complete with its size and retires its upload key; a complete blob is returned unchanged. */
  completeBlob(appId: number, id: number, size: number, at: Date): Promise<Blob | null>;
  deleteBlob(appId: number, id: number): Promise<boolean>;
}

export interface Store {
  readonly accounts: AccountStore;
  readonly sessions: SessionStore;
  readonly offline: OfflineStore;
  readonly roster: RosterStore;
  readonly privacy: PrivacyStore;
  readonly blobs: BlobStore;
  readonly chat: ChatStore;
  readonly health: StoreHealth;
  readonly applications: ApplicationAdminStore;
  /** Flushes and closes the underlying database. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
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
  /** With `viewerId`, a message that user deleted for themselves is null. */
  getMessage(appId: number, messageId: string, viewerId?: number): Promise<ChatMessage | null>;
  listMessages(query: MessageQuery): Promise<ChatMessage[]>;
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
}
