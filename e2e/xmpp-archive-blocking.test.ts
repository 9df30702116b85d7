// Message archive (XEP-0313 + RSM) and blocking (XEP-0191) with the `stanza` client library, and
// where they meet QuickBlox: a save_to_history message sent by the QuickBlox SDK (1-1 and in a
// group dialog) is found by MAM queries with its QuickBlox `_id`, and a block set with XEP-0191
// stops a message the SDK sends (and a block set by the SDK shows in the XEP-0191 blocklist).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { freePort, type TestUser } from './support/server.js';
import { StanzaPool } from './support/stanza.js';
import { call as sdkCall, sdkConnectChat, sdkDisconnect, sdkSignUp, type SdkUser } from './support/quickblox.js';
import { withTimeout } from './support/wait.js';
import { ARCHIVE_ALL_KEY } from '../src/modules/mam/settings.js';

const httpsPort = await freePort();
const call = <T = any>(fn: (cb: (err: unknown, result: T) => void) => void): Promise<T> => withTimeout(sdkCall<T>(fn), 5000, 'SDK call');

function next(u: SdkUser, name: string, match: (...args: any[]) => boolean = () => true, ms = 4000): Promise<any[]> {
  return withTimeout(new Promise<any[]>((resolve) => {
    const previous = u.qb.chat[name];
    u.qb.chat[name] = (...args: any[]) => {
      if (!match(...args)) return previous?.(...args);
      u.qb.chat[name] = previous;
      resolve(args);
    };
  }), ms, `${name} of user ${u.id}`);
}

const bodies = (fin: { results?: { item: { message?: { body?: string } } }[] }): (string | undefined)[] => (fin.results ?? []).map((r) => r.item.message?.body);

describe('XEP-0313 and XEP-0191 with stanza.js, and across to the QuickBlox SDK', () => {
  let stanzas: StanzaPool;
  const fx = useServer({ overrides: { https_port: httpsPort }, teardown: () => stanzas.disconnectAll() });
  stanzas = new StanzaPool(() => fx.t);
  const asSdkUser = (u: SdkUser) => ({ jid: `${u.id}-${fx.t.app.id}@${fx.t.domain}`, password: u.password });

  it('archives every chat message of an application with mam_archive_all on, and pages through it', async () => {
    const app = await fx.t.createApp();
    await fx.t.store.keyValue.set('app', app.id, ARCHIVE_ALL_KEY, 'true');
    const [alice, bob, carol] = [await fx.t.createUser(undefined, undefined, app), await fx.t.createUser(undefined, undefined, app), await fx.t.createUser(undefined, undefined, app)];
    const [a, b] = [await stanzas.connect(alice), await stanzas.connect(bob)];

    const info = await a.agent.getDiscoInfo(alice.jid);
    assert.ok(info.features.includes('urn:xmpp:mam:2'), 'the account advertises MAM');

    const liveIds: string[] = [];
    for (let i = 1; i <= 5; i++) {
      a.agent.sendMessage({ to: bob.jid, type: 'chat', body: `m${i}` });
      const got = await b.messages.take((m) => m.body === `m${i}`, 4000, `m${i} at bob`);
      const sid = got.stanzaIds?.find((s) => s.by === bob.jid);
      assert.ok(sid, 'a live archived message carries its stanza-id');
      assert.equal(sid.id, got.id, 'the stanza-id is the stored _id, also the message id');
      liveIds.push(sid.id);
    }
    // A message to someone else is not in bob's archive.
    a.agent.sendMessage({ to: carol.jid, type: 'chat', body: 'not for bob' });
    await a.agent.ping();

    const first = await b.agent.searchHistory({ paging: { max: 2 } });
    assert.deepEqual(bodies(first), ['m1', 'm2']);
    assert.notEqual(first.complete, true);
    assert.equal(first.paging?.count, 5);
    assert.deepEqual(first.results!.map((r) => r.id), liveIds.slice(0, 2), 'results carry the stored ids');
    const forwarded = first.results![0]!.item;
    assert.equal(forwarded.message?.from, alice.jid);
    assert.equal(forwarded.message?.to, bob.jid);
    assert.ok(forwarded.delay?.timestamp instanceof Date);
    const second = await b.agent.searchHistory({ paging: { max: 2, after: first.paging!.last } });
    assert.deepEqual(bodies(second), ['m3', 'm4']);
    const third = await b.agent.searchHistory({ paging: { max: 2, after: second.paging!.last } });
    assert.deepEqual(bodies(third), ['m5']);
    assert.equal(third.complete, true);
    // The last page, and the page before it.
    const last = await b.agent.searchHistory({ paging: { max: 2, before: '' } });
    assert.deepEqual(bodies(last), ['m4', 'm5']);
    const earlier = await b.agent.searchHistory({ paging: { max: 2, before: last.paging!.first } });
    assert.deepEqual(bodies(earlier), ['m2', 'm3']);
    // Filters: with, start/end, and the ids the store gave.
    assert.deepEqual(bodies(await a.agent.searchHistory({ with: carol.jid })), ['not for bob']);
    assert.deepEqual(bodies(await a.agent.searchHistory({ with: bob.jid, paging: { max: 10 } })), ['m1', 'm2', 'm3', 'm4', 'm5']);
    assert.deepEqual(bodies(await b.agent.searchHistory({ start: new Date(Date.now() + 3_600_000) })), []);
    assert.equal(bodies(await b.agent.searchHistory({ end: new Date(Date.now() + 3_600_000) })).length, 5);
    const stored = await fx.t.store.chat.getMessage(app.id, liveIds[2]!);
    assert.equal(stored?.body, 'm3', 'the archive id is the QuickBlox _id of the stored message');
    // An id that is not in the archive is item-not-found.
    await assert.rejects(b.agent.searchHistory({ paging: { after: 'f'.repeat(24) } }), (e: any) => e.error?.condition === 'item-not-found');
    assert.equal((await b.agent.getHistoryPreferences()).default, 'always');
    await assert.rejects(b.agent.setHistoryPreferences({ default: 'never' }), (e: any) => e.error?.condition === 'not-allowed');
    // Someone else's archive is not readable.
    await assert.rejects(a.agent.searchHistory(bob.jid, {}), (e: any) => e.error?.condition === 'forbidden');
    // A groupchat message of a standard client in a QuickBlox group dialog is archived too.
    const group = await fx.t.server.chat.createDialog({ appId: app.id, userId: alice.id }, { type: 2, name: 'g', occupants_ids: String(bob.id) }) as unknown as { _id: string };
    const room = `${app.id}_${group._id}@muc.${fx.t.domain}`;
    await a.agent.joinRoom(room, String(alice.id));
    a.agent.sendMessage({ to: room, type: 'groupchat', body: 'to everyone' });
    await a.messages.take((m) => m.type === 'groupchat' && m.body === 'to everyone', 4000, 'groupchat echo');
    assert.deepEqual(bodies(await b.agent.searchHistory(room, {})), ['to everyone']);
    // Bad input: each a clear stanza error, and the stream stays up.
    const bad = (fields: { name: string; value: string }[], paging?: object) =>
      b.agent.searchHistory({ form: { type: 'submit', fields: fields as any }, ...(paging ? { paging } : {}) }).then(() => 'ok', (e: any) => e.error?.condition);
    assert.equal(await bad([{ name: 'start', value: 'yesterday' }]), 'bad-request');
    assert.equal(await bad([{ name: 'fulltext', value: 'm1' }]), 'bad-request');
    assert.equal(await bad([{ name: 'with', value: '@@' }]), 'jid-malformed');
    assert.equal(await bad([{ name: 'after-id', value: 'x'.repeat(5000) }]), 'policy-violation');
    assert.equal(await bad([], { index: 2 }), 'feature-not-implemented');
    assert.equal((await b.agent.searchHistory({ paging: { max: 100000 } })).results!.length, 5, 'max is capped, not refused');
  });

  it('finds a QuickBlox save_to_history message (1-1 and groupchat) by MAM, with its _id; without save_to_history nothing is archived', async () => {
    const [ann, bob] = [await sdkSignUp(fx.t), await sdkSignUp(fx.t)];
    try {
      await sdkConnectChat(ann);
      const id = ann.qb.chat.send(bob.id, { type: 'chat', body: 'kept by QuickBlox', extension: { save_to_history: 1 } });
      ann.qb.chat.send(bob.id, { type: 'chat', body: 'not kept' });
      const dialog = await call<any>((cb) => ann.qb.chat.dialog.create({ type: 2, name: 'archive room', occupants_ids: [bob.id] }, cb));
      await call((cb) => ann.qb.chat.muc.join(dialog.xmpp_room_jid, cb));
      const echoed = next(ann, 'onMessageListener', (_u, m) => m.body === 'to the room');
      const groupId = ann.qb.chat.send(dialog.xmpp_room_jid, { type: 'groupchat', body: 'to the room', extension: { save_to_history: 1 } });
      await echoed;

      const b = await stanzas.connect(asSdkUser(bob));
      const mine = await b.agent.searchHistory({});
      assert.deepEqual(bodies(mine), ['kept by QuickBlox']);
      assert.equal(mine.results![0]!.id, id, 'the MAM id is the id the SDK gave the message');
      const room = `${fx.t.app.id}_${dialog._id}@muc.${fx.t.domain}`;
      assert.equal(dialog.xmpp_room_jid, room);
      const roomArchive = await b.agent.searchHistory(room, {});
      assert.deepEqual(bodies(roomArchive), ['to the room']);
      assert.equal(roomArchive.results![0]!.id, groupId);
      assert.equal(roomArchive.results![0]!.item.message?.from, `${room}/${ann.id}`);
      // Over REST the same message has the same _id.
      const rest = await call<any>((cb) => ann.qb.chat.message.list({ chat_dialog_id: dialog._id }, cb));
      assert.deepEqual(rest.items.map((m: any) => m._id), [groupId]);
      // A room of another application, or one the user is not in, is not readable.
      const [carol] = [await sdkSignUp(fx.t)];
      const c = await stanzas.connect(asSdkUser(carol));
      await assert.rejects(c.agent.searchHistory(room, {}), (e: any) => e.error?.condition === 'forbidden');
    } finally {
      await sdkDisconnect(ann, fx.t);
    }
  });

  it('blocks and unblocks with XEP-0191: the blocklist, pushes to other resources, and the message refused', async () => {
    const [alice, bob] = [await fx.t.createUser(), await fx.t.createUser()];
    const a = await stanzas.connect(alice, 'phone');
    const a2 = await stanzas.connect(alice, 'laptop');
    const b = await stanzas.connect(bob);
    assert.ok((await a.agent.getDiscoInfo(fx.t.domain)).features.includes('urn:xmpp:blocking'));
    assert.deepEqual((await a.agent.getBlocked()).jids, []);
    assert.deepEqual((await a2.agent.getBlocked()).jids, []);
    const pushed = withTimeout(new Promise<any>((resolve) => a2.agent.once('block', resolve)), 4000, 'block push');
    await a.agent.block(bob.jid);
    assert.deepEqual((await pushed).jids, [bob.jid]);
    assert.deepEqual((await a.agent.getBlocked()).jids, [bob.jid]);

    b.agent.sendMessage({ to: alice.jid, type: 'chat', body: 'blocked?', id: 'x1' });
    const bounced = await b.messages.take((m) => m.id === 'x1' && m.type === 'error', 4000, 'error at bob');
    assert.equal(bounced.error?.condition, 'service-unavailable');
    // Nor may alice write to bob while she blocks him.
    a.agent.sendMessage({ to: bob.jid, type: 'chat', body: 'me neither', id: 'x2' });
    const refused = await a.messages.take((m) => m.id === 'x2' && m.type === 'error', 4000, 'error at alice');
    assert.equal(refused.error?.condition, 'not-acceptable');
    // Stored as the pair QuickBlox SDKs write, in her default privacy list.
    const list = await fx.t.store.privacy.getDefault(alice.id);
    assert.deepEqual(list?.items.map((i) => i.value), [bob.jid, `muc.${fx.t.domain}/${bob.id}`]);

    await a.agent.unblock(bob.jid);
    assert.deepEqual((await a.agent.getBlocked()).jids, []);
    b.agent.sendMessage({ to: alice.jid, type: 'chat', body: 'now?' });
    await a.messages.take((m) => m.body === 'now?', 4000, 'message after unblock');
    assert.equal(await fx.t.store.privacy.getDefault(alice.id), null, 'the emptied list is gone');
  });

  it('a block set with XEP-0191 stops a message sent by the QuickBlox SDK, and a block set by the SDK shows in the blocklist', async () => {
    const [ann, carolSdk] = [await sdkSignUp(fx.t), await sdkSignUp(fx.t)];
    try {
      await sdkConnectChat(ann);
      const carol = await stanzas.connect(asSdkUser(carolSdk));
      await carol.agent.block(`${ann.id}-${fx.t.app.id}@${fx.t.domain}`);

      const refused = next(ann, 'onMessageErrorListener');
      const id = ann.qb.chat.send(carolSdk.id, { type: 'chat', body: 'hello carol', extension: { save_to_history: 1 } });
      const [errorId, error] = await refused;
      assert.equal(errorId, id);
      assert.equal(error.code, 503);
      await carol.agent.ping();
      assert.equal(carol.messages.items?.find?.((m: any) => m.body === 'hello carol'), undefined);

      // The SDK reads the same list as QuickBlox wrote it: a deny pair for ann.
      await sdkConnectChat(carolSdk);
      const names = await call<any>((cb) => carolSdk.qb.chat.privacylist.getNames(cb));
      assert.equal(names.default, 'blocklist');
      const list = await call<any>((cb) => carolSdk.qb.chat.privacylist.getList('blocklist', cb));
      assert.deepEqual(list.items, [{ user_id: ann.id, action: 'deny' }]);

      // Ann blocks carol through the SDK: carol's stanza.js sees it as a blocklist on Ann's side.
      await call((cb) => ann.qb.chat.privacylist.create({ name: 'sdk', items: [{ user_id: carolSdk.id, action: 'deny' }] }, cb));
      await call((cb) => ann.qb.chat.privacylist.setAsDefault('sdk', cb));
      const annStanza = await stanzas.connect({ jid: `${ann.id}-${fx.t.app.id}@${fx.t.domain}`, password: ann.password });
      assert.deepEqual((await annStanza.agent.getBlocked()).jids, [`${carolSdk.id}-${fx.t.app.id}@${fx.t.domain}`]);
      await annStanza.agent.unblock(`${carolSdk.id}-${fx.t.app.id}@${fx.t.domain}`);
      const after = await call<any>((cb) => ann.qb.chat.privacylist.getNames(cb)).catch(() => ({ default: null }));
      assert.equal(after.default ?? null, null);
      await sdkDisconnect(carolSdk, fx.t);
    } finally {
      await sdkDisconnect(ann, fx.t);
    }
  });
});
