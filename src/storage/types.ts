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
  createdAt: Date;
  updatedAt: Date;
}

export type ScramHash = 'sha1' | 'sha256';

/** What a server needs to verify a SCRAM exchange without the password (RFC 5802 §3). */
export interface ScramCredential {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

export interface NewUser {
  login: string;
  password: string;
  email?: string | null;
  fullName?: string | null;
}

export class DuplicateLoginError extends Error {
  constructor(readonly login: string) {
    super(`login "${login}" is already taken`);
    this.name = 'DuplicateLoginError';
  }
}

export interface AccountStore {
  createApplication(input: { name?: string }): Promise<Application>;
  getApplication(id: number): Promise<Application | null>;
  getApplicationByAuthKey(authKey: string): Promise<Application | null>;
  listApplications(): Promise<Application[]>;

  /** Throws DuplicateLoginError when the login exists in that application. */
  createUser(appId: number, input: NewUser): Promise<User>;
  getUser(appId: number, userId: number): Promise<User | null>;
  getUserByLogin(appId: number, login: string): Promise<User | null>;
  listUsers(appId: number, page?: { limit?: number; offset?: number }): Promise<User[]>;
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

export interface Store {
  readonly accounts: AccountStore;
  readonly offline: OfflineStore;
  readonly roster: RosterStore;
  /** Flushes and closes the underlying database. */
  close(): Promise<void>;
}
