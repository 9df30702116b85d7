// Message reactions through the real REST app (inject) on SQLite: the answers and errors of
// QuickBlox 2.24's spec, the 20-name limit, include_reactions on reads, cascade on delete, and
// the `reaction` events live notices listen to.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ReactionEvent } from '../chat/events.js';
import type { User } from '../storage/types.js';
import { chatRoutes } from './chat.js';
import { restHarness, PASSWORD, type RestHarness } from './harness.js';
import { reactionRoutes } from './reactions.js';

describe('REST message reactions', () => {
  let h: RestHarness;
  let ann: User, bob: User, cat: User;
  let annT: string, bobT: string, catT: string;
  let dialogId: string;
  const events: ReactionEvent[] = [];

  before(async () => {
    h = await restHarness({}, { plugins: [chatRoutes, reactionRoutes] });
    [ann, bob, cat] = [await h.newUser(), await h.newUser(), await h.newUser()];
    [annT, bobT, catT] = await Promise.all([ann, bob, cat].map((u) => h.session({ login: u.login, password: PASSWORD })));
    h.deps.chat!.events.on('reaction', (e) => void events.push(e));
    const dialog = await h.request({ method: 'POST', url: '/chat/Dialog.json', headers: { 'qb-token': annT }, payload: { type: 3, occupants_ids: String(bob.id) } });
    dialogId = dialog.json()._id;
  });
  after(() => h?.close());

  const send = async (token: string, dialog = dialogId) => {
    const res = await h.request({ method: 'POST', url: '/chat/Message.json', headers: { 'qb-token': token }, payload: { chat_dialog_id: dialog, message: 'hi' } });
    assert.equal(res.statusCode, 201, res.body);
    return res.json()._id as string;
  };
  const react = (method: 'POST' | 'DELETE' | 'GET', token: string, id: string, name?: string) =>
    h.request({ method, url: `/chat/Message/${id}/reactions.json`, headers: { 'qb-token': token }, ...(name !== undefined ? { payload: { name } } : {}) });

  it('adds, lists, removes reactions with the answers the SDK expects', async () => {
    const id = await send(annT);
    const added = await react('POST', bobT, id, 'like');
    assert.equal(added.statusCode, 201);
    assert.equal(added.body, '');
    assert.equal((await react('POST', annT, id, 'like')).statusCode, 201);
    assert.equal((await react('POST', annT, id, '🔥')).statusCode, 201);
    assert.equal((await react('POST', annT, id, '🔥')).statusCode, 201, 'adding it again changes nothing');
    const listed = await react('GET', bobT, id);
    assert.deepEqual(listed.json(), {
      total_entries: 2,
      items: [{ name: 'like', count: 2, user_ids: [ann.id, bob.id].sort((a, b) => a - b) }, { name: '🔥', count: 1, user_ids: [ann.id] }],
    });
    const removed = await react('DELETE', bobT, id, 'like');
    assert.equal(removed.statusCode, 200);
    assert.equal(removed.body, '');
    const again = await react('DELETE', bobT, id, 'like');
    assert.equal(again.statusCode, 404);
    assert.deepEqual(again.json(), { errors: ['Reaction not found'] });
    assert.deepEqual(events.filter((e) => e.message.id === id).map((e) => `${e.userId}:${e.name}:${e.action}`), [
      `${bob.id}:like:add`, `${ann.id}:like:add`, `${ann.id}:🔥:add`, `${bob.id}:like:remove`,
    ]);
  });

  it('adds reactions to message reads with include_reactions=1 only', async () => {
    const id = await send(bobT);
    await react('POST', annT, id, 'ok');
    const one = await h.request({ method: 'GET', url: `/chat/Message/${id}.json?include_reactions=1`, headers: { 'qb-token': annT } });
    assert.deepEqual(one.json().reactions, [{ name: 'ok', count: 1, user_ids: [ann.id] }]);
    const plain = await h.request({ method: 'GET', url: `/chat/Message/${id}.json`, headers: { 'qb-token': annT } });
    assert.equal(plain.json().reactions, undefined);
    const list = await h.request({ method: 'GET', url: `/chat/Message.json?chat_dialog_id=${dialogId}&include_reactions=1`, headers: { 'qb-token': annT } });
    const items = list.json().items as { _id: string; reactions: unknown[] }[];
    assert.ok(items.every((m) => Array.isArray(m.reactions)));
    assert.deepEqual(items.find((m) => m._id === id)?.reactions, [{ name: 'ok', count: 1, user_ids: [ann.id] }]);
  });

  it('holds a message to 20 reaction names', async () => {
    const id = await send(annT);
    for (let i = 0; i < 20; i++) assert.equal((await react('POST', annT, id, `r${i}`)).statusCode, 201);
    const over = await react('POST', annT, id, 'r20');
    assert.equal(over.statusCode, 400);
    assert.deepEqual(over.json(), { errors: ['You have reached the maximum number of reactions (20) allowed per message.'] });
    assert.equal((await react('POST', bobT, id, 'r3')).statusCode, 201, 'an existing name still takes more users');
  });

  it('refuses bad names, strangers, unknown messages and public dialogs', async () => {
    const id = await send(annT);
    for (const name of [undefined, '', ' ', 'x'.repeat(65), 'a\u0000b']) {
      const res = await react('POST', annT, id, name);
      assert.equal(res.statusCode, 400, String(name));
      assert.deepEqual(res.json(), { errors: ['Invalid or missing "name" parameter.'] });
    }
    const stranger = await react('POST', catT, id, 'like');
    assert.equal(stranger.statusCode, 404);
    assert.deepEqual(stranger.json(), { errors: ['Message not found for the specified user and message ID.'] });
    assert.equal((await react('GET', annT, 'ffffffffffffffffffffffff')).statusCode, 404);
    assert.equal((await react('GET', annT, 'not-an-id')).statusCode, 404);

    const pub = await h.request({ method: 'POST', url: '/chat/Dialog.json', headers: { 'qb-token': annT }, payload: { type: 1, name: 'lobby' } });
    const inPublic = await send(annT, pub.json()._id);
    const refused = await react('POST', catT, inPublic, 'like');
    assert.equal(refused.statusCode, 422);
    assert.deepEqual(refused.json(), { errors: ['Reactions are not allowed in public dialogs.'] });
  });

  it('drops reactions with their message', async () => {
    const id = await send(annT);
    await react('POST', bobT, id, 'like');
    const del = await h.request({ method: 'DELETE', url: `/chat/Message/${id}.json`, headers: { 'qb-token': annT }, payload: { force: 1 } });
    assert.equal(del.statusCode, 200, del.body);
    assert.equal((await h.store.reactions.listReactions([id])).size, 0);
  });
});
