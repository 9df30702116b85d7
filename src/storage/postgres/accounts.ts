import type pg from 'pg';
import { hashPassword, needsRehash, verifyPasswordHash } from '../../util/password.js';
import { decodeScram, newAccountKey, newApplicationToken, passwordSecrets } from '../account-secrets.js';
import {
  DuplicateLoginError,
  DuplicateUserError,
  type AccountStore,
  type Application,
  type NewUser,
  type ScramCredential,
  type ScramHash,
  type User,
  type UserField,
  type UserKey,
  type UserProfile,
  type UserQuery,
} from '../types.js';
import { COMPARISON_SQL, USER_COLUMNS, USER_FIELD_COLUMN, toApplication, type AppRow } from '../account-columns.js';
import { inTransaction, isUniqueViolation, placeholders } from './pool.js';

interface UserRow {
  id: number;
  app_id: number;
  login: string;
  email: string | null;
  full_name: string | null;
  phone: string | null;
  website: string | null;
  external_user_id: string | null;
  facebook_id: string | null;
  twitter_id: string | null;
  blob_id: number | null;
  custom_data: string | null;
  tags: string[];
  last_request_at: number | null;
  created_at: number;
  updated_at: number;
}

const APP_COLUMNS = 'id, name, auth_key, auth_secret, account_key, created_at';
/** Fields stored as numbers (ids, epoch milliseconds); the others are text. */
const NUMERIC_FIELDS = new Set<UserField>(['id', 'blobId', 'createdAt', 'updatedAt', 'lastRequestAt']);

/** The profile fields present in `p`, as column -> value. */
function profileColumns(p: UserProfile): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [field, column] of Object.entries(USER_FIELD_COLUMN)) {
    const value = (p as Record<string, unknown>)[field];
    if (value !== undefined && field !== 'id' && !field.endsWith('At')) out.set(column, value);
  }
  if (p.customData !== undefined) out.set('custom_data', p.customData);
  if (p.tags !== undefined) out.set('tags', p.tags);
  return out;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  appId: r.app_id,
  login: r.login,
  email: r.email,
  fullName: r.full_name,
  phone: r.phone,
  website: r.website,
  externalUserId: r.external_user_id,
  facebookId: r.facebook_id,
  twitterId: r.twitter_id,
  blobId: r.blob_id,
  customData: r.custom_data,
  tags: r.tags,
  lastRequestAt: r.last_request_at === null ? null : new Date(r.last_request_at),
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

/** The DuplicateUserError a unique violation stands for, by the constraint that was violated. */
function duplicateFrom(err: unknown, profile: UserProfile): DuplicateUserError | null {
  if (isUniqueViolation(err, 'users_email') && profile.email) return new DuplicateUserError('email', profile.email);
  if (isUniqueViolation(err, 'users_login') && profile.login) return new DuplicateLoginError(profile.login);
  return null;
}

/** WHERE conditions with numbered parameters, collected in order. */
class Conditions {
  readonly sql: string[] = [];
  readonly params: unknown[] = [];

  param(value: unknown, cast: string): string {
    this.params.push(value);
    return `$${this.params.length}::${cast}`;
  }
}

export class PostgresAccountStore implements AccountStore {
  constructor(private readonly pool: pg.Pool) {}

  async createApplication(input: { name?: string }): Promise<Application> {
    // The id is drawn first so that an unnamed application can be named after it in the same statement.
    const { rows } = await this.pool.query<AppRow>(
      `WITH next AS (SELECT nextval(pg_get_serial_sequence('applications', 'id')) AS id)
       INSERT INTO applications (id, name, auth_key, auth_secret, account_key, created_at)
       SELECT id, coalesce(nullif($1, ''), 'app-' || id), $2, $3, $4, $5 FROM next
       RETURNING ${APP_COLUMNS}`,
      [input.name ?? null, newApplicationToken(), newApplicationToken(), newAccountKey(), Date.now()]);
    return toApplication(rows[0]);
  }

  async getApplication(id: number): Promise<Application | null> {
    const { rows } = await this.pool.query<AppRow>(`SELECT ${APP_COLUMNS} FROM applications WHERE id = $1`, [id]);
    return rows[0] ? toApplication(rows[0]) : null;
  }

  async getApplicationByAuthKey(authKey: string): Promise<Application | null> {
    const { rows } = await this.pool.query<AppRow>(`SELECT ${APP_COLUMNS} FROM applications WHERE auth_key = $1`, [authKey]);
    return rows[0] ? toApplication(rows[0]) : null;
  }

  async listApplications(): Promise<Application[]> {
    const { rows } = await this.pool.query<AppRow>(`SELECT ${APP_COLUMNS} FROM applications ORDER BY id`);
    return rows.map(toApplication);
  }

  async deleteApplication(id: number): Promise<boolean> {
    // Users, dialogs, history, blobs and sessions go by ON DELETE CASCADE; nonces have no foreign key.
    return inTransaction(this.pool, async (tx) => {
      await tx.query('DELETE FROM session_nonces WHERE app_id = $1', [id]);
      return ((await tx.query('DELETE FROM applications WHERE id = $1', [id])).rowCount ?? 0) > 0;
    });
  }

  async rotateAuthSecret(id: number): Promise<Application | null> {
    const { rows } = await this.pool.query<AppRow>(`UPDATE applications SET auth_secret = $1 WHERE id = $2 RETURNING ${APP_COLUMNS}`, [newApplicationToken(), id]);
    return rows[0] ? toApplication(rows[0]) : null;
  }

  async createUser(appId: number, input: NewUser): Promise<User> {
    // Checked before hashing so a taken login costs no scrypt; the unique constraint still settles races.
    const taken = await this.pool.query('SELECT 1 FROM users WHERE app_id = $1 AND login = $2', [appId, input.login]);
    if (taken.rowCount) throw new DuplicateLoginError(input.login);
    if (!(await this.getApplication(appId))) throw new Error(`application ${appId} does not exist`);
    const { passwordHash, scramSha1, scramSha256 } = await passwordSecrets(input.password);
    const now = Date.now();
    const row = new Map([...profileColumns(input), ['app_id', appId], ['password_hash', passwordHash], ['scram_sha1', scramSha1],
      ['scram_sha256', scramSha256], ['created_at', now], ['updated_at', now]]);
    const sql = `INSERT INTO users (${[...row.keys()].join(', ')}) VALUES (${placeholders(row.size)}) RETURNING ${USER_COLUMNS}`;
    try {
      return toUser((await this.pool.query<UserRow>(sql, [...row.values()])).rows[0]);
    } catch (err) {
      throw duplicateFrom(err, input) ?? err;
    }
  }

  async updateUser(appId: number, userId: number, profile: UserProfile): Promise<User | null> {
    const row = new Map([...profileColumns(profile), ['updated_at', Date.now()]]);
    const assignments = [...row.keys()].map((column, i) => `${column} = $${i + 1}`).join(', ');
    const sql = `UPDATE users SET ${assignments} WHERE app_id = $${row.size + 1} AND id = $${row.size + 2} RETURNING ${USER_COLUMNS}`;
    try {
      const { rows } = await this.pool.query<UserRow>(sql, [...row.values(), appId, userId]);
      return rows[0] ? toUser(rows[0]) : null;
    } catch (err) {
      throw duplicateFrom(err, profile) ?? err;
    }
  }

  async getUserBy(appId: number, key: UserKey, value: string): Promise<User | null> {
    const { rows } = await this.pool.query<UserRow>(
      `SELECT ${USER_COLUMNS} FROM users WHERE app_id = $1 AND ${USER_FIELD_COLUMN[key]} = $2 ORDER BY id LIMIT 1`, [appId, value]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async queryUsers(appId: number, query: UserQuery): Promise<{ total: number; users: User[] }> {
    const where = new Conditions();
    where.sql.push(`app_id = ${where.param(appId, 'bigint')}`);
    for (const c of query.conditions ?? []) {
      const column = USER_FIELD_COLUMN[c.field];
      // Whole numbers as bigint so that the column's index still applies.
      const cast = (v: string | number) => (!NUMERIC_FIELDS.has(c.field) ? 'text' : Number.isInteger(v) ? 'bigint' : 'numeric');
      if (c.op === 'in') {
        where.sql.push(c.values.length ? `${column} IN (${c.values.map((v) => where.param(v, cast(v))).join(', ')})` : 'false');
      } else if (c.op === 'between') {
        where.sql.push(`${column} BETWEEN ${where.param(c.values[0], cast(c.values[0]))} AND ${where.param(c.values[1], cast(c.values[1]))}`);
      } else if (c.op === 'contains') {
        where.sql.push(`strpos(lower(${column}::text), lower(${where.param(String(c.values[0]), 'text')})) > 0`);
      } else {
        where.sql.push(`${column} ${COMPARISON_SQL[c.op]} ${where.param(c.values[0], cast(c.values[0]))}`);
      }
    }
    if (query.anyTag) where.sql.push(`tags && ${where.param(query.anyTag, 'text[]')}`);
    const filter = where.sql.join(' AND ');
    // NULLs sort as the smallest values, as in SQLite.
    const order = query.order
      ? `${USER_FIELD_COLUMN[query.order.field]} ${query.order.desc ? 'DESC NULLS LAST' : 'ASC NULLS FIRST'}, id`
      : 'id';
    const n = where.params.length;
    return inTransaction(this.pool, async (tx) => {
      const total = (await tx.query<{ n: number }>(`SELECT count(*) AS n FROM users WHERE ${filter}`, where.params)).rows[0].n;
      const { rows } = await tx.query<UserRow>(
        `SELECT ${USER_COLUMNS} FROM users WHERE ${filter} ORDER BY ${order} LIMIT $${n + 1} OFFSET $${n + 2}`,
        [...where.params, query.limit, query.offset]);
      return { total, users: rows.map(toUser) };
    }, true);
  }

  async touchUser(appId: number, userId: number, at: Date): Promise<void> {
    await this.pool.query('UPDATE users SET last_request_at = $1 WHERE app_id = $2 AND id = $3', [at.getTime(), appId, userId]);
  }

  async getUser(appId: number, userId: number): Promise<User | null> {
    const { rows } = await this.pool.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE app_id = $1 AND id = $2`, [appId, userId]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async getUserByLogin(appId: number, login: string): Promise<User | null> {
    const { rows } = await this.pool.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE app_id = $1 AND login = $2`, [appId, login]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async listUsers(appId: number, page: { limit?: number; offset?: number } = {}): Promise<User[]> {
    const limit = page.limit === undefined ? null : Math.max(0, Math.floor(page.limit));
    const { rows } = await this.pool.query<UserRow>(
      `SELECT ${USER_COLUMNS} FROM users WHERE app_id = $1 ORDER BY id LIMIT $2 OFFSET $3`,
      [appId, limit, Math.max(0, Math.floor(page.offset ?? 0))]);
    return rows.map(toUser);
  }

  async deleteUser(appId: number, userId: number): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM users WHERE app_id = $1 AND id = $2', [appId, userId])).rowCount ?? 0) > 0;
  }

  async setPassword(appId: number, userId: number, password: string): Promise<void> {
    const s = await passwordSecrets(password);
    const { rowCount } = await this.pool.query(
      `UPDATE users SET password_hash = $1, scram_sha1 = $2, scram_sha256 = $3, updated_at = $4 WHERE app_id = $5 AND id = $6`,
      [s.passwordHash, s.scramSha1, s.scramSha256, Date.now(), appId, userId]);
    if (!rowCount) throw new Error(`user ${userId} does not exist in application ${appId}`);
  }

  private async secrets(appId: number, userId: number) {
    const { rows } = await this.pool.query<{ password_hash: string; scram_sha1: string; scram_sha256: string }>(
      'SELECT password_hash, scram_sha1, scram_sha256 FROM users WHERE app_id = $1 AND id = $2', [appId, userId]);
    return rows[0] ?? null;
  }

  async verifyPassword(appId: number, userId: number, password: string): Promise<boolean> {
    const row = await this.secrets(appId, userId);
    if (!row || !(await verifyPasswordHash(password, row.password_hash))) return false;
    // Transparent upgrade to the current scrypt parameters (unless the password changed meanwhile).
    if (needsRehash(row.password_hash)) {
      await this.pool.query('UPDATE users SET password_hash = $1 WHERE app_id = $2 AND id = $3 AND password_hash = $4',
        [await hashPassword(password), appId, userId, row.password_hash]);
    }
    return true;
  }

  async getScramCredential(appId: number, userId: number, hash: ScramHash): Promise<ScramCredential | null> {
    const row = await this.secrets(appId, userId);
    return row ? decodeScram(hash === 'sha1' ? row.scram_sha1 : row.scram_sha256) : null;
  }
}
