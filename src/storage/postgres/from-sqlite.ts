// Copies a whole SQLite installation into an empty PostgreSQL database of the same schema version:
// every row of every table, ids as they were, then each id sequence moved past the highest id the
// SQLite database ever handed out. One transaction: a failed copy leaves the target as it was.
import type Database from 'better-sqlite3';
import type pg from 'pg';
import { inTransaction, placeholders } from './pool.js';

/** Tables in an order that satisfies the foreign keys. A table added by a migration must be added here too. */
export const COPY_ORDER: readonly string[] = [
  'applications', 'users', 'offline_messages', 'roster_items', 'api_sessions', 'session_nonces',
  'dialogs', 'dialog_members', 'messages', 'message_hides', 'blobs', 'privacy_lists',
  'operators', 'operator_sessions',
  'custom_classes', 'custom_records', 'app_settings', 'api_keys', 'message_reactions', 'password_resets', 'identity_links',
  'push_subscriptions', 'push_events', 'push_outbox',
  'kv_data', 'pep_nodes', 'pep_items', 'session_revocations',
];

/** Text-list columns that SQLite keeps as ",a,b," (so that one LIKE finds a whole tag) instead of JSON. */
const COMMA_LISTS = new Set(['users.tags']);

/** SQLite's bookkeeping tables, which have no counterpart to copy. */
const NOT_COPIED = new Set(['schema_version', 'sqlite_sequence']);

/** Parameters per INSERT statement, well under PostgreSQL's limit of 65535. */
const PARAMS_PER_BATCH = 20_000;

export interface CopyProgress {
  table: string;
  copied: number;
  total: number;
}

interface TargetColumn {
  name: string;
  /** information_schema's data_type: 'bigint', 'text', 'boolean', 'json', 'ARRAY', ... */
  type: string;
  identity: boolean;
}

type Convert = (value: unknown) => unknown;

const asBoolean: Convert = (v) => (v === null ? null : v !== 0);
const parseJsonList: Convert = (v) => (v === null ? null : JSON.parse(String(v)));
const parseCommaList: Convert = (v) => (v === null ? null : v === '' ? [] : String(v).slice(1, -1).split(','));
const asIs: Convert = (v) => v;

function converterFor(table: string, column: TargetColumn): Convert {
  if (column.type === 'boolean') return asBoolean;
  if (column.type === 'ARRAY') return COMMA_LISTS.has(`${table}.${column.name}`) ? parseCommaList : parseJsonList;
  return asIs;
}

async function targetColumns(tx: pg.ClientBase, table: string): Promise<TargetColumn[]> {
  const { rows } = await tx.query<{ column_name: string; data_type: string; is_identity: string }>(
    `SELECT column_name, data_type, is_identity FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, [table]);
  return rows.map((r) => ({ name: r.column_name, type: r.data_type, identity: r.is_identity === 'YES' }));
}

/** Checks that both databases hold the same tables and columns and that the target is empty; returns the target's columns. */
async function compatibleColumns(source: Database.Database, tx: pg.ClientBase): Promise<Map<string, TargetColumn[]>> {
  const sourceVersion = (source.prepare('SELECT max(version) FROM schema_version').pluck().get() as number | null) ?? 0;
  const targetVersion = (await tx.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_version')).rows[0].v ?? 0;
  if (sourceVersion !== targetVersion) {
    throw new Error(`schema versions differ: SQLite ${sourceVersion}, PostgreSQL ${targetVersion}; migrate with the parley version that made them`);
  }
  const sourceTables = (source.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[])
    .filter((t) => !NOT_COPIED.has(t));
  const unknown = sourceTables.filter((t) => !COPY_ORDER.includes(t));
  if (unknown.length) throw new Error(`parley migrate does not know how to copy table(s) ${unknown.join(', ')}`);

  const columns = new Map<string, TargetColumn[]>();
  for (const table of COPY_ORDER) {
    const target = await targetColumns(tx, table);
    const sourceNames = (source.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table) as string[]).sort();
    const targetNames = target.map((c) => c.name).sort();
    if (sourceNames.join() !== targetNames.join()) {
      throw new Error(`table ${table} has columns (${sourceNames.join(', ')}) in SQLite but (${targetNames.join(', ')}) in PostgreSQL`);
    }
    // Table names come from COPY_ORDER, never from input.
    const { rows } = await tx.query<{ used: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${table}) AS used`);
    if (rows[0].used) throw new Error(`the PostgreSQL database is not empty: table ${table} has rows`);
    columns.set(table, target);
  }
  return columns;
}

async function insertBatch(tx: pg.ClientBase, table: string, columns: TargetColumn[], rows: unknown[][]): Promise<void> {
  const values = rows.map((_, i) => `(${placeholders(columns.length, i * columns.length)})`).join(', ');
  await tx.query(`INSERT INTO ${table} (${columns.map((c) => c.name).join(', ')}) VALUES ${values}`, rows.flat());
}

async function copyTable(source: Database.Database, tx: pg.ClientBase, table: string, columns: TargetColumn[],
  onProgress: (p: CopyProgress) => void): Promise<number> {
  const total = source.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  const convert = columns.map((c) => converterFor(table, c));
  const batchSize = Math.max(1, Math.floor(PARAMS_PER_BATCH / columns.length));
  const select = source.prepare(`SELECT ${columns.map((c) => c.name).join(', ')} FROM ${table}`).raw();
  let batch: unknown[][] = [];
  let copied = 0;
  onProgress({ table, copied, total });
  for (const row of select.iterate() as Iterable<unknown[]>) {
    batch.push(row.map((value, i) => convert[i](value)));
    if (batch.length === batchSize) {
      await insertBatch(tx, table, columns, batch);
      copied += batch.length;
      batch = [];
      onProgress({ table, copied, total });
    }
  }
  if (batch.length) {
    await insertBatch(tx, table, columns, batch);
    copied += batch.length;
    onProgress({ table, copied, total });
  }
  return copied;
}

/** Moves the table's id sequence past the highest id SQLite used (AUTOINCREMENT never reuses one, even after deletes). */
async function advanceSequence(source: Database.Database, tx: pg.ClientBase, table: string, column: string): Promise<void> {
  const highestRow = (source.prepare(`SELECT max(${column}) FROM ${table}`).pluck().get() as number | null) ?? 0;
  const hasSequences = source.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").pluck().get() !== undefined;
  const highestIssued = hasSequences ? (source.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').pluck().get(table) as number | undefined) ?? 0 : 0;
  const last = Math.max(highestRow, highestIssued);
  if (last > 0) await tx.query('SELECT setval(pg_get_serial_sequence($1, $2), $3)', [table, column, last]);
}

/**
 * Copies every table of `source` (a migrated Parley SQLite database) into `target` (a migrated,
 * empty Parley PostgreSQL database); returns the rows copied per table.
 */
export async function copySqliteToPostgres(source: Database.Database, target: pg.Pool,
  onProgress: (p: CopyProgress) => void = () => {}): Promise<Map<string, number>> {
  return inTransaction(target, async (tx) => {
    const columns = await compatibleColumns(source, tx);
    const copied = new Map<string, number>();
    for (const table of COPY_ORDER) {
      const tableColumns = columns.get(table)!;
      copied.set(table, await copyTable(source, tx, table, tableColumns, onProgress));
      for (const c of tableColumns.filter((col) => col.identity)) await advanceSequence(source, tx, table, c.name);
    }
    return copied;
  });
}
