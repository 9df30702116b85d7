// The official QuickBlox JS SDK against Parley's group chat, roster, privacy lists and last
// activity: dialogs over REST, muc.join / send / onMessageListener / listOnlineUsers / leave, a
// kick by REST pull_all, a privacy block answered with 503, roster add/confirm, getLastUserActivity.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { freePort } from './support/server.js';
import { call as sdkCall, sdkConnectChat, sdkDisconnect, sdkSignUp, type SdkUser } from './support/quickblox.js';
import { withTimeout } from './support/wait.js';

const httpsPort = await freePort();

/** An SDK call that fails the test instead of hanging when no answer comes. */
const call = <T = any>(fn: (cb: (err: unknown, result: T) => void) => void): Promise<T> => withTimeout(sdkCall<T>(fn), 5000, 'SDK call');

/** Resolves with the arguments of the next call of an SDK listener (`qb.chat.<name>`). */
function next(u: SdkUser, name: string, match: (...args: any[]) => boolean = () => true, ms = 3000): Promise<any[]> {
  return withTimeout(new Promise<any[]>((resolve) => {
    const previous = u.qb.chat[name];
    u.qb.chat[name] = (...args: any[]) => {
      if (!match(...args)) return previous?.(...args);
      u.qb.chat[name] = previous;
      resolve(args);
    };
  }), ms, `${name} of user ${u.id}`);
}

describe('QuickBlox JS SDK: group chat, roster, privacy, last activity', () => {
  const fx = useServer({ overrides: { https_port: httpsPort } });

  it('joins a group dialog, exchanges stored groupchat, lists occupants, and sees a REST kick', async () => {
    const [ann, bob] = [await sdkSignUp(fx.t), await sdkSignUp(fx.t)];
    await sdkConnectChat(ann);
    await sdkConnectChat(bob);
    const dialog = await call<any>((cb) => ann.qb.chat.dialog.create({ type: 2, name: 'SDK room', occupants_ids: [bob.id] }, cb));
    const room = dialog.xmpp_room_jid;
    const annJoined = await call<any>((cb) => ann.qb.chat.muc.join(room, cb));
    assert.equal(annJoined.dialogId, dialog._id);
    const bobSeen = next(ann, 'onJoinOccupant');
    await call((cb) => bob.qb.chat.muc.join(dialog._id, cb));
    assert.deepEqual(await bobSeen, [dialog._id, bob.id]);

    const bobGets = next(bob, 'onMessageListener', (_uid, m) => m.type === 'groupchat');
    const annGets = next(ann, 'onMessageListener', (_uid, m) => m.type === 'groupchat');
    const id = ann.qb.chat.send(room, { type: 'groupchat', body: 'hello from the SDK', extension: { save_to_history: 1, topic: 'greeting' }, markable: 1 });
    const [fromId, message] = await bobGets;
    assert.equal(fromId, ann.id);
    assert.equal(message.id, id);
    assert.equal(message.dialog_id, dialog._id);
    assert.equal(message.body, 'hello from the SDK');
    assert.equal(message.extension.save_to_history, '1');
    assert.equal(message.extension.topic, 'greeting');
    assert.equal(message.markable, 1);
    assert.equal((await annGets)[1].id, id, 'the sender gets its own message back');
    const history = await call<any>((cb) => bob.qb.chat.message.list({ chat_dialog_id: dialog._id }, cb));
    assert.deepEqual(history.items.map((m: any) => [m._id, m.message, m.sender_id, m.topic]), [[id, 'hello from the SDK', ann.id, 'greeting']]);

    const online = await withTimeout(new Promise<number[]>((resolve) => ann.qb.chat.muc.listOnlineUsers(room, resolve)), 3000, 'listOnlineUsers');
    assert.deepEqual(online.sort(), [ann.id, bob.id].sort());

    // REST message with send_to_chat reaches the joined occupants in real time.
    const restGets = next(bob, 'onMessageListener', (_uid, m) => m.body === 'via REST');
    const created = await call<any>((cb) => ann.qb.chat.message.create({ chat_dialog_id: dialog._id, message: 'via REST', send_to_chat: 1 }, cb));
    const [restFrom, restMessage] = await restGets;
    assert.equal(restFrom, ann.id);
    assert.equal(restMessage.id, created._id);

    // The owner removes Bob over REST: Bob's SDK reports the kick with the owner as kicker.
    const kicked = next(bob, 'onKickOccupant');
    await call((cb) => ann.qb.chat.dialog.update(dialog._id, { pull_all: { occupants_ids: [bob.id] } }, cb));
    assert.deepEqual(await kicked, [dialog._id, ann.id]);
    const joinAgain = await call((cb) => bob.qb.chat.muc.join(room, cb)).then(() => null, (e) => e);
    assert.equal((joinAgain as { code: string }).code, '500');

    // (The Node SDK calls its leave callback with null and throws inside it, so the leave is checked on the server.)
    ann.qb.chat.muc.leave(room);
    const left = Date.now() + 3000;
    let still: number[] = [ann.id];
    while (still.length > 0 && Date.now() < left) {
      still = await withTimeout(new Promise<number[]>((resolve) => ann.qb.chat.muc.listOnlineUsers(room, resolve)), 3000, 'listOnlineUsers');
    }
    assert.deepEqual(still, []);
    await sdkDisconnect(ann, fx.t);
    await sdkDisconnect(bob, fx.t);
  });

  it('blocks a user with a privacy list (503 to the sender), reads it back, and lifts it', async () => {
    const [ann, bob] = [await sdkSignUp(fx.t), await sdkSignUp(fx.t)];
    await sdkConnectChat(ann);
    await sdkConnectChat(bob);
    await call((cb) => ann.qb.chat.privacylist.create({ name: 'blocked', items: [{ user_id: bob.id, action: 'deny' }] }, cb));
    await call((cb) => ann.qb.chat.privacylist.setAsDefault('blocked', cb));
    const names = await call<any>((cb) => ann.qb.chat.privacylist.getNames(cb));
    assert.equal(names.default, 'blocked');
    // (The Node SDK's getChildElements('list') returns every child, so <active/> and <default/> count as names too.)
    assert.deepEqual([...new Set(names.names)], ['blocked']);
    const list = await call<any>((cb) => ann.qb.chat.privacylist.getList('blocked', cb));
    assert.deepEqual(list.items, [{ user_id: bob.id, action: 'deny' }]);

    const refused = next(bob, 'onMessageErrorListener');
    const id = bob.qb.chat.send(ann.id, { type: 'chat', body: 'are you there?', extension: { save_to_history: 1 } });
    const [errorId, error] = await refused;
    assert.equal(errorId, id);
    assert.equal(error.code, 503);

    await call((cb) => ann.qb.chat.privacylist.setAsDefault(null, cb));
    const cleared = await call<any>((cb) => ann.qb.chat.privacylist.getNames(cb));
    assert.equal(cleared.default, null);
    await call((cb) => ann.qb.chat.privacylist.delete('blocked', cb));
    const delivered = next(ann, 'onMessageListener', (_uid, m) => m.body === 'now?');
    bob.qb.chat.send(ann.id, { type: 'chat', body: 'now?' });
    assert.equal((await delivered)[0], bob.id);
    await sdkDisconnect(ann, fx.t);
    await sdkDisconnect(bob, fx.t);
  });

  it('adds and confirms a contact, and asks for last activity', async () => {
    const [ann, bob] = [await sdkSignUp(fx.t), await sdkSignUp(fx.t)];
    await sdkConnectChat(ann);
    await sdkConnectChat(bob);
    const asked = next(bob, 'onSubscribeListener');
    await call((cb) => ann.qb.chat.roster.add(bob.id, () => cb(null, null)));
    assert.deepEqual(await asked, [ann.id]);
    const confirmed = next(ann, 'onConfirmSubscribeListener');
    await call((cb) => bob.qb.chat.roster.confirm(ann.id, () => cb(null, null)));
    assert.deepEqual(await confirmed, [bob.id]);
    // Ann's SDK answers Bob's subscribe on its own; both rosters end with "both".
    const deadline = Date.now() + 3000;
    let rosters: any[] = [];
    while (Date.now() < deadline) {
      rosters = await Promise.all([ann, bob].map((u) => withTimeout(new Promise<any>((resolve) => u.qb.chat.roster.get(resolve)), 3000, 'roster.get')));
      if (rosters[0][bob.id]?.subscription === 'both' && rosters[1][ann.id]?.subscription === 'both') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(rosters[0][bob.id], { subscription: 'both', ask: null });
    assert.deepEqual(rosters[1][ann.id], { subscription: 'both', ask: null });

    const activity = next(ann, 'onLastUserActivityListener');
    ann.qb.chat.getLastUserActivity(bob.id);
    assert.deepEqual(await activity, [bob.id, 0]);
    await sdkDisconnect(bob, fx.t);
    const afterLogout = next(ann, 'onLastUserActivityListener');
    ann.qb.chat.getLastUserActivity(bob.id);
    const [who, seconds] = await afterLogout;
    assert.equal(who, bob.id);
    assert.ok(Number.isInteger(seconds) && seconds >= 0 && seconds < 10, `seconds: ${seconds}`);
    await sdkDisconnect(ann, fx.t);
  });
});
