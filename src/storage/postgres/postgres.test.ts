import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { blobStoreContract } from '../blob-contract.js';
import { credentialsContract } from '../credentials-contract.js';
import type { PostgresStore } from './index.js';
import { chatStoreContract } from '../chat-contract.js';
import { customObjectStoreContract } from '../custom-objects-contract.js';
import { reactionStoreContract } from '../reactions-contract.js';
import { privacyStoreContract } from '../privacy-contract.js';
import { operatorStoreContract } from '../operator-contract.js';
import { storeContract } from '../contract.js';
import type { ChatMessage } from '../types.js';
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
  privacyStoreContract('postgres', () => openPostgresStore(schema.url));
  operatorStoreContract('postgres', () => openPostgresStore(schema.url));
  customObjectStoreContract('postgres', () => openPostgresStore(schema.url));
  reactionStoreContract('postgres', () => openPostgresStore(schema.url));
  credentialsContract('postgres', () => openPostgresStore(schema.url), async (store, sql, params) => (await (store as PostgresStore).pool.query(sql, params)).rows, (n) => `$${n}`);

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

    it('keeps unread counters exact with concurrent writers on two nodes', async () => {
      const nodes = [await openPostgresStore(schema.url), await openPostgresStore(schema.url)];
      const [one, two] = nodes;
      const app = await one.accounts.createApplication({});
      const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((login) => one.accounts.createUser(app.id, { login, password: 'pw' })));
      const dialog = await one.chat.createDialog({
        id: randomBytes(12).toString('hex'), appId: app.id, type: 2, name: null, photo: null, ownerId: a.id, occupantIds: [a.id, b.id, c.id],
        adminIds: [], data: null, isJoinRequired: false, createdAt: new Date(),
      });
      const send = (i: number) => {
        const sender = i % 2 ? a.id : c.id;
        const message: ChatMessage = {
          id: randomBytes(12).toString('hex'), appId: app.id, dialogId: dialog.id, senderId: sender, recipientId: 0, body: `m${i}`,
          dateSent: 1_700_000_000 + i, attachments: [], customParams: {}, markable: false, readIds: [sender], deliveredIds: [sender],
          createdAt: new Date(), updatedAt: new Date(),
        };
        return nodes[i % 2].chat.insertMessage(message, { unreadFor: [a.id, b.id, c.id].filter((id) => id !== sender), unhideFor: [sender] })
          .then(() => message);
      };
      const first = await Promise.all(Array.from({ length: 30 }, (_, i) => send(i)));
      await Promise.all([
        ...Array.from({ length: 30 }, (_, i) => send(30 + i)),
        two.chat.markAllMessages(dialog.id, b.id, { read: true }),
        one.chat.markMessages(dialog.id, c.id, first.slice(0, 10).map((m) => m.id), { read: true }),
        two.chat.hideMessages(c.id, first.slice(5, 15).map((m) => m.id)),
        one.chat.deleteMessages(first.slice(25, 28).map((m) => m.id)),
        two.chat.markAllMessages(dialog.id, a.id, { delivered: true }),
      ]);
      for (const user of [a, b, c]) {
        const visible = await one.chat.listMessages({ dialogId: dialog.id, viewerId: user.id, filters: [], limit: 1000, skip: 0 });
        const expected = visible.filter((m) => m.senderId !== user.id && !m.readIds.includes(user.id)).length;
        assert.equal((await two.chat.getMemberState(dialog.id, user.id)).unreadCount, expected, `unread messages of ${user.login}`);
      }
      await Promise.all(nodes.map((node) => node.close()));
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
