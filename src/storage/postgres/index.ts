import type pg from 'pg';
import type { Store } from '../types.js';
import { PostgresAccountStore } from './accounts.js';
import { PostgresApiKeyStore } from './api-keys.js';
import { PostgresAppSettingsStore } from './app-settings.js';
import { PostgresCustomObjectStore } from './custom-objects.js';
import { PostgresReactionStore } from './reactions.js';
import { PostgresPasswordResetStore } from './password-resets.js';
import { PostgresSessionRevocationStore } from './session-revocations.js';
import { PostgresIdentityLinkStore } from './identity-links.js';
import { PostgresBlobStore } from './blobs.js';
import { PostgresChatStore } from './chat.js';
import { migrate } from './migrations.js';
import { PostgresOfflineStore } from './offline.js';
import { createPool, type PoolOptions } from './pool.js';
import { PostgresPrivacyStore } from './privacy.js';
import { PostgresRosterStore } from './roster.js';
import { PostgresSessionStore } from './sessions.js';
import { PostgresStoreHealth } from './health.js';
import { PostgresOperatorStore } from './operators.js';
import { PostgresPushStore } from './push.js';
import { PostgresKeyValueStore, PostgresPepStore } from './account-data.js';

export class PostgresStore implements Store {
  readonly accounts: PostgresAccountStore;
  readonly offline: PostgresOfflineStore;
  readonly roster: PostgresRosterStore;
  readonly sessions: PostgresSessionStore;
  readonly blobs: PostgresBlobStore;
  readonly chat: PostgresChatStore;
  readonly privacy: PostgresPrivacyStore;
  readonly health: PostgresStoreHealth;
  readonly operators: PostgresOperatorStore;
  readonly customObjects: PostgresCustomObjectStore;
  readonly appSettings: PostgresAppSettingsStore;
  readonly apiKeys: PostgresApiKeyStore;
  readonly reactions: PostgresReactionStore;
  readonly passwordResets: PostgresPasswordResetStore;
  readonly revocations: PostgresSessionRevocationStore;
  readonly identityLinks: PostgresIdentityLinkStore;
  readonly push: PostgresPushStore;
  readonly keyValue: PostgresKeyValueStore;
  readonly pep: PostgresPepStore;
  private closed = false;

  constructor(readonly pool: pg.Pool) {
    this.accounts = new PostgresAccountStore(pool);
    this.offline = new PostgresOfflineStore(pool);
    this.roster = new PostgresRosterStore(pool);
    this.sessions = new PostgresSessionStore(pool);
    this.blobs = new PostgresBlobStore(pool);
    this.chat = new PostgresChatStore(pool);
    this.privacy = new PostgresPrivacyStore(pool);
    this.health = new PostgresStoreHealth(pool);
    this.operators = new PostgresOperatorStore(pool);
    this.customObjects = new PostgresCustomObjectStore(pool);
    this.appSettings = new PostgresAppSettingsStore(pool);
    this.apiKeys = new PostgresApiKeyStore(pool);
    this.reactions = new PostgresReactionStore(pool);
    this.passwordResets = new PostgresPasswordResetStore(pool);
    this.revocations = new PostgresSessionRevocationStore(pool);
    this.identityLinks = new PostgresIdentityLinkStore(pool);
    this.push = new PostgresPushStore(pool);
    this.keyValue = new PostgresKeyValueStore(pool);
    this.pep = new PostgresPepStore(pool);
  }

  /** Waits for queries in flight, then closes every connection of the pool. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.chat.close();
    await this.pool.end();
  }
}

/** Connects to `url` (postgres://…) and migrates the database; the pool is closed by `store.close()`. */
export async function openPostgresStore(url: string, options: PoolOptions = {}): Promise<PostgresStore> {
  const pool = createPool(url, options);
  try {
    await migrate(pool);
    return new PostgresStore(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }
}
