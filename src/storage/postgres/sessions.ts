import type pg from 'pg';
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

const COLUMNS = 'id, app_id, user_id, nonce, ts, created_at, updated_at, expires_at, scram_sha1, scram_sha256';

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

export class PostgresSessionStore implements SessionStore {
  constructor(private readonly pool: pg.Pool) {}

  async createSession(input: { token: string; appId: number; userId: number | null; nonce: number; ts: number; expiresAt: Date; scram?: TokenScram | null }): Promise<ApiSession> {
    const now = Date.now();
    const { rows } = await this.pool.query<SessionRow>(
      `INSERT INTO api_sessions (token, app_id, user_id, nonce, ts, created_at, updated_at, expires_at, scram_sha1, scram_sha256)
       VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
      [tokenDigest(input.token), input.appId, input.userId, input.nonce, input.ts, now, input.expiresAt.getTime(), input.scram?.sha1 ?? null, input.scram?.sha256 ?? null]);
    return toSession(rows[0], input.token);
  }

  async getSession(token: string): Promise<ApiSession | null> {
    const { rows } = await this.pool.query<SessionRow>(`SELECT ${COLUMNS} FROM api_sessions WHERE token = $1`, [tokenDigest(token)]);
    return rows[0] ? toSession(rows[0], token) : null;
  }

  async extendSession(token: string, expiresAt: Date): Promise<void> {
    await this.pool.query('UPDATE api_sessions SET expires_at = $1 WHERE token = $2', [expiresAt.getTime(), tokenDigest(token)]);
  }

  async setSessionUser(token: string, userId: number | null, expiresAt: Date, scram: TokenScram | null = null): Promise<void> {
    await this.pool.query('UPDATE api_sessions SET user_id = $1, updated_at = $2, expires_at = $3, scram_sha1 = $4, scram_sha256 = $5 WHERE token = $6',
      [userId, Date.now(), expiresAt.getTime(), scram?.sha1 ?? null, scram?.sha256 ?? null, tokenDigest(token)]);
  }

  async deleteSession(token: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM api_sessions WHERE token = $1', [tokenDigest(token)])).rowCount ?? 0) > 0;
  }

  async deleteUserSessions(appId: number, userId: number, except?: string): Promise<number> {
    const { rowCount } = await this.pool.query('DELETE FROM api_sessions WHERE app_id = $1 AND user_id = $2 AND token IS DISTINCT FROM $3',
      [appId, userId, except === undefined ? null : tokenDigest(except)]);
    return rowCount ?? 0;
  }

  async userSessions(appId: number, userId: number, now: Date, limit: number): Promise<ApiSession[]> {
    const { rows } = await this.pool.query<SessionRow>(
      `SELECT ${COLUMNS} FROM api_sessions WHERE user_id = $1 AND app_id = $2 AND expires_at > $3 ORDER BY id DESC LIMIT $4`,
      [userId, appId, now.getTime(), limit]);
    return rows.map((row) => toSession(row, ''));
  }

  async claimNonce(appId: number, ts: number, nonce: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'INSERT INTO session_nonces (app_id, ts, nonce) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [appId, ts, nonce]);
    return (rowCount ?? 0) > 0;
  }

  async purge(now: Date, noncesBefore: number): Promise<void> {
    await this.pool.query('DELETE FROM api_sessions WHERE expires_at <= $1', [now.getTime()]);
    await this.pool.query('DELETE FROM session_nonces WHERE ts < $1', [noncesBefore]);
  }
}
