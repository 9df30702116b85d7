// The one place that turns configuration into a Store: the server, the admin commands and the
// end-to-end tests all open theirs here.
import { chmod, mkdir, open } from 'node:fs/promises';
import type { Config } from '../config/types.js';
import { openPostgresStore } from './postgres/index.js';
import { openSqliteStore, sqliteFile } from './sqlite/index.js';
import type { Store } from './types.js';

/** Opens (and migrates) the configured store: SQLite in the data directory, or PostgreSQL at database_url. */
export async function openStore(config: Pick<Config, 'store' | 'database_url' | 'data_dir'>): Promise<Store> {
  if (config.store === 'postgres') {
    if (!config.database_url) throw new Error('store is postgres but database_url is not set');
    return openPostgresStore(config.database_url);
  }
  await ownerOnlyDirectory(config.data_dir);
  const file = sqliteFile(config.data_dir);
  // Created owner-only before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
  await (await open(file, 'a', 0o600)).close();
  await chmod(file, 0o600);
  return openSqliteStore(file);
}

/** Creates the directory readable by its owner only (0700), and takes group and other access away from an existing one. */
export async function ownerOnlyDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}
