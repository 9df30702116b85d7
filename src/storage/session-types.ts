// REST API sessions (QB-Token).
import type { TokenScram } from './token-secrets.js';

/** A REST API session (QB-Token): an application session, or a user session when userId is set. */
export interface ApiSession {
  id: number;
  /** As the caller gave it (only its digest is stored); '' in userSessions results. */
  token: string;
  appId: number;
  userId: number | null;
  nonce: number;
  ts: number;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date;
  /** SCRAM keys of the token for SASL, set while it is a user session. */
  scram: TokenScram | null;
}

export interface SessionStore {
  createSession(input: { token: string; appId: number; userId: number | null; nonce: number; ts: number; expiresAt: Date; scram?: TokenScram | null }): Promise<ApiSession>;
  /** The session, expired or not; the caller decides. */
  getSession(token: string): Promise<ApiSession | null>;
  /** Moves the expiry (sliding lifetime). */
  extendSession(token: string, expiresAt: Date): Promise<void>;
  /** Upgrades (a user id) or downgrades (null) the same token. */
  setSessionUser(token: string, userId: number | null, expiresAt: Date, scram?: TokenScram | null): Promise<void>;
  deleteSession(token: string): Promise<boolean>;
  /** Ends every REST session of a user but `except` (password changed, user deleted); returns how many. */
  deleteUserSessions(appId: number, userId: number, except?: string): Promise<number>;
  /** Live user sessions of one user, newest first. */
  userSessions(appId: number, userId: number, now: Date, limit: number): Promise<ApiSession[]>;
  /** Records a signed request's (timestamp, nonce); false when that pair was already used by the application. */
  claimNonce(appId: number, ts: number, nonce: string): Promise<boolean>;
  /** Drops expired sessions and nonces older than `noncesBefore` (unix seconds). */
  purge(now: Date, noncesBefore: number): Promise<void>;
}
