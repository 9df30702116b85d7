// The one place that turns configuration into a Store: the server, the admin commands and the
// end-to-end tests all open theirs here.
import { chmod, mkdir, open } from 'node:fs/promises';
import type { Config } from '../config/types.js';
import { openPostgresStore } from './postgres/index.js';
import { openSqliteStore, sqliteFile } from './sqlite/index.js';
import type { Store } from './types.js';

/** More threads than this only add memory: each holds a connection and its page cache. */
const MAX_READ_WORKERS = 16;
/** A longer commit window would only hold writes back. */
const MAX_COMMIT_WINDOW_MS = 1000;

/** Opens (and migrates) the configured store: SQLite in the data directory, or PostgreSQL at database_url. */
export async function openStore(
  config: Pick<Config, 'store' | 'database_url' | 'data_dir'> &
    Partial<Pick<Config, 'sqlite_read_workers' | 'sqlite_read_queue' | 'sqlite_commit_window_ms' | 'sqlite_wal_limit_mb'>>,
): Promise<Store> {
  if (config.store === 'postgres') {
    if (!config.database_url) throw new Error('store is postgres but database_url is not set');
    return openPostgresStore(config.database_url);
  }
  await ownerOnlyDirectory(config.data_dir);
  const file = sqliteFile(config.data_dir);
  // Created owner-only before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
  await (await open(file, 'a', 0o600)).close();
  await chmod(file, 0o600);
  // Workers start with the first reads that need them, so a CLI verb that opens the store pays nothing.
  const workers = Math.min(MAX_READ_WORKERS, config.sqlite_read_workers ?? 0);
  return openSqliteStore(file, workers > 0 ? { workers, maxQueue: config.sqlite_read_queue ?? 256 } : null,
    { commitWindowMs: Math.min(MAX_COMMIT_WINDOW_MS, config.sqlite_commit_window_ms ?? 20), walLimitMb: config.sqlite_wal_limit_mb ?? 64 });
}

/** Creates the directory readable by its owner only (0700), and takes group and other access away from an existing one. */
export async function ownerOnlyDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}
