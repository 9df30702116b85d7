// `parley migrate` end to end: an installation made through the SQLite store reads the same
// through the PostgreSQL store afterwards. Needs PARLEY_TEST_DATABASE_URL, like the driver tests.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openPostgresStore } from '../storage/postgres/index.js';
import { COPY_ORDER, copySqliteToPostgres } from '../storage/postgres/from-sqlite.js';
import { createTestSchema } from '../storage/postgres/test-schema.js';
import { openSqliteStore } from '../storage/sqlite/index.js';
import type { ChatMessage, NewDialog, Store } from '../storage/types.js';
import { main } from './main.js';

const baseUrl = process.env.PARLEY_TEST_DATABASE_URL;
const dir = mkdtempSync(path.join(tmpdir(), 'parley-migrate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env: {} });
  return { code, stdout, stderr };
}

const objectId = () => randomBytes(12).toString('hex');

/** An installation with rows in every table; returns what to look for afterwards. */
async function populate(store: Store) {
  const app = await store.accounts.createApplication({ name: 'moved' });
  const ann = await store.accounts.createUser(app.id, { login: 'ann', password: 'pw-ann', email: 'ann@example.com', tags: ['a', 'b'], customData: '{"x":1}' });
  const bob = await store.accounts.createUser(app.id, { login: 'bob', password: 'pw-bob' });
  const gone = await store.accounts.createUser(app.id, { login: 'gone', password: 'pw' });
  await store.accounts.deleteUser(app.id, gone.id); // the highest user id was used once: a new user must not get it again
  await store.accounts.touchUser(app.id, ann.id, new Date(1_700_000_000_123));
  await store.offline.push(bob.id, '<message id="o1"/>', 10);
  await store.roster.setItem(ann.id, { jid: `${bob.id}-${app.id}@localhost`, name: 'Bob', subscription: 'both', ask: true, groups: ['Friends'] });
  const session = await store.sessions.createSession({ token: 'tok-moved', appId: app.id, userId: ann.id, nonce: 7, ts: 1_700_000_000, expiresAt: new Date(Date.now() + 3_600_000) });
  await store.sessions.claimNonce(app.id, 1_700_000_000, '99');
  const dialog: NewDialog = {
    id: objectId(), appId: app.id, type: 2, name: 'Team', photo: null, ownerId: ann.id, occupantIds: [ann.id, bob.id], adminIds: [ann.id],
    data: { class_name: 'Extra', level: 2 }, isJoinRequired: true, createdAt: new Date(1_600_000_000_000),
  };
  await store.chat.createDialog(dialog);
  const messages: ChatMessage[] = [];
  for (const [i, body] of ['one', 'two', 'three'].entries()) {
    const m: ChatMessage = {
      id: objectId(), appId: app.id, dialogId: dialog.id, senderId: ann.id, recipientId: 0, body, dateSent: 1_700_000_000 + i,
      attachments: [{ type: 'image', id: '42' }], customParams: { pinned: i === 0 }, markable: true, readIds: [ann.id], deliveredIds: [ann.id],
      createdAt: new Date(1_700_000_000_000 + i * 1000), updatedAt: new Date(1_700_000_000_000 + i * 1000),
    };
    await store.chat.insertMessage(m, { unreadFor: [bob.id], unhideFor: [ann.id] });
    messages.push(m);
  }
  await store.chat.markMessages(dialog.id, bob.id, [messages[0].id], { read: true });
  await store.chat.hideMessages(bob.id, [messages[1].id]);
  await store.chat.setNotifications(dialog.id, ann.id, false);
  const blob = await store.blobs.createBlob({
    appId: app.id, userId: ann.id, uid: randomBytes(16).toString('hex'), name: 'a.png', contentType: 'image/png', public: true, tags: ['x y'],
    uploadKeyHash: randomBytes(32).toString('hex'), uploadExpiresAt: new Date(Date.now() + 3_600_000),
  });
  await store.privacy.setList(ann.id, { name: 'blocked', items: [{ type: 'jid', value: `${bob.id}-${app.id}@localhost`, action: 'deny', order: 1, stanzas: ['message'] }] });
  await store.privacy.setDefault(ann.id, 'blocked');
  const operator = await store.operators.createOperator({ email: 'ops@example.org', password: 'operator pw', appIds: [app.id] });
  await store.operators.createOperatorSession({ tokenHash: 'a'.repeat(64), operatorId: operator.id, expiresAt: new Date(Date.now() + 3_600_000) });
  const sub = await store.push.saveSubscription({ appId: app.id, userId: bob.id, channel: 'apns', environment: 'production', token: 'ab'.repeat(32), bundleId: 'com.x', platform: 'ios', udid: 'u1' }, new Date(1000));
  const pushEvent = await store.push.createEvent({
    appId: app.id, userId: ann.id, eventType: 'one_shot', environment: 'production', pushType: null, message: 'aGk=', recipients: { userIds: [bob.id], tagsAny: ['b'] },
    name: 'n', date: null, endDate: null, period: null, active: true, occuredCount: 1, nextRunAt: null,
  }, [{ appId: app.id, eventId: null, subscriptionId: sub.id, userId: bob.id, channel: 'apns', environment: 'production', token: sub.token, bundleId: 'com.x', payload: '{"aps":{}}', collapseKey: null, dueAt: 0 }], new Date(2000));
  // The platform's tables (custom objects, settings, API keys, reactions, reset links, identity links).
  const at = new Date(1_700_000_000_000);
  await store.customObjects.createClass({ appId: app.id, name: 'Note', fields: [{ name: 'title', type: 'String', isArray: false }], createdAt: at, updatedAt: at });
  const owner = { access: 'owner' as const, userIds: [], groups: [] };
  await store.customObjects.insertRecords([{
    id: '5f00000000000000000000c1', appId: app.id, className: 'Note', parentId: null, userId: ann.id, fields: { title: 'hello' },
    permissions: { read: owner, update: owner, delete: owner }, createdAt: at, updatedAt: at,
  }]);
  await store.appSettings.set(app.id, 'custom_objects_auto_create', true);
  await store.apiKeys.createKey(app.id, 'c'.repeat(64), at);
  await store.reactions.addReaction(messages[0]!.id, bob.id, 'like', at, 20);
  await store.passwordResets.createReset({ tokenHash: 'd'.repeat(64), appId: app.id, userId: ann.id, expiresAt: new Date(Date.now() + 3_600_000) });
  await store.identityLinks.link(app.id, 'uid-1', ann.id);
  await store.keyValue.set('user', ann.id, 'vcard', '<vCard xmlns="vcard-temp"><FN>Ann</FN></vCard>');
  await store.pep.putNode(ann.id, { node: 'urn:xmpp:bookmarks:1', accessModel: 'whitelist', maxItems: 5 });
  for (const id of ['r1', 'r2']) await store.pep.publish(ann.id, 'urn:xmpp:bookmarks:1', { id, payload: `<conference xmlns="urn:xmpp:bookmarks:1" name="${id}"/>`, publishedAt: new Date(1_700_000_000_000) });
  await store.revocations.add({ kind: 'password', appId: app.id, userId: ann.id });
  return { app, ann, bob, gone, session, dialog, messages, blob, pushEvent };
}

/** Everything `populate` made, as read through a store. */
async function snapshot(store: Store, made: Awaited<ReturnType<typeof populate>>) {
  const { app, ann, bob, dialog, messages, blob } = made;
  return {
    apps: await store.accounts.listApplications(),
    users: await store.accounts.listUsers(app.id),
    tagged: (await store.accounts.queryUsers(app.id, { anyTag: ['b'], limit: 10, offset: 0 })).users.map((u) => u.id),
    offline: await store.offline.list(bob.id),
    roster: await store.roster.getRoster(ann.id),
    session: await store.sessions.getSession(made.session.token),
    dialog: await store.chat.getDialog(app.id, dialog.id),
    states: [await store.chat.getMemberState(dialog.id, ann.id), await store.chat.getMemberState(dialog.id, bob.id)],
    seenByBob: await store.chat.listMessages({ dialogId: dialog.id, viewerId: bob.id, filters: [], limit: 10, skip: 0 }),
    all: await store.chat.historyBatch(app.id, dialog.id, null, 10),
    filtered: (await store.chat.listMessages({ dialogId: dialog.id, viewerId: ann.id, filters: [{ field: 'attachments.type', op: 'eq', value: 'image' }], limit: 10, skip: 0 })).length,
    blob: await store.blobs.getBlob(app.id, blob.id),
    privacy: await store.privacy.getDefault(ann.id),
    operator: await store.operators.verifyOperator('ops@example.org', 'operator pw'),
    operatorSession: await store.operators.getOperatorSession('a'.repeat(64)),
    vcard: await store.keyValue.get('user', ann.id, 'vcard'),
    pep: [await store.pep.listNodes(ann.id), await store.pep.items(ann.id, 'urn:xmpp:bookmarks:1')],
    messages: messages.map((m) => m.id),
    subscriptions: await store.push.listSubscriptions(app.id, bob.id),
    pushEvent: await store.push.getEvent(app.id, made.pushEvent.id),
    outbox: await store.push.outbox({ appId: app.id }),
  };
}

if (!baseUrl) {
  it('parley migrate', { skip: 'PARLEY_TEST_DATABASE_URL is not set (e.g. postgres://user@127.0.0.1:5432/db); .ci/run sets it' }, () => {});
} else {
  describe('parley migrate', () => {
    it('copies every table with its ids, and advances the id sequences', async () => {
      const file = path.join(dir, 'copy.sqlite');
      const sqlite = await openSqliteStore(file);
      const made = await populate(sqlite);
      const before = await snapshot(sqlite, made);
      const schema = await createTestSchema(baseUrl);
      after(() => schema.drop());

      const target = await openPostgresStore(schema.url);
      const progress: string[] = [];
      const copied = await copySqliteToPostgres(sqlite.db, target.pool, (p) => progress.push(`${p.table} ${p.copied}/${p.total}`));
      await sqlite.close();
      assert.deepEqual([...copied.keys()], COPY_ORDER);
      for (const [table, rows] of copied) assert.ok(rows > 0, `${table} has rows to copy`);
      assert.ok(progress.includes('messages 3/3'), progress.join());

      assert.deepEqual(await snapshot(target, made), before);
      const { app, ann, gone } = made;
      assert.equal(await target.accounts.verifyPassword(app.id, ann.id, 'pw-ann'), true);
      assert.equal(await target.sessions.claimNonce(app.id, 1_700_000_000, '99'), false, 'claimed nonces stay claimed');
      const newcomer = await target.accounts.createUser(app.id, { login: 'new', password: 'pw' });
      assert.ok(newcomer.id > gone.id, `new user id ${newcomer.id} comes after every id SQLite used`);
      assert.ok((await target.accounts.createApplication({})).id > app.id);
      await target.close();
    });

    it('runs as a command, with progress on stderr, and refuses a database that is not empty', async () => {
      const file = path.join(dir, 'cli.sqlite');
      const sqlite = await openSqliteStore(file);
      const made = await populate(sqlite);
      await sqlite.close();
      const schema = await createTestSchema(baseUrl);
      after(() => schema.drop());

      const r = await run(['migrate', '--from', `sqlite://${file}`, '--to', schema.url, '--data-dir', dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^messages: 3\/3 rows copied$/m);
      assert.match(r.stdout, /^copied \d+ rows to PostgreSQL/);
      const target = await openPostgresStore(schema.url);
      assert.equal((await target.accounts.getUserByLogin(made.app.id, 'bob'))?.id, made.bob.id);
      await target.close();

      const again = await run(['migrate', '--from', `sqlite://${file}`, '--to', schema.url, '--data-dir', dir]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /not empty: table applications has rows/);
      const missing = await run(['migrate', '--from', `sqlite://${path.join(dir, 'none.sqlite')}`, '--to', schema.url, '--data-dir', dir]);
      assert.match(missing.stderr, /no SQLite database at/);
      const bad = await run(['migrate', '--from', file, '--to', schema.url, '--data-dir', dir]);
      assert.match(bad.stderr, /--from must be sqlite:\/\//);
    });
  });
}
