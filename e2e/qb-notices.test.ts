// Live notices (urn:xmpp:notice:0) over real XMPP streams (@xmpp/client) while the changes come in
// over REST: message edit and delete, reactions, dialog update and delete; only streams that
// enabled notices get them, and disable stops them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClientPool, xml, type Conn, type XEl } from './support/clients.js';
import { restSession, restUrl } from './support/rest.js';
import { startTestServer, type TestServer, type TestUser } from './support/server.js';

const NS = 'urn:xmpp:notice:0';

const notice = (id: string) => (el: XEl) =>
  el.name === 'message' && el.attrs.type === 'headline' && el.getChild('extraParams')?.getChild('moduleIdentifier', NS)?.text() === id;
const field = (el: XEl, name: string) => el.getChild('extraParams')?.getChildText(name);

describe('QuickBlox live notices', () => {
  let t: TestServer;
  let pool: ClientPool;
  let ann: TestUser, bob: TestUser, cat: TestUser;
  let annC: Conn, bobC: Conn, catC: Conn;
  let annT: string, bobT: string;

  before(async () => {
    t = await startTestServer();
    pool = new ClientPool(t);
    [ann, bob, cat] = [await t.createUser(), await t.createUser(), await t.createUser()];
    [annC, bobC, catC] = [await pool.connect(ann), await pool.connect(bob), await pool.connect(cat)];
    for (const c of [annC, bobC]) {
      const res = await c.iq(xml('iq', { type: 'set' }, xml('enable', { xmlns: NS })));
      assert.equal(res.attrs.type, 'result');
    }
    annT = await restSession(t, { login: ann.login, password: ann.password });
    bobT = await restSession(t, { login: bob.login, password: bob.password });
  });
  after(async () => {
    await pool?.stopAll();
    await t?.stop();
  });

  const rest = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(restUrl(t, path), { method, headers: { 'qb-token': token, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };

  it('tells both participants of an edit and a delete, with the reference fields', async () => {
    const dialog = await rest(annT, 'POST', '/chat/Dialog.json', { type: 3, occupants_ids: String(bob.id) });
    const msg = await rest(annT, 'POST', '/chat/Message.json', { chat_dialog_id: dialog._id, message: 'first' });
    await rest(annT, 'PUT', `/chat/Message/${msg._id}.json`, { chat_dialog_id: dialog._id, message: 'second' });
    for (const c of [annC, bobC]) {
      const el = await c.take(notice('NoticeUpdatedMessage'));
      assert.equal(field(el, 'dialog_id'), dialog._id);
      assert.equal(field(el, 'message_id'), msg._id);
      assert.equal(field(el, 'message'), 'second');
      assert.equal(field(el, 'sender_id'), String(ann.id));
      assert.equal(el.attrs.from, t.domain);
      assert.ok(el.getChild('body'), 'the SDK expects a body');
    }
    await rest(annT, 'DELETE', `/chat/Message/${msg._id}.json?force=1`);
    const deleted = await bobC.take(notice('NoticeDeletedMessage'));
    assert.equal(field(deleted, 'message_id'), msg._id);
    await annC.take(notice('NoticeDeletedMessage'));
  });

  it('tells the other participant of a reaction', async () => {
    const dialog = await rest(annT, 'POST', '/chat/Dialog.json', { type: 3, occupants_ids: String(bob.id) });
    const msg = await rest(annT, 'POST', '/chat/Message.json', { chat_dialog_id: dialog._id, message: 'react to me' });
    await rest(bobT, 'POST', `/chat/Message/${msg._id}/reactions.json`, { name: 'like' });
    const el = await annC.take(notice('NoticeUpdatedMessage'));
    const reaction = el.getChild('extraParams')!.getChild('reaction')!;
    assert.deepEqual([reaction.getChildText('name'), reaction.getChildText('user_id'), reaction.getChildText('action')], ['like', String(bob.id), 'add']);
    assert.deepEqual(await bobC.inbox.drain(notice('NoticeUpdatedMessage'), 300), [], 'not the one who reacted (as QuickBlox)');
  });

  it('sends dialog snapshots and deletions to the occupants whose streams enabled notices', async () => {
    const group = await rest(annT, 'POST', '/chat/Dialog.json', { type: 2, name: 'team', occupants_ids: `${bob.id},${cat.id}` });
    await rest(annT, 'PUT', `/chat/Dialog/${group._id}.json`, { name: 'renamed' });
    const el = await bobC.take(notice('NoticeUpdatedDialog'));
    assert.equal(field(el, 'name'), 'renamed');
    assert.equal(field(el, 'type'), '2');
    assert.deepEqual(field(el, 'occupants_ids')?.split(',').map(Number).sort(), [ann.id, bob.id, cat.id].sort());
    assert.match(field(el, 'xmpp_room_jid') ?? '', /_/);
    assert.deepEqual(await catC.inbox.drain(notice('NoticeUpdatedDialog'), 300), [], 'cat never enabled notices');

    await bobC.iq(xml('iq', { type: 'set' }, xml('disable', { xmlns: NS })));
    await rest(annT, 'DELETE', `/chat/Dialog/${group._id}.json?force=1`);
    const gone = await annC.take(notice('NoticeDeletedDialog'));
    assert.equal(field(gone, 'dialog_id'), group._id);
    assert.ok(Number(field(gone, 'date_sent')) > 0);
    assert.deepEqual(await bobC.inbox.drain(notice('NoticeDeletedDialog'), 300), [], 'disabled');
  });
});
