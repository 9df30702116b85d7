import type Database from 'better-sqlite3';
import { hashPassword } from '../../util/password.js';
import { DuplicateOperatorError, operatorEmail, type NewOperator, type Operator, type OperatorSession, type OperatorStore } from '../admin-types.js';
import { decodeAppIds, encodeAppIds, verifyOperatorPassword } from '../operator-secrets.js';

interface OperatorRow {
  id: number;
  email: string;
  app_ids: string | null;
  created_at: number;
}

const COLUMNS = 'id, email, app_ids, created_at';
const toOperator = (r: OperatorRow): Operator => ({ id: r.id, email: r.email, appIds: decodeAppIds(r.app_ids), createdAt: new Date(r.created_at) });

export class SqliteOperatorStore implements OperatorStore {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      insert: db.prepare<[string, string, string | null, number], OperatorRow>(
        `INSERT INTO operators (email, password_hash, app_ids, created_at) VALUES (?, ?, ?, ?) RETURNING ${COLUMNS}`),
      byId: db.prepare<[number], OperatorRow>(`SELECT ${COLUMNS} FROM operators WHERE id = ?`),
      byEmail: db.prepare<[string], OperatorRow & { password_hash: string }>(`SELECT ${COLUMNS}, password_hash FROM operators WHERE email = ?`),
      list: db.prepare<[], OperatorRow>(`SELECT ${COLUMNS} FROM operators ORDER BY id`),
      remove: db.prepare<[number]>('DELETE FROM operators WHERE id = ?'),
      insertSession: db.prepare<[string, number, number]>('INSERT INTO operator_sessions (token_hash, operator_id, expires_at) VALUES (?, ?, ?)'),
      session: db.prepare<[string], { token_hash: string; operator_id: number; expires_at: number }>(
        'SELECT token_hash, operator_id, expires_at FROM operator_sessions WHERE token_hash = ?'),
      extend: db.prepare<[number, string]>('UPDATE operator_sessions SET expires_at = ? WHERE token_hash = ?'),
      removeSession: db.prepare<[string]>('DELETE FROM operator_sessions WHERE token_hash = ?'),
      purge: db.prepare<[number]>('DELETE FROM operator_sessions WHERE expires_at < ?'),
    };
  }

  async createOperator(input: NewOperator): Promise<Operator> {
    const email = operatorEmail(input.email);
    if (this.s.byEmail.get(email)) throw new DuplicateOperatorError(email);
    const hash = await hashPassword(input.password);
    try {
      return toOperator(this.s.insert.get(email, hash, encodeAppIds(input.appIds), Date.now())!);
    } catch (err) {
      if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new DuplicateOperatorError(email);
      throw err;
    }
  }

  async getOperator(id: number): Promise<Operator | null> {
    const row = this.s.byId.get(id);
    return row ? toOperator(row) : null;
  }

  async getOperatorByEmail(email: string): Promise<Operator | null> {
    const row = this.s.byEmail.get(operatorEmail(email));
    return row ? toOperator(row) : null;
  }

  async listOperators(): Promise<Operator[]> {
    return this.s.list.all().map(toOperator);
  }

  async deleteOperator(id: number): Promise<boolean> {
    return this.s.remove.run(id).changes > 0;
  }

  async verifyOperator(email: string, password: string): Promise<Operator | null> {
    const row = this.s.byEmail.get(operatorEmail(email));
    return (await verifyOperatorPassword(password, row?.password_hash ?? null)) && row ? toOperator(row) : null;
  }

  async createOperatorSession(session: OperatorSession): Promise<void> {
    this.s.insertSession.run(session.tokenHash, session.operatorId, session.expiresAt.getTime());
  }

  async getOperatorSession(tokenHash: string): Promise<OperatorSession | null> {
    const row = this.s.session.get(tokenHash);
    return row ? { tokenHash: row.token_hash, operatorId: row.operator_id, expiresAt: new Date(row.expires_at) } : null;
  }

  async extendOperatorSession(tokenHash: string, expiresAt: Date): Promise<void> {
    this.s.extend.run(expiresAt.getTime(), tokenHash);
  }

  async deleteOperatorSession(tokenHash: string): Promise<boolean> {
    return this.s.removeSession.run(tokenHash).changes > 0;
  }

  async purgeOperatorSessions(now: Date): Promise<void> {
    this.s.purge.run(now.getTime());
  }
}
