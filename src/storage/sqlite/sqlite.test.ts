import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { blobStoreContract } from '../blob-contract.js';
import { credentialsContract } from '../credentials-contract.js';
import type { SqliteStore } from './index.js';
import { chatStoreContract } from '../chat-contract.js';
import { customObjectStoreContract } from '../custom-objects-contract.js';
import { reactionStoreContract } from '../reactions-contract.js';
import { privacyStoreContract } from '../privacy-contract.js';
import { operatorStoreContract } from '../operator-contract.js';
import { storeContract } from '../contract.js';
import { openSqliteStore } from './index.js';
import { migrate, migrations } from './migrations.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

storeContract('sqlite :memory:', () => openSqliteStore(':memory:'));
storeContract('sqlite file', () => openSqliteStore(join(dir, 'contract.db')));
blobStoreContract('sqlite :memory:', () => openSqliteStore(':memory:'));
chatStoreContract('sqlite :memory:', () => openSqliteStore(':memory:'));
chatStoreContract('sqlite file, reads on the read pool', () => openSqliteStore(join(dir, 'chat-pool.db'), { workers: 2, maxQueue: 64 }));
privacyStoreContract('sqlite :memory:', () => openSqliteStore(':memory:'));
operatorStoreContract('sqlite :memory:', () => openSqliteStore(':memory:'));
customObjectStoreContract('sqlite :memory:', () => openSqliteStore(':memory:'));
reactionStoreContract('sqlite :memory:', () => openSqliteStore(':memory:'));
credentialsContract('sqlite file', () => openSqliteStore(join(dir, 'credentials.db')), async (store, sql, params) => {
  const statement = (store as SqliteStore).db.prepare(sql);
  return statement.reader ? (statement.all(...params) as Record<string, unknown>[]) : (statement.run(...params), []);
}, () => '?');

describe('sqlite driver', () => {
  it('opens files in WAL mode with full synchronous writes', async () => {
    const store = await openSqliteStore(join(dir, 'pragmas.db'));
    assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(store.db.pragma('synchronous', { simple: true }), 2);
    assert.equal(store.db.pragma('foreign_keys', { simple: true }), 1);
    await store.close();
    await store.close();
  });

  it('keeps data across reopening and does not migrate twice', async () => {
    const path = join(dir, 'reopen.db');
    let store = await openSqliteStore(path);
    const app = await store.accounts.createApplication({ name: 'kept' });
    const user = await store.accounts.createUser(app.id, { login: 'ann', password: 'pw' });
    await store.offline.push(user.id, '<message/>', 10);
    await store.roster.setItem(user.id, { jid: 'b@x', name: 'B', subscription: 'to', ask: false, groups: ['g'] });
    await store.close();

    store = await openSqliteStore(path);
    assert.deepEqual(await store.accounts.getApplicationByAuthKey(app.authKey), app);
    assert.deepEqual(await store.accounts.getUserByLogin(app.id, 'ann'), user);
    assert.equal(await store.accounts.verifyPassword(app.id, user.id, 'pw'), true);
    assert.equal((await store.offline.list(user.id))[0].stanza, '<message/>');
    assert.equal((await store.roster.getItem(user.id, 'b@x'))?.name, 'B');
    assert.equal(migrate(store.db), 0);
    const versions = store.db.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all();
    assert.deepEqual(versions, migrations.map((m) => m.version));
    await store.close();
  });

  it('rolls back every migration of a failed run', () => {
    const db = new Database(':memory:');
    const list = [{ version: 1, sql: 'CREATE TABLE a (x)' }, { version: 2, sql: 'CREATE TABLE oops (' }];
    assert.throws(() => migrate(db, list));
    assert.equal(db.prepare("SELECT count(*) FROM sqlite_master WHERE name IN ('a', 'schema_version')").pluck().get(), 0);
    assert.equal(migrate(db, list.slice(0, 1)), 1);
    assert.equal(migrate(db, list.slice(0, 1)), 0);
    assert.throws(() => migrate(db, []), /newer/);
    assert.throws(() => migrate(db, [list[1], list[0]]), /increasing/);
    db.close();
  });
});
