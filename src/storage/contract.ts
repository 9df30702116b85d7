// Driver-neutral behaviour every Store must have. Tests share one store and never assume it starts
// empty: each creates its own application and users, so a driver may hand out a long-lived database.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { deriveScramCredential } from '../util/password.js';
import { DuplicateLoginError, type RosterItem, type Store } from './types.js';

export function storeContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
    });

    const login = () => `user-${randomBytes(6).toString('hex')}`;
    const newApp = () => store.accounts.createApplication({});
    const newUser = async (password = 'secret', appId?: number) => {
      appId ??= (await newApp()).id;
      return store.accounts.createUser(appId, { login: login(), password });
    };
    const assertRecent = (d: Date, since: number) => {
      assert.ok(d instanceof Date);
      assert.ok(d.getTime() >= since - 1000 && d.getTime() <= Date.now() + 1000, d.toISOString());
    };

    describe('applications', () => {
      it('creates applications with random credentials and a default name', async () => {
        const since = Date.now();
        const a = await newApp();
        const b = await store.accounts.createApplication({ name: 'Chat demo' });
        assert.equal(a.name, `app-${a.id}`);
        assert.equal(b.name, 'Chat demo');
        assert.ok(Number.isInteger(a.id) && b.id > a.id);
        for (const app of [a, b]) {
          assert.match(app.authKey, /^[A-Za-z0-9_-]{12,}$/);
          assert.match(app.authSecret, /^[A-Za-z0-9_-]{12,}$/);
          assert.match(app.accountKey, /^[A-Za-z0-9]{20}$/);
          assert.notEqual(app.authKey, app.authSecret);
          assertRecent(app.createdAt, since);
        }
        assert.notEqual(a.authKey, b.authKey);
        assert.notEqual(a.authSecret, b.authSecret);
        assert.notEqual(a.accountKey, b.accountKey);
      });

      it('finds applications by id and auth key', async () => {
        const app = await newApp();
        assert.deepEqual(await store.accounts.getApplication(app.id), app);
        assert.deepEqual(await store.accounts.getApplicationByAuthKey(app.authKey), app);
        assert.equal(await store.accounts.getApplication(2 ** 31 - 1), null);
        assert.equal(await store.accounts.getApplicationByAuthKey('no-such-key'), null);
        assert.equal(await store.accounts.getApplicationByAuthKey(app.authSecret), null);
      });

      it('lists applications in creation order', async () => {
        const a = await newApp();
        const b = await newApp();
        const ids = (await store.accounts.listApplications()).map((x) => x.id);
        assert.ok(ids.indexOf(a.id) >= 0 && ids.indexOf(a.id) < ids.indexOf(b.id));
        assert.deepEqual((await store.accounts.listApplications()).find((x) => x.id === b.id), b);
      });
    });

    describe('users', () => {
      it('creates users', async () => {
        const app = await newApp();
        const since = Date.now();
        const name = login();
        const full = await store.accounts.createUser(app.id, { login: name, password: 'pw', email: 'a@example.com', fullName: 'Ann' });
        assert.deepEqual({ ...full, id: 0, createdAt: 0, updatedAt: 0 },
          { id: 0, appId: app.id, login: name, email: 'a@example.com', fullName: 'Ann', createdAt: 0, updatedAt: 0 });
        assertRecent(full.createdAt, since);
        assertRecent(full.updatedAt, since);
        const bare = await store.accounts.createUser(app.id, { login: login(), password: 'pw' });
        assert.equal(bare.email, null);
        assert.equal(bare.fullName, null);
        assert.notEqual(bare.id, full.id);
      });

      it('rejects a duplicate login within an application only', async () => {
        const [a, b] = [await newApp(), await newApp()];
        const name = login();
        await store.accounts.createUser(a.id, { login: name, password: 'pw' });
        await assert.rejects(store.accounts.createUser(a.id, { login: name, password: 'other' }),
          (err: unknown) => err instanceof DuplicateLoginError && err.login === name);
        const other = await store.accounts.createUser(b.id, { login: name, password: 'pw' });
        assert.equal(other.appId, b.id);
      });

      it('numbers users uniquely across applications', async () => {
        const ids = [await newUser(), await newUser(), await newUser()].map((u) => u.id);
        assert.equal(new Set(ids).size, 3);
      });

      it('gets users by id and login within their application', async () => {
        const user = await newUser();
        const other = await newApp();
        assert.deepEqual(await store.accounts.getUser(user.appId, user.id), user);
        assert.deepEqual(await store.accounts.getUserByLogin(user.appId, user.login), user);
        assert.equal(await store.accounts.getUser(other.id, user.id), null);
        assert.equal(await store.accounts.getUserByLogin(other.id, user.login), null);
        assert.equal(await store.accounts.getUserByLogin(user.appId, `${user.login}x`), null);
        assert.equal(await store.accounts.getUser(user.appId, 2 ** 31 - 1), null);
      });

      it('lists users in creation order with paging', async () => {
        const app = await newApp();
        const users = [];
        for (let i = 0; i < 5; i++) users.push(await newUser('pw', app.id));
        await newUser();
        const ids = (page?: { limit?: number; offset?: number }) =>
          store.accounts.listUsers(app.id, page).then((list) => list.map((u) => u.id));
        const all = users.map((u) => u.id);
        assert.deepEqual(await store.accounts.listUsers(app.id), users);
        assert.deepEqual(await ids({}), all);
        assert.deepEqual(await ids({ limit: 2 }), all.slice(0, 2));
        assert.deepEqual(await ids({ limit: 2, offset: 2 }), all.slice(2, 4));
        assert.deepEqual(await ids({ offset: 4 }), all.slice(4));
        assert.deepEqual(await ids({ limit: 10, offset: 5 }), []);
        assert.deepEqual(await store.accounts.listUsers((await newApp()).id), []);
      });

      it('deletes users within their application', async () => {
        const user = await newUser();
        const other = await newApp();
        assert.equal(await store.accounts.deleteUser(other.id, user.id), false);
        assert.equal(await store.accounts.deleteUser(user.appId, user.id), true);
        assert.equal(await store.accounts.getUser(user.appId, user.id), null);
        assert.equal(await store.accounts.getUserByLogin(user.appId, user.login), null);
        assert.equal(await store.accounts.deleteUser(user.appId, user.id), false);
        assert.equal(await store.accounts.verifyPassword(user.appId, user.id, 'secret'), false);
        const again = await store.accounts.createUser(user.appId, { login: user.login, password: 'x' });
        assert.notEqual(again.id, user.id);
      });

      it('verifies passwords', async () => {
        const user = await newUser('s3cret pässword');
        assert.equal(await store.accounts.verifyPassword(user.appId, user.id, 's3cret pässword'), true);
        assert.equal(await store.accounts.verifyPassword(user.appId, user.id, 's3cret password'), false);
        assert.equal(await store.accounts.verifyPassword(user.appId, user.id, ''), false);
        assert.equal(await store.accounts.verifyPassword((await newApp()).id, user.id, 's3cret pässword'), false);
      });

      it('stores SCRAM credentials for both hashes', async () => {
        const user = await newUser('pencil');
        for (const [hash, size] of [['sha1', 20], ['sha256', 32]] as const) {
          const stored = await store.accounts.getScramCredential(user.appId, user.id, hash);
          assert.ok(stored, hash);
          assert.ok(stored.salt.length >= 16 && stored.iterations >= 4096);
          assert.equal(stored.storedKey.length, size);
          assert.equal(stored.serverKey.length, size);
          assert.deepEqual(deriveScramCredential('pencil', hash, stored.salt, stored.iterations), stored);
          assert.notDeepEqual(deriveScramCredential('pencil!', hash, stored.salt, stored.iterations).storedKey, stored.storedKey);
          assert.equal(await store.accounts.getScramCredential((await newApp()).id, user.id, hash), null);
        }
      });

      it('changes passwords and SCRAM credentials together', async () => {
        const user = await newUser('old');
        const before = await store.accounts.getScramCredential(user.appId, user.id, 'sha256');
        await store.accounts.setPassword(user.appId, user.id, 'new');
        assert.equal(await store.accounts.verifyPassword(user.appId, user.id, 'old'), false);
        assert.equal(await store.accounts.verifyPassword(user.appId, user.id, 'new'), true);
        for (const hash of ['sha1', 'sha256'] as const) {
          const c = (await store.accounts.getScramCredential(user.appId, user.id, hash))!;
          assert.deepEqual(deriveScramCredential('new', hash, c.salt, c.iterations), c);
        }
        assert.notDeepEqual((await store.accounts.getScramCredential(user.appId, user.id, 'sha256'))!.storedKey, before!.storedKey);
        const updated = (await store.accounts.getUser(user.appId, user.id))!;
        assert.ok(updated.updatedAt.getTime() >= user.updatedAt.getTime());
        assert.deepEqual(updated.createdAt, user.createdAt);
        await assert.rejects(store.accounts.setPassword(user.appId, 2 ** 31 - 1, 'x'));
      });
    });

    describe('offline messages', () => {
      it('lists messages oldest first', async () => {
        const user = await newUser();
        const since = Date.now();
        for (const n of [1, 2, 3]) assert.equal(await store.offline.push(user.id, `<message id="${n}"/>`, 10), true);
        const list = await store.offline.list(user.id);
        assert.deepEqual(list.map((m) => m.stanza), ['<message id="1"/>', '<message id="2"/>', '<message id="3"/>']);
        assert.ok(list.every((m) => m.userId === user.id));
        assert.ok(list[0].id < list[1].id && list[1].id < list[2].id);
        list.forEach((m) => assertRecent(m.storedAt, since));
        assert.equal(await store.offline.count(user.id), 3);
      });

      it('refuses to store beyond the limit', async () => {
        const user = await newUser();
        assert.equal(await store.offline.push(user.id, '<a/>', 0), false);
        assert.equal(await store.offline.push(user.id, '<a/>', 2), true);
        assert.equal(await store.offline.push(user.id, '<b/>', 2), true);
        assert.equal(await store.offline.push(user.id, '<c/>', 2), false);
        assert.equal(await store.offline.count(user.id), 2);
        assert.deepEqual((await store.offline.list(user.id)).map((m) => m.stanza), ['<a/>', '<b/>']);
        assert.equal(await store.offline.push(user.id, '<c/>', 3), true);
        const results = await Promise.all([1, 2, 3].map((n) => store.offline.push(user.id, `<d${n}/>`, 4)));
        assert.deepEqual(results.filter(Boolean).length, 1);
        assert.equal(await store.offline.count(user.id), 4);
      });

      it('removes messages by id', async () => {
        const user = await newUser();
        for (const s of ['<a/>', '<b/>', '<c/>']) await store.offline.push(user.id, s, 10);
        const [a, b, c] = await store.offline.list(user.id);
        await store.offline.remove([]);
        await store.offline.remove([a.id, c.id, 2 ** 31 - 1]);
        assert.deepEqual(await store.offline.list(user.id), [b]);
        await store.offline.remove([a.id]);
        assert.equal(await store.offline.count(user.id), 1);
      });

      it('keeps users apart', async () => {
        const [alice, bob] = [await newUser(), await newUser()];
        await store.offline.push(alice.id, '<for-alice/>', 1);
        assert.equal(await store.offline.push(bob.id, '<for-bob/>', 1), true);
        assert.equal(await store.offline.count(alice.id), 1);
        assert.deepEqual((await store.offline.list(bob.id)).map((m) => m.stanza), ['<for-bob/>']);
        await store.offline.remove((await store.offline.list(alice.id)).map((m) => m.id));
        assert.equal(await store.offline.count(alice.id), 0);
        assert.equal(await store.offline.count(bob.id), 1);
        assert.deepEqual(await store.offline.list(2 ** 31 - 1), []);
      });
    });

    describe('roster', () => {
      const item = (jid: string, extra: Partial<RosterItem> = {}): RosterItem =>
        ({ jid, name: null, subscription: 'none', ask: false, groups: [], ...extra });

      it('sets, gets, updates and removes items', async () => {
        const user = await newUser();
        const bob = item('2-1@example.com', { name: 'Bob', subscription: 'both', groups: ['Friends', 'Work'] });
        const carol = item('3-1@example.com', { ask: true });
        await store.roster.setItem(user.id, bob);
        await store.roster.setItem(user.id, carol);
        assert.deepEqual(await store.roster.getItem(user.id, bob.jid), bob);
        assert.deepEqual(await store.roster.getItem(user.id, carol.jid), carol);
        assert.equal(await store.roster.getItem(user.id, 'nobody@example.com'), null);
        const byJid = (list: RosterItem[]) => [...list].sort((x, y) => x.jid.localeCompare(y.jid));
        assert.deepEqual(byJid(await store.roster.getRoster(user.id)), [bob, carol]);

        const changed = { ...bob, name: null, subscription: 'from' as const, ask: true, groups: [] };
        await store.roster.setItem(user.id, changed);
        assert.deepEqual(await store.roster.getItem(user.id, bob.jid), changed);
        assert.equal((await store.roster.getRoster(user.id)).length, 2);

        assert.equal(await store.roster.removeItem(user.id, bob.jid), true);
        assert.equal(await store.roster.removeItem(user.id, bob.jid), false);
        assert.deepEqual(await store.roster.getRoster(user.id), [carol]);
      });

      it('keeps rosters per user', async () => {
        const [alice, bob] = [await newUser(), await newUser()];
        await store.roster.setItem(alice.id, item('x@example.com', { subscription: 'to' }));
        await store.roster.setItem(bob.id, item('x@example.com', { subscription: 'from' }));
        assert.equal((await store.roster.getItem(alice.id, 'x@example.com'))!.subscription, 'to');
        assert.equal((await store.roster.getItem(bob.id, 'x@example.com'))!.subscription, 'from');
        assert.equal(await store.roster.removeItem(alice.id, 'x@example.com'), true);
        assert.deepEqual(await store.roster.getRoster(alice.id), []);
        assert.equal((await store.roster.getRoster(bob.id)).length, 1);
        assert.deepEqual(await store.roster.getRoster(2 ** 31 - 1), []);
      });
    });

    it('drops offline messages and roster when a user is deleted', async () => {
      const user = await newUser();
      await store.offline.push(user.id, '<a/>', 10);
      await store.roster.setItem(user.id, { jid: 'x@example.com', name: null, subscription: 'both', ask: false, groups: [] });
      assert.equal(await store.accounts.deleteUser(user.appId, user.id), true);
      assert.equal(await store.offline.count(user.id), 0);
      assert.deepEqual(await store.roster.getRoster(user.id), []);
    });
  });
}
