import type Database from 'better-sqlite3';
import type { GroupCommit } from './group-commit.js';
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
  type UserKey,
  type UserProfile,
  type UserQuery,
} from '../types.js';
import { COMPARISON_SQL, USER_COLUMNS, USER_FIELD_COLUMN, toApplication, type AppRow } from '../account-columns.js';

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
  tags: string;
  last_request_at: number | null;
  created_at: number;
  updated_at: number;
}

/** Profile fields as columns; tags are kept as ",a,b," so one LIKE finds a whole tag. */
function profileColumns(p: UserProfile): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, column] of Object.entries(USER_FIELD_COLUMN)) {
    const value = (p as Record<string, unknown>)[field];
    if (value !== undefined && field !== 'id' && !field.endsWith('At')) out[column] = value;
  }
  if (p.customData !== undefined) out.custom_data = p.customData;
  if (p.tags !== undefined) out.tags = p.tags.length ? `,${p.tags.join(',')},` : '';
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
  tags: r.tags ? r.tags.slice(1, -1).split(',') : [],
  lastRequestAt: r.last_request_at === null ? null : new Date(r.last_request_at),
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

const isUniqueViolation = (err: unknown) => (err as { code?: unknown })?.code === 'SQLITE_CONSTRAINT_UNIQUE';

function duplicateFrom(err: unknown, profile: UserProfile): DuplicateUserError | null {
  if (!isUniqueViolation(err)) return null;
  const message = String((err as Error).message);
  if (message.includes('users.email') && profile.email) return new DuplicateUserError('email', profile.email);
  return profile.login ? new DuplicateLoginError(profile.login) : null;
}

export class SqliteAccountStore implements AccountStore {
  private readonly s;
  private readonly insertApplication: Database.Transaction<(name: string | undefined) => number>;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database, private readonly writes: GroupCommit) {
    this.s = {
      insertApp: db.prepare<[string, string, string, string, number]>(
        'INSERT INTO applications (name, auth_key, auth_secret, account_key, created_at) VALUES (?, ?, ?, ?, ?)'),
      renameApp: db.prepare<[string, number]>('UPDATE applications SET name = ? WHERE id = ?'),
      getApp: db.prepare<[number], AppRow>('SELECT * FROM applications WHERE id = ?'),
      appByKey: db.prepare<[string], AppRow>('SELECT * FROM applications WHERE auth_key = ?'),
      listApps: db.prepare<[], AppRow>('SELECT * FROM applications ORDER BY id'),
      loginTaken: db.prepare<[number, string], { 1: number }>('SELECT 1 FROM users WHERE app_id = ? AND login = ?'),
      touch: db.prepare<[number, number, number]>('UPDATE users SET last_request_at = ? WHERE app_id = ? AND id = ?'),
      getUser: db.prepare<[number, number], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE app_id = ? AND id = ?`),
      userByLogin: db.prepare<[number, string], UserRow>(
        `SELECT ${USER_COLUMNS} FROM users WHERE app_id = ? AND login = ?`),
      listUsers: db.prepare<[number, number, number], UserRow>(
        `SELECT ${USER_COLUMNS} FROM users WHERE app_id = ? ORDER BY id LIMIT +? OFFSET ?`),
      deleteUser: db.prepare<[number, number]>('DELETE FROM users WHERE app_id = ? AND id = ?'),
      setSecrets: db.prepare<[Record<string, unknown>]>(
        `UPDATE users SET password_hash = @passwordHash, scram_sha1 = @scramSha1, scram_sha256 = @scramSha256,
         updated_at = @now WHERE app_id = @appId AND id = @userId`),
      rehash: db.prepare<[string, number, number, string]>('UPDATE users SET password_hash = ? WHERE app_id = ? AND id = ? AND password_hash = ?'),
      secrets: db.prepare<[number, number], { password_hash: string; scram_sha1: string; scram_sha256: string }>(
        'SELECT password_hash, scram_sha1, scram_sha256 FROM users WHERE app_id = ? AND id = ?'),
    };
    this.insertApplication = db.transaction((name: string | undefined) => {
      const id = Number(this.s.insertApp.run(name ?? '', newApplicationToken(), newApplicationToken(), newAccountKey(), Date.now()).lastInsertRowid);
      if (!name) this.s.renameApp.run(`app-${id}`, id);
      return id;
    });
  }

  async createApplication(input: { name?: string }): Promise<Application> {
    return toApplication(this.s.getApp.get(this.insertApplication.immediate(input.name))!);
  }

  async getApplication(id: number): Promise<Application | null> {
    const row = this.s.getApp.get(id);
    return row ? toApplication(row) : null;
  }

  async getApplicationByAuthKey(authKey: string): Promise<Application | null> {
    const row = this.s.appByKey.get(authKey);
    return row ? toApplication(row) : null;
  }

  async listApplications(): Promise<Application[]> {
    return this.s.listApps.all().map(toApplication);
  }

  async deleteApplication(id: number): Promise<boolean> {
    // Users, dialogs, history, blobs and sessions go by ON DELETE CASCADE; nonces have no foreign key.
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM session_nonces WHERE app_id = ?').run(id);
      return this.db.prepare('DELETE FROM applications WHERE id = ?').run(id).changes > 0;
    }).immediate();
  }

  async rotateAuthSecret(id: number): Promise<Application | null> {
    const row = this.db.prepare<[string, number], AppRow>('UPDATE applications SET auth_secret = ? WHERE id = ? RETURNING *').get(newApplicationToken(), id);
    return row ? toApplication(row) : null;
  }

  async createUser(appId: number, input: NewUser): Promise<User> {
    // Checked before hashing so a taken login costs no scrypt; the UNIQUE constraint still settles races.
    if (this.s.loginTaken.get(appId, input.login)) throw new DuplicateLoginError(input.login);
    if (!this.s.getApp.get(appId)) throw new Error(`application ${appId} does not exist`);
    const { passwordHash, scramSha1, scramSha256 } = await passwordSecrets(input.password);
    const now = Date.now();
    const row: Record<string, unknown> = {
      ...profileColumns(input), app_id: appId, password_hash: passwordHash, scram_sha1: scramSha1, scram_sha256: scramSha256,
      created_at: now, updated_at: now,
    };
    const columns = Object.keys(row);
    const sql = `INSERT INTO users (${columns.join(', ')}) VALUES (${columns.map((c) => '@' + c).join(', ')}) RETURNING ${USER_COLUMNS}`;
    try {
      return toUser(this.statement(sql).get(row) as UserRow);
    } catch (err) {
      throw duplicateFrom(err, input) ?? err;
    }
  }

  async updateUser(appId: number, userId: number, profile: UserProfile): Promise<User | null> {
    const row = { ...profileColumns(profile), updated_at: Date.now() };
    const sql = `UPDATE users SET ${Object.keys(row).map((c) => `${c} = @${c}`).join(', ')}
      WHERE app_id = @app_id AND id = @id RETURNING ${USER_COLUMNS}`;
    try {
      const updated = this.statement(sql).get({ ...row, app_id: appId, id: userId }) as UserRow | undefined;
      return updated ? toUser(updated) : null;
    } catch (err) {
      throw duplicateFrom(err, profile) ?? err;
    }
  }

  async getUserBy(appId: number, key: UserKey, value: string): Promise<User | null> {
    const row = this.statement(`SELECT ${USER_COLUMNS} FROM users WHERE app_id = ? AND ${USER_FIELD_COLUMN[key]} = ? ORDER BY id LIMIT 1`)
      .get(appId, value) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  async queryUsers(appId: number, query: UserQuery): Promise<{ total: number; users: User[] }> {
    const where = ['app_id = ?'];
    const args: unknown[] = [appId];
    for (const c of query.conditions ?? []) {
      const column = USER_FIELD_COLUMN[c.field];
      if (c.op === 'in') {
        where.push(c.values.length ? `${column} IN (${c.values.map(() => '?').join(', ')})` : '0');
        args.push(...c.values);
      } else if (c.op === 'between') {
        where.push(`${column} BETWEEN ? AND ?`);
        args.push(c.values[0], c.values[1]);
      } else if (c.op === 'contains') {
        where.push(`instr(lower(${column}), lower(?)) > 0`);
        args.push(c.values[0]);
      } else {
        where.push(`${column} ${COMPARISON_SQL[c.op]} ?`);
        args.push(c.values[0]);
      }
    }
    if (query.anyTag) {
      where.push(query.anyTag.length ? `(${query.anyTag.map(() => 'instr(tags, ?) > 0').join(' OR ')})` : '0');
      args.push(...query.anyTag.map((t) => `,${t},`));
    }
    const filter = where.join(' AND ');
    const total = (this.statement(`SELECT count(*) AS n FROM users WHERE ${filter}`).get(...args) as { n: number }).n;
    const order = query.order ? `${USER_FIELD_COLUMN[query.order.field]} ${query.order.desc ? 'DESC' : 'ASC'}, id` : 'id';
    const rows = this.statement(`SELECT ${USER_COLUMNS} FROM users WHERE ${filter} ORDER BY ${order} LIMIT +? OFFSET ?`)
      .all(...args, query.limit, query.offset) as UserRow[];
    return { total, users: rows.map(toUser) };
  }

  async touchUser(appId: number, userId: number, at: Date): Promise<void> {
    await this.writes.runRelaxed(() => this.s.touch.run(at.getTime(), appId, userId));
  }

  /** Statements built from a fixed vocabulary of columns, prepared once per shape. */
  private statement(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      if (this.statements.size < 500) this.statements.set(sql, st);
    }
    return st;
  }

  async getUser(appId: number, userId: number): Promise<User | null> {
    const row = this.s.getUser.get(appId, userId);
    return row ? toUser(row) : null;
  }

  async getUserByLogin(appId: number, login: string): Promise<User | null> {
    const row = this.s.userByLogin.get(appId, login);
    return row ? toUser(row) : null;
  }

  async listUsers(appId: number, page: { limit?: number; offset?: number } = {}): Promise<User[]> {
    const limit = page.limit === undefined ? -1 : Math.max(0, Math.floor(page.limit));
    return this.s.listUsers.all(appId, limit, Math.max(0, Math.floor(page.offset ?? 0))).map(toUser);
  }

  async deleteUser(appId: number, userId: number): Promise<boolean> {
    return this.s.deleteUser.run(appId, userId).changes > 0;
  }

  async setPassword(appId: number, userId: number, password: string): Promise<void> {
    const params = { appId, userId, now: Date.now(), ...(await passwordSecrets(password)) };
    if (this.s.setSecrets.run(params).changes === 0) {
      throw new Error(`user ${userId} does not exist in application ${appId}`);
    }
  }

  async verifyPassword(appId: number, userId: number, password: string): Promise<boolean> {
    const row = this.s.secrets.get(appId, userId);
    if (!row || !(await verifyPasswordHash(password, row.password_hash))) return false;
    // Transparent upgrade to the current scrypt parameters (unless the password changed meanwhile).
    if (needsRehash(row.password_hash)) this.s.rehash.run(await hashPassword(password), appId, userId, row.password_hash);
    return true;
  }

  async getScramCredential(appId: number, userId: number, hash: ScramHash): Promise<ScramCredential | null> {
    const row = this.s.secrets.get(appId, userId);
    if (!row) return null;
    return decodeScram(hash === 'sha1' ? row.scram_sha1 : row.scram_sha256);
  }
}
