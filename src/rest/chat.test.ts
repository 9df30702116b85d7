import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import qs from 'qs';
import { restHarness, PASSWORD, type RestHarness } from './harness.js';
import { chatRoutes } from './chat.js';
import type { User } from '../storage/types.js';

const form = (token: string, data: Record<string, unknown>) => ({
  headers: { 'qb-token': token, 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
  payload: qs.stringify(data, { encodeValuesOnly: true }),
});

describe('REST chat dialogs and messages', () => {
  let h: RestHarness;
  let ann: User, bob: User, cat: User;
  let annT: string, bobT: string, catT: string;
  before(async () => {
    h = await restHarness({}, { plugins: [chatRoutes] });
    [ann, bob, cat] = [await h.newUser(), await h.newUser(), await h.newUser()];
    [annT, bobT, catT] = await Promise.all([ann, bob, cat].map((u) => h.session({ login: u.login, password: PASSWORD })));
  });
  after(() => h.close());

  const get = (token: string, url: string) => h.request({ method: 'GET', url, headers: { 'qb-token': token } });

  it('needs a user session', async () => {
    const appToken = await h.session();
    const res = await get(appToken, '/chat/Dialog.json');
    assert.equal(res.statusCode, 422);
    assert.equal(res.body, '{"errors":{"base":["Forbidden. Need user."]}}');
  });

  it('never stores or shows a token sent as ?token= (or any parameter the API itself reads) as a custom field', async () => {
    const dialog = (await h.request({ method: 'POST', url: '/chat/Dialog.json', ...form(annT, { type: 3, occupants_ids: `${cat.id}` }) })).json();
    const sent = await h.request({
      method: 'POST',
      url: `/chat/Message.json?token=${annT}`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ chat_dialog_id: dialog._id, message: 'hi', nonce: 5, signature: 'abc', mood: 'ok' }),
    });
    assert.equal(sent.statusCode, 201, sent.body);
    assert.equal(sent.body.includes(annT), false, 'the token is not echoed');
    assert.equal(sent.json().mood, 'ok');
    const read = await get(catT, `/chat/Message.json?chat_dialog_id=${dialog._id}`);
    assert.equal(read.body.includes(annT), false, 'nor shown to another reader');
    for (const name of ['token', 'nonce', 'signature']) assert.equal(name in read.json().items[0], false, name);
  });

  it('creates a private dialog from a form (occupants as "a, b"), reuses it, and sends messages into it', async () => {
    const created = await h.request({ method: 'POST', url: '/chat/Dialog.json', ...form(annT, { type: 3, occupants_ids: `${bob.id}` }) });
    assert.equal(created.statusCode, 201, created.body);
    const dialog = created.json();
    assert.match(dialog._id, /^[0-9a-f]{24}$/);
    assert.deepEqual(dialog.occupants_ids, [ann.id, bob.id].sort((a, b) => a - b));
    assert.equal(dialog.xmpp_room_jid, null);
    assert.equal(dialog.unread_messages_count, 0);
    const again = await h.request({ method: 'POST', url: '/chat/Dialog.json', ...form(bobT, { type: 3, occupants_ids: `${ann.id}, ${bob.id}` }) });
    assert.equal(again.json()._id, dialog._id, 'the private dialog is reused');

    const sent = await h.request({ method: 'POST', url: '/chat/Message.json', ...form(annT, {
      chat_dialog_id: dialog._id, message: 'hello bob', attachments: { 0: { type: 'image', id: '42', url: 'https://x/y.png', size: '123' } }, mood: 'sunny',
    }) });
    assert.equal(sent.statusCode, 201, sent.body);
    const message = sent.json();
    assert.equal(message.message, 'hello bob');
    assert.equal(message.sender_id, ann.id);
    assert.equal(message.recipient_id, bob.id);
    assert.equal(message.mood, 'sunny');
    assert.deepEqual(message.attachments, [{ type: 'image', id: '42', url: 'https://x/y.png', size: '123' }]);
    assert.equal(Number.isInteger(message.date_sent), true);

    const unread = await get(bobT, `/chat/Message/unread.json?chat_dialog_ids=${dialog._id}`);
    assert.deepEqual(unread.json(), { total: 1, [dialog._id]: 1 });
    const peek = await get(bobT, `/chat/Message.json?chat_dialog_id=${dialog._id}&mark_as_read=0`);
    assert.deepEqual(Object.keys(peek.json()).sort(), ['items', 'limit', 'skip']);
    assert.equal((await get(bobT, '/chat/Message/unread.json')).json().total, 1, 'mark_as_read=0 leaves it unread');
    const read = await get(bobT, `/chat/Message.json?chat_dialog_id=${dialog._id}`);
    assert.deepEqual(read.json().items.map((m: { _id: string }) => m._id), [message._id]);
    assert.equal((await get(bobT, '/chat/Message/unread.json')).json().total, 0, 'listing marks read');
    const byId = await get(annT, `/chat/Message/${message._id}.json`);
    assert.deepEqual(byId.json().read_ids.sort(), [ann.id, bob.id].sort((a, b) => a - b));
  });

  it('keeps strangers out: 403 for another user\'s dialog, 404 for another application\'s or a malformed id', async () => {
    const dialog = (await h.request({ method: 'POST', url: '/chat/Dialog.json', ...form(annT, { type: 2, name: 'Team', occupants_ids: `${bob.id}` }) })).json();
    assert.equal((await get(catT, `/chat/Message.json?chat_dialog_id=${dialog._id}`)).statusCode, 403);
    const posted = await h.request({ method: 'POST', url: '/chat/Message.json', ...form(catT, { chat_dialog_id: dialog._id, message: 'let me in' }) });
    assert.equal(posted.statusCode, 403);
    assert.equal(posted.body, '{"errors":["You don\'t have appropriate permissions to perform this operation"]}');
    assert.equal((await get(annT, '/chat/Message.json?chat_dialog_id=nope')).statusCode, 404);
    const otherApp = await h.store.accounts.createApplication({ name: 'other' });
    const stranger = await h.newUser(undefined, undefined, otherApp);
    const strangerT = await h.session({ login: stranger.login, password: PASSWORD }, otherApp);
    assert.equal((await get(strangerT, `/chat/Dialog/${dialog._id}.json`)).statusCode, 404);
    assert.equal((await get(strangerT, `/chat/Message.json?chat_dialog_id=${dialog._id}`)).statusCode, 404);
    const history = await get(annT, `/chat/Message.json?chat_dialog_id=${dialog._id}`);
    assert.deepEqual(history.json().items, [], 'nothing was stored by the refused requests');
  });

  it('updates a group with a JSON body (push_all / pull_all) under QuickBlox\'s rules', async () => {
    const dialog = (await h.request({ method: 'POST', url: '/chat/Dialog.json', ...form(annT, { type: 2, name: 'Club', occupants_ids: `${bob.id}` }) })).json();
    const push = await h.request({ method: 'PUT', url: `/chat/Dialog/${dialog._id}.json`, headers: { 'qb-token': bobT }, payload: { push_all: { occupants_ids: [cat.id] }, name: 'Club 2' } });
    assert.equal(push.statusCode, 200, push.body);
    assert.deepEqual(push.json().occupants_ids, [ann.id, bob.id, cat.id].sort((a, b) => a - b));
    assert.equal(push.json().name, 'Club 2');
    const kick = await h.request({ method: 'PUT', url: `/chat/Dialog/${dialog._id}.json`, headers: { 'qb-token': bobT }, payload: { pull_all: { occupants_ids: [cat.id] } } });
    assert.equal(kick.statusCode, 403, 'only the owner removes others');
    const owner = await h.request({ method: 'PUT', url: `/chat/Dialog/${dialog._id}.json`, headers: { 'qb-token': annT }, payload: { pull_all: { occupants_ids: [cat.id] } } });
    assert.deepEqual(owner.json().occupants_ids, [ann.id, bob.id].sort((a, b) => a - b));
  });

  it('deletes one id with an empty body and several with the result lists', async () => {
    const d1 = (await h.request({ method: 'POST', url: '/chat/Dialog.json', ...form(annT, { type: 2, name: 'A', occupants_ids: `${bob.id}` }) })).json();
    const d2 = (await h.request({ method: 'POST', url: '/chat/Dialog.json', ...form(annT, { type: 2, name: 'B', occupants_ids: `${bob.id}` }) })).json();
    const single = await h.request({ method: 'DELETE', url: `/chat/Dialog/${d1._id}.json`, ...form(bobT, {}) });
    assert.equal(single.statusCode, 200);
    assert.equal(single.body, '');
    const forced = await h.request({ method: 'DELETE', url: `/chat/Dialog/${d2._id},${'f'.repeat(24)}.json`, ...form(bobT, { force: 1 }) });
    assert.deepEqual(forced.json(), { SuccessfullyDeleted: { ids: [] }, WrongPermissions: { ids: [d2._id] }, NotFound: { ids: ['f'.repeat(24)] } });
    const owner = await h.request({ method: 'DELETE', url: `/chat/Dialog/${d2._id}.json?force=1`, headers: { 'qb-token': annT } });
    assert.equal(owner.statusCode, 200);
    assert.equal((await get(bobT, `/chat/Dialog/${d2._id}.json`)).statusCode, 404);
  });

  it('marks the whole dialog read with PUT /chat/Message.json and deletes messages for me or, by the sender, for all', async () => {
    const dialog = (await h.request({ method: 'POST', url: '/chat/Dialog.json', ...form(annT, { type: 2, name: 'Marks', occupants_ids: `${bob.id}` }) })).json();
    const ids: string[] = [];
    for (const text of ['one', 'two']) ids.push((await h.request({ method: 'POST', url: '/chat/Message.json', ...form(annT, { chat_dialog_id: dialog._id, message: text }) })).json()._id);
    assert.equal((await get(bobT, `/chat/Message/unread.json?chat_dialog_ids=${dialog._id}`)).json()[dialog._id], 2);
    const all = await h.request({ method: 'PUT', url: '/chat/Message.json', ...form(bobT, { chat_dialog_id: dialog._id, read: 1 }) });
    assert.equal(all.statusCode, 200);
    assert.equal(all.body, '');
    assert.equal((await get(bobT, `/chat/Message/unread.json?chat_dialog_ids=${dialog._id}`)).json()[dialog._id], 0);
    const notSender = await h.request({ method: 'DELETE', url: `/chat/Message/${ids[0]}.json`, ...form(bobT, { force: 1 }) });
    assert.equal(notSender.statusCode, 403);
    const mine = await h.request({ method: 'DELETE', url: `/chat/Message/${ids[0]}.json`, ...form(bobT, {}) });
    assert.equal(mine.statusCode, 200);
    const seenByBob = await get(bobT, `/chat/Message.json?chat_dialog_id=${dialog._id}&mark_as_read=0`);
    assert.deepEqual(seenByBob.json().items.map((m: { _id: string }) => m._id), [ids[1]]);
    const seenByAnn = await get(annT, `/chat/Message.json?chat_dialog_id=${dialog._id}&mark_as_read=0`);
    assert.deepEqual(seenByAnn.json().items.map((m: { _id: string }) => m._id), ids);
    const both = await h.request({ method: 'DELETE', url: `/chat/Message/${ids.join(',')}.json`, ...form(annT, { force: 1 }) });
    assert.deepEqual(both.json().SuccessfullyDeleted.ids.sort(), [...ids].sort());
  });

  it('reads and sets per-user notification settings', async () => {
    const dialog = (await h.request({ method: 'POST', url: '/chat/Dialog.json', ...form(annT, { type: 2, name: 'Quiet', occupants_ids: `${bob.id}` }) })).json();
    assert.deepEqual((await get(bobT, `/chat/Dialog/${dialog._id}/notifications.json`)).json(), { notifications: { enabled: 1 } });
    const off = await h.request({ method: 'PUT', url: `/chat/Dialog/${dialog._id}/notifications.json`, ...form(bobT, { enabled: 0 }) });
    assert.equal(off.statusCode, 200, off.body);
    assert.deepEqual(off.json(), { notifications: { enabled: 0 } });
    assert.deepEqual((await get(bobT, `/chat/Dialog/${dialog._id}/notifications.json`)).json(), { notifications: { enabled: 0 } });
    assert.deepEqual((await get(annT, `/chat/Dialog/${dialog._id}/notifications.json`)).json(), { notifications: { enabled: 1 } });
    assert.equal((await get(catT, `/chat/Dialog/${dialog._id}/notifications.json`)).statusCode, 403);
  });

  it('downloads a dialog\'s history as JSON lines or CSV, for occupants only', async () => {
    const dialog = (await h.request({ method: 'POST', url: '/chat/Dialog.json', ...form(annT, { type: 2, name: 'Export', occupants_ids: `${bob.id}` }) })).json();
    for (const text of ['first', 'second, with "quotes"']) {
      await h.request({ method: 'POST', url: '/chat/Message.json', ...form(annT, { chat_dialog_id: dialog._id, message: text }) });
    }
    const jsonl = await get(bobT, `/chat/Dialog/${dialog._id}/history.json`);
    assert.equal(jsonl.statusCode, 200);
    assert.match(String(jsonl.headers['content-type']), /application\/x-ndjson/);
    assert.deepEqual(jsonl.body.trim().split('\n').map((l) => JSON.parse(l).message), ['first', 'second, with "quotes"']);
    const csv = await get(bobT, `/chat/Dialog/${dialog._id}/history.json?format=csv`);
    assert.match(String(csv.headers['content-type']), /text\/csv/);
    assert.match(csv.body, /^_id,chat_dialog_id,/);
    assert.match(csv.body, /"second, with ""quotes"""/);
    assert.equal((await get(catT, `/chat/Dialog/${dialog._id}/history.json`)).statusCode, 403);
    assert.equal((await get(bobT, `/chat/Dialog/${dialog._id}/history.json?format=xml`)).statusCode, 422);
  });
});
