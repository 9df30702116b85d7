// Applications, users and their credentials.
import type { ScramCredential, ScramHash } from '../util/password.js';

export type { ScramCredential, ScramHash };

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
  /** Deletes the application with its users, dialogs, history and sessions; false when there was none. */
  deleteApplication(id: number): Promise<boolean>;
  /** Replaces the auth secret with a new random one; null when there is no such application. */
  rotateAuthSecret(id: number): Promise<Application | null>;

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
