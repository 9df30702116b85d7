// Group chat (XEP-0045 as QuickBlox uses it) with @xmpp/client and raw sockets: joins and their
// exact answer, occupant presences, reflection and storage, the refusals of semantics §5.12,
// is_join_required=0, kicks from REST pull_all, deleted dialogs, history on request, disco.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { errorCondition, xml, type Conn, type XEl } from './support/clients.js';
import type { TestUser } from './support/server.js';
import { sleep } from './support/wait.js';

const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
const OBJECT_ID = /^[0-9a-f]{24}$/;

let joins = 0;

describe('group chat (MUC)', () => {
  const fx = useServer();

  const group = async (owner: TestUser, others: TestUser[], extra: Record<string, unknown> = {}) =>
    fx.t.server.chat.createDialog({ appId: owner.appId, userId: owner.id }, { type: 2, name: 'room', occupants_ids: others.map((u) => u.id), ...extra });

  const joinStanza = (room: string, conn: Conn, id = `${++joins}:join`, history: Record<string, string> = { maxstanzas: '0' }) =>
    xml('presence', { to: `${room}/${conn.user.id}`, id }, xml('x', { xmlns: NS_MUC }, xml('history', history)));

  /** Joins and returns the answer (self-presence or error) matched by id. */
  const join = async (conn: Conn, room: string, history?: Record<string, string>): Promise<XEl> => {
    const id = `${++joins}:join`;
    await conn.send(joinStanza(room, conn, id, history));
    return conn.take((el) => el.name === 'presence' && el.attrs.id === id, 3000, `join answer ${id}`);
  };

  const isGroupchat = (el: XEl): boolean => el.name === 'message' && el.attrs.type === 'groupchat' && el.getChild('body') !== undefined;
  const occupantPresence = (room: string, userId: number, type?: string) => (el: XEl): boolean =>
    el.name === 'presence' && el.attrs.from === `${room}/${userId}` && el.attrs.type === type;
  const stored = async (dialogId: string, viewer: TestUser) =>
    fx.t.store.chat.listMessages({ dialogId, viewerId: viewer.id, filters: [], limit: 100, skip: 0 });

  it('answers a join with the self-presence: same id, muc#user x first, status 110 first, compact', async () => {
    const [a, b] = [await fx.t.createUser(), await fx.t.createUser()];
    const dialog = await group(a, [b]);
    const raw = await fx.raws.connect(fx.t.server.ports.c2s);
    const full = await raw.login(a.username, a.password, 'r1');
    const room = dialog.xmpp_room_jid!;
    raw.send(`<presence to="${room}/${a.id}" id="abc:join"><x xmlns="${NS_MUC}"><history maxstanzas="0"/></x></presence>`);
    const answer = await raw.expect(/<presence[^>]*id="abc:join"[\s\S]*?<\/presence>/);
    assert.match(answer, new RegExp(`^<presence[^>]* from="${room}/${a.id}"`));
    assert.match(answer, new RegExp(` to="${full}"`));
    assert.match(answer, new RegExp(`^<presence[^>]*><x xmlns="${NS_MUC_USER}"><item [^>]*/><status code="110"/></x></presence>$`));
    assert.match(answer, new RegExp(`<item [^>]*jid="${full}"`));
    assert.doesNotMatch(answer, />\s+</, 'no whitespace between elements');
    assert.doesNotMatch(raw.received, /<subject/, 'no subject');
    // Leaving answers with an unavailable self-presence, status 110 first.
    raw.send(`<presence to="${room}/${a.id}" type="unavailable" id="bye"/>`);
    const left = await raw.expect(/<presence[^>]*id="bye"[\s\S]*?<\/presence>/);
    assert.match(left, /type="unavailable"/);
    assert.match(left, new RegExp(`<x xmlns="${NS_MUC_USER}"><item [^>]*/><status code="110"/></x>`));
    raw.destroy();
  });

  it('exchanges occupant presences both ways, reflects and stores groupchat, lists and leaves', async () => {
    const [a, b] = [await fx.t.createUser(), await fx.t.createUser()];
    const dialog = await group(a, [b]);
    const room = dialog.xmpp_room_jid!;
    const alice = await fx.pool.connect(a);
    const bob = await fx.pool.connect(b);
    const aliceJoined = await join(alice, room);
    assert.equal(aliceJoined.getChild('x', NS_MUC_USER)?.getChild('status')?.attrs.code, '110');
    await join(bob, room);
    // Bob got Alice's presence (with an id, no status); Alice got Bob's.
    const aliceSeen = await bob.take(occupantPresence(room, a.id));
    assert.ok(aliceSeen.attrs.id);
    assert.equal(aliceSeen.getChild('x', NS_MUC_USER)?.getChild('status'), undefined);
    assert.equal(aliceSeen.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.jid, alice.jid);
    const bobSeen = await alice.take(occupantPresence(room, b.id));
    assert.ok(bobSeen.attrs.id);

    // A stored message with a client ObjectId keeps it; both occupants (the sender too) get it from room/<sender>.
    const id = '5f1b2c3d4e5f60718293a4b5';
    await alice.send(xml('message', { type: 'groupchat', to: room, id },
      xml('body', {}, 'hello room'),
      xml('extraParams', { xmlns: 'jabber:client' }, xml('save_to_history', {}, '1'), xml('sender_id', {}, '999'), xml('mood', {}, 'sunny'),
        xml('attachment', { type: 'image', id: '42' }))));
    for (const conn of [alice, bob]) {
      const got = await conn.take(isGroupchat);
      assert.equal(got.attrs.from, `${room}/${a.id}`);
      assert.equal(got.attrs.to, conn.jid);
      assert.equal(got.attrs.id, id);
      const extra = got.getChild('extraParams')!;
      assert.equal(extra.getChildText('dialog_id'), dialog._id);
      assert.equal(extra.getChildText('mood'), 'sunny');
      assert.equal(extra.getChild('sender_id'), undefined, 'client sender_id is not relayed');
      assert.match(extra.getChildText('date_sent') ?? '', /^\d+$/, 'date_sent filled');
      assert.equal(extra.getChild('attachment')?.attrs.id, '42');
    }
    let history = await stored(dialog._id, a);
    assert.equal(history.length, 1);
    assert.equal(history[0]!.id, id);
    assert.equal(history[0]!.senderId, a.id, 'the client sender_id is ignored');
    assert.equal(history[0]!.customParams.mood, 'sunny');
    assert.equal(history[0]!.recipientId, 0);

    // A non-ObjectId id is replaced by the stored one; a client date_sent is kept.
    await bob.send(xml('message', { type: 'groupchat', to: room, id: 'client-1' },
      xml('body', {}, 'second'), xml('extraParams', { xmlns: 'jabber:client' }, xml('save_to_history', {}, '1'), xml('date_sent', {}, '1409146118'))));
    const second = await alice.take(isGroupchat);
    assert.match(second.attrs.id, OBJECT_ID);
    assert.equal(second.getChild('extraParams')?.getChildText('date_sent'), '1409146118');
    assert.equal((await bob.take(isGroupchat)).attrs.id, second.attrs.id);
    history = await stored(dialog._id, a);
    assert.deepEqual(history.map((m) => m.id).sort(), [id, second.attrs.id].sort());
    assert.equal(history.find((m) => m.id === second.attrs.id)?.dateSent, 1409146118);

    // Without save_to_history: relayed, not stored. A burst arrives in order.
    for (let i = 0; i < 10; i++) await alice.send(xml('message', { type: 'groupchat', to: room, id: `n${i}` }, xml('body', {}, `#${i}`)));
    for (let i = 0; i < 10; i++) assert.equal((await bob.take(isGroupchat)).getChildText('body'), `#${i}`);
    for (let i = 0; i < 10; i++) assert.equal((await alice.take(isGroupchat)).getChildText('body'), `#${i}`);
    assert.equal((await stored(dialog._id, a)).length, 2);

    // Chat states are relayed, never stored.
    await bob.send(xml('message', { type: 'groupchat', to: room }, xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' })));
    const typing = await alice.take((el) => el.name === 'message' && el.getChild('composing') !== undefined);
    assert.equal(typing.attrs.from, `${room}/${b.id}`);
    assert.equal((await stored(dialog._id, a)).length, 2);

    // disco#items on the room lists who is in it.
    const items = await alice.iq(xml('iq', { type: 'get', to: room }, xml('query', { xmlns: NS_DISCO_ITEMS })));
    assert.deepEqual(items.getChild('query')!.getChildren('item').map((i) => i.attrs.jid).sort(), [`${room}/${a.id}`, `${room}/${b.id}`].sort());

    // Bob leaves: Alice sees him go; he no longer gets the room's messages.
    await bob.send(xml('presence', { to: `${room}/${b.id}`, type: 'unavailable', id: 'leave1' }));
    const selfLeft = await bob.take((el) => el.name === 'presence' && el.attrs.id === 'leave1');
    assert.equal(selfLeft.attrs.type, 'unavailable');
    await alice.take(occupantPresence(room, b.id, 'unavailable'));
    await alice.send(xml('message', { type: 'groupchat', to: room }, xml('body', {}, 'after bob left')));
    await alice.take(isGroupchat);
    assert.deepEqual(await bob.inbox.drain(isGroupchat, 150), []);
    const after = await alice.iq(xml('iq', { type: 'get', to: room }, xml('query', { xmlns: NS_DISCO_ITEMS })));
    assert.deepEqual(after.getChild('query')!.getChildren('item').map((i) => i.attrs.jid), [`${room}/${a.id}`]);
    await Promise.all([alice.stop(), bob.stop()]);
  });

  it('refuses what §5.12 refuses, and stores nothing', async () => {
    const [a, b, outsider] = [await fx.t.createUser(), await fx.t.createUser(), await fx.t.createUser()];
    const otherApp = await fx.t.createApp();
    const stranger = await fx.t.createUser(undefined, undefined, otherApp);
    const dialog = await group(a, [b]);
    const room = dialog.xmpp_room_jid!;
    const privateDialog = await fx.t.server.chat.createDialog({ appId: a.appId, userId: a.id }, { type: 3, occupants_ids: [b.id] });
    const alice = await fx.pool.connect(a);
    const bob = await fx.pool.connect(b);
    const out = await fx.pool.connect(outsider);
    const foreign = await fx.pool.connect(stranger);
    await join(alice, room);

    const refused = (el: XEl, condition: string): void => {
      assert.equal(el.attrs.type, 'error', el.toString());
      assert.equal(el.getChild('x', NS_MUC) !== undefined, true, 'the error carries <x xmlns=muc>');
      assert.equal(el.getChild('error')?.attrs.code, '500');
      assert.equal(errorCondition(el), condition);
    };
    // Joins: not an occupant; a private dialog's room; another application's room; no such dialog; wrong nick.
    refused(await join(out, room), 'registration-required');
    refused(await join(bob, `${a.appId}_${privateDialog._id}@${fx.t.server.core.mucDomain}`), 'item-not-found');
    refused(await join(foreign, room), 'item-not-found');
    refused(await join(foreign, `${otherApp.id}_${dialog._id}@${fx.t.server.core.mucDomain}`), 'item-not-found');
    refused(await join(bob, `${a.appId}_0123456789abcdef01234567@${fx.t.server.core.mucDomain}`), 'item-not-found');
    await bob.send(xml('presence', { to: `${room}/${a.id}`, id: 'nick:join' }, xml('x', { xmlns: NS_MUC })));
    refused(await bob.take((el) => el.attrs.id === 'nick:join'), 'not-acceptable');
    // Nobody refused showed up in the room.
    assert.deepEqual(await alice.inbox.drain((el) => el.name === 'presence', 100), []);

    const send = async (conn: Conn, to: string, id: string, type = 'groupchat'): Promise<XEl> => {
      await conn.send(xml('message', { type, to, id }, xml('body', {}, 'intrusion'), xml('extraParams', { xmlns: 'jabber:client' }, xml('save_to_history', {}, '1'))));
      return conn.take((el) => el.name === 'message' && el.attrs.id === id && el.attrs.type === 'error');
    };
    const messageError = (el: XEl, condition: string, text: string): void => {
      assert.equal(errorCondition(el), condition, el.toString());
      assert.equal(el.getChild('error')?.getChildText('text'), text);
    };
    messageError(await send(out, room, 'x1'), 'forbidden', 'Insufficient privileges to send groupchat message.');
    messageError(await send(bob, room, 'x2'), 'forbidden', 'Insufficient privileges to send groupchat message.'); // occupant, not joined
    messageError(await send(foreign, room, 'x3'), 'item-not-found', 'There is no such room.');
    messageError(await send(bob, `${a.appId}_0123456789abcdef01234567@${fx.t.server.core.mucDomain}`, 'x4'), 'item-not-found', 'There is no such room.');
    messageError(await send(alice, `${room}/${b.id}`, 'x5'), 'bad-request', "Groupchat message can't be addressed to occupant.");
    messageError(await send(bob, `${a.appId}_${privateDialog._id}@${fx.t.server.core.mucDomain}`, 'x6'), 'item-not-found', 'There is no such room.');
    const headline = await send(alice, room, 'x7', 'headline');
    assert.equal(headline.attrs.type, 'error');
    assert.deepEqual(await alice.inbox.drain(isGroupchat, 100), [], 'nothing was relayed into the room');
    assert.equal((await stored(dialog._id, a)).length, 0, 'nothing was stored');

    // A stranger cannot list the room either.
    await assert.rejects(foreign.iq(xml('iq', { type: 'get', to: room }, xml('query', { xmlns: NS_DISCO_ITEMS }))));
    await assert.rejects(out.iq(xml('iq', { type: 'get', to: room }, xml('query', { xmlns: NS_DISCO_ITEMS }))));
    await Promise.all([alice.stop(), bob.stop(), out.stop(), foreign.stop()]);
  });

  it('with is_join_required=0 delivers to every online occupant without a join (and refuses joins)', async () => {
    const [a, b, c] = [await fx.t.createUser(), await fx.t.createUser(), await fx.t.createUser()];
    const dialog = await group(a, [b], { is_join_required: 0 });
    const room = dialog.xmpp_room_jid!;
    const alice = await fx.pool.connect(a);
    const bob = await fx.pool.connect(b);
    const bob2 = await fx.pool.connect(b, { resource: 'second' });
    const carol = await fx.pool.connect(c);
    const refusal = await join(alice, room);
    assert.equal(refusal.attrs.type, 'error');
    await alice.send(xml('message', { type: 'groupchat', to: room, id: 'nj1' }, xml('body', {}, 'no join needed'),
      xml('extraParams', { xmlns: 'jabber:client' }, xml('save_to_history', {}, '1'))));
    for (const conn of [alice, bob, bob2]) {
      const got = await conn.take(isGroupchat);
      assert.equal(got.attrs.from, `${room}/${a.id}`);
      assert.equal(got.getChildText('body'), 'no join needed');
    }
    assert.deepEqual(await carol.inbox.drain(isGroupchat, 100), []);
    assert.equal((await stored(dialog._id, a)).length, 1);
    await Promise.all([alice.stop(), bob.stop(), bob2.stop(), carol.stop()]);
  });

  it('kicks a joined occupant removed over REST (301 + actor), empties a deleted dialog, leaves on disconnect', async () => {
    const [a, b, c] = [await fx.t.createUser(), await fx.t.createUser(), await fx.t.createUser()];
    const dialog = await group(a, [b, c]);
    const room = dialog.xmpp_room_jid!;
    const alice = await fx.pool.connect(a);
    const bob = await fx.pool.connect(b);
    const carol = await fx.pool.connect(c);
    await join(alice, room);
    await join(bob, room);
    await join(carol, room);
    await fx.t.server.chat.updateDialog({ appId: a.appId, userId: a.id }, dialog._id, { pull_all: { occupants_ids: [b.id] } });
    const kick = await bob.take((el) => el.name === 'presence' && el.attrs.type === 'unavailable' && el.attrs.from === `${room}/${b.id}`);
    assert.ok(kick.attrs.id);
    const x = kick.getChild('x', NS_MUC_USER)!;
    assert.equal(kick.getChildren('x')[0], x, 'muc#user x first');
    assert.equal(x.getChild('status')?.attrs.code, '301');
    assert.equal(x.getChild('item')?.getChild('actor')?.attrs.jid, a.jid);
    const seen = await alice.take(occupantPresence(room, b.id, 'unavailable'));
    assert.equal(seen.getChild('x', NS_MUC_USER)?.getChild('status'), undefined, 'others see a plain leave');
    // Bob is out: his messages are refused, he cannot join again.
    await bob.send(xml('message', { type: 'groupchat', to: room, id: 'k1' }, xml('body', {}, 'still here?')));
    assert.equal(errorCondition(await bob.take((el) => el.attrs.id === 'k1')), 'forbidden');
    assert.equal((await join(bob, room)).attrs.type, 'error');

    // Carol disconnects: Alice sees her leave.
    await carol.stop();
    await alice.take(occupantPresence(room, c.id, 'unavailable'));

    // The owner deletes the dialog for everyone: Alice is taken out of the room.
    await fx.t.server.chat.deleteDialogs({ appId: a.appId, userId: a.id }, [dialog._id], true);
    const destroyed = await alice.take((el) => el.name === 'presence' && el.attrs.type === 'unavailable' && el.attrs.from === `${room}/${a.id}`);
    assert.ok(destroyed.getChild('x', NS_MUC_USER)?.getChild('destroy'));
    await alice.send(xml('message', { type: 'groupchat', to: room, id: 'd1' }, xml('body', {}, 'anyone?')));
    assert.equal(errorCondition(await alice.take((el) => el.attrs.id === 'd1')), 'item-not-found');
    await Promise.all([alice.stop(), bob.stop()]);
  });

  it('serves history only when asked, and delivers REST send_to_chat messages to joined occupants', async () => {
    const [a, b] = [await fx.t.createUser(), await fx.t.createUser()];
    const dialog = await group(a, [b]);
    const room = dialog.xmpp_room_jid!;
    const caller = { appId: a.appId, userId: a.id };
    for (let i = 1; i <= 3; i++) {
      await fx.t.server.chat.createMessage(caller, { chat_dialog_id: dialog._id, message: `old ${i}`, tone: 'calm' }, { dateSent: 1_700_000_000 + i, origin: 'xmpp' });
    }
    const bob = await fx.pool.connect(b);
    await join(bob, room);
    assert.deepEqual(await bob.inbox.drain(isGroupchat, 100), [], 'maxstanzas=0: no history');
    await bob.send(xml('presence', { to: `${room}/${b.id}`, type: 'unavailable', id: 'out' }));
    await bob.take((el) => el.attrs.id === 'out');
    await join(bob, room, { maxstanzas: '2' });
    const first = await bob.take(isGroupchat);
    const secondOld = await bob.take(isGroupchat);
    assert.deepEqual([first.getChildText('body'), secondOld.getChildText('body')], ['old 2', 'old 3']);
    assert.equal(first.attrs.from, `${room}/${a.id}`);
    assert.ok(first.getChild('delay', 'urn:xmpp:delay'));
    assert.equal(first.getChild('extraParams')?.getChildText('tone'), 'calm');
    assert.equal(first.getChild('extraParams')?.getChildText('dialog_id'), dialog._id);

    const alice = await fx.pool.connect(a);
    await join(alice, room);
    const sent = await fx.t.server.chat.createMessage(caller, { chat_dialog_id: dialog._id, message: 'from REST', send_to_chat: 1, mood: 'ok' });
    for (const conn of [alice, bob]) {
      const got = await conn.take((el) => isGroupchat(el) && el.getChildText('body') === 'from REST');
      assert.equal(got.attrs.id, sent._id);
      assert.equal(got.attrs.from, `${room}/${a.id}`);
      const extra = got.getChild('extraParams')!;
      assert.equal(extra.getChildText('save_to_history'), '1');
      assert.equal(extra.getChildText('mood'), 'ok');
      assert.equal(extra.getChildText('dialog_id'), dialog._id);
      assert.equal(extra.getChildText('date_sent'), String(sent.date_sent));
    }
    // Without send_to_chat nothing is delivered.
    await fx.t.server.chat.createMessage(caller, { chat_dialog_id: dialog._id, message: 'quiet' });
    await sleep(50);
    assert.deepEqual(await bob.inbox.drain((el) => isGroupchat(el) && el.getChildText('body') === 'quiet', 100), []);
    await Promise.all([alice.stop(), bob.stop()]);
  });

  it('lets any user of the application join a public dialog as a participant', async () => {
    const [a, b] = [await fx.t.createUser(), await fx.t.createUser()];
    const dialog = await fx.t.server.chat.createDialog({ appId: a.appId, userId: a.id }, { type: 1, name: 'lobby' });
    const bob = await fx.pool.connect(b);
    const answer = await join(bob, dialog.xmpp_room_jid!);
    assert.equal(answer.attrs.type, undefined);
    const item = answer.getChild('x', NS_MUC_USER)!.getChild('item')!;
    assert.deepEqual([item.attrs.role, item.attrs.affiliation], ['participant', 'none']);
    await bob.stop();
  });
});
