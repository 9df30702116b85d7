// `parley migrate --from sqlite://<path> --to postgres://…`: moves an installation from the SQLite
// store to PostgreSQL, printing its progress on stderr. The server should be stopped meanwhile.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { openPostgresStore } from '../storage/postgres/index.js';
import { copySqliteToPostgres, type CopyProgress } from '../storage/postgres/from-sqlite.js';
import { openSqliteStore } from '../storage/sqlite/index.js';

export interface MigrateOptions {
  /** sqlite://<path>: a relative path after the two slashes, or an absolute one (sqlite:///var/lib/parley/parley.sqlite). */
  from: string;
  /** postgres://… or postgresql://… */
  to: string;
}

/** The file a sqlite:// URL names; throws on anything else. */
export function sqlitePath(url: string): string {
  const match = /^sqlite:\/\/(.+)$/.exec(url);
  if (!match) throw new Error(`--from must be sqlite://<path to parley.sqlite>, got "${url}"`);
  return path.resolve(match[1]);
}

/** Reports each table's start and end, and at most one line per second in between. */
function progressPrinter(print: (line: string) => void): (p: CopyProgress) => void {
  let lastAt = 0;
  return ({ table, copied, total }) => {
    const now = Date.now();
    if (copied !== 0 && copied !== total && now - lastAt < 1000) return;
    lastAt = now;
    print(`${table}: ${copied}/${total} rows${copied === total ? ' copied' : ''}`);
  };
}

/** Copies every table and returns how many rows were copied in all. */
export async function migrateCommand(options: MigrateOptions, stderr: (text: string) => void): Promise<number> {
  const file = sqlitePath(options.from);
  if (!/^postgres(ql)?:\/\//.test(options.to)) throw new Error('--to must be a postgres:// URL');
  if (!existsSync(file)) throw new Error(`no SQLite database at ${file}`);
  // Opening brings both databases to this version's schema, as `parley serve` would.
  const source = await openSqliteStore(file);
  try {
    const target = await openPostgresStore(options.to, { max: 1 });
    try {
      stderr(`copying ${file} to PostgreSQL\n`);
      const copied = await copySqliteToPostgres(source.db, target.pool, progressPrinter((line) => stderr(`${line}\n`)));
      return [...copied.values()].reduce((a, b) => a + b, 0);
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
