// Open group chat for standard clients (XEP-0045) driven by the `stanza` library: a room created by
// joining it, configured with the owner form, affiliations and roles (kick, ban, members only,
// password), subject, nick changes, private messages, disco, history and the archive; message
// moderation (XEP-0425) with @xmpp/client; and across to QuickBlox: the room is a dialog over REST
// and a QuickBlox SDK user chats in it through the dialog's room.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type * as XMPP from 'stanza';
import { useServer } from './support/fixture.js';
import { freePort } from './support/server.js';
import { StanzaPool, type StanzaConn } from './support/stanza.js';
import { xml } from './support/clients.js';
import { restSession, restUrl } from './support/rest.js';
import { call as sdkCall, sdkConnectChat, sdkDisconnect, sdkSignUp, type SdkUser } from './support/quickblox.js';
import { Inbox, withTimeout } from './support/wait.js';

const httpsPort = await freePort();
const call = <T = any>(fn: (cb: (err: unknown, result: T) => void) => void): Promise<T> => withTimeout(sdkCall<T>(fn), 5000, 'SDK call');
const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';

/** The stanza error condition of a rejected join / IQ (stanza.js rejects with the error stanza). */
const conditionOf = (err: any): string | undefined => err?.error?.condition;
const codes = (p: any): string[] => p?.muc?.statusCodes ?? [];

function presences(conn: StanzaConn): Inbox<XMPP.Stanzas.ReceivedPresence> {
  const inbox = new Inbox<XMPP.Stanzas.ReceivedPresence>();
  conn.agent.on('presence', (p) => inbox.push(p));
  return inbox;
}

async function expectJoinError(conn: StanzaConn, room: string, nick: string, condition: string, opts: any = {}): Promise<void> {
  const err = await withTimeout(conn.agent.joinRoom(room, nick, opts).then(() => null, (e) => e), 4000, `join ${nick}`);
  assert.equal(conditionOf(err), condition, `join of ${nick} refused with ${condition}`);
}

describe('open rooms (XEP-0045, XEP-0425) for standard clients, beside QuickBlox dialogs', () => {
  let stanzas: StanzaPool;
  const fx = useServer({ overrides: { https_port: httpsPort }, teardown: () => stanzas.disconnectAll() });
  stanzas = new StanzaPool(() => fx.t);
  const muc = () => `muc.${fx.t.domain}`;

  it('creates a room by joining, configures it, and carries subject, nick changes, private messages, history, disco and the archive', async () => {
    const [alice, bob, carol] = [await fx.t.createUser(), await fx.t.createUser(), await fx.t.createUser()];
    const [a, b, c] = [await stanzas.connect(alice), await stanzas.connect(bob), await stanzas.connect(carol)];
    const room = `lobby@${muc()}`;
    const created = await withTimeout(a.agent.joinRoom(room, 'Alice'), 4000, 'create');
    assert.deepEqual([...codes(created)].sort(), ['100', '110', '170', '201'], 'a new room says 201, and that it is logged (170)');
    assert.equal(created.muc.affiliation, 'owner');
    assert.equal(created.muc.role, 'moderator');

    const form = await a.agent.getRoomConfig(room);
    assert.ok(form.fields?.some((f) => f.name === 'muc#roomconfig_membersonly'));
    await a.agent.configureRoom(room, {
      type: 'submit',
      fields: [
        { name: 'FORM_TYPE', value: 'http://jabber.org/protocol/muc#roomconfig' },
        { name: 'muc#roomconfig_roomname', value: 'The Lobby' },
        { name: 'muc#roomconfig_historylength', value: '5' },
      ],
    });
    const tooLong = await a.agent.configureRoom(room, { type: 'submit', fields: [{ name: 'muc#roomconfig_historylength', value: '5000' }] }).then(() => null, (e) => e);
    assert.equal(conditionOf(tooLong), 'not-acceptable', 'form values are bounded');
    const info = await b.agent.getDiscoInfo(room);
    assert.equal(info.identities[0]?.name, 'The Lobby');
    for (const f of ['http://jabber.org/protocol/muc', 'urn:xmpp:mam:2', 'urn:xmpp:message-moderate:1', 'muc_public', 'muc_open', 'muc_persistent', 'muc_unsecured']) {
      assert.ok(info.features.includes(f), `room feature ${f}`);
    }
    const listed = await b.agent.getDiscoItems(muc());
    assert.deepEqual(listed.items.map((i) => [i.jid, i.name]), [[room, 'The Lobby']]);

    // Another application has its own `lobby`, and does not list this one.
    const other = await fx.t.createApp();
    const stranger = await stanzas.connect(await fx.t.createUser(undefined, undefined, other));
    assert.deepEqual((await stranger.agent.getDiscoItems(muc())).items, []);
    const theirs = await withTimeout(stranger.agent.joinRoom(room, 'Alice'), 4000, 'other app join');
    assert.ok(codes(theirs).includes('201'), 'the same name in another application is another room');

    const aPresences = presences(a);
    await withTimeout(b.agent.joinRoom(room, 'Bob'), 4000, 'bob joins');
    await aPresences.take((p) => p.from === `${room}/Bob` && p.type !== 'unavailable', 3000, 'bob seen');
    await expectJoinError(c, room, 'Bob', 'conflict');

    // Subject: moderators only (by default).
    const bTopic = new Promise<any>((resolve) => b.agent.once('muc:topic', resolve));
    a.agent.setSubject(room, 'Welcome');
    assert.equal((await withTimeout(bTopic, 3000, 'topic')).topic, 'Welcome');
    b.agent.sendMessage({ to: room, type: 'groupchat', subject: 'mine now' });
    const refused = await b.messages.take((m) => m.type === 'error', 3000, 'subject refused');
    assert.equal(refused.error?.condition, 'forbidden');

    // Groupchat: stored, reflected with the stored id as XEP-0359 stanza-id by the room.
    a.agent.sendMessage({ to: room, type: 'groupchat', body: 'hello room', id: 'client-id-1' });
    const atBob = await b.messages.take((m) => m.body === 'hello room', 3000, 'groupchat at bob');
    assert.equal(atBob.from, `${room}/Alice`);
    const sid = atBob.stanzaIds?.find((s) => s.by === room);
    assert.match(sid?.id ?? '', /^[0-9a-f]{24}$/);
    const echo = await a.messages.take((m) => m.body === 'hello room', 3000, 'echo');
    assert.equal(echo.id, 'client-id-1', 'the sender recognizes its echo by id');

    // Nick change (303) and a private message to the new nick.
    const seenRename = aPresences.take((p) => p.from === `${room}/Bob` && p.type === 'unavailable', 3000, 'rename');
    const renamed = await withTimeout(b.agent.changeNick(room, 'Robert'), 3000, 'change nick');
    assert.equal(renamed.from, `${room}/Robert`);
    const rename = await seenRename;
    assert.ok(codes(rename).includes('303'));
    assert.equal((rename.muc as any).nick, 'Robert');
    a.agent.sendMessage({ to: `${room}/Robert`, type: 'chat', body: 'psst' });
    const pm = await b.messages.take((m) => m.body === 'psst', 3000, 'private message');
    assert.equal(pm.from, `${room}/Alice`);
    a.agent.sendMessage({ to: `${room}/Nobody`, type: 'chat', body: 'lost' });
    assert.equal((await a.messages.take((m) => m.type === 'error', 3000, 'pm error')).error?.condition, 'item-not-found');
    b.agent.sendMessage({ to: room, type: 'groupchat', body: 'from robert' });
    assert.equal((await a.messages.take((m) => m.body === 'from robert', 3000, 'robert speaks')).from, `${room}/Robert`);

    // A late joiner gets the history (with delay) and the subject.
    const cTopic = new Promise<any>((resolve) => c.agent.once('muc:topic', resolve));
    await withTimeout(c.agent.joinRoom(room, 'Carol'), 4000, 'carol joins');
    const old = await c.messages.take((m) => m.body === 'hello room', 3000, 'history');
    assert.ok(old.delay, 'history carries a delay');
    assert.equal((await withTimeout(cTopic, 3000, 'subject on join')).topic, 'Welcome');
    const items = await c.agent.getDiscoItems(room);
    assert.deepEqual(items.items.map((i) => i.name).sort(), ['Alice', 'Carol', 'Robert']);

    // The room is a QuickBlox dialog: listed over REST, with the stored messages.
    const token = await restSession(fx.t, { login: carol.login, password: carol.password });
    const dialogs = await (await fetch(restUrl(fx.t, '/chat/Dialog.json'), { headers: { 'QB-Token': token } })).json() as any;
    const dialog = dialogs.items.find((d: any) => d.name === 'The Lobby');
    assert.ok(dialog, 'the open room is a dialog over REST');
    assert.equal(dialog.type, 2);
    assert.equal(dialog.user_id, alice.id);
    assert.deepEqual([...dialog.occupants_ids].sort(), [alice.id, bob.id, carol.id].sort(), 'whoever joined is an occupant');
    const outsider = await fx.t.createUser();
    const outsiderToken = await restSession(fx.t, { login: outsider.login, password: outsider.password });
    const theirDialogs = await (await fetch(restUrl(fx.t, '/chat/Dialog.json'), { headers: { 'QB-Token': outsiderToken } })).json() as any;
    assert.ok(!theirDialogs.items.some((d: any) => d._id === dialog._id), 'a user who never joined does not have the dialog');
    const denied = await fetch(restUrl(fx.t, `/chat/Message.json?chat_dialog_id=${dialog._id}`), { headers: { 'QB-Token': outsiderToken } });
    assert.equal(denied.status, 403, 'nor its history');
    const stored = await (await fetch(restUrl(fx.t, `/chat/Message.json?chat_dialog_id=${dialog._id}`), { headers: { 'QB-Token': token } })).json() as any;
    assert.deepEqual(stored.items.map((m: any) => m.message), ['hello room', 'from robert']);
    assert.equal(stored.items[0]._id, sid!.id);

    // The room's archive (MAM) has them too.
    const fin = await c.agent.searchHistory(room, {});
    assert.deepEqual((fin.results ?? []).map((r) => r.item.message?.body), ['hello room', 'from robert']);
  });

  it('kicks, bans, keeps members-only and password rooms closed, and checks who administers', async () => {
    const [alice, bob, dave, eve] = [await fx.t.createUser(), await fx.t.createUser(), await fx.t.createUser(), await fx.t.createUser()];
    const [a, b, d, e] = [await stanzas.connect(alice), await stanzas.connect(bob), await stanzas.connect(dave), await stanzas.connect(eve)];
    const room = `club@${muc()}`;
    await withTimeout(a.agent.joinRoom(room, 'owner'), 4000, 'create');
    await withTimeout(b.agent.joinRoom(room, 'bob'), 4000, 'bob joins');
    await withTimeout(d.agent.joinRoom(room, 'dave'), 4000, 'dave joins');

    // A participant cannot kick or ban.
    assert.equal(conditionOf(await b.agent.kick(room, 'dave').then(() => null, (x) => x)), 'forbidden');
    assert.equal(conditionOf(await b.agent.ban(room, dave.jid).then(() => null, (x) => x)), 'forbidden');

    const bPresences = presences(b);
    await a.agent.kick(room, 'bob', 'be nice');
    const kicked = await bPresences.take((p) => p.type === 'unavailable' && p.from === `${room}/bob`, 3000, 'kicked');
    assert.deepEqual([...codes(kicked)].sort(), ['110', '307']);
    assert.equal((kicked.muc as any).reason, 'be nice');

    await withTimeout(b.agent.joinRoom(room, 'bob'), 4000, 'bob rejoins after a kick');
    await a.agent.ban(room, bob.jid);
    const banned = await bPresences.take((p) => p.type === 'unavailable' && codes(p).includes('301'), 3000, 'banned');
    assert.equal((banned.muc as any).affiliation, 'outcast');
    await expectJoinError(b, room, 'bob', 'forbidden');
    const outcasts = await a.agent.getRoomMembers(room, { affiliation: 'outcast' });
    assert.deepEqual((outcasts.muc.users ?? []).map((u: any) => u.jid), [bob.jid]);

    // Members only: dave (present, no affiliation) is removed (322); a member may join.
    const dPresences = presences(d);
    await a.agent.configureRoom(room, { type: 'submit', fields: [{ name: 'muc#roomconfig_membersonly', value: true }] });
    const removed = await dPresences.take((p) => p.type === 'unavailable' && p.from === `${room}/dave`, 3000, 'members only');
    assert.ok(codes(removed).includes('322'));
    await expectJoinError(e, room, 'eve', 'registration-required');
    // An invitation from the owner makes Eve a member; a participant may not invite to a members-only room.
    const invited = new Promise<any>((resolve) => e.agent.once('muc:invite', resolve));
    a.agent.invite(room, { to: eve.jid, reason: 'join us' });
    const invitation = await withTimeout(invited, 3000, 'invitation');
    assert.deepEqual([invitation.room, invitation.from, invitation.reason, invitation.type], [room, alice.jid, 'join us', 'mediated']);
    await withTimeout(e.agent.joinRoom(room, 'eve'), 4000, 'invited member joins');
    assert.deepEqual((await a.agent.getRoomMembers(room, { affiliation: 'member' })).muc.users?.map((u: any) => u.jid), [eve.jid]);
    e.agent.invite(room, { to: dave.jid });
    assert.equal((await e.messages.take((m) => m.type === 'error', 3000, 'invite refused')).error?.condition, 'forbidden');
    // An affiliation for a JID of another application is refused.
    const foreign = await a.agent.setRoomAffiliation(room, `1-999999@${fx.t.domain}`, 'member').then(() => null, (x) => x);
    assert.equal(conditionOf(foreign), 'not-acceptable');
    // The only owner cannot give up ownership.
    assert.equal(conditionOf(await a.agent.setRoomAffiliation(room, alice.jid, 'none').then(() => null, (x) => x)), 'conflict');

    // Password protected.
    const locked = `locked@${muc()}`;
    await withTimeout(a.agent.joinRoom(locked, 'owner'), 4000, 'create locked');
    await a.agent.configureRoom(locked, { type: 'submit', fields: [
      { name: 'muc#roomconfig_passwordprotectedroom', value: true }, { name: 'muc#roomconfig_roomsecret', value: 's3cret' }] });
    await expectJoinError(d, locked, 'dave', 'not-authorized');
    await expectJoinError(d, locked, 'dave', 'not-authorized', { muc: { type: 'join', password: 'wrong' } });
    await withTimeout(d.agent.joinRoom(locked, 'dave', { muc: { type: 'join', password: 's3cret' } }), 4000, 'with password');

    // Bounded input: an overlong nick.
    await expectJoinError(e, `other@${muc()}`, 'n'.repeat(65), 'not-acceptable');

    // The owner destroys the room: everyone gets the destroy presence; it is no longer listed.
    const destroyed = new Promise<any>((resolve) => d.agent.once('muc:destroyed', resolve));
    await a.agent.destroyRoom(locked, { reason: 'done' });
    assert.equal((await withTimeout(destroyed, 3000, 'destroyed')).reason, 'done');
    assert.ok(!(await d.agent.getDiscoItems(muc())).items.some((i) => i.jid === locked));
  });

  it('bounds rooms per user, subjects and messages', async () => {
    const alice = await fx.t.createUser();
    const a = await stanzas.connect(alice);
    for (let i = 1; i <= 20; i++) await withTimeout(a.agent.joinRoom(`mine${i}@${muc()}`, 'a'), 4000, `room ${i}`);
    await expectJoinError(a, `mine21@${muc()}`, 'a', 'not-allowed');
    await expectJoinError(a, `${'r'.repeat(65)}@${muc()}`, 'a', 'not-acceptable');
    const room = `mine1@${muc()}`;
    a.agent.setSubject(room, 's'.repeat(1025));
    assert.equal((await a.messages.take((m) => m.type === 'error', 3000, 'long subject')).error?.condition, 'not-acceptable');
    a.agent.sendMessage({ to: room, type: 'groupchat', body: 'b'.repeat(32_769) });
    assert.equal((await a.messages.take((m) => m.type === 'error', 3000, 'long body')).error?.condition, 'not-acceptable');
    // Nothing was stored or echoed for either.
    a.agent.sendMessage({ to: room, type: 'groupchat', body: 'fine' });
    const next = await a.messages.take((m) => m.type === 'groupchat' && m.from.startsWith(room) && (m.body !== undefined || !!m.subject), 3000, 'next');
    assert.equal(next.body, 'fine');
  });

  it('lets a moderator retract a message (XEP-0425): occupants are told and the stored message is gone', async () => {
    const [mod, spammer] = [await fx.pool.connect(await fx.t.createUser()), await fx.pool.connect(await fx.t.createUser())];
    const room = `moderated@${muc()}`;
    const join = async (conn: typeof mod, nick: string): Promise<void> => {
      await conn.send(xml('presence', { to: `${room}/${nick}`, id: `j-${nick}` }, xml('x', { xmlns: NS_MUC })));
      const answer = await conn.take((el) => el.name === 'presence' && el.attrs.id === `j-${nick}`, 3000, `join ${nick}`);
      assert.equal(answer.attrs.type, undefined);
      assert.ok(answer.getChild('x', NS_MUC_USER));
    };
    await join(mod, 'mod');
    await join(spammer, 'spammer');
    // A decline (§7.8.3; stanza.js 12 sends an empty one, hence raw XML here) goes to the inviter through the room.
    await spammer.send(xml('message', { to: room }, xml('x', { xmlns: NS_MUC_USER }, xml('decline', { to: mod.user.jid }, xml('reason', {}, 'busy')))));
    const declined = await mod.take((el) => el.name === 'message' && el.getChild('x', NS_MUC_USER)?.getChild('decline') !== undefined, 3000, 'decline');
    assert.equal(declined.attrs.from, room);
    assert.equal(declined.getChild('x', NS_MUC_USER)!.getChild('decline')!.attrs.from, spammer.user.jid);
    assert.equal(declined.getChild('x', NS_MUC_USER)!.getChild('decline')!.getChildText('reason'), 'busy');
    await spammer.send(xml('message', { to: room, type: 'groupchat', id: 'spam-1' }, xml('body', {}, 'buy now')));
    const seen = await mod.take((el) => el.name === 'message' && el.getChildText('body') === 'buy now', 3000, 'spam');
    const stanzaId = seen.getChild('stanza-id', 'urn:xmpp:sid:0')!.attrs.id;

    // A participant may not moderate; an unknown id is item-not-found.
    const moderate = (id: string) => xml('iq', { type: 'set', to: room, id: `m-${id}` },
      xml('moderate', { xmlns: 'urn:xmpp:message-moderate:1', id }, xml('retract', { xmlns: 'urn:xmpp:message-retract:1' }), xml('reason', {}, 'spam')));
    await assert.rejects(spammer.iq(moderate(stanzaId)), /forbidden/);
    await assert.rejects(mod.iq(moderate('000000000000000000000000')), /item-not-found/);

    await mod.iq(moderate(stanzaId));
    const retraction = await spammer.take((el) => el.name === 'message' && el.getChild('retract', 'urn:xmpp:message-retract:1') !== undefined, 3000, 'retraction');
    assert.equal(retraction.attrs.from, room);
    const retract = retraction.getChild('retract', 'urn:xmpp:message-retract:1')!;
    assert.equal(retract.attrs.id, stanzaId);
    assert.equal(retract.getChild('moderated', 'urn:xmpp:message-moderate:1')?.attrs.by, `${room}/mod`);
    assert.equal(retract.getChildText('reason'), 'spam');
    assert.equal(await fx.t.store.chat.getMessage(fx.t.app.id, stanzaId), null, 'the stored message is deleted');

    // In a QuickBlox dialog room: the dialog's owner moderates (joined, with nick = user id).
    const token = await restSession(fx.t, { login: mod.user.login, password: mod.user.password });
    const created = await fetch(restUrl(fx.t, '/chat/Dialog.json'), {
      method: 'POST', headers: { 'QB-Token': token, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 2, name: 'QuickBlox group', occupants_ids: [spammer.user.id] }),
    });
    const qbRoom = ((await created.json()) as { xmpp_room_jid: string }).xmpp_room_jid;
    for (const conn of [mod, spammer]) {
      await conn.send(xml('presence', { to: `${qbRoom}/${conn.user.id}`, id: `q-${conn.user.id}` }, xml('x', { xmlns: NS_MUC })));
      await conn.take((el) => el.name === 'presence' && el.attrs.id === `q-${conn.user.id}`, 3000, 'join the dialog room');
    }
    await spammer.send(xml('message', { to: qbRoom, type: 'groupchat', id: 'spam-2' }, xml('body', {}, 'more spam'),
      xml('extraParams', { xmlns: 'jabber:client' }, xml('save_to_history', {}, '1'))));
    const qbSeen = await mod.take((el) => el.name === 'message' && el.getChildText('body') === 'more spam', 3000, 'spam in the dialog room');
    const qbId = qbSeen.getChild('stanza-id', 'urn:xmpp:sid:0')!.attrs.id;
    const moderateIn = (to: string, id: string) => xml('iq', { type: 'set', to, id: `qm-${id}` },
      xml('moderate', { xmlns: 'urn:xmpp:message-moderate:1', id }, xml('retract', { xmlns: 'urn:xmpp:message-retract:1' })));
    await assert.rejects(spammer.iq(moderateIn(qbRoom, qbId)), /forbidden/, 'an occupant who is not the owner or an admin');
    await mod.iq(moderateIn(qbRoom, qbId));
    const qbRetraction = await spammer.take((el) => el.name === 'message' && el.getChild('retract', 'urn:xmpp:message-retract:1') !== undefined, 3000, 'retraction in the dialog room');
    assert.equal(qbRetraction.attrs.from, qbRoom);
    assert.equal(qbRetraction.getChild('retract', 'urn:xmpp:message-retract:1')!.attrs.id, qbId);
    assert.equal(await fx.t.store.chat.getMessage(fx.t.app.id, qbId), null);
  });

  it('a room created by a standard client is a dialog over REST, and a QuickBlox SDK user chats in it', async () => {
    const alice = await fx.t.createUser();
    const a = await stanzas.connect(alice);
    const room = `bridge@${muc()}`;
    await withTimeout(a.agent.joinRoom(room, 'Alice'), 4000, 'create');

    const qb: SdkUser = await sdkSignUp(fx.t);
    try {
      await sdkConnectChat(qb);
      // Made a member by the owner: an occupant of the dialog, which the SDK then lists.
      await a.agent.setRoomAffiliation(room, `${qb.id}-${fx.t.app.id}@${fx.t.domain}`, 'member');
      const list = await call<any>((cb) => qb.qb.chat.dialog.list({ name: 'bridge' }, cb));
      const dialog = list.items.find((d: any) => d.name === 'bridge');
      assert.ok(dialog, 'the SDK lists the room as a dialog');
      assert.equal(dialog.type, 2);
      await call((cb) => qb.qb.chat.muc.join(dialog.xmpp_room_jid, cb));
      // A standard client may also join the dialog's own room, with its user id as nick.
      const bob = await fx.t.createUser();
      await a.agent.setRoomAffiliation(room, bob.jid, 'member');
      const b2 = await stanzas.connect(bob);
      await withTimeout(b2.agent.joinRoom(dialog.xmpp_room_jid, String(bob.id)), 4000, 'join the dialog room');

      // QuickBlox → standard client.
      const id = qb.qb.chat.send(dialog.xmpp_room_jid, { type: 'groupchat', body: 'hi from the SDK', extension: { save_to_history: 1 } });
      const got = await a.messages.take((m) => m.body === 'hi from the SDK' && m.from.startsWith(room), 4000, 'SDK message in the open room');
      assert.equal(got.from, `${room}/${qb.id}`, 'a user not in the open room speaks as their user id');
      assert.equal(got.stanzaIds?.find((s) => s.by === room)?.id, id);
      // The dialog's own room: its stored reflections carry the stanza-id by the room, and it lists MAM.
      const viaDialogRoom = await b2.messages.take((m) => m.body === 'hi from the SDK', 4000, 'SDK message in the dialog room');
      assert.equal(viaDialogRoom.stanzaIds?.find((s) => s.by === dialog.xmpp_room_jid)?.id, id);
      assert.ok((await b2.agent.getDiscoInfo(dialog.xmpp_room_jid)).features.includes('urn:xmpp:mam:2'));

      // Standard client → QuickBlox.
      const sdkGets = new Promise<any[]>((resolve) => {
        qb.qb.chat.onMessageListener = (...args: any[]) => {
          if (args[1]?.body === 'hi from stanza.js') resolve(args);
        };
      });
      a.agent.sendMessage({ to: room, type: 'groupchat', body: 'hi from stanza.js' });
      const [fromId, message] = await withTimeout(sdkGets, 4000, 'open room message at the SDK');
      assert.equal(fromId, alice.id);
      assert.equal(message.dialog_id, dialog._id);
      const history = await call<any>((cb) => qb.qb.chat.message.list({ chat_dialog_id: dialog._id }, cb));
      assert.deepEqual(history.items.map((m: any) => m.message).sort(), ['hi from stanza.js', 'hi from the SDK']);

      // A ban in the open room removes the user from the dialog: kicked from its room, and kept out.
      const kicked = new Promise<any[]>((resolve) => {
        qb.qb.chat.onKickOccupant = (...args: any[]) => resolve(args);
      });
      await a.agent.ban(room, `${qb.id}-${fx.t.app.id}@${fx.t.domain}`);
      assert.deepEqual(await withTimeout(kicked, 4000, 'kicked from the dialog room'), [dialog._id, alice.id]);
      const rejoin = await call((cb) => qb.qb.chat.muc.join(dialog.xmpp_room_jid, cb)).then(() => null, (err) => err);
      assert.ok(rejoin, 'a banned user cannot join the dialog room');
    } finally {
      await sdkDisconnect(qb, fx.t);
    }
  });
});
