// Driver-neutral behaviour every Store must have. Tests share one store and never assume it starts
// empty: each creates its own application and users, so a driver may hand out a long-lived database.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { deriveScramCredential } from '../util/password.js';
import { DuplicateLoginError, DuplicateUserError, type RosterItem, type Store } from './types.js';

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
          {
            id: 0, appId: app.id, login: name, email: 'a@example.com', fullName: 'Ann', phone: null, website: null, externalUserId: null,
            facebookId: null, twitterId: null, blobId: null, customData: null, tags: [], lastRequestAt: null, createdAt: 0, updatedAt: 0,
          });
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

    describe('user profiles and queries', () => {
      it('keeps every profile field and updates only the given ones', async () => {
        const app = await newApp();
        const created = await store.accounts.createUser(app.id, {
          login: login(), password: 'secret', email: `${login()}@example.com`, fullName: 'Ann Lee', phone: '+100',
          website: 'https://ann.example', externalUserId: 'ext-1', facebookId: 'fb1', twitterId: 'tw1', blobId: 7,
          customData: '{"a":1}', tags: ['red', 'blue'],
        });
        assert.deepEqual([created.phone, created.externalUserId, created.blobId, created.customData, created.tags, created.lastRequestAt],
          ['+100', 'ext-1', 7, '{"a":1}', ['red', 'blue'], null]);
        const updated = await store.accounts.updateUser(app.id, created.id, { fullName: 'Ann B. Lee', tags: [], phone: null });
        assert.equal(updated!.fullName, 'Ann B. Lee');
        assert.equal(updated!.phone, null);
        assert.deepEqual(updated!.tags, []);
        assert.equal(updated!.email, created.email);
        assert.equal(updated!.website, created.website);
        assert.equal(await store.accounts.updateUser(app.id, 2 ** 31 - 1, { fullName: 'x' }), null);
        assert.equal(await store.accounts.updateUser((await newApp()).id, created.id, { fullName: 'x' }), null);
      });

      it('refuses a taken login or email on create and update, per application', async () => {
        const app = await newApp();
        const email = `${login()}@example.com`;
        const first = await store.accounts.createUser(app.id, { login: login(), password: 'secret', email });
        const second = await store.accounts.createUser(app.id, { login: login(), password: 'secret' });
        await assert.rejects(store.accounts.createUser(app.id, { login: login(), password: 'secret', email }),
          (err: unknown) => err instanceof DuplicateUserError && err.field === 'email');
        await assert.rejects(store.accounts.updateUser(app.id, second.id, { login: first.login }),
          (err: unknown) => err instanceof DuplicateUserError && err.field === 'login');
        await assert.rejects(store.accounts.updateUser(app.id, second.id, { email }),
          (err: unknown) => err instanceof DuplicateUserError && err.field === 'email');
        await store.accounts.createUser((await newApp()).id, { login: first.login, password: 'secret', email });
      });

      it('finds users by each key within their application', async () => {
        const app = await newApp();
        const user = await store.accounts.createUser(app.id, {
          login: login(), password: 'secret', email: `${login()}@example.com`, externalUserId: 'e-9', facebookId: 'f-9', twitterId: 't-9', phone: '555',
        });
        const keys = { login: user.login, email: user.email!, externalUserId: 'e-9', facebookId: 'f-9', twitterId: 't-9', phone: '555' } as const;
        for (const [key, value] of Object.entries(keys)) {
          assert.equal((await store.accounts.getUserBy(app.id, key as keyof typeof keys, value))?.id, user.id, key);
          assert.equal(await store.accounts.getUserBy((await newApp()).id, key as keyof typeof keys, value), null, key);
        }
      });

      it('queries with conditions, tags, order and paging', async () => {
        const app = await newApp();
        const make = (fullName: string, tags: string[]) => store.accounts.createUser(app.id, { login: login(), password: 'secret', fullName, tags });
        const [a, b, c] = [await make('Alpha One', ['x']), await make('Beta Two', ['y', 'x']), await make('Gamma One', ['z'])];
        const ids = (r: { users: { id: number }[] }) => r.users.map((u) => u.id);
        const all = await store.accounts.queryUsers(app.id, { limit: 10, offset: 0 });
        assert.deepEqual([all.total, ids(all)], [3, [a.id, b.id, c.id]]);
        const some = await store.accounts.queryUsers(app.id, { conditions: [{ field: 'id', op: 'in', values: [a.id, c.id, 2 ** 31 - 1] }], limit: 10, offset: 0 });
        assert.deepEqual(ids(some), [a.id, c.id]);
        const gt = await store.accounts.queryUsers(app.id, { conditions: [{ field: 'id', op: 'gt', values: [a.id] }], order: { field: 'id', desc: true }, limit: 1, offset: 0 });
        assert.deepEqual([gt.total, ids(gt)], [2, [c.id]]);
        const named = await store.accounts.queryUsers(app.id, { conditions: [{ field: 'fullName', op: 'contains', values: ['one'] }], limit: 10, offset: 0 });
        assert.deepEqual(ids(named), [a.id, c.id]);
        const tagged = await store.accounts.queryUsers(app.id, { anyTag: ['x'], limit: 10, offset: 1 });
        assert.deepEqual([tagged.total, ids(tagged)], [2, [b.id]]);
        const between = await store.accounts.queryUsers(app.id, { conditions: [{ field: 'id', op: 'between', values: [b.id, c.id] }], limit: 10, offset: 0 });
        assert.deepEqual(ids(between), [b.id, c.id]);
      });

      it('records the last request time', async () => {
        const user = await newUser();
        const at = new Date(Date.now() - 5000);
        await store.accounts.touchUser(user.appId, user.id, at);
        assert.equal((await store.accounts.getUser(user.appId, user.id))!.lastRequestAt!.getTime(), at.getTime());
      });
    });

    describe('api sessions', () => {
      const token = () => randomBytes(20).toString('hex');
      const later = (ms: number) => new Date(Date.now() + ms);

      it('creates, upgrades, extends and deletes sessions', async () => {
        const user = await newUser();
        const t = token();
        const created = await store.sessions.createSession({ token: t, appId: user.appId, userId: null, nonce: 42, ts: 1700000000, expiresAt: later(60_000) });
        assert.deepEqual([created.token, created.appId, created.userId, created.nonce, created.ts], [t, user.appId, null, 42, 1700000000]);
        await store.sessions.setSessionUser(t, user.id, later(120_000));
        const upgraded = (await store.sessions.getSession(t))!;
        assert.equal(upgraded.userId, user.id);
        assert.ok(upgraded.expiresAt.getTime() > Date.now() + 100_000);
        const until = later(500_000);
        await store.sessions.extendSession(t, until);
        assert.equal((await store.sessions.getSession(t))!.expiresAt.getTime(), until.getTime());
        assert.deepEqual((await store.sessions.userSessions(user.appId, user.id, new Date(), 5)).map((s) => s.id), [created.id]);
        assert.deepEqual(await store.sessions.userSessions(user.appId + 1, user.id, new Date(), 5), []);
        assert.equal(await store.sessions.deleteSession(t), true);
        assert.equal(await store.sessions.deleteSession(t), false);
        assert.equal(await store.sessions.getSession(t), null);
      });

      it('ends every session of one user but the one kept', async () => {
        const [user, other] = [await newUser(), await newUser()];
        const [kept, gone1, gone2, others] = [token(), token(), token(), token()];
        for (const t of [kept, gone1, gone2]) await store.sessions.createSession({ token: t, appId: user.appId, userId: user.id, nonce: 1, ts: 1, expiresAt: later(60_000) });
        await store.sessions.createSession({ token: others, appId: other.appId, userId: other.id, nonce: 1, ts: 1, expiresAt: later(60_000) });
        assert.equal(await store.sessions.deleteUserSessions(user.appId, user.id, kept), 2);
        assert.deepEqual((await store.sessions.userSessions(user.appId, user.id, new Date(), 5)).map((s) => s.token), [kept]);
        assert.equal(await store.sessions.deleteUserSessions(user.appId, user.id), 1);
        assert.notEqual(await store.sessions.getSession(others), null, "another user's session stays");
      });

      it('claims each (timestamp, nonce) once per application and purges the old', async () => {
        const app = await newApp();
        const other = await newApp();
        const ts = Math.floor(Date.now() / 1000);
        assert.equal(await store.sessions.claimNonce(app.id, ts, '77'), true);
        assert.equal(await store.sessions.claimNonce(app.id, ts, '77'), false);
        assert.equal(await store.sessions.claimNonce(app.id, ts + 1, '77'), true);
        assert.equal(await store.sessions.claimNonce(other.id, ts, '77'), true);
        const expired = token();
        const live = token();
        await store.sessions.createSession({ token: expired, appId: app.id, userId: null, nonce: 1, ts, expiresAt: later(-1000) });
        await store.sessions.createSession({ token: live, appId: app.id, userId: null, nonce: 2, ts, expiresAt: later(60_000) });
        await store.sessions.purge(new Date(), ts + 1);
        assert.equal(await store.sessions.getSession(expired), null);
        assert.ok(await store.sessions.getSession(live));
        assert.equal(await store.sessions.claimNonce(app.id, ts, '77'), true, 'purged nonces can be claimed again');
      });

      it('ends a user\'s sessions as user sessions when the user is deleted', async () => {
        const user = await newUser();
        const t = token();
        await store.sessions.createSession({ token: t, appId: user.appId, userId: user.id, nonce: 1, ts: 1, expiresAt: later(60_000) });
        await store.accounts.deleteUser(user.appId, user.id);
        assert.deepEqual(await store.sessions.userSessions(user.appId, user.id, new Date(), 5), []);
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
