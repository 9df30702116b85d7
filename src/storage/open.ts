// The one place that turns configuration into a Store: the server, the admin commands and the
// end-to-end tests all open theirs here.
import { mkdir } from 'node:fs/promises';
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
  await mkdir(config.data_dir, { recursive: true });
  return openSqliteStore(sqliteFile(config.data_dir));
}
