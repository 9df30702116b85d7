// The operator's store calls on both drivers: health (ping, size, offline count) and whole-application
// administration (delete with everything in it, rotate the auth secret).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Store } from './types.js';
import { openSqliteStore } from './sqlite/index.js';
import { openPostgresStore } from './postgres/index.js';
import { createTestSchema } from './postgres/test-schema.js';

function opsContract(driver: string, open: () => Promise<Store>): void {
  describe(`${driver}: operator calls`, () => {
    it('health: ping, size and the offline queue', async () => {
      const store = await open();
      try {
        await store.health.ping();
        assert.ok((await store.health.sizeBytes()) > 0);
        const app = await store.accounts.createApplication({});
        const user = await store.accounts.createUser(app.id, { login: 'off', password: 'pw' });
        const before = await store.health.offlineMessages();
        await store.offline.push(user.id, '<message/>', 10);
        await store.offline.push(user.id, '<message/>', 10);
        assert.equal(await store.health.offlineMessages(), before + 2);
      } finally {
        await store.close();
      }
      await assert.rejects(store.health.ping(), 'a closed store fails its ping');
    });

    it('rotates an auth secret and deletes an application with everything in it', async () => {
      const store = await open();
      try {
        const app = await store.accounts.createApplication({ name: 'doomed' });
        const other = await store.accounts.createApplication({ name: 'kept' });
        const rotated = await store.accounts.rotateAuthSecret(app.id);
        assert.ok(rotated);
        assert.notEqual(rotated.authSecret, app.authSecret);
        assert.deepEqual({ ...rotated, authSecret: app.authSecret }, app, 'only the secret changes');
        assert.deepEqual(await store.accounts.getApplication(app.id), rotated);
        assert.equal(await store.accounts.rotateAuthSecret(999_999), null);

        const user = await store.accounts.createUser(app.id, { login: 'gone', password: 'pw' });
        const kept = await store.accounts.createUser(other.id, { login: 'kept', password: 'pw' });
        await store.offline.push(user.id, '<message/>', 10);
        assert.equal(await store.accounts.deleteApplication(app.id), true);
        assert.equal(await store.accounts.getApplication(app.id), null);
        assert.equal(await store.accounts.getUser(app.id, user.id), null);
        assert.equal(await store.offline.count(user.id), 0);
        assert.deepEqual(await store.accounts.getUser(other.id, kept.id), kept);
        assert.equal(await store.accounts.deleteApplication(app.id), false);
      } finally {
        await store.close();
      }
    });
  });
}

const dir = mkdtempSync(path.join(tmpdir(), 'parley-ops-'));
opsContract('sqlite', () => openSqliteStore(path.join(dir, `ops-${Math.random()}.sqlite`)));

const baseUrl = process.env.PARLEY_TEST_DATABASE_URL;
if (baseUrl) {
  const schema = await createTestSchema(baseUrl);
  after(() => schema.drop());
  opsContract('postgres', () => openPostgresStore(schema.url));
} else {
  it('postgres: operator calls', { skip: 'PARLEY_TEST_DATABASE_URL is not set' }, () => {});
}
