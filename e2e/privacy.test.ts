// Privacy lists (XEP-0016) with @xmpp/client, in the shape the QuickBlox SDK writes them: a pair
// of items per blocked user (the user's JID and muc.<domain>/<userId>).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { errorCondition, xml, type Conn, type XEl } from './support/clients.js';
import type { TestUser } from './support/server.js';

const NS_PRIVACY = 'jabber:iq:privacy';
const NS_MUC = 'http://jabber.org/protocol/muc';
const KINDS = ['message', 'presence-in', 'presence-out', 'iq'];

describe('privacy lists', () => {
  const fx = useServer();

  const privacy = (conn: Conn, type: 'get' | 'set', ...children: XEl[]) => conn.iq(xml('iq', { type }, xml('query', { xmlns: NS_PRIVACY }, ...children)));
  const blockPair = (name: string, user: TestUser, mutual = false): XEl =>
    xml('list', { name },
      xml('item', { type: 'jid', value: user.jid, action: 'deny', order: '1' }, ...(mutual ? [] : KINDS.map((k) => xml(k)))),
      xml('item', { type: 'jid', value: `${fx.t.server.core.mucDomain}/${user.id}`, action: 'deny', order: '2' }, ...(mutual ? [] : KINDS.map((k) => xml(k)))));
  const sendChat = async (conn: Conn, to: string, id: string): Promise<void> => {
    await conn.send(xml('message', { type: 'chat', to, id }, xml('body', {}, `msg ${id}`)));
  };
  const failure = (e: unknown): string | undefined => (e as { condition?: string }).condition;

  it('blocks 1-1 messages with service-unavailable, and one direction only without mutualBlock', async () => {
    const [a, b] = [await fx.t.createUser(), await fx.t.createUser()];
    const alice = await fx.pool.connect(a);
    const bob = await fx.pool.connect(b);
    await privacy(alice, 'set', blockPair('blocked', b));
    await privacy(alice, 'set', xml('default', { name: 'blocked' }));
    await privacy(alice, 'set', xml('active', { name: 'blocked' }));
    await sendChat(bob, a.jid, 'b1');
    const error = await bob.take((el) => el.attrs.id === 'b1');
    assert.equal(error.attrs.type, 'error');
    assert.equal(errorCondition(error), 'service-unavailable');
    assert.equal(error.getChild('error')?.attrs.code, '503');
    // Alice may still write to Bob (the items list their stanza kinds, which are incoming ones).
    await sendChat(alice, b.jid, 'a1');
    assert.equal((await bob.take((el) => el.attrs.id === 'a1')).attrs.type, 'chat');
    assert.deepEqual(await alice.inbox.drain((el) => el.attrs.id === 'b1', 100), [], 'Alice never got the blocked message');
    // Bob's presence no longer reaches Alice (presence-in), even directed.
    await bob.send(xml('presence', { to: a.jid }));
    assert.deepEqual(await alice.inbox.drain((el) => el.name === 'presence' && el.attrs.from === bob.jid, 150), []);
    // Names: active, default, lists.
    const names = (await privacy(alice, 'get')).getChild('query')!;
    assert.equal(names.getChild('active')?.attrs.name, 'blocked');
    assert.equal(names.getChild('default')?.attrs.name, 'blocked');
    assert.deepEqual(names.getChildren('list').map((l: XEl) => l.attrs.name), ['blocked']);
    const list = (await privacy(alice, 'get', xml('list', { name: 'blocked' }))).getChild('query')!.getChild('list')!;
    assert.deepEqual(list.getChildren('item').map((i: XEl) => [i.attrs.order, i.attrs.value]), [['1', b.jid], ['2', `${fx.t.server.core.mucDomain}/${b.id}`]]);
    // Declining active and default lifts the block.
    await privacy(alice, 'set', xml('active'));
    await privacy(alice, 'set', xml('default'));
    const cleared = (await privacy(alice, 'get')).getChild('query')!;
    assert.equal(cleared.getChild('default'), undefined);
    assert.equal(cleared.getChild('active'), undefined);
    await sendChat(bob, a.jid, 'b2');
    assert.equal((await alice.take((el) => el.attrs.id === 'b2')).attrs.type, 'chat');
    await Promise.all([alice.stop(), bob.stop()]);
  });

  it('refuses a blocked save_to_history message before anything is stored or marked', async () => {
    const [a, b] = [await fx.t.createUser(), await fx.t.createUser()];
    const alice = await fx.pool.connect(a);
    const bob = await fx.pool.connect(b);
    await privacy(alice, 'set', blockPair('blocked', b));
    await privacy(alice, 'set', xml('active', { name: 'blocked' }));
    const id = '0123456789abcdef01234567';
    await bob.send(xml('message', { type: 'chat', to: a.jid, id },
      xml('body', {}, 'stored?'), xml('extraParams', { xmlns: 'jabber:client' }, xml('save_to_history', {}, '1'))));
    assert.equal(errorCondition(await bob.take((el) => el.attrs.id === id)), 'service-unavailable');
    assert.equal(await fx.t.store.chat.getMessage(fx.t.app.id, id), null, 'nothing stored');
    assert.equal(await fx.t.store.chat.findPrivateDialog(fx.t.app.id, a.id, b.id), null, 'no dialog created');
    await Promise.all([alice.stop(), bob.stop()]);
  });

  it('with mutualBlock blocks both directions; the default list applies to an offline user and to the next login', async () => {
    const [a, b] = [await fx.t.createUser(), await fx.t.createUser()];
    let alice = await fx.pool.connect(a);
    const bob = await fx.pool.connect(b);
    await privacy(alice, 'set', blockPair('mutual', b, true));
    await privacy(alice, 'set', xml('default', { name: 'mutual' }));
    await privacy(alice, 'set', xml('active', { name: 'mutual' }));
    await sendChat(alice, b.jid, 'm1');
    assert.equal(errorCondition(await alice.take((el) => el.attrs.id === 'm1')), 'not-acceptable');
    await sendChat(bob, a.jid, 'm2');
    assert.equal(errorCondition(await bob.take((el) => el.attrs.id === 'm2')), 'service-unavailable');
    await alice.stop();
    // Offline: nothing is stored for Alice.
    await sendChat(bob, a.jid, 'm3');
    assert.equal(errorCondition(await bob.take((el) => el.attrs.id === 'm3')), 'service-unavailable');
    assert.equal(await fx.t.store.offline.count(a.id), 0);
    // A new login starts with the default list.
    alice = await fx.pool.connect(a);
    await sendChat(bob, a.jid, 'm4');
    assert.equal(errorCondition(await bob.take((el) => el.attrs.id === 'm4')), 'service-unavailable');
    await Promise.all([alice.stop(), bob.stop()]);
  });

  it('silences a blocked occupant in rooms (muc/<uid> item) without an error', async () => {
    const [a, b, c] = [await fx.t.createUser(), await fx.t.createUser(), await fx.t.createUser()];
    const dialog = await fx.t.server.chat.createDialog({ appId: a.appId, userId: a.id }, { type: 2, name: 'r', occupants_ids: [b.id, c.id] });
    const room = dialog.xmpp_room_jid!;
    const [alice, bob, carol] = [await fx.pool.connect(a), await fx.pool.connect(b), await fx.pool.connect(c)];
    for (const conn of [alice, bob, carol]) {
      await conn.send(xml('presence', { to: `${room}/${conn.user.id}`, id: `j${conn.user.id}` }, xml('x', { xmlns: NS_MUC })));
      await conn.take((el) => el.attrs.id === `j${conn.user.id}`);
    }
    await privacy(alice, 'set', blockPair('noisy', b));
    await privacy(alice, 'set', xml('active', { name: 'noisy' }));
    await bob.send(xml('message', { type: 'groupchat', to: room, id: 'g1' }, xml('body', {}, 'hi all')));
    assert.equal((await carol.take((el) => el.attrs.id === 'g1')).attrs.from, `${room}/${b.id}`);
    assert.equal((await bob.take((el) => el.attrs.id === 'g1')).attrs.type, 'groupchat', 'the sender gets no error');
    assert.deepEqual(await alice.inbox.drain((el) => el.attrs.id === 'g1', 150), []);
    await Promise.all([alice.stop(), bob.stop(), carol.stop()]);
  });

  it('answers list operations with XEP-0016 errors', async () => {
    const [a, b] = [await fx.t.createUser(), await fx.t.createUser()];
    const one = await fx.pool.connect(a, { resource: 'one' });
    const two = await fx.pool.connect(a, { resource: 'two' });
    const bob = await fx.pool.connect(b);
    assert.equal(failure(await privacy(one, 'get', xml('list', { name: 'nope' })).catch((e) => e)), 'item-not-found');
    assert.equal(failure(await privacy(one, 'set', xml('active', { name: 'nope' })).catch((e) => e)), 'item-not-found');
    assert.equal(failure(await privacy(one, 'set', xml('default', { name: 'nope' })).catch((e) => e)), 'item-not-found');
    assert.equal(failure(await privacy(one, 'set', xml('list', { name: 'nope' })).catch((e) => e)), 'item-not-found');
    assert.equal(failure(await privacy(one, 'set', xml('list', { name: 'bad' }, xml('item', { action: 'maybe', order: '1' }))).catch((e) => e)), 'bad-request');
    assert.equal(failure(await privacy(one, 'set', xml('list', { name: 'bad' }, xml('item', { action: 'deny', order: '1' }), xml('item', { action: 'allow', order: '1' }))).catch((e) => e)), 'bad-request');
    assert.equal(failure(await privacy(one, 'set', xml('active', { name: 'x' }), xml('default', { name: 'x' })).catch((e) => e)), 'bad-request');
    assert.equal(failure(await bob.iq(xml('iq', { type: 'get', to: a.jid }, xml('query', { xmlns: NS_PRIVACY }))).catch((e) => e)), 'forbidden');
    // A list active for another resource cannot be removed; nor the default list.
    await privacy(one, 'set', blockPair('shared', b));
    await privacy(two, 'set', xml('active', { name: 'shared' }));
    assert.equal(failure(await privacy(one, 'set', xml('list', { name: 'shared' })).catch((e) => e)), 'conflict');
    await privacy(two, 'set', xml('active'));
    await privacy(one, 'set', xml('default', { name: 'shared' }));
    assert.equal(failure(await privacy(one, 'set', xml('list', { name: 'shared' })).catch((e) => e)), 'conflict');
    await privacy(one, 'set', xml('default'));
    await privacy(one, 'set', xml('list', { name: 'shared' }));
    assert.deepEqual((await privacy(one, 'get')).getChild('query')!.getChildren('list'), []);
    // Both resources were told of the changes (list pushes).
    await two.take((el) => el.name === 'iq' && el.attrs.type === 'set' && el.getChild('query', NS_PRIVACY) !== undefined).catch(() => assert.fail('no privacy push'));
    await Promise.all([one.stop(), two.stop(), bob.stop()]);
  });
});
