// The archive query for both SQL drivers: they differ only in placeholders and in how a list of ids binds.
import type { ArchiveFilter, ArchiveQuery } from './archive-types.js';

export type Dialect = 'sqlite' | 'postgres';

export interface SqlText {
  sql: string;
  params: unknown[];
}

type Bounds = ArchiveFilter & Partial<Pick<ArchiveQuery, 'after' | 'before'>>;

class Binder {
  readonly params: unknown[] = [];
  constructor(private readonly dialect: Dialect) {}
  p(value: unknown): string {
    this.params.push(value);
    return this.dialect === 'sqlite' ? '?' : `$${this.params.length}`;
  }
  list(values: string[]): string {
    if (this.dialect === 'postgres') return `= ANY(${this.p(values)}::text[])`;
    return `IN (${values.map((v) => this.p(v)).join(', ')})`;
  }
}

/** The conditions on one message row `a` of the viewer's archive (`dm` = the viewer's member row of its dialog, if any). */
function conditions(b: Binder, a: string, q: Bounds): string {
  let sql = `${a}.seq > coalesce(dm.cleared_seq, 0)
    AND NOT EXISTS (SELECT 1 FROM message_hides h WHERE h.message_id = ${a}.id AND h.user_id = ${b.p(q.viewerId)})`;
  if (q.senderId !== undefined) sql += ` AND ${a}.sender_id = ${b.p(q.senderId)}`;
  if (q.start !== undefined) sql += ` AND ${a}.date_sent >= ${b.p(q.start)}`;
  if (q.end !== undefined) sql += ` AND ${a}.date_sent <= ${b.p(q.end)}`;
  if (q.after) sql += ` AND (${a}.date_sent > ${b.p(q.after.dateSent)} OR (${a}.date_sent = ${b.p(q.after.dateSent)} AND ${a}.id > ${b.p(q.after.id)}))`;
  if (q.before) sql += ` AND (${a}.date_sent < ${b.p(q.before.dateSent)} OR (${a}.date_sent = ${b.p(q.before.dateSent)} AND ${a}.id < ${b.p(q.before.id)}))`;
  if (q.ids !== undefined) sql += q.ids.length === 0 ? ' AND 1 = 0' : ` AND ${a}.id ${b.list(q.ids)}`;
  return sql;
}

/** The viewer's private dialogs, as `dm` joined to `d`. */
const privateDialogs = (b: Binder, q: ArchiveFilter): string =>
  `FROM dialog_members dm JOIN dialogs d ON d.id = dm.dialog_id WHERE dm.user_id = ${b.p(q.viewerId)} AND d.app_id = ${b.p(q.appId)} AND d.type = 3`;

/** `FROM … WHERE …` selecting every message of the archive as `m` (for counts). */
export function archiveFrom(dialect: Dialect, q: Bounds): SqlText {
  const b = new Binder(dialect);
  let sql: string;
  if (q.dialogId !== null) {
    sql = `FROM messages m LEFT JOIN dialog_members dm ON dm.dialog_id = m.dialog_id AND dm.user_id = ${b.p(q.viewerId)}
      WHERE m.dialog_id = ${b.p(q.dialogId)} AND m.app_id = ${b.p(q.appId)}`;
  } else {
    sql = `${privateDialogs(b, q).replace('FROM dialog_members dm JOIN dialogs d ON d.id = dm.dialog_id', 'FROM dialog_members dm JOIN dialogs d ON d.id = dm.dialog_id JOIN messages m ON m.dialog_id = dm.dialog_id')}`;
  }
  return { sql: `${sql} AND ${conditions(b, 'm', q)}`, params: b.params };
}

/**
 * One page. A dialog's page reads the (dialog_id, date_sent, id) index in order. A user's archive
 * spans dialogs: each dialog gives at most a page of its own first (the same index), and only those
 * are sorted, so a page costs about one index range per dialog instead of a sort of the whole archive.
 */
export function archivePageSql(dialect: Dialect, q: ArchiveQuery, columns: string): SqlText {
  const dir = q.order === 'asc' ? 'ASC' : 'DESC';
  if (q.dialogId !== null) {
    const { sql, params } = archiveFrom(dialect, q);
    params.push(q.limit);
    return { sql: `SELECT ${columns} ${sql} ORDER BY m.date_sent ${dir}, m.id ${dir} LIMIT ${dialect === 'sqlite' ? '+?' : `$${params.length}`}`, params };
  }
  const b = new Binder(dialect);
  // SQLite: `LIMIT +?`, not a parameter to its planner (see sqlite/bound-limit.ts).
  const limit = (value: number): string => `${dialect === 'sqlite' ? '+' : ''}${b.p(value)}`;
  const from = privateDialogs(b, q);
  const perDialog = `SELECT x.seq FROM messages x WHERE x.dialog_id = dm.dialog_id AND ${conditions(b, 'x', q)}
    ORDER BY x.date_sent ${dir}, x.id ${dir} LIMIT ${limit(q.limit)}`;
  // SQLite has no (dialog_id, seq) index (migration 15): given m.dialog_id it would walk the dialog's
  // history and run the subquery for every row, so there each page row is found by its seq alone.
  const joinMessage = dialect === 'sqlite' ? 'JOIN messages m' : 'JOIN messages m ON m.dialog_id = dm.dialog_id';
  const sql = `SELECT ${columns} ${from.replace('FROM dialog_members dm JOIN dialogs d ON d.id = dm.dialog_id',
    `FROM dialog_members dm JOIN dialogs d ON d.id = dm.dialog_id ${joinMessage}`)}
    AND m.seq IN (${perDialog}) ORDER BY m.date_sent ${dir}, m.id ${dir} LIMIT ${limit(q.limit)}`;
  return { sql, params: b.params };
}
