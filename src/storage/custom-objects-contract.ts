// Driver-neutral behaviour of CustomObjectStore, AppSettingsStore and ApiKeyStore. Each test makes
// its own application, so the suites never assume an empty database.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { newObjectId } from '../chat/objectid.js';
import {
  DuplicateClassError, type ClassField, type Condition, type CustomRecord, type FieldValue, type Permission, type RecordQuery, type Viewer,
} from './custom-objects-types.js';
import type { Store } from './types.js';

const open_: Permission = { access: 'open', userIds: [], groups: [] };
const owner: Permission = { access: 'owner', userIds: [], groups: [] };
const DEFAULT = { read: open_, update: owner, delete: owner };

const F = {
  title: { name: 'title', type: 'String', isArray: false },
  score: { name: 'score', type: 'Integer', isArray: false },
  rating: { name: 'rating', type: 'Float', isArray: false },
  done: { name: 'done', type: 'Boolean', isArray: false },
  due: { name: 'due', type: 'Date', isArray: false },
  place: { name: 'place', type: 'Location', isArray: false },
  tags: { name: 'tags', type: 'String', isArray: true },
  nums: { name: 'nums', type: 'Integer', isArray: true },
} satisfies Record<string, ClassField>;

export function customObjectStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`CustomObjectStore contract: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
    });

    const setup = async () => {
      const app = await store.accounts.createApplication({});
      const users = await Promise.all(['a', 'b', 'c'].map((l) => store.accounts.createUser(app.id, { login: `${l}-${randomBytes(4).toString('hex')}`, password: 'pw' })));
      const now = new Date(Math.floor(Date.now() / 1000) * 1000);
      await store.customObjects.createClass({ appId: app.id, name: 'Note', fields: Object.values(F), createdAt: now, updatedAt: now });
      return { appId: app.id, ids: users.map((u) => u.id) };
    };
    let seq = 0;
    const record = (appId: number, userId: number, fields: Record<string, FieldValue>, extra: Partial<CustomRecord> = {}): CustomRecord => {
      const at = new Date(Date.now() + seq++);
      return { id: newObjectId(), appId, className: 'Note', parentId: null, userId, fields, permissions: DEFAULT, createdAt: at, updatedAt: at, ...extra };
    };
    const all: Viewer = { userId: null, groups: [], unrestricted: true };
    const query = (appId: number, extra: Partial<RecordQuery> = {}): RecordQuery => ({
      appId, className: 'Note', viewer: all, action: 'read', conditions: [], anyOf: [], limit: 100, skip: 0, ...extra,
    });
    const on = (f: ClassField, op: Condition['op'], value: FieldValue, values?: FieldValue[]): Condition => ({ on: { field: f }, op, value, values });
    const titles = (rs: CustomRecord[]) => rs.map((r) => r.fields.title);

    it('creates, finds, extends and deletes classes per application', async () => {
      const { appId } = await setup();
      const cls = await store.customObjects.getClass(appId, 'Note');
      assert.deepEqual(cls?.fields, Object.values(F));
      const now = new Date();
      await assert.rejects(store.customObjects.createClass({ appId, name: 'Note', fields: [], createdAt: now, updatedAt: now }), DuplicateClassError);
      const other = await store.accounts.createApplication({});
      assert.equal(await store.customObjects.getClass(other.id, 'Note'), null);
      const added = await store.customObjects.addFields(appId, 'Note', [F.title, { name: 'extra', type: 'Boolean', isArray: false }], now);
      assert.deepEqual(added?.fields.map((f) => f.name), [...Object.keys(F), 'extra']);
      assert.equal(await store.customObjects.addFields(appId, 'Nope', [F.title], now), null);
      assert.deepEqual((await store.customObjects.listClasses(appId)).map((c) => c.name), ['Note']);
      await store.customObjects.insertRecords([record(appId, 1, { title: 'x' })]);
      assert.equal(await store.customObjects.deleteClass(appId, 'Note'), true);
      assert.equal(await store.customObjects.deleteClass(appId, 'Note'), false);
      assert.equal(await store.customObjects.countRecords(query(appId)), 0, 'records go with their class');
    });

    it('stores records as given and finds them by id within the class and application', async () => {
      const { appId, ids } = await setup();
      const r = record(appId, ids[0], { title: 'hello', score: 3, rating: 1.5, done: true, due: '2019-09-21T21:21:00Z', place: [11.13, 45.52], tags: ['a', 'b'] });
      await store.customObjects.insertRecords([r]);
      const [got] = await store.customObjects.getRecords(appId, 'Note', [r.id, newObjectId()]);
      assert.deepEqual(got, r);
      const other = await store.accounts.createApplication({});
      assert.deepEqual(await store.customObjects.getRecords(other.id, 'Note', [r.id]), []);
    });

    it('filters with every operator on scalars and arrays', async () => {
      const { appId, ids } = await setup();
      await store.customObjects.insertRecords([
        record(appId, ids[0], { title: 'alpha', score: 10, rating: 0.5, done: true, due: '2020-01-01T00:00:00Z', tags: ['x', 'y'], nums: [1, 2] }),
        record(appId, ids[0], { title: 'Beta', score: 20, rating: 2.5, done: false, due: '2021-01-01T00:00:00Z', tags: ['y'], nums: [3] }),
        record(appId, ids[1], { title: 'gamma', score: 30, tags: [] }),
        record(appId, ids[1], { title: 'delta' }),
      ]);
      const q = async (...conditions: Condition[]) => titles(await store.customObjects.queryRecords(query(appId, { conditions })));
      assert.deepEqual(await q(on(F.title, 'eq', 'Beta')), ['Beta']);
      assert.deepEqual(await q(on(F.score, 'gt', 10)), ['Beta', 'gamma']);
      assert.deepEqual(await q(on(F.score, 'gte', 20), on(F.score, 'lt', 30)), ['Beta']);
      assert.deepEqual(await q(on(F.score, 'lte', 10)), ['alpha']);
      assert.deepEqual(await q(on(F.rating, 'gt', 1)), ['Beta']);
      assert.deepEqual(await q(on(F.score, 'ne', 10)), ['Beta', 'gamma', 'delta']);
      assert.deepEqual(await q(on(F.title, 'in', null, ['alpha', 'gamma', 'zeta'])), ['alpha', 'gamma']);
      assert.deepEqual(await q(on(F.title, 'nin', null, ['alpha', 'gamma'])), ['Beta', 'delta']);
      assert.deepEqual(await q(on(F.title, 'ctn', 'ET')), ['Beta']);
      assert.deepEqual(await q(on(F.title, 'ctn', '%')), [], 'LIKE wildcards are literal');
      assert.deepEqual(await q(on(F.done, 'eq', true)), ['alpha']);
      assert.deepEqual(await q(on(F.done, 'eq', false)), ['Beta']);
      assert.deepEqual(await q(on(F.due, 'gt', '2020-06-01T00:00:00Z')), ['Beta']);
      assert.deepEqual(await q(on(F.tags, 'eq', 'y')), ['alpha', 'Beta'], 'eq on an array: contains');
      assert.deepEqual(await q(on(F.tags, 'all', null, ['x', 'y'])), ['alpha']);
      assert.deepEqual(await q(on(F.tags, 'in', null, ['x', 'q'])), ['alpha']);
      assert.deepEqual(await q(on(F.tags, 'nin', null, ['y'])), ['gamma', 'delta']);
      assert.deepEqual(await q(on(F.nums, 'gt', 2)), ['Beta']);
      assert.deepEqual(await q(on(F.score, 'eq', null)), ['delta']);
      const anyOf = [on(F.title, 'in', null, ['alpha']), on(F.score, 'in', null, [30])];
      assert.deepEqual(titles(await store.customObjects.queryRecords(query(appId, { anyOf }))), ['alpha', 'gamma']);
      const byOwner: Condition = { on: { system: 'user_id' }, op: 'eq', value: ids[1] };
      assert.deepEqual(await q(byOwner), ['gamma', 'delta']);
      assert.equal(await store.customObjects.countRecords(query(appId, { conditions: [byOwner] })), 2);
    });

    it('sorts by a field (absent values last), then by _id, and pages', async () => {
      const { appId, ids } = await setup();
      await store.customObjects.insertRecords([
        record(appId, ids[0], { title: 'b', score: 2 }),
        record(appId, ids[0], { title: 'none' }),
        record(appId, ids[0], { title: 'a', score: 1 }),
        record(appId, ids[0], { title: 'c', score: 2 }),
      ]);
      const sorted = async (direction: 'asc' | 'desc', limit = 100, skip = 0) =>
        titles(await store.customObjects.queryRecords(query(appId, { sort: { on: { field: F.score }, direction }, limit, skip })));
      assert.deepEqual(await sorted('asc'), ['a', 'b', 'c', 'none']);
      assert.deepEqual(await sorted('desc'), ['c', 'b', 'a', 'none']);
      assert.deepEqual(await sorted('asc', 2, 1), ['b', 'c']);
      const byId = titles(await store.customObjects.queryRecords(query(appId, { sort: { on: { system: '_id' }, direction: 'desc' } })));
      assert.deepEqual(byId, ['c', 'a', 'none', 'b']);
    });

    it('finds records near a point, nearest first', async () => {
      const { appId, ids } = await setup();
      await store.customObjects.insertRecords([
        record(appId, ids[0], { title: 'far', place: [13.40, 52.52] }), // Berlin
        record(appId, ids[0], { title: 'near', place: [2.35, 48.86] }), // Paris
        record(appId, ids[0], { title: 'nearer', place: [2.2945, 48.8584] }),
        record(appId, ids[0], { title: 'nowhere' }),
      ]);
      const near = { field: F.place, lon: 2.2945, lat: 48.8584, radiusM: 100_000 };
      assert.deepEqual(titles(await store.customObjects.queryRecords(query(appId, { near }))), ['nearer', 'near']);
      assert.equal(await store.customObjects.countRecords(query(appId, { near: { ...near, radiusM: 2_000_000 } })), 3);
    });

    it('lets each viewer see and change only what the permissions open to them', async () => {
      const { appId, ids } = await setup();
      const [a, b, c] = ids;
      const perms = (read: Permission, update: Permission = owner) => ({ read, update, delete: owner });
      await store.customObjects.insertRecords([
        record(appId, a, { title: 'open' }),
        record(appId, a, { title: 'mine' }, { permissions: perms(owner) }),
        record(appId, a, { title: 'for-b' }, { permissions: perms({ access: 'open_for_users_ids', userIds: [b], groups: [] }) }),
        record(appId, a, { title: 'for-team' }, { permissions: perms({ access: 'open_for_groups', userIds: [], groups: ['team', 'ops'] }, { access: 'open', userIds: [], groups: [] }) }),
      ]);
      const seen = async (viewer: Viewer, action: RecordQuery['action'] = 'read') => titles(await store.customObjects.queryRecords(query(appId, { viewer, action })));
      assert.deepEqual(await seen({ userId: a, groups: [], unrestricted: false }), ['open', 'mine', 'for-b', 'for-team'], 'the creator sees all of theirs');
      assert.deepEqual(await seen({ userId: b, groups: [], unrestricted: false }), ['open', 'for-b']);
      assert.deepEqual(await seen({ userId: c, groups: ['ops'], unrestricted: false }), ['open', 'for-team']);
      assert.deepEqual(await seen({ userId: null, groups: [], unrestricted: false }), ['open'], 'an application session sees open records');
      assert.deepEqual(await seen(all), ['open', 'mine', 'for-b', 'for-team']);
      assert.deepEqual(await seen({ userId: b, groups: [], unrestricted: false }, 'update'), ['for-team']);
      assert.deepEqual(await seen({ userId: a, groups: [], unrestricted: false }, 'delete'), ['open', 'mine', 'for-b', 'for-team']);
    });

    it('groups with aggregates', async () => {
      const { appId, ids } = await setup();
      await store.customObjects.insertRecords([
        record(appId, ids[0], { title: 'x', score: 1, rating: 1 }),
        record(appId, ids[0], { title: 'x', score: 3, rating: 2 }),
        record(appId, ids[0], { title: 'y', score: 5 }),
      ]);
      const rows = await store.customObjects.groupRecords({
        ...query(appId), groupBy: F.title, calc: [{ field: F.score, fn: 'sum' }, { field: F.rating, fn: 'avg' }, { field: F.score, fn: 'max' }],
      });
      assert.deepEqual(rows, [
        { key: 'x', count: 2, values: { 'score.sum': 4, 'rating.avg': 1.5, 'score.max': 3 } },
        { key: 'y', count: 1, values: { 'score.sum': 5, 'rating.avg': null, 'score.max': 5 } },
      ]);
    });

    it('updates one record atomically and changes nothing when the change throws', async () => {
      const { appId, ids } = await setup();
      const r = record(appId, ids[0], { title: 't', score: 0 });
      await store.customObjects.insertRecords([r]);
      await Promise.all(Array.from({ length: 20 }, () => store.customObjects.updateRecord(appId, 'Note', r.id, (cur) => ({
        ...cur, fields: { ...cur.fields, score: (cur.fields.score as number) + 1 }, updatedAt: new Date(),
      }))));
      const [after20] = await store.customObjects.getRecords(appId, 'Note', [r.id]);
      assert.equal(after20.fields.score, 20);
      await assert.rejects(store.customObjects.updateRecord(appId, 'Note', r.id, () => { throw new Error('no'); }), /no/);
      const changed = await store.customObjects.updateRecord(appId, 'Note', r.id, (cur) => ({ ...cur, permissions: { ...cur.permissions, read: owner }, fields: { title: 'u' } }));
      assert.deepEqual(changed?.fields, { title: 'u' });
      assert.equal(changed?.permissions.read.access, 'owner');
      assert.equal(changed?.userId, ids[0]);
      assert.equal(await store.customObjects.updateRecord(appId, 'Note', newObjectId(), (x) => x), null);
    });

    it('deletes by ids and reports which existed', async () => {
      const { appId, ids } = await setup();
      const rs = [record(appId, ids[0], { title: '1' }), record(appId, ids[0], { title: '2' })];
      await store.customObjects.insertRecords(rs);
      const missing = newObjectId();
      assert.deepEqual(await store.customObjects.deleteRecords(appId, 'Note', [rs[0].id, missing]), [rs[0].id]);
      assert.deepEqual(titles(await store.customObjects.queryRecords(query(appId))), ['2']);
    });
  });

  describe(`AppSettingsStore, ApiKeyStore, PasswordResetStore, SessionRevocationStore and IdentityLinkStore contract: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
    });

    it('keeps JSON settings per application', async () => {
      const app = await store.accounts.createApplication({});
      const other = await store.accounts.createApplication({});
      assert.equal(await store.appSettings.get(app.id, 'k'), undefined);
      await store.appSettings.set(app.id, 'k', { on: true });
      await store.appSettings.set(app.id, 'k', { on: false });
      await store.appSettings.set(app.id, 'n', 3);
      assert.deepEqual(await store.appSettings.get(app.id, 'k'), { on: false });
      assert.deepEqual(await store.appSettings.all(app.id), { k: { on: false }, n: 3 });
      assert.deepEqual(await store.appSettings.all(other.id), {});
      await store.appSettings.set(app.id, 'k', undefined);
      assert.deepEqual(await store.appSettings.all(app.id), { n: 3 });
    });

    it('finds live keys by digest until they are revoked', async () => {
      const app = await store.accounts.createApplication({});
      const other = await store.accounts.createApplication({});
      const hash = randomBytes(32).toString('hex');
      const at = new Date(Math.floor(Date.now() / 1000) * 1000);
      const key = await store.apiKeys.createKey(app.id, hash, at);
      assert.deepEqual(key, { id: key.id, appId: app.id, createdAt: at, revokedAt: null });
      assert.deepEqual(await store.apiKeys.findLiveKey(hash), key);
      assert.deepEqual(await store.apiKeys.listKeys(app.id), [key]);
      assert.equal(await store.apiKeys.revokeKey(other.id, key.id, at), false);
      assert.equal(await store.apiKeys.revokeKey(app.id, key.id, at), true);
      assert.equal(await store.apiKeys.revokeKey(app.id, key.id, at), false);
      assert.equal(await store.apiKeys.findLiveKey(hash), null);
      assert.deepEqual((await store.apiKeys.listKeys(app.id))[0].revokedAt, at);
      await assert.rejects(store.apiKeys.createKey(app.id, hash, at), 'digests are unique');
    });

    it('opens a reset once and only until it expires; forgets it with its user', async () => {
      const app = await store.accounts.createApplication({});
      const user = await store.accounts.createUser(app.id, { login: `r-${randomBytes(4).toString('hex')}`, password: 'pw' });
      const now = new Date();
      const [live, stale, gone] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
      await store.passwordResets.createReset({ tokenHash: live, appId: app.id, userId: user.id, expiresAt: new Date(now.getTime() + 60_000) });
      await store.passwordResets.createReset({ tokenHash: stale, appId: app.id, userId: user.id, expiresAt: new Date(now.getTime() - 1) });
      assert.deepEqual(await store.passwordResets.findLiveReset(live, now), { appId: app.id, userId: user.id });
      assert.equal(await store.passwordResets.findLiveReset(stale, now), null);
      assert.equal(await store.passwordResets.consumeReset(stale, now), null);
      const uses = await Promise.all([1, 2, 3].map(() => store.passwordResets.consumeReset(live, now)));
      assert.equal(uses.filter((u) => u !== null).length, 1, 'one use, even when raced');
      assert.equal(await store.passwordResets.findLiveReset(live, now), null);
      await store.passwordResets.createReset({ tokenHash: gone, appId: app.id, userId: user.id, expiresAt: new Date(now.getTime() + 60_000) });
      await store.accounts.deleteUser(app.id, user.id);
      assert.equal(await store.passwordResets.findLiveReset(gone, now), null);
    });

    it('hands out revocations in order after an id, and knows the latest id', async () => {
      const start = await store.revocations.latestId();
      const a = await store.revocations.add({ kind: 'password', appId: 7, userId: 42 });
      const b = await store.revocations.add({ kind: 'app-deleted', appId: 8, userId: null });
      const c = await store.revocations.add({ kind: 'user-deleted', appId: 7, userId: 43 });
      assert.ok(start < a && a < b && b < c);
      assert.equal(await store.revocations.latestId(), c);
      const all = await store.revocations.since(start, 10);
      assert.deepEqual(all.map(({ createdAt, ...r }) => r), [
        { id: a, kind: 'password', appId: 7, userId: 42 },
        { id: b, kind: 'app-deleted', appId: 8, userId: null },
        { id: c, kind: 'user-deleted', appId: 7, userId: 43 },
      ]);
      assert.ok(all.every((r) => Math.abs(r.createdAt.getTime() - Date.now()) < 60_000));
      assert.deepEqual((await store.revocations.since(start, 2)).map((r) => r.id), [a, b]);
      assert.deepEqual((await store.revocations.since(b, 10)).map((r) => r.id), [c]);
      assert.deepEqual(await store.revocations.since(c, 10), []);
    });

    it('links provider uids to users per application', async () => {
      const app = await store.accounts.createApplication({});
      const other = await store.accounts.createApplication({});
      const [a, b] = await Promise.all(['a', 'b'].map((l) => store.accounts.createUser(app.id, { login: `${l}-${randomBytes(4).toString('hex')}`, password: 'pw' })));
      assert.equal(await store.identityLinks.findLinkedUser(app.id, 'u1'), null);
      await store.identityLinks.link(app.id, 'u1', a.id);
      assert.equal(await store.identityLinks.findLinkedUser(app.id, 'u1'), a.id);
      assert.equal(await store.identityLinks.findLinkedUser(other.id, 'u1'), null);
      await store.identityLinks.link(app.id, 'u1', b.id);
      assert.equal(await store.identityLinks.findLinkedUser(app.id, 'u1'), b.id);
      await store.accounts.deleteUser(app.id, b.id);
      assert.equal(await store.identityLinks.findLinkedUser(app.id, 'u1'), null);
    });
  });
}
