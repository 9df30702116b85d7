import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  sql: string;
  /**
   * Table definitions edited in place after `sql`, for changes that every stored row already
   * satisfies (an equivalent CHECK): SQLite's documented sqlite_schema edit, without copying the table.
   */
  tableEdits?: readonly TableEdit[];
}

interface TableEdit {
  table: string;
  from: string;
  to: string;
}

// Append only: a released migration must never be edited, since databases record only its version.
export const migrations: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE applications (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        auth_key TEXT NOT NULL UNIQUE,
        auth_secret TEXT NOT NULL,
        account_key TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        app_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        login TEXT NOT NULL,
        email TEXT,
        full_name TEXT,
        password_hash TEXT NOT NULL,
        scram_sha1 TEXT NOT NULL,
        scram_sha256 TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (app_id, login)
      );
      CREATE TABLE offline_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        stanza TEXT NOT NULL,
        stored_at INTEGER NOT NULL
      );
      CREATE INDEX offline_messages_user ON offline_messages (user_id, id);
      CREATE TABLE roster_items (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        jid TEXT NOT NULL,
        name TEXT,
        subscription TEXT NOT NULL CHECK (subscription IN ('none', 'to', 'from', 'both')),
        ask INTEGER NOT NULL DEFAULT 0,
        groups TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (user_id, jid)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    sql: `
      ALTER TABLE users ADD COLUMN phone TEXT;
      ALTER TABLE users ADD COLUMN website TEXT;
      ALTER TABLE users ADD COLUMN external_user_id TEXT;
      ALTER TABLE users ADD COLUMN facebook_id TEXT;
      ALTER TABLE users ADD COLUMN twitter_id TEXT;
      ALTER TABLE users ADD COLUMN blob_id INTEGER;
      ALTER TABLE users ADD COLUMN custom_data TEXT;
      ALTER TABLE users ADD COLUMN tags TEXT NOT NULL DEFAULT '';
      ALTER TABLE users ADD COLUMN last_request_at INTEGER;
      CREATE UNIQUE INDEX users_email ON users (app_id, email) WHERE email IS NOT NULL;
      CREATE INDEX users_external ON users (app_id, external_user_id) WHERE external_user_id IS NOT NULL;
      CREATE INDEX users_full_name ON users (app_id, full_name);
      CREATE TABLE api_sessions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        token TEXT NOT NULL UNIQUE,
        app_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
        nonce INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX api_sessions_user ON api_sessions (user_id, expires_at);
      CREATE INDEX api_sessions_expiry ON api_sessions (expires_at);
      CREATE TABLE session_nonces (
        app_id INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        nonce TEXT NOT NULL,
        PRIMARY KEY (app_id, ts, nonce)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    sql: `
      CREATE TABLE dialogs (
        id TEXT PRIMARY KEY,
        app_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        type INTEGER NOT NULL CHECK (type IN (1, 2, 3)),
        name TEXT,
        photo TEXT,
        owner_id INTEGER NOT NULL,
        occupant_ids TEXT NOT NULL DEFAULT '[]',
        admin_ids TEXT NOT NULL DEFAULT '[]',
        data TEXT,
        is_join_required INTEGER NOT NULL DEFAULT 0,
        private_pair TEXT,
        last_message TEXT,
        last_message_date_sent INTEGER,
        last_message_id TEXT,
        last_message_user_id INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (app_id, private_pair)
      );
      CREATE INDEX dialogs_app_type ON dialogs (app_id, type);
      CREATE TABLE dialog_members (
        dialog_id TEXT NOT NULL REFERENCES dialogs(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL,
        occupant INTEGER NOT NULL DEFAULT 0,
        hidden INTEGER NOT NULL DEFAULT 0,
        unread_count INTEGER NOT NULL DEFAULT 0,
        cleared_seq INTEGER NOT NULL DEFAULT 0,
        unread_from_seq INTEGER NOT NULL DEFAULT 0,
        notifications INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (dialog_id, user_id)
      ) WITHOUT ROWID;
      CREATE INDEX dialog_members_user ON dialog_members (user_id, dialog_id);
      CREATE TABLE messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        app_id INTEGER NOT NULL,
        dialog_id TEXT NOT NULL REFERENCES dialogs(id) ON DELETE CASCADE,
        sender_id INTEGER NOT NULL,
        recipient_id INTEGER NOT NULL DEFAULT 0,
        body TEXT NOT NULL DEFAULT '',
        date_sent INTEGER NOT NULL,
        attachments TEXT NOT NULL DEFAULT '[]',
        custom TEXT NOT NULL DEFAULT '{}',
        markable INTEGER NOT NULL DEFAULT 0,
        read_ids TEXT NOT NULL DEFAULT '[]',
        delivered_ids TEXT NOT NULL DEFAULT '[]',
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX messages_history ON messages (dialog_id, date_sent, id);
      CREATE INDEX messages_dialog_seq ON messages (dialog_id, seq);
      CREATE TABLE message_hides (
        message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL,
        PRIMARY KEY (message_id, user_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    sql: `
      CREATE TABLE blobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        uid TEXT NOT NULL UNIQUE,
        app_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size INTEGER,
        public INTEGER NOT NULL DEFAULT 0,
        tags TEXT NOT NULL DEFAULT '',
        status TEXT CHECK (status IN ('complete')),
        upload_key_hash TEXT UNIQUE,
        upload_expires_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        completed_at INTEGER
      );
      CREATE INDEX blobs_owner ON blobs (app_id, user_id, id);
    `,
  },
  {
    version: 5,
    sql: `
      CREATE TABLE privacy_lists (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        items TEXT NOT NULL DEFAULT '[]',
        is_default INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, name)
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX privacy_lists_default ON privacy_lists (user_id) WHERE is_default = 1;
    `,
  },
  {
    version: 6,
    // Whether a reader has hidden any message at all: most never have, and their history pages skip the per-row check.
    sql: `CREATE INDEX message_hides_user ON message_hides (user_id);`,
  },
  {
    version: 7,
    // Operators of the web console and their sessions (digests of the cookie tokens).
    sql: `
      CREATE TABLE operators (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        email TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        app_ids TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE operator_sessions (
        token_hash TEXT PRIMARY KEY,
        operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);
    `,
  },
  {
    version: 8,
    // Custom objects (records keep their field values as one JSON document), per-application
    // settings, and API keys (only a digest of each key is kept).
    sql: `
      CREATE TABLE custom_classes (
        app_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        fields TEXT NOT NULL DEFAULT '[]',
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (app_id, name)
      ) WITHOUT ROWID;
      CREATE TABLE custom_records (
        id TEXT PRIMARY KEY,
        app_id INTEGER NOT NULL,
        class_name TEXT NOT NULL,
        parent_id TEXT,
        user_id INTEGER NOT NULL,
        fields TEXT NOT NULL,
        permissions TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        FOREIGN KEY (app_id, class_name) REFERENCES custom_classes (app_id, name) ON DELETE CASCADE
      );
      CREATE INDEX custom_records_class ON custom_records (app_id, class_name, id);
      CREATE INDEX custom_records_owner ON custom_records (app_id, class_name, user_id);
      CREATE INDEX custom_records_parent ON custom_records (app_id, parent_id) WHERE parent_id IS NOT NULL;
      CREATE TABLE app_settings (
        app_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (app_id, key)
      ) WITHOUT ROWID;
      CREATE TABLE api_keys (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        app_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        key_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      CREATE INDEX api_keys_app ON api_keys (app_id, id);
    `,
  },
  {
    version: 9,
    // Message reactions (QuickBlox 2.24), gone with their message.
    sql: `
      CREATE TABLE message_reactions (
        message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        user_id INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (message_id, name, user_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 10,
    // One-time password reset links (only a digest of each token), and users vouched for by an identity provider.
    sql: `
      CREATE TABLE password_resets (
        token_hash TEXT PRIMARY KEY,
        app_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        expires_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        used_at INTEGER
      );
      CREATE INDEX password_resets_user ON password_resets (user_id);
      CREATE TABLE identity_links (
        app_id INTEGER NOT NULL,
        uid TEXT NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        PRIMARY KEY (app_id, uid)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 11,
    // REST tokens are kept as SHA-256 digests with SCRAM keys derived from them (token-secrets.ts):
    // SQLite cannot compute the digest, so sessions from before the upgrade end (users log in again).
    // Offline messages record their sender, so that one sender cannot fill a user's whole store.
    sql: `
      DELETE FROM api_sessions;
      ALTER TABLE api_sessions ADD COLUMN scram_sha1 TEXT;
      ALTER TABLE api_sessions ADD COLUMN scram_sha256 TEXT;
      ALTER TABLE offline_messages ADD COLUMN sender TEXT;
      CREATE INDEX offline_messages_sender ON offline_messages (user_id, sender);
    `,
  },
  {
    version: 12,
    // Push: device subscriptions, events, and the outbox every push is delivered from.
    sql: `
      CREATE TABLE push_subscriptions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        app_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        channel TEXT NOT NULL,
        environment TEXT NOT NULL,
        token TEXT NOT NULL,
        bundle_id TEXT,
        platform TEXT NOT NULL,
        udid TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (app_id, user_id, udid, channel)
      );
      CREATE INDEX push_subscriptions_token ON push_subscriptions (app_id, channel, token);
      CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id, id);
      CREATE TABLE push_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        app_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL,
        event_type TEXT NOT NULL,
        environment TEXT NOT NULL,
        push_type TEXT,
        message TEXT NOT NULL,
        recipients TEXT NOT NULL,
        name TEXT,
        date INTEGER,
        end_date INTEGER,
        period INTEGER,
        active INTEGER NOT NULL,
        occured_count INTEGER NOT NULL DEFAULT 0,
        next_run_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX push_events_owner ON push_events (app_id, user_id, id);
      CREATE INDEX push_events_due ON push_events (next_run_at) WHERE next_run_at IS NOT NULL AND active = 1;
      CREATE TABLE push_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        app_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        event_id INTEGER REFERENCES push_events(id) ON DELETE SET NULL,
        subscription_id INTEGER REFERENCES push_subscriptions(id) ON DELETE SET NULL,
        user_id INTEGER NOT NULL,
        channel TEXT NOT NULL,
        environment TEXT NOT NULL,
        token TEXT NOT NULL,
        bundle_id TEXT,
        payload TEXT NOT NULL,
        collapse_key TEXT,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        due_at INTEGER NOT NULL,
        claimed_until INTEGER,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        sent_at INTEGER
      );
      CREATE INDEX push_outbox_due ON push_outbox (due_at) WHERE state = 'pending';
      CREATE INDEX push_outbox_collapse ON push_outbox (collapse_key) WHERE state = 'pending' AND collapse_key IS NOT NULL;
      CREATE INDEX push_outbox_event ON push_outbox (event_id);
    `,
  },
  {
    version: 13,
    // Standard XMPP account data: vCard-temp, private XML, application settings (kv_data) and PEP nodes.
    sql: `
      CREATE TABLE kv_data (
        scope TEXT NOT NULL,
        owner INTEGER NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (scope, owner, key)
      ) WITHOUT ROWID;
      CREATE TABLE pep_nodes (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        node TEXT NOT NULL,
        access_model TEXT NOT NULL,
        max_items INTEGER NOT NULL,
        PRIMARY KEY (user_id, node)
      ) WITHOUT ROWID;
      CREATE TABLE pep_items (
        seq INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL,
        node TEXT NOT NULL,
        item_id TEXT NOT NULL,
        payload TEXT NOT NULL,
        published_at INTEGER NOT NULL,
        FOREIGN KEY (user_id, node) REFERENCES pep_nodes (user_id, node) ON DELETE CASCADE
      );
      CREATE UNIQUE INDEX pep_items_id ON pep_items (user_id, node, item_id);
    `,
  },
  {
    version: 14,
    // The stored-message path. A CHECK with an IN list makes SQLite build a temporary index on every
    // dialog insert (about a fifth of the SQLite work of a message that opens a private dialog); the
    // equalities say the same without it. Only the public dialogs of an application are looked up by
    // type (dialog lists), so private and group dialogs no longer enter that index.
    sql: `
      DROP INDEX dialogs_app_type;
      CREATE INDEX dialogs_app_public ON dialogs (app_id) WHERE type = 1;
    `,
    tableEdits: [{ table: 'dialogs', from: 'CHECK (type IN (1, 2, 3))', to: 'CHECK (type = 1 OR type = 2 OR type = 3)' }],
  },
  {
    version: 15,
    // One index less to write per stored message. Its readers use the store's newest seq (seqs are
    // never reused) or the (dialog_id, date_sent, id) index; history pages of a cleared dialog, which
    // SQLite read through it and then sorted, now read the first page off messages_history.
    sql: `DROP INDEX messages_dialog_seq;`,
  },
  {
    version: 16,
    // Stream endings asked for by the CLI, which every node reads (session-revocations-types.ts).
    // AUTOINCREMENT: a pruned row's id is never handed out again, so a node's "read after id N" holds.
    sql: `
      CREATE TABLE session_revocations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind = 'password' OR kind = 'user-deleted' OR kind = 'app-deleted'),
        app_id INTEGER NOT NULL,
        user_id INTEGER,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX session_revocations_created ON session_revocations (created_at);
    `,
  },
];

function editTables(db: Database.Database, edits: readonly TableEdit[]): void {
  const schemaVersion = db.pragma('schema_version', { simple: true }) as number;
  const definition = db.prepare<[string], string>("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?").pluck();
  // better-sqlite3 opens connections in SQLite's defensive mode, which refuses sqlite_schema writes.
  db.unsafeMode(true);
  try {
    db.pragma('writable_schema = ON');
    const update = db.prepare("UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?");
    for (const edit of edits) {
      const sql = definition.get(edit.table);
      if (sql === undefined || !sql.includes(edit.from)) throw new Error(`table ${edit.table} lacks ${edit.from}`);
      update.run(sql.replace(edit.from, edit.to), edit.table);
    }
    // Tells every connection (this one included) to read the schema again.
    db.pragma(`schema_version = ${schemaVersion + 1}`);
  } finally {
    db.pragma('writable_schema = OFF');
    db.unsafeMode(false);
  }
}

/** Applies pending migrations in one transaction; returns how many were applied. */
export function migrate(db: Database.Database, list: readonly Migration[] = migrations): number {
  list.forEach((m, i) => {
    if (i > 0 && m.version <= list[i - 1].version) throw new Error('migrations must have increasing versions');
  });
  const run = db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const current = (db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null }).v ?? 0;
    const latest = list.at(-1)?.version ?? 0;
    if (current > latest) throw new Error(`database schema version ${current} is newer than this server (${latest})`);
    const pending = list.filter((m) => m.version > current);
    const record = db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)');
    for (const m of pending) {
      db.exec(m.sql);
      if (m.tableEdits) editTables(db, m.tableEdits);
      record.run(m.version, Date.now());
    }
    return pending.length;
  });
  // IMMEDIATE takes the write lock up front, so two processes opening the same file cannot both migrate.
  return run.immediate();
}
