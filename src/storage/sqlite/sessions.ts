import type Database from 'better-sqlite3';
import type { ApiSession, SessionStore, TokenScram } from '../types.js';
import { tokenDigest } from '../token-secrets.js';

interface SessionRow {
  id: number;
  token: string;
  app_id: number;
  user_id: number | null;
  nonce: number;
  ts: number;
  created_at: number;
  updated_at: number;
  expires_at: number;
  scram_sha1: string | null;
  scram_sha256: string | null;
}

const toSession = (r: SessionRow, token: string): ApiSession => ({
  id: r.id,
  token,
  appId: r.app_id,
  userId: r.user_id,
  nonce: r.nonce,
  ts: r.ts,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
  expiresAt: new Date(r.expires_at),
  scram: r.scram_sha1 !== null && r.scram_sha256 !== null ? { sha1: r.scram_sha1, sha256: r.scram_sha256 } : null,
});

export class SqliteSessionStore implements SessionStore {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      insert: db.prepare<[Record<string, unknown>], SessionRow>(
        `INSERT INTO api_sessions (token, app_id, user_id, nonce, ts, created_at, updated_at, expires_at, scram_sha1, scram_sha256)
         VALUES (@token, @appId, @userId, @nonce, @ts, @now, @now, @expiresAt, @scramSha1, @scramSha256) RETURNING *`),
      get: db.prepare<[string], SessionRow>('SELECT * FROM api_sessions WHERE token = ?'),
      extend: db.prepare<[number, string]>('UPDATE api_sessions SET expires_at = ? WHERE token = ?'),
      setUser: db.prepare<[number | null, number, number, string | null, string | null, string]>(
        'UPDATE api_sessions SET user_id = ?, updated_at = ?, expires_at = ?, scram_sha1 = ?, scram_sha256 = ? WHERE token = ?'),
      remove: db.prepare<[string]>('DELETE FROM api_sessions WHERE token = ?'),
      removeOfUser: db.prepare<[number, number, string | null]>('DELETE FROM api_sessions WHERE app_id = ? AND user_id = ? AND token IS NOT ?'),
      ofUser: db.prepare<[number, number, number, number], SessionRow>(
        'SELECT * FROM api_sessions WHERE user_id = ? AND app_id = ? AND expires_at > ? ORDER BY id DESC LIMIT +?'),
      claim: db.prepare<[number, number, string]>('INSERT OR IGNORE INTO session_nonces (app_id, ts, nonce) VALUES (?, ?, ?)'),
      purgeSessions: db.prepare<[number]>('DELETE FROM api_sessions WHERE expires_at <= ?'),
      purgeNonces: db.prepare<[number]>('DELETE FROM session_nonces WHERE ts < ?'),
    };
  }

  async createSession(input: { token: string; appId: number; userId: number | null; nonce: number; ts: number; expiresAt: Date; scram?: TokenScram | null }): Promise<ApiSession> {
    const row = this.s.insert.get({
      token: tokenDigest(input.token),
      appId: input.appId,
      userId: input.userId,
      nonce: input.nonce,
      ts: input.ts,
      now: Date.now(),
      expiresAt: input.expiresAt.getTime(),
      scramSha1: input.scram?.sha1 ?? null,
      scramSha256: input.scram?.sha256 ?? null,
    })!;
    return toSession(row, input.token);
  }

  async getSession(token: string): Promise<ApiSession | null> {
    const row = this.s.get.get(tokenDigest(token));
    return row ? toSession(row, token) : null;
  }

  async extendSession(token: string, expiresAt: Date): Promise<void> {
    this.s.extend.run(expiresAt.getTime(), tokenDigest(token));
  }

  async setSessionUser(token: string, userId: number | null, expiresAt: Date, scram: TokenScram | null = null): Promise<void> {
    this.s.setUser.run(userId, Date.now(), expiresAt.getTime(), scram?.sha1 ?? null, scram?.sha256 ?? null, tokenDigest(token));
  }

  async deleteSession(token: string): Promise<boolean> {
    return this.s.remove.run(tokenDigest(token)).changes > 0;
  }

  async deleteUserSessions(appId: number, userId: number, except?: string): Promise<number> {
    return this.s.removeOfUser.run(appId, userId, except === undefined ? null : tokenDigest(except)).changes;
  }

  async userSessions(appId: number, userId: number, now: Date, limit: number): Promise<ApiSession[]> {
    return this.s.ofUser.all(userId, appId, now.getTime(), limit).map((row) => toSession(row, ''));
  }

  async claimNonce(appId: number, ts: number, nonce: string): Promise<boolean> {
    return this.s.claim.run(appId, ts, nonce).changes > 0;
  }

  async purge(now: Date, noncesBefore: number): Promise<void> {
    this.s.purgeSessions.run(now.getTime());
    this.s.purgeNonces.run(noncesBefore);
  }
}
