// The connection pool of the PostgreSQL driver and the few helpers every store module uses.
import pg from 'pg';

const INT8 = 20;
const INT8_ARRAY = 1016;

/** bigint columns (ids, epoch milliseconds, counts) as numbers; a value beyond 2^53 is an error, not a silent rounding. */
function parseSafeInteger(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`integer ${text} does not fit a JavaScript number`);
  return n;
}

/** pg's own parser for a type (its typings only name the built-in type ids). */
const builtinParser = pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => (value: string) => unknown;

const parseInt8Array = (text: string): number[] =>
  (builtinParser(INT8_ARRAY, 'text')(text) as string[]).map(parseSafeInteger);

const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8) return parseSafeInteger;
    if (oid === INT8_ARRAY) return parseInt8Array;
    return builtinParser(oid, format);
  },
} as pg.CustomTypesConfig;

export interface PoolOptions {
  /** Most connections this process opens (default 10). */
  max?: number;
}

/** A pool for `connectionString` (postgres://user:password@host:port/database?options=...). */
export function createPool(connectionString: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString, types, max: options.max ?? 10, application_name: 'parley' });
  // A connection that breaks while idle (server restart, network) is dropped by the pool, and the
  // next query opens a new one; without a listener the 'error' event would end the process.
  pool.on('error', () => {});
  return pool;
}

/** Anything that runs a query: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>;

/**
 * Runs `fn` in a transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws.
 * `readOnlySnapshot` gives every statement the same view of the data (for a count and its page).
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (tx: pg.PoolClient) => Promise<T>, readOnlySnapshot = false): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(readOnlySnapshot ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
      client.release();
    } catch {
      client.release(true); // the connection is unusable; the pool replaces it
    }
    throw err;
  }
}

/** Whether `err` is a unique violation (SQLSTATE 23505), optionally of one named constraint or index. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

/** `$1, $2, ...` for `count` parameters starting after `offset`. */
export const placeholders = (count: number, offset = 0): string =>
  Array.from({ length: count }, (_, i) => `$${offset + i + 1}`).join(', ');
