// The official QuickBlox JS SDK's QB.data.* against Parley's custom objects over HTTPS: create
// (JSON), list with filters and sort, update with operators, permissions between two users of one
// application, isolation between two applications, deletes by id, ids and criteria, file fields.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { DataService } from '../src/custom-objects/service.js';
import { parseFieldList } from '../src/custom-objects/fields.js';
import { freePort, startTestServer, type TestServer, type TestUser } from './support/server.js';
import type { Application } from '../src/storage/types.js';

type Callback = (err: unknown, result: unknown) => void;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const { QuickBlox } = createRequire(import.meta.url)('quickblox') as { QuickBlox: new () => any };

interface SdkError {
  code: number;
  message: unknown;
}

/** An SDK call as a promise; only the first callback counts (the SDK may call back twice). */
const call = <T>(fn: (cb: Callback) => void): Promise<T> =>
  new Promise((resolve, reject) => {
    let done = false;
    fn((err, result) => {
      if (done) return;
      done = true;
      if (err) reject(err);
      else resolve(result as T);
    });
  });

const failure = async (promise: Promise<unknown>): Promise<SdkError> => {
  try {
    await promise;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error('expected the SDK call to fail');
};

interface Note {
  _id: string;
  user_id: number;
  title: string;
  score: number | null;
  tags: string[] | null;
  attachment: { file_id: string; name: string; size: number } | null;
}

describe('custom objects with the QuickBlox JS SDK', () => {
  let server: TestServer;
  let other: Application;
  let ann: TestUser;
  let bob: TestUser;
  let cat: TestUser;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const sessions = new Map<TestUser, any>();

  /** The SDK's config is one per process: each user gets an instance and a session in turn. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function signIn(user: TestUser, app: Application): Promise<any> {
    const qb = new QuickBlox();
    qb.init(app.id, app.authKey, app.authSecret, app.accountKey, {
      endpoints: { api: `127.0.0.1:${server.server.ports.https}`, chat: server.domain },
      debug: { mode: 0 },
    });
    await call((cb) => qb.createSession({ login: user.login, password: user.password }, cb));
    sessions.set(user, qb);
    return qb;
  }
  const qb = (user: TestUser) => sessions.get(user);

  before(async () => {
    server = await startTestServer({ https_port: await freePort() });
    other = await server.createApp();
    ann = await server.createUser();
    bob = await server.createUser();
    cat = await server.createUser(undefined, undefined, other);
    await server.store.accounts.updateUser(server.app.id, bob.id, { tags: ['team'] });
    const data = new DataService(server.store);
    const fields = parseFieldList('title:String,score:Integer,tags:String_a,due:Date,attachment:File');
    await data.createClass(server.app.id, 'Note', fields);
    await data.createClass(other.id, 'Note', fields);
    await signIn(ann, server.app);
    await signIn(bob, server.app);
    await signIn(cat, other);
  });
  after(() => server?.stop());

  it('creates typed records and lists them with filters and sort', async () => {
    const created = await call<Note & { permissions: unknown; due: string }>((cb) =>
      qb(ann).data.create('Note', { title: 'first', score: '7', tags: ['red', 'blue'], due: '2019-09-21 21:21:00' }, cb));
    assert.match(created._id, /^[0-9a-f]{24}$/);
    assert.equal(created.user_id, ann.id);
    assert.equal(created.score, 7, 'cast to Integer');
    assert.equal(created.due, '2019-09-21T21:21:00Z');
    assert.deepEqual(created.permissions, { read: { access: 'open' }, update: { access: 'owner' }, delete: { access: 'owner' } });
    await call((cb) => qb(ann).data.create('Note', { title: 'second', score: 3, tags: ['red'] }, cb));

    const list = await call<{ class_name: string; items: Note[] }>((cb) =>
      qb(bob).data.list('Note', { score: { gt: 1 }, tags: { all: 'red' }, sort_desc: 'score' }, cb));
    assert.equal(list.class_name, 'Note');
    assert.deepEqual(list.items.map((n) => n.title), ['first', 'second']);
    const count = await call<{ items_count: number }>((cb) => qb(bob).data.list('Note', { title: { ctn: 'sec' }, count: 1 }, cb));
    assert.equal(count.items_count, 1);

    const bad = await failure(call((cb) => qb(ann).data.create('Note', { title: 'x', score: 'many' }, cb)));
    assert.equal(bad.code, 422);
    assert.deepEqual(bad.message, { errors: { score: ['is invalid'] } });
  });

  it('updates with operators and refuses other users without the right', async () => {
    const note = await call<Note>((cb) => qb(ann).data.create('Note', { title: 'counter', score: 1, tags: ['a'] }, cb));
    const updated = await call<Note>((cb) => qb(ann).data.update('Note', { ...note, inc: { score: 4 }, push: { tags: ['b'] } }, cb));
    assert.equal(updated.score, 5);
    assert.deepEqual(updated.tags, ['a', 'b']);
    assert.equal(updated.user_id, ann.id, 'system fields sent back by the SDK are ignored');

    const refused = await failure(call((cb) => qb(bob).data.update('Note', { _id: note._id, title: 'mine now' }, cb)));
    assert.equal(refused.code, 403);
    const del = await failure(call((cb) => qb(bob).data.delete('Note', note._id, cb)));
    assert.equal(del.code, 403);
  });

  it('opens a record to listed users and groups only', async () => {
    const forBob = await call<Note>((cb) => qb(ann).data.create('Note', {
      title: 'for bob', permissions: { read: { access: 'open_for_users_ids', ids: [bob.id] }, update: { access: 'open_for_groups', groups: 'team' } },
    }, cb));
    const secret = await call<Note>((cb) => qb(ann).data.create('Note', { title: 'secret', permissions: { read: { access: 'owner' } } }, cb));
    const seen = await call<{ items: Note[] }>((cb) => qb(bob).data.list('Note', { title: { in: 'for bob,secret' } }, cb));
    assert.deepEqual(seen.items.map((n) => n.title), ['for bob']);
    const byIds = await call<{ items: Note[]; not_found: { ids: string[] } }>((cb) => qb(bob).data.list('Note', [forBob._id, secret._id], cb));
    assert.deepEqual(byIds.items.map((n) => n._id), [forBob._id]);
    assert.deepEqual(byIds.not_found.ids, [secret._id]);
    const edited = await call<Note>((cb) => qb(bob).data.update('Note', { _id: forBob._id, title: 'edited by the team' }, cb));
    assert.equal(edited.title, 'edited by the team');
  });

  it('keeps two applications apart', async () => {
    const mine = await call<Note>((cb) => qb(ann).data.create('Note', { title: 'app one only' }, cb));
    const theirs = await call<{ items: Note[] }>((cb) => qb(cat).data.list('Note', {}, cb));
    assert.deepEqual(theirs.items, []);
    const byId = await call<{ items: Note[] }>((cb) => qb(cat).data.list('Note', [mine._id], cb));
    assert.deepEqual(byId.items, []);
    const gone = await failure(call((cb) => qb(cat).data.delete('Note', mine._id, cb)));
    assert.equal(gone.code, 404);
    const missing = await failure(call((cb) => qb(cat).data.list('Nothing', {}, cb)));
    assert.equal(missing.code, 404);
  });

  it('deletes by id, by ids and by criteria with the counts the SDK reads', async () => {
    const make = (title: string) => call<Note>((cb) => qb(ann).data.create('Note', { title, score: 99 }, cb));
    const [a, b, c] = [await make('d1'), await make('d2'), await make('d3')];
    await make('d4');
    assert.deepEqual(await call((cb) => qb(ann).data.delete('Note', a._id, cb)), { deleted: [a._id], deletedCount: 1 });
    assert.deepEqual(await call((cb) => qb(ann).data.delete('Note', [b._id, c._id], cb)), { deleted: [b._id, c._id], deletedCount: 2 });
    assert.deepEqual(await call((cb) => qb(ann).data.delete('Note', { score: 99 }, cb)), { deleted: null, deletedCount: 1 });
  });

  it('uploads, serves and deletes a file field', async () => {
    const note = await call<Note>((cb) => qb(ann).data.create('Note', { title: 'with a file' }, cb));
    const bytes = Buffer.from('custom object file body');
    const uploaded = await call<{ file_id: string; size: number; name: string }>((cb) =>
      qb(ann).data.uploadFile('Note', { id: note._id, field_name: 'attachment', file: bytes, name: 'note.txt' }, cb));
    assert.equal(uploaded.size, bytes.length);
    assert.equal(uploaded.name, 'note.txt');
    const url: string = qb(bob).data.fileUrl('Note', { id: note._id, field_name: 'attachment' });
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(Buffer.from(await res.arrayBuffer()).toString(), bytes.toString());
    const [record] = (await call<{ items: Note[] }>((cb) => qb(ann).data.list('Note', [note._id], cb))).items;
    assert.equal(record.attachment?.file_id, uploaded.file_id);
    const refused = await failure(call((cb) => qb(bob).data.deleteFile('Note', { id: note._id, field_name: 'attachment' }, cb)));
    assert.equal(refused.code, 403);
    assert.equal(await call((cb) => qb(ann).data.deleteFile('Note', { id: note._id, field_name: 'attachment' }, cb)), true);
    assert.equal((await fetch(url)).status, 404);
  });
});
