import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { blobStoreContract } from '../blob-contract.js';
import { chatStoreContract } from '../chat-contract.js';
import { storeContract } from '../contract.js';
import { openPostgresStore } from './index.js';
import { migrate, migrations } from './migrations.js';
import { createPool } from './pool.js';
import { createTestSchema } from './test-schema.js';

const baseUrl = process.env.PARLEY_TEST_DATABASE_URL;

if (!baseUrl) {
  it('PostgreSQL store driver', { skip: 'PARLEY_TEST_DATABASE_URL is not set (e.g. postgres://user@127.0.0.1:5432/db); .ci/run sets it' }, () => {});
} else {
  const schema = await createTestSchema(baseUrl);
  after(() => schema.drop());

  storeContract('postgres', () => openPostgresStore(schema.url));
  blobStoreContract('postgres', () => openPostgresStore(schema.url));
  chatStoreContract('postgres', () => openPostgresStore(schema.url));

  describe('postgres driver', () => {
    /** A schema of its own, for tests that need an empty database. */
    async function emptySchema() {
      const s = await createTestSchema(baseUrl!, 'parley_test_empty');
      after(() => s.drop());
      return s;
    }

    it('keeps data across reopening and does not migrate twice', async () => {
      let store = await openPostgresStore(schema.url);
      const app = await store.accounts.createApplication({ name: 'kept' });
      const user = await store.accounts.createUser(app.id, { login: 'ann', password: 'pw' });
      await store.offline.push(user.id, '<message/>', 10);
      await store.roster.setItem(user.id, { jid: 'b@x', name: 'B', subscription: 'to', ask: false, groups: ['g'] });
      await store.close();

      store = await openPostgresStore(schema.url);
      assert.deepEqual(await store.accounts.getApplicationByAuthKey(app.authKey), app);
      assert.deepEqual(await store.accounts.getUserByLogin(app.id, 'ann'), user);
      assert.equal(await store.accounts.verifyPassword(app.id, user.id, 'pw'), true);
      assert.equal((await store.offline.list(user.id))[0].stanza, '<message/>');
      assert.equal((await store.roster.getItem(user.id, 'b@x'))?.name, 'B');
      assert.equal(await migrate(store.pool), 0);
      const versions = (await store.pool.query('SELECT version FROM schema_version ORDER BY version')).rows.map((r) => r.version);
      assert.deepEqual(versions, migrations.map((m) => m.version));
      await store.close();
    });

    it('migrates once when several nodes start at the same time', async () => {
      const s = await emptySchema();
      const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore(s.url)));
      const { rows } = await stores[0].pool.query('SELECT version FROM schema_version ORDER BY version');
      assert.deepEqual(rows.map((r) => r.version), migrations.map((m) => m.version));
      const app = await stores[1].accounts.createApplication({});
      assert.deepEqual(await stores[2].accounts.getApplication(app.id), app);
      await Promise.all(stores.map((store) => store.close()));
    });

    it('rolls back every migration of a failed run', async () => {
      const s = await emptySchema();
      const pool = createPool(s.url);
      try {
        const list = [{ version: 1, sql: 'CREATE TABLE a (x int)' }, { version: 2, sql: 'CREATE TABLE oops (' }];
        await assert.rejects(migrate(pool, list));
        const tables = await pool.query("SELECT count(*) AS n FROM pg_tables WHERE schemaname = $1 AND tablename IN ('a', 'schema_version')", [s.name]);
        assert.equal(tables.rows[0].n, 0);
        assert.equal(await migrate(pool, list.slice(0, 1)), 1);
        assert.equal(await migrate(pool, list.slice(0, 1)), 0);
        await assert.rejects(migrate(pool, []), /newer/);
        await assert.rejects(migrate(pool, [list[1], list[0]]), /increasing/);
      } finally {
        await pool.end();
      }
    });

    it('closes its pool on close, once', async () => {
      const store = await openPostgresStore(schema.url);
      await store.accounts.listApplications();
      await store.close();
      await store.close();
      assert.equal(store.pool.totalCount, 0);
      await assert.rejects(store.accounts.listApplications());
    });

    it('fails to open, without leaking connections, when the database cannot be reached', async () => {
      const url = new URL(baseUrl!);
      url.port = '1';
      await assert.rejects(openPostgresStore(url.toString()));
    });
  });
}
