// QuickBlox 1-1 chat on the wire (stanza reference: chat messages with extraParams, markers, typing,
// system messages; carbons in the SDK-safe shape): exact shapes through raw sockets and
// @xmpp/client, history checked through ChatService (the function REST uses), hostile cases refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { errorCondition, isMessage, withBody, xml, type Conn, type XEl } from './support/clients.js';
import type { TestUser } from './support/server.js';
import type { MessageView } from '../src/chat/views.js';

const NS_MARKERS = 'urn:xmpp:chat-markers:0';
const NS_STATES = 'http://jabber.org/protocol/chatstates';
const NS_CARBONS = 'urn:xmpp:carbons:2';
const OBJECT_ID = /^[0-9a-f]{24}$/;

const extra = (...children: XEl[]) => xml('extraParams', { xmlns: 'jabber:client' }, ...children);
const field = (name: string, value: string | number) => xml(name, {}, String(value));
const isError = (el: XEl) => el.name === 'message' && el.attrs.type === 'error';
const isMarker = (name: string) => (el: XEl) => el.name === 'message' && el.getChild(name, NS_MARKERS) !== undefined;

describe('QuickBlox 1-1 chat on the wire', () => {
  const fx = useServer();
  const caller = (u: TestUser) => ({ appId: fx.t.app.id, userId: u.id });
  const history = async (u: TestUser, dialogId: string): Promise<MessageView[]> =>
    ((await fx.t.server.chat.listMessages(caller(u), { chat_dialog_id: dialogId, mark_as_read: 0 })) as { items: MessageView[] }).items;
  const pair = async (): Promise<[Conn, Conn]> => [await fx.pool.connect(await fx.t.createUser()), await fx.pool.connect(await fx.t.createUser())];

  it('advertises chat states, chat markers and carbons', async () => {
    const a = await fx.pool.connect(await fx.t.createUser());
    const info = await a.iq(xml('iq', { type: 'get', to: fx.t.domain }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    const features = info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
    for (const ns of [NS_STATES, NS_MARKERS, NS_CARBONS]) assert.ok(features.includes(ns), ns);
    await a.stop();
  });

  it('stores a save_to_history message and delivers it compact, with a generated ObjectId and dialog_id', async () => {
    const alice = await fx.t.createUser();
    const bob = await fx.t.createUser();
    const a = await fx.raws.connect(fx.t.config.c2s_port);
    const b = await fx.raws.connect(fx.t.config.c2s_port);
    await a.login(alice.username, alice.password);
    await b.login(bob.username, bob.password);
    const before = Math.floor(Date.now() / 1000);
    // Pretty-printed, a non-ObjectId id, a forged sender_id/recipient_id/read and a client dialog_id.
    a.send(`<message id="not-an-objectid" to="${bob.jid}" type="chat">
      <body>Hello &amp; welcome</body>
      <extraParams xmlns="jabber:client">
        <save_to_history>1</save_to_history>
        <dialog_id>000000000000000000000000</dialog_id>
        <sender_id>999</sender_id><recipient_id>998</recipient_id><read>1</read>
        <attachment type="image" id="47863" uid="abc" width="640" height="480" size="2048" content-type="image/png" name="p.png" url="https://x.test/p.png?a=1&amp;b=2"/>
        <colour>blue</colour>
      </extraParams>
    </message>`);
    const wire = await b.expect(/<message[^>]*type="chat"[\s\S]*?<\/message>/);
    assert.doesNotMatch(wire, />\s+</, `compact XML: ${wire}`);
    const id = /\bid="([^"]+)"/.exec(wire)?.[1] ?? '';
    assert.match(id, OBJECT_ID, 'the routed stanza carries a generated ObjectId');
    const m = /<extraParams xmlns="jabber:client"><save_to_history>1<\/save_to_history><date_sent>(\d+)<\/date_sent><dialog_id>([0-9a-f]{24})<\/dialog_id>(<attachment [^>]*\/>)<colour>blue<\/colour><\/extraParams><\/message>$/.exec(wire);
    assert.ok(m, `receive format (save_to_history, date_sent, dialog_id, attachments, custom; nothing forged): ${wire}`);
    const [, dateSent, dialogId, attachment] = m;
    assert.ok(Number(dateSent) >= before && Number(dateSent) <= Date.now() / 1000 + 1, 'date_sent filled with the server time');
    assert.notEqual(dialogId, '000000000000000000000000', 'the server dialog id, not the client one');
    assert.match(wire, /<body[^>]*>Hello &amp; welcome<\/body>/);
    for (const attr of ['type="image"', 'id="47863"', 'width="640"', 'content-type="image/png"', 'url="https://x.test/p.png?a=1&amp;b=2"']) assert.ok(attachment.includes(attr), attr);

    // A pretty-printed message without extraParams goes on compact too.
    a.send(`<message id="plain" to="${bob.jid}" type="chat">\n  <body> spaced </body>\n  <active xmlns="http://jabber.org/protocol/chatstates"/>\n</message>`);
    const plain = await b.expect(/<message[^>]*id="plain"[\s\S]*?<\/message>/);
    assert.match(plain, /><body[^>]*> spaced <\/body><active xmlns="http:\/\/jabber.org\/protocol\/chatstates"\/><\/message>$/);

    const [stored] = await history(bob, dialogId);
    assert.equal(stored?._id, id);
    assert.equal(stored.sender_id, alice.id);
    assert.equal(stored.recipient_id, bob.id);
    assert.equal(stored.message, 'Hello & welcome');
    assert.equal(stored.date_sent, Number(dateSent));
    assert.equal(stored.read, 0);
    assert.equal(stored.colour, 'blue');
    assert.deepEqual(stored.attachments, [{ type: 'image', id: '47863', uid: 'abc', width: '640', height: '480', size: '2048', 'content-type': 'image/png', name: 'p.png', url: 'https://x.test/p.png?a=1&b=2' }]);
    const dialog = await fx.t.server.chat.getDialog(caller(bob), dialogId);
    assert.equal(dialog.type, 3);
    assert.deepEqual([...dialog.occupants_ids].sort(), [alice.id, bob.id].sort());
    assert.equal(dialog.last_message_id, id);
    assert.equal(dialog.unread_messages_count, 1);
    assert.equal((await fx.t.server.chat.unreadCount(caller(bob), { chat_dialog_ids: dialogId }))[dialogId], 1);
  });

  it('keeps the ObjectId and date_sent of a resend, stores it once, and relays messages without save_to_history unstored', async () => {
    const [alice, bob] = await pair();
    const id = '5f0000000000000000000001';
    const send = (date: number) =>
      alice.send(xml('message', { type: 'chat', to: bob.user.jid, id }, xml('body', {}, 'retry me'), extra(field('save_to_history', 1), field('date_sent', date))));
    await send(1409146118.75);
    const first = await bob.take(withBody);
    await send(1409146118);
    const again = await bob.take(withBody);
    for (const got of [first, again]) {
      assert.equal(got.attrs.id, id);
      assert.equal(got.getChild('extraParams')?.getChildText('date_sent'), '1409146118');
    }
    const dialogId = first.getChild('extraParams')!.getChildText('dialog_id')!;
    const items = await history(bob.user, dialogId);
    assert.deepEqual(items.map((i) => [i._id, i.date_sent]), [[id, 1409146118]], 'stored once, with the client date_sent');

    await alice.send(xml('message', { type: 'chat', to: bob.user.jid, id: 'plain-1' }, xml('body', {}, 'not kept'), extra(field('colour', 'red'))));
    const plain = await bob.take(withBody);
    assert.equal(plain.attrs.id, 'plain-1');
    assert.equal(plain.getChild('extraParams')?.getChild('dialog_id'), undefined);
    assert.equal((await history(bob.user, dialogId)).length, 1, 'not stored');
    await Promise.all([alice.stop(), bob.stop()]);
  });

  it('ignores extraParams that would redirect a message into another dialog or out of history', async () => {
    const [alice, bob] = await pair();
    const carol = await fx.t.createUser();
    const group = await fx.t.server.chat.createDialog(caller(carol), { type: 2, name: 'not yours', occupants_ids: [bob.user.id] });
    const id = '5f00000000000000000000f1';
    await alice.send(xml('message', { type: 'chat', to: bob.user.jid, id }, xml('body', {}, 'sneaky'),
      extra(field('save_to_history', 1), field('chat_dialog_id', group._id), field('system', 1), field('send_to_chat', 1))));
    const got = await bob.take(withBody);
    const dialogId = got.getChild('extraParams')!.getChildText('dialog_id')!;
    assert.notEqual(dialogId, group._id);
    assert.deepEqual((await history(bob.user, dialogId)).map((m) => [m._id, m.sender_id, m.system, m.chat_dialog_id]), [[id, alice.user.id, undefined, dialogId]]);
    assert.deepEqual(await history(carol, group._id), [], 'nothing in the group dialog');
    await Promise.all([alice.stop(), bob.stop()]);
  });

  it('answers a storage failure with a stanza error and delivers nothing', async () => {
    const [alice, bob] = await pair();
    const chat = fx.t.server.chat;
    const original = chat.createMessage;
    chat.createMessage = async () => {
      throw new Error('disk full');
    };
    try {
      await alice.send(xml('message', { type: 'chat', to: bob.user.jid, id: '5f0000000000000000000002' }, xml('body', {}, 'lost?'), extra(field('save_to_history', 1))));
      const error = await alice.take(isError);
      assert.equal(error.attrs.id, '5f0000000000000000000002');
      assert.equal(errorCondition(error), 'internal-server-error');
    } finally {
      chat.createMessage = original;
    }
    await bob.ping();
    assert.deepEqual((await bob.inbox.drain(isMessage, 100)).map(String), [], 'nothing delivered');
    await Promise.all([alice.stop(), bob.stop()]);
  });

  it('an offline recipient gets the stored message later, dialog_id included', async () => {
    const alice = await fx.pool.connect(await fx.t.createUser());
    const bob = await fx.t.createUser();
    await alice.send(xml('message', { type: 'chat', to: bob.jid, id: '5f0000000000000000000003' }, xml('body', {}, 'while you were out'), extra(field('save_to_history', 1))));
    await alice.ping();
    const later = await fx.pool.connect(bob);
    const got = await later.take(withBody);
    assert.equal(got.attrs.id, '5f0000000000000000000003');
    assert.match(got.getChild('extraParams')?.getChildText('dialog_id') ?? '', OBJECT_ID);
    assert.ok(got.getChild('delay', 'urn:xmpp:delay'));
    await Promise.all([alice.stop(), later.stop()]);
  });

  it('records delivered and read markers, relays them to the sender, and refuses markers for others\' messages', async () => {
    const [alice, bob] = await pair();
    const carol = await fx.pool.connect(await fx.t.createUser());
    const id = '5f0000000000000000000004';
    await alice.send(xml('message', { type: 'chat', to: bob.user.jid, id }, xml('body', {}, 'mark me'), xml('markable', { xmlns: NS_MARKERS }), extra(field('save_to_history', 1))));
    const got = await bob.take(withBody);
    const dialogId = got.getChild('extraParams')!.getChildText('dialog_id')!;
    const marker = (from: Conn, to: string, name: string, dialog = dialogId) =>
      from.send(xml('message', { type: 'chat', to, id: `mk-${name}-${Math.random()}` }, xml(name, { xmlns: NS_MARKERS, id }), extra(field('dialog_id', dialog))));

    // A stranger's marker: refused, nothing recorded, nothing relayed.
    await marker(carol, alice.user.jid, 'displayed');
    assert.equal(errorCondition(await carol.take(isError)), 'forbidden');
    let [stored] = await history(alice.user, dialogId);
    assert.deepEqual([stored!.read_ids, stored!.delivered_ids], [[alice.user.id], [alice.user.id]]);

    await marker(bob, alice.user.jid, 'received', '000000000000000000000000');
    const delivered = await alice.take(isMarker('received'));
    assert.equal(delivered.attrs.from, bob.jid);
    assert.equal(delivered.getChild('received', NS_MARKERS)?.attrs.id, id);
    assert.equal(delivered.getChild('extraParams')?.getChildText('dialog_id'), dialogId, 'the server dialog id');
    [stored] = await history(alice.user, dialogId);
    assert.deepEqual(stored!.delivered_ids.sort(), [alice.user.id, bob.user.id].sort());
    assert.deepEqual(stored!.read_ids, [alice.user.id]);
    assert.equal((await fx.t.server.chat.unreadCount(caller(bob.user)))[`total`], 1);

    await marker(bob, alice.user.jid, 'displayed');
    await alice.take(isMarker('displayed'));
    [stored] = await history(alice.user, dialogId);
    assert.deepEqual(stored!.read_ids.sort(), [alice.user.id, bob.user.id].sort());
    assert.equal(stored!.read, 1);
    assert.equal((await fx.t.server.chat.unreadCount(caller(bob.user))).total, 0);

    // Addressed to oneself (the Node SDK does that for its own messages): no error, no echo.
    await marker(alice, alice.user.jid, 'received');
    // For a message that is not in history: only relayed.
    await bob.send(xml('message', { type: 'chat', to: alice.user.jid, id: 'mk-x' }, xml('received', { xmlns: NS_MARKERS, id: 'unsaved-id' })));
    assert.equal((await alice.take(isMarker('received'))).attrs.id, 'mk-x');
    await alice.ping();
    assert.deepEqual((await alice.inbox.drain(isMessage, 100)).map(String), [], 'no error, no self-marker echo');
    assert.deepEqual((await carol.inbox.drain(isMessage, 50)).map(String), []);
    await Promise.all([alice.stop(), bob.stop(), carol.stop()]);
  });

  it('relays typing, never stores it, and never queues it offline', async () => {
    const [alice, bob] = await pair();
    const state = (name: string, extras: XEl[] = []) => xml('message', { type: 'chat', to: bob.user.jid }, xml(name, { xmlns: NS_STATES }), ...extras);
    await alice.send(state('composing', [extra(field('save_to_history', 1))]));
    const typing = await bob.take(isMessage);
    assert.ok(typing.getChild('composing', NS_STATES));
    assert.equal(typing.attrs.from, alice.jid);
    await bob.send(xml('message', { type: 'chat', to: alice.user.jid }, xml('paused', { xmlns: NS_STATES })));
    assert.ok((await alice.take(isMessage)).getChild('paused', NS_STATES));
    const dialogs = await fx.t.server.chat.listDialogs(caller(alice.user), {});
    assert.equal((dialogs as { items: unknown[] }).items.length, 0, 'a typing notification stores nothing');

    const bobUser = bob.user;
    await bob.stop();
    await alice.send(state('composing'));
    await alice.send(state('gone'));
    await alice.ping();
    const back = await fx.pool.connect(bobUser);
    assert.deepEqual((await back.inbox.drain(isMessage, 200)).map(String), [], 'no chat state kept offline');
    await Promise.all([alice.stop(), back.stop()]);
  });

  it('routes system notifications 1-1 unstored, always with extraParams, and refuses them to rooms', async () => {
    const [alice, bob] = await pair();
    await alice.send(xml('message', { type: 'headline', to: bob.user.jid, id: 'sys1' }, extra(field('moduleIdentifier', 'SystemNotifications'), field('action', 'refresh'))));
    const sys = await bob.take(isMessage);
    assert.equal(sys.attrs.type, 'headline');
    assert.equal(sys.attrs.from, alice.jid);
    assert.equal(sys.getChild('extraParams')?.getChildText('action'), 'refresh');
    // WebRTC signalling is relayed untouched; a bare headline gets an empty extraParams.
    const webrtc = extra(field('moduleIdentifier', 'WebRTCVideoChat'), field('signalType', 'call'), xml('opponentsIDs', {}, field('opponentID', bob.user.id)));
    await alice.send(xml('message', { type: 'headline', to: bob.user.jid, id: 'rtc1' }, webrtc));
    assert.equal((await bob.take(isMessage)).getChild('extraParams')?.toString(), webrtc.toString());
    await alice.send(xml('message', { type: 'headline', to: bob.user.jid, id: 'bare1' }, xml('body', {}, 'plain headline')));
    const bare = await bob.take(isMessage);
    assert.equal(bare.attrs.id, 'bare1');
    assert.ok(bare.getChild('extraParams'), `a headline always carries extraParams: ${bare}`);

    await alice.send(xml('message', { type: 'headline', to: `${fx.t.app.id}_5f0000000000000000000009@muc.${fx.t.domain}`, id: 'room1' }, extra(field('moduleIdentifier', 'SystemNotifications'))));
    const refused = await alice.take(isError);
    assert.equal(refused.attrs.id, 'room1');
    assert.equal(errorCondition(refused), 'not-acceptable');

    const bobUser = bob.user;
    await bob.stop();
    await alice.send(xml('message', { type: 'headline', to: bobUser.jid, id: 'sys2' }, xml('body', {}, 'later?'), extra(field('moduleIdentifier', 'SystemNotifications'))));
    await alice.ping();
    const back = await fx.pool.connect(bobUser);
    assert.deepEqual((await back.inbox.drain(isMessage, 200)).map(String), [], 'no headline kept offline');
    assert.deepEqual((await alice.inbox.drain(isMessage, 10)).map(String), []);
    await Promise.all([alice.stop(), back.stop()]);
  });

  it('sends <sent/> carbons with body and extraParams copies, and no <received/> carbons', async () => {
    const aliceUser = await fx.t.createUser();
    const bobUser = await fx.t.createUser();
    const phone = await fx.pool.connect(aliceUser, { resource: 'phone' });
    const laptop = await fx.pool.connect(aliceUser, { resource: 'laptop' });
    const quiet = await fx.pool.connect(aliceUser, { resource: 'quiet' });
    const bob = await fx.pool.connect(bobUser, { resource: 'desk' });
    const bob2 = await fx.pool.connect(bobUser, { resource: 'pad' });
    for (const c of [phone, laptop, bob, bob2]) await c.iq(xml('iq', { type: 'set' }, xml('enable', { xmlns: NS_CARBONS })));

    await phone.send(xml('message', { type: 'chat', to: bobUser.jid, id: 'c-1' }, xml('body', {}, 'carbon copy'), extra(field('save_to_history', 1))));
    const delivered = await bob.take(withBody);
    assert.equal((await bob2.take(withBody)).attrs.id, delivered.attrs.id, 'every resource of the bare JID');
    const carbon = await laptop.take(isMessage);
    assert.equal(carbon.attrs.from, `${aliceUser.jid}`);
    assert.equal(carbon.attrs.to, laptop.jid);
    assert.equal(carbon.attrs.type, 'chat');
    assert.equal(carbon.attrs.id, delivered.attrs.id, 'the stored id');
    assert.equal(carbon.getChildText('body'), 'carbon copy');
    assert.equal(carbon.getChild('extraParams')?.getChildText('dialog_id'), delivered.getChild('extraParams')?.getChildText('dialog_id'));
    const forwarded = carbon.getChild('sent', NS_CARBONS)?.getChild('forwarded', 'urn:xmpp:forward:0')?.getChild('message');
    assert.equal(forwarded?.attrs.to, bobUser.jid);
    assert.equal(forwarded?.attrs.from, phone.jid);
    assert.equal(forwarded?.getChildText('body'), 'carbon copy');

    // A message to one of Bob's resources: no <received/> carbon for the other one.
    await phone.send(xml('message', { type: 'chat', to: bob.jid, id: 'c-2' }, xml('body', {}, 'just the desk')));
    await bob.take(withBody);
    await laptop.take(isMessage);
    await Promise.all([bob2.ping(), quiet.ping(), phone.ping()]);
    assert.deepEqual((await bob2.inbox.drain(isMessage, 100)).map(String), [], 'no received carbon');
    assert.deepEqual((await quiet.inbox.drain(isMessage, 10)).map(String), [], 'carbons only where enabled');
    assert.deepEqual((await phone.inbox.drain(isMessage, 10)).map(String), [], 'not to the sending resource');
    await Promise.all([phone.stop(), laptop.stop(), quiet.stop(), bob.stop(), bob2.stop()]);
  });

  it('delivers REST send_to_chat messages and system messages over XMPP with the stored id', async () => {
    const [alice, bob] = await pair();
    const chat = fx.t.server.chat;
    const created = await chat.createMessage(caller(alice.user), {
      recipient_id: bob.user.id, message: 'from REST', send_to_chat: 1, markable: 1, mood: 'sunny', attachments: [{ type: 'audio', id: '9', duration: 12 }],
      'bad name': 'skipped', received: 'skipped too',
    });
    const got = await bob.take(withBody);
    assert.equal(got.attrs.id, created._id);
    assert.equal(got.attrs.type, 'chat');
    assert.equal(got.attrs.from, alice.user.jid);
    assert.equal(
      got.toString().replace(/^<message[^>]*>/, ''),
      `<body>from REST</body><markable xmlns="${NS_MARKERS}"/><extraParams xmlns="jabber:client"><save_to_history>1</save_to_history>` +
        `<date_sent>${created.date_sent}</date_sent><dialog_id>${created.chat_dialog_id}</dialog_id>` +
        `<attachment type="audio" id="9" duration="12"/><mood>sunny</mood></extraParams></message>`,
    );
    await chat.createMessage(caller(alice.user), { recipient_id: bob.user.id, message: 'history only' });
    const sys = await chat.createMessage(caller(alice.user), { recipient_id: bob.user.id, system: 1, action: 'ping' });
    const headline = await bob.take(isMessage);
    assert.equal(headline.attrs.type, 'headline', `only the system message arrives next: ${headline}`);
    assert.equal(headline.attrs.id, sys._id);
    assert.equal(headline.getChild('extraParams')?.toString(), '<extraParams xmlns="jabber:client"><moduleIdentifier>SystemNotifications</moduleIdentifier><action>ping</action></extraParams>');
    await alice.ping();
    assert.deepEqual((await alice.inbox.drain(isMessage, 50)).map(String), [], 'the REST sender gets no copy');
    await Promise.all([alice.stop(), bob.stop()]);
  });
});
