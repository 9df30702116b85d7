// For the migration tests: a database file migrated only up to an older schema version, and a store
// on it holding one application with three users, to fill with rows the next migration must keep.
import Database from 'better-sqlite3';
import type { Application } from '../account-types.js';
import type { NewDialog } from '../types.js';
import { SqliteStore } from './index.js';
import { migrate, migrations } from './migrations.js';

let counter = 0;
/** A fresh 24-hex-digit id, as the server makes them. */
export const objectId = (): string => (0x5f000000 + counter).toString(16) + (counter++).toString(16).padStart(16, '0');

/** A WAL database at `path` with the migrations up to `version` applied. */
export function databaseAt(path: string, version: number): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  migrate(db, migrations.filter((m) => m.version <= version));
  return db;
}

export interface OldStore {
  store: SqliteStore;
  app: Application;
  users: [number, number, number];
  /** A dialog of the application owned by the first user, with the given fields. */
  newDialog(fields: Pick<NewDialog, 'type' | 'occupantIds'> & Partial<NewDialog>): NewDialog;
}

export async function oldStore(db: Database.Database): Promise<OldStore> {
  const store = new SqliteStore(db);
  const app = await store.accounts.createApplication({ name: 'old' });
  const [a, b, c] = await Promise.all(['a', 'b', 'c'].map(async (login) => (await store.accounts.createUser(app.id, { login, password: 'pw' })).id));
  const newDialog = (fields: Pick<NewDialog, 'type' | 'occupantIds'> & Partial<NewDialog>): NewDialog => ({
    id: objectId(), appId: app.id, name: null, photo: null, ownerId: a!, adminIds: [], data: null, isJoinRequired: false,
    createdAt: new Date(1_700_000_000_000), ...fields,
  });
  return { store, app, users: [a!, b!, c!], newDialog };
}
