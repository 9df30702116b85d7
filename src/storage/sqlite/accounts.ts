import { randomBytes, randomInt } from 'node:crypto';
import type Database from 'better-sqlite3';
import { deriveScramCredential, hashPassword, verifyPasswordHash } from '../../util/password.js';
import {
  DuplicateLoginError,
  type AccountStore,
  type Application,
  type NewUser,
  type ScramCredential,
  type ScramHash,
  type User,
} from '../types.js';

interface AppRow {
  id: number;
  name: string;
  auth_key: string;
  auth_secret: string;
  account_key: string;
  created_at: number;
}

interface UserRow {
  id: number;
  app_id: number;
  login: string;
  email: string | null;
  full_name: string | null;
  created_at: number;
  updated_at: number;
}

interface StoredScram {
  salt: string;
  iterations: number;
  storedKey: string;
  serverKey: string;
}

const USER_COLUMNS = 'id, app_id, login, email, full_name, created_at, updated_at';
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const token = () => randomBytes(16).toString('base64url');
const accountKey = () => Array.from({ length: 20 }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join('');

const toApplication = (r: AppRow): Application => ({
  id: r.id,
  name: r.name,
  authKey: r.auth_key,
  authSecret: r.auth_secret,
  accountKey: r.account_key,
  createdAt: new Date(r.created_at),
});

const toUser = (r: UserRow): User => ({
  id: r.id,
  appId: r.app_id,
  login: r.login,
  email: r.email,
  fullName: r.full_name,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

function encodeScram(c: ScramCredential): string {
  const stored: StoredScram = {
    salt: c.salt.toString('base64'),
    iterations: c.iterations,
    storedKey: c.storedKey.toString('base64'),
    serverKey: c.serverKey.toString('base64'),
  };
  return JSON.stringify(stored);
}

function decodeScram(json: string): ScramCredential {
  const s = JSON.parse(json) as StoredScram;
  return {
    salt: Buffer.from(s.salt, 'base64'),
    iterations: s.iterations,
    storedKey: Buffer.from(s.storedKey, 'base64'),
    serverKey: Buffer.from(s.serverKey, 'base64'),
  };
}

async function secrets(password: string) {
  return {
    passwordHash: await hashPassword(password),
    scramSha1: encodeScram(deriveScramCredential(password, 'sha1')),
    scramSha256: encodeScram(deriveScramCredential(password, 'sha256')),
  };
}

const isUniqueViolation = (err: unknown) => (err as { code?: unknown })?.code === 'SQLITE_CONSTRAINT_UNIQUE';

export class SqliteAccountStore implements AccountStore {
  private readonly s;
  private readonly insertApplication: (name: string | undefined) => number;

  constructor(db: Database.Database) {
    this.s = {
      insertApp: db.prepare<[string, string, string, string, number]>(
        'INSERT INTO applications (name, auth_key, auth_secret, account_key, created_at) VALUES (?, ?, ?, ?, ?)'),
      renameApp: db.prepare<[string, number]>('UPDATE applications SET name = ? WHERE id = ?'),
      getApp: db.prepare<[number], AppRow>('SELECT * FROM applications WHERE id = ?'),
      appByKey: db.prepare<[string], AppRow>('SELECT * FROM applications WHERE auth_key = ?'),
      listApps: db.prepare<[], AppRow>('SELECT * FROM applications ORDER BY id'),
      insertUser: db.prepare<[Record<string, unknown>], UserRow>(
        `INSERT INTO users (app_id, login, email, full_name, password_hash, scram_sha1, scram_sha256, created_at, updated_at)
         VALUES (@appId, @login, @email, @fullName, @passwordHash, @scramSha1, @scramSha256, @now, @now)
         RETURNING ${USER_COLUMNS}`),
      loginTaken: db.prepare<[number, string], { 1: number }>('SELECT 1 FROM users WHERE app_id = ? AND login = ?'),
      getUser: db.prepare<[number, number], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE app_id = ? AND id = ?`),
      userByLogin: db.prepare<[number, string], UserRow>(
        `SELECT ${USER_COLUMNS} FROM users WHERE app_id = ? AND login = ?`),
      listUsers: db.prepare<[number, number, number], UserRow>(
        `SELECT ${USER_COLUMNS} FROM users WHERE app_id = ? ORDER BY id LIMIT ? OFFSET ?`),
      deleteUser: db.prepare<[number, number]>('DELETE FROM users WHERE app_id = ? AND id = ?'),
      setSecrets: db.prepare<[Record<string, unknown>]>(
        `UPDATE users SET password_hash = @passwordHash, scram_sha1 = @scramSha1, scram_sha256 = @scramSha256,
         updated_at = @now WHERE app_id = @appId AND id = @userId`),
      secrets: db.prepare<[number, number], { password_hash: string; scram_sha1: string; scram_sha256: string }>(
        'SELECT password_hash, scram_sha1, scram_sha256 FROM users WHERE app_id = ? AND id = ?'),
    };
    this.insertApplication = db.transaction((name: string | undefined) => {
      const id = Number(this.s.insertApp.run(name ?? '', token(), token(), accountKey(), Date.now()).lastInsertRowid);
      if (!name) this.s.renameApp.run(`app-${id}`, id);
      return id;
    });
  }

  async createApplication(input: { name?: string }): Promise<Application> {
    return toApplication(this.s.getApp.get(this.insertApplication(input.name))!);
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

  async createUser(appId: number, input: NewUser): Promise<User> {
    // Checked before hashing so a taken login costs no scrypt; the UNIQUE constraint still settles races.
    if (this.s.loginTaken.get(appId, input.login)) throw new DuplicateLoginError(input.login);
    if (!this.s.getApp.get(appId)) throw new Error(`application ${appId} does not exist`);
    const params = {
      appId,
      login: input.login,
      email: input.email ?? null,
      fullName: input.fullName ?? null,
      now: Date.now(),
      ...(await secrets(input.password)),
    };
    try {
      return toUser(this.s.insertUser.get(params)!);
    } catch (err) {
      if (isUniqueViolation(err)) throw new DuplicateLoginError(input.login);
      throw err;
    }
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
    const params = { appId, userId, now: Date.now(), ...(await secrets(password)) };
    if (this.s.setSecrets.run(params).changes === 0) {
      throw new Error(`user ${userId} does not exist in application ${appId}`);
    }
  }

  async verifyPassword(appId: number, userId: number, password: string): Promise<boolean> {
    const row = this.s.secrets.get(appId, userId);
    return row ? verifyPasswordHash(password, row.password_hash) : false;
  }

  async getScramCredential(appId: number, userId: number, hash: ScramHash): Promise<ScramCredential | null> {
    const row = this.s.secrets.get(appId, userId);
    if (!row) return null;
    return decodeScram(hash === 'sha1' ? row.scram_sha1 : row.scram_sha256);
  }
}
