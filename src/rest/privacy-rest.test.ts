// Privacy lists apply to messages created through REST: a blocked sender's message is not counted
// unread for (nor shown to) the user who blocked them; everyone else gets it as usual.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { restHarness, PASSWORD, type RestHarness } from './harness.js';
import { chatRoutes } from './chat.js';
import type { User } from '../storage/types.js';

describe('REST messages and privacy lists', () => {
  let h: RestHarness;
  let ann: User, bob: User, cat: User;
  let annT: string, bobT: string, catT: string;
  before(async () => {
    h = await restHarness({}, { plugins: [chatRoutes] });
    [ann, bob, cat] = [await h.newUser(), await h.newUser(), await h.newUser()];
    [annT, bobT, catT] = await Promise.all([ann, bob, cat].map((u) => h.session({ login: u.login, password: PASSWORD })));
    // Ann blocks Bob the way the QuickBlox SDK does: his JID and his nick in every room.
    await h.store.privacy.setList(ann.id, {
      name: 'public',
      items: [
        { type: 'jid', value: `${bob.id}-${h.application.id}@chat.test`, action: 'deny', order: 1, stanzas: [] },
        { type: 'jid', value: `muc.chat.test/${bob.id}`, action: 'deny', order: 2, stanzas: [] },
      ],
    });
    await h.store.privacy.setDefault(ann.id, 'public');
  });
  after(() => h.close());

  const post = (token: string, url: string, payload: Record<string, unknown>) =>
    h.request({ method: 'POST', url, headers: { 'qb-token': token, 'content-type': 'application/json' }, payload });
  const get = async (token: string, url: string) => (await h.request({ method: 'GET', url, headers: { 'qb-token': token } })).json();

  it('a private message from a blocked sender is neither unread nor in the blocker\'s history; the sender keeps it', async () => {
    const dialog = (await post(bobT, '/chat/Dialog.json', { type: 3, occupants_ids: [ann.id] })).json();
    const sent = await post(bobT, '/chat/Message.json', { chat_dialog_id: dialog._id, message: 'let me in', send_to_chat: 1 });
    assert.equal(sent.statusCode, 201);
    assert.equal((await get(annT, '/chat/Message/unread.json')).total, 0);
    assert.deepEqual((await get(annT, `/chat/Message.json?chat_dialog_id=${dialog._id}`)).items, []);
    assert.deepEqual((await get(bobT, `/chat/Message.json?chat_dialog_id=${dialog._id}`)).items.map((m: { message: string }) => m.message), ['let me in']);
    const fromCat = (await post(catT, '/chat/Dialog.json', { type: 3, occupants_ids: [ann.id] })).json();
    await post(catT, '/chat/Message.json', { chat_dialog_id: fromCat._id, message: 'hello ann' });
    assert.equal((await get(annT, '/chat/Message/unread.json')).total, 1, 'others still reach her');
  });

  it('in a group dialog the blocker alone does not count the blocked sender\'s message', async () => {
    const group = (await post(catT, '/chat/Dialog.json', { type: 2, name: 'trio', occupants_ids: [ann.id, bob.id] })).json();
    const before = (await get(annT, '/chat/Message/unread.json')).total;
    await post(bobT, '/chat/Message.json', { chat_dialog_id: group._id, message: 'from bob' });
    assert.equal((await get(annT, '/chat/Message/unread.json')).total, before);
    assert.equal((await get(catT, `/chat/Message/unread.json?chat_dialog_ids=${group._id}`))[group._id], 1);
    await post(catT, '/chat/Message.json', { chat_dialog_id: group._id, message: 'from cat' });
    assert.equal((await get(annT, '/chat/Message/unread.json')).total, before + 1);
  });
});
