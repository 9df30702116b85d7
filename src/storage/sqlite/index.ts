import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Store } from '../types.js';
import { SqliteAccountStore } from './accounts.js';
import { SqliteApiKeyStore } from './api-keys.js';
import { SqliteAppSettingsStore } from './app-settings.js';
import { SqliteCustomObjectStore } from './custom-objects.js';
import { SqliteReactionStore } from './reactions.js';
import { SqlitePasswordResetStore } from './password-resets.js';
import { SqliteSessionRevocationStore } from './session-revocations.js';
import { SqliteIdentityLinkStore } from './identity-links.js';
import { SqliteBlobStore } from './blobs.js';
import { SqliteChatStore } from './chat.js';
import { PooledSqliteChatStore } from './pooled-chat.js';
import { SqliteReadPool, type ReadPoolOptions } from './read-pool.js';
import { Checkpointer } from './checkpointer.js';
import { GroupCommit } from './group-commit.js';
import { migrate } from './migrations.js';
import { WalSync } from './wal-sync.js';
import { SqliteOfflineStore } from './offline.js';
import { SqliteRosterStore } from './roster.js';
import { SqlitePrivacyStore } from './privacy.js';
import { SqliteSessionStore } from './sessions.js';
import { SqliteStoreHealth } from './health.js';
import { SqliteOperatorStore } from './operators.js';
import { SqlitePushStore } from './push.js';
import { SqliteKeyValueStore, SqlitePepStore } from './account-data.js';

/** How the group commit batches the stored writes (see group-commit.ts). */
export interface WriteOptions {
  /** Milliseconds a write at a low steady rate may wait to share a commit (default 20; 0 = never waits). */
  commitWindowMs?: number;
  /** WAL size (MiB) past which the checkpoint worker holds the writes briefly to empty it (default 64; 0 = never). */
  walLimitMb?: number;
}

export class SqliteStore implements Store {
  readonly accounts: SqliteAccountStore;
  readonly offline: SqliteOfflineStore;
  readonly roster: SqliteRosterStore;
  readonly privacy: SqlitePrivacyStore;
  readonly keyValue: SqliteKeyValueStore;
  readonly pep: SqlitePepStore;
  readonly sessions: SqliteSessionStore;
  readonly blobs: SqliteBlobStore;
  readonly chat: SqliteChatStore;
  readonly health: SqliteStoreHealth;
  readonly operators: SqliteOperatorStore;
  readonly customObjects: SqliteCustomObjectStore;
  readonly appSettings: SqliteAppSettingsStore;
  readonly apiKeys: SqliteApiKeyStore;
  readonly reactions: SqliteReactionStore;
  readonly passwordResets: SqlitePasswordResetStore;
  readonly revocations: SqliteSessionRevocationStore;
  readonly identityLinks: SqliteIdentityLinkStore;
  readonly push: SqlitePushStore;
  readonly writes: GroupCommit;

  private readonly wal: WalSync | null;
  readonly checkpoints: Checkpointer | null;
  /** Worker threads for the chat pages and counts; null for an in-memory database or when turned off. */
  readonly reads: SqliteReadPool | null;

  get readTasks(): SqliteReadPool | null {
    return this.reads;
  }

  constructor(readonly db: Database.Database, readPool: ReadPoolOptions | null = null, writes: WriteOptions = {}) {
    this.wal = !db.memory && db.pragma('journal_mode', { simple: true }) === 'wal' ? new WalSync(`${db.name}-wal`) : null;
    this.checkpoints = this.wal ? new Checkpointer(db, {
      walLimitPages: ((writes.walLimitMb ?? 64) * 1024 * 1024) / (db.pragma('page_size', { simple: true }) as number),
      writer: { pause: () => this.writes.pause(), resume: () => this.writes.resume() },
    }) : null;
    this.writes = new GroupCommit(db, this.wal, undefined, (n) => this.checkpoints?.committed(n), writes.commitWindowMs);
    this.accounts = new SqliteAccountStore(db, this.writes);
    this.offline = new SqliteOfflineStore(db, this.writes);
    this.roster = new SqliteRosterStore(db);
    this.privacy = new SqlitePrivacyStore(db);
    this.keyValue = new SqliteKeyValueStore(db);
    this.pep = new SqlitePepStore(db);
    this.sessions = new SqliteSessionStore(db);
    this.blobs = new SqliteBlobStore(db);
    this.reads = this.wal && readPool && readPool.workers > 0 ? new SqliteReadPool(db.name, readPool) : null;
    this.chat = this.reads ? new PooledSqliteChatStore(db, this.writes, this.reads) : new SqliteChatStore(db, this.writes);
    this.health = new SqliteStoreHealth(db);
    this.operators = new SqliteOperatorStore(db);
    this.customObjects = new SqliteCustomObjectStore(db);
    this.appSettings = new SqliteAppSettingsStore(db);
    this.apiKeys = new SqliteApiKeyStore(db);
    this.reactions = new SqliteReactionStore(db);
    this.passwordResets = new SqlitePasswordResetStore(db);
    this.revocations = new SqliteSessionRevocationStore(db);
    this.identityLinks = new SqliteIdentityLinkStore(db);
    this.push = new SqlitePushStore(db, this.writes);
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    this.writes.flush();
    await this.reads?.close();
    await this.wal?.close();
    await this.checkpoints?.close();
    this.db.close();
  }
}

/** Where an installation's database lives inside its data directory. */
export const sqliteFile = (dataDir: string): string => join(dataDir, 'parley.sqlite');

/**
 * Opens (creating if needed) and migrates a database; `path` may be ':memory:'. With `readPool`,
 * the chat pages and counts of a file database are read on that many worker threads.
 */
export async function openSqliteStore(path: string, readPool: ReadPoolOptions | null = null, writes: WriteOptions = {}): Promise<SqliteStore> {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    // FULL: with WAL, NORMAL may lose the last commits on power failure; offline messages must survive.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    // 16 MB of page cache (SQLite's default is 2 MB): the index pages that stored messages and new
    // dialogs touch stay in memory. Not more: a commit whose B-tree balancing renumbered pages (most
    // commits under random-pair load) walks the whole cache's hash table, so a larger cache makes
    // every commit dearer (64 MB: 13.6 % of the write path's CPU in that walk; 16 MB: 3.9 %), while
    // pages read back from the OS's file cache cost little (pread under 0.2 % at 16 MB).
    db.pragma('cache_size = -16384');
    migrate(db);
    return new SqliteStore(db, readPool, writes);
  } catch (err) {
    db.close();
    throw err;
  }
}
