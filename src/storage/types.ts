// Store interfaces. Each feature owns the interface it needs; drivers (sqlite/, later postgres/)
// implement all of them. Every method is async so that a networked driver fits the same shape.

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
  readonly blobs: BlobStore;
  /** Flushes and closes the underlying database. */
  close(): Promise<void>;
}
