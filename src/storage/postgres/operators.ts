import type pg from 'pg';
import { hashPassword } from '../../util/password.js';
import { DuplicateOperatorError, operatorEmail, type NewOperator, type Operator, type OperatorSession, type OperatorStore } from '../admin-types.js';
import { decodeAppIds, encodeAppIds, verifyOperatorPassword } from '../operator-secrets.js';
import { isUniqueViolation } from './pool.js';

interface OperatorRow {
  id: number;
  email: string;
  app_ids: string | null;
  created_at: number;
}

const COLUMNS = 'id, email, app_ids, created_at';
const toOperator = (r: OperatorRow): Operator => ({ id: r.id, email: r.email, appIds: decodeAppIds(r.app_ids), createdAt: new Date(r.created_at) });

export class PostgresOperatorStore implements OperatorStore {
  constructor(private readonly pool: pg.Pool) {}

  async createOperator(input: NewOperator): Promise<Operator> {
    const email = operatorEmail(input.email);
    if (await this.getOperatorByEmail(email)) throw new DuplicateOperatorError(email);
    const hash = await hashPassword(input.password);
    try {
      const { rows } = await this.pool.query<OperatorRow>(
        `INSERT INTO operators (email, password_hash, app_ids, created_at) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
        [email, hash, encodeAppIds(input.appIds), Date.now()]);
      return toOperator(rows[0]);
    } catch (err) {
      if (isUniqueViolation(err)) throw new DuplicateOperatorError(email);
      throw err;
    }
  }

  async getOperator(id: number): Promise<Operator | null> {
    const { rows } = await this.pool.query<OperatorRow>(`SELECT ${COLUMNS} FROM operators WHERE id = $1`, [id]);
    return rows[0] ? toOperator(rows[0]) : null;
  }

  async getOperatorByEmail(email: string): Promise<Operator | null> {
    const { rows } = await this.pool.query<OperatorRow>(`SELECT ${COLUMNS} FROM operators WHERE email = $1`, [operatorEmail(email)]);
    return rows[0] ? toOperator(rows[0]) : null;
  }

  async listOperators(): Promise<Operator[]> {
    const { rows } = await this.pool.query<OperatorRow>(`SELECT ${COLUMNS} FROM operators ORDER BY id`);
    return rows.map(toOperator);
  }

  async deleteOperator(id: number): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM operators WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  async verifyOperator(email: string, password: string): Promise<Operator | null> {
    const { rows } = await this.pool.query<OperatorRow & { password_hash: string }>(
      `SELECT ${COLUMNS}, password_hash FROM operators WHERE email = $1`, [operatorEmail(email)]);
    const row = rows[0];
    return (await verifyOperatorPassword(password, row?.password_hash ?? null)) && row ? toOperator(row) : null;
  }

  async createOperatorSession(session: OperatorSession): Promise<void> {
    await this.pool.query('INSERT INTO operator_sessions (token_hash, operator_id, expires_at) VALUES ($1, $2, $3)',
      [session.tokenHash, session.operatorId, session.expiresAt.getTime()]);
  }

  async getOperatorSession(tokenHash: string): Promise<OperatorSession | null> {
    const { rows } = await this.pool.query<{ token_hash: string; operator_id: number; expires_at: number }>(
      'SELECT token_hash, operator_id, expires_at FROM operator_sessions WHERE token_hash = $1', [tokenHash]);
    const row = rows[0];
    return row ? { tokenHash: row.token_hash, operatorId: row.operator_id, expiresAt: new Date(row.expires_at) } : null;
  }

  async extendOperatorSession(tokenHash: string, expiresAt: Date): Promise<void> {
    await this.pool.query('UPDATE operator_sessions SET expires_at = $1 WHERE token_hash = $2', [expiresAt.getTime(), tokenHash]);
  }

  async deleteOperatorSession(tokenHash: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM operator_sessions WHERE token_hash = $1', [tokenHash])).rowCount ?? 0) > 0;
  }

  async purgeOperatorSessions(now: Date): Promise<void> {
    await this.pool.query('DELETE FROM operator_sessions WHERE expires_at < $1', [now.getTime()]);
  }
}
