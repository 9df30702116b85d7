// The official QuickBlox JS SDK in 1-1 chat over XMPP (WebSocket), two users in one process:
// messages saved to history and received with dialog_id, a resend, attachments, typing, delivered
// and read markers seen in REST history and unread counts, system messages, REST send_to_chat and
// system=1 received over XMPP, and a carbon on a second connection of the sender.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { freePort } from './support/server.js';
import { call, sdk, sdkConnectChat, sdkDisconnect, sdkSignUp, type SdkUser } from './support/quickblox.js';
import { Inbox } from './support/wait.js';

const httpsPort = await freePort();
const OBJECT_ID = /^[0-9a-f]{24}$/;

interface Listened {
  messages: Inbox<{ userId: number; message: any }>;
  typing: Inbox<{ isTyping: boolean; userId: number; dialogId: string | null }>;
  delivered: Inbox<{ messageId: string; dialogId: string; userId: number }>;
  read: Inbox<{ messageId: string; dialogId: string; userId: number }>;
  system: Inbox<any>;
  errors: unknown[];
}

/** Collects every chat listener's calls of one SDK instance. */
function listen(qb: any): Listened {
  const l: Listened = { messages: new Inbox(), typing: new Inbox(), delivered: new Inbox(), read: new Inbox(), system: new Inbox(), errors: [] };
  qb.chat.onMessageListener = (userId: number, message: any) => l.messages.push({ userId, message });
  qb.chat.onMessageTypingListener = (isTyping: boolean, userId: number, dialogId: string | null) => l.typing.push({ isTyping, userId, dialogId });
  qb.chat.onDeliveredStatusListener = (messageId: string, dialogId: string, userId: number) => l.delivered.push({ messageId, dialogId, userId });
  qb.chat.onReadStatusListener = (messageId: string, dialogId: string, userId: number) => l.read.push({ messageId, dialogId, userId });
  qb.chat.onSystemMessageListener = (message: any) => l.system.push(message);
  qb.chat.onMessageErrorListener = (id: string, error: unknown) => l.errors.push({ id, error });
  return l;
}

const any = () => true;

describe('QuickBlox JS SDK: 1-1 chat over XMPP', () => {
  const fx = useServer({ overrides: { https_port: httpsPort } });

  it('chats, marks, types, notifies and reads history like QuickBlox', async (t) => {
    const [ann, bob] = [await sdkSignUp(fx.t), await sdkSignUp(fx.t)];
    const connected: SdkUser[] = [ann, bob];
    // A failed assertion must not leave SDK connections (and their reconnect loops) behind.
    t.after(() => Promise.all(connected.map((u) => sdkDisconnect(u, fx.t))));
    const [annL, bobL] = [listen(ann.qb), listen(bob.qb)];
    await sdkConnectChat(ann);
    await sdkConnectChat(bob);
    // A second chat connection of Ann, which gets carbons of what Ann sends.
    const annPad: SdkUser = { ...ann, qb: sdk(fx.t) };
    annPad.token = (await call<any>((cb) => annPad.qb.createSession({ login: ann.login, password: ann.password }, cb))).token;
    const padL = listen(annPad.qb);
    connected.push(annPad);
    await sdkConnectChat(annPad);

    // 1. A message saved to history, with attachments, a custom field and its own date_sent.
    const dateSent = Math.floor(Date.now() / 1000) - 60;
    const attachments = [
      { type: 'image', id: '5f1b0c', uid: 'a1b2c3', name: 'photo.png', size: 2048, 'content-type': 'image/png', width: 640, height: 480 },
      { type: 'location', data: '{"lat":50.01,"lng":36.22}' },
    ];
    const outgoing = { type: 'chat', body: 'Hello Bob', markable: 1, extension: { save_to_history: 1, date_sent: dateSent, attachments, mood: 'happy' } };
    const id = ann.qb.chat.send(bob.id, outgoing);
    assert.match(id, OBJECT_ID);
    const got = await bobL.messages.take(any, 3000, 'bob receives');
    assert.equal(got.userId, ann.id);
    assert.equal(got.message.id, id);
    assert.equal(got.message.type, 'chat');
    assert.equal(got.message.body, 'Hello Bob');
    assert.equal(got.message.markable, 1);
    const dialogId: string = got.message.dialog_id;
    assert.match(dialogId, OBJECT_ID, 'the server added dialog_id');
    assert.deepEqual(got.message.extension, {
      save_to_history: '1', date_sent: String(dateSent), dialog_id: dialogId, mood: 'happy',
      attachments: attachments.map((a) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, k === 'size' ? v : String(v)]))),
    });
    // Bob's SDK acknowledged the markable message by itself.
    assert.deepEqual(await annL.delivered.take(any, 3000, 'auto delivered'), { messageId: id, dialogId, userId: bob.id });

    // The carbon on Ann's other connection reads as Ann's own message, intact.
    const carbon = await padL.messages.take(any, 3000, 'carbon');
    assert.equal(carbon.userId, ann.id);
    assert.equal(carbon.message.id, id);
    assert.equal(carbon.message.body, 'Hello Bob');
    assert.equal(carbon.message.dialog_id, dialogId);
    assert.equal(carbon.message.extension.mood, 'happy');
    assert.equal(carbon.message.extension.attachments.length, 2);
    assert.equal(padL.delivered.items.filter((d) => d.messageId === null).length, 0, 'no marker misread from a carbon');

    // 2. A resend of the same message: received again, stored once.
    ann.qb.chat.send(bob.id, { ...outgoing, id });
    const resent = await bobL.messages.take(any, 3000, 'resend');
    assert.equal(resent.message.id, id);
    assert.equal(resent.message.extension.date_sent, String(dateSent));
    assert.equal((await padL.messages.take(any, 3000, 'carbon of the resend')).message.id, id);

    // REST history: one message with every attachment attribute and the custom field.
    let history = await call<any>((cb) => ann.qb.chat.message.list({ chat_dialog_id: dialogId, mark_as_read: 0 }, cb));
    assert.equal(history.items.length, 1);
    let [stored] = history.items;
    assert.equal(stored._id, id);
    assert.equal(stored.date_sent, dateSent);
    assert.equal(stored.sender_id, ann.id);
    assert.equal(stored.recipient_id, bob.id);
    assert.equal(stored.mood, 'happy');
    assert.deepEqual(stored.attachments, attachments.map((a) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, String(v)]))));
    assert.deepEqual(stored.delivered_ids.sort(), [ann.id, bob.id].sort());
    assert.deepEqual(stored.read_ids, [ann.id]);
    let unread = await call<any>((cb) => bob.qb.chat.message.unreadCount({ chat_dialog_ids: [dialogId] }, cb));
    assert.equal(unread[dialogId], 1);
    const dialogs = await call<any>((cb) => bob.qb.chat.dialog.list({ _id: dialogId }, cb));
    assert.equal(dialogs.items[0].last_message, 'Hello Bob');
    assert.equal(dialogs.items[0].last_message_id, id);
    assert.equal(dialogs.items[0].unread_messages_count, 1);

    // 3. Typing, both ways.
    ann.qb.chat.sendIsTypingStatus(bob.id);
    assert.deepEqual(await bobL.typing.take(any, 3000, 'composing'), { isTyping: true, userId: ann.id, dialogId: null });
    bob.qb.chat.sendIsStopTypingStatus(ann.id);
    assert.deepEqual(await annL.typing.take(any, 3000, 'paused'), { isTyping: false, userId: bob.id, dialogId: null });

    // 4. Read marker: reaches Ann, and history and unread counts reflect it.
    bob.qb.chat.sendReadStatus({ messageId: id, userId: ann.id, dialogId });
    assert.deepEqual(await annL.read.take(any, 3000, 'read'), { messageId: id, dialogId, userId: bob.id });
    history = await call<any>((cb) => ann.qb.chat.message.list({ chat_dialog_id: dialogId, mark_as_read: 0 }, cb));
    [stored] = history.items;
    assert.deepEqual(stored.read_ids.sort(), [ann.id, bob.id].sort());
    assert.equal(stored.read, 1);
    unread = await call<any>((cb) => bob.qb.chat.message.unreadCount({ chat_dialog_ids: [dialogId] }, cb));
    assert.equal(unread[dialogId], 0);
    assert.equal(unread.total, 0);

    // 5. A system message.
    const sysId = ann.qb.chat.sendSystemMessage(bob.id, { body: 'refresh please', extension: { action: 'refresh', dialog: dialogId } });
    assert.deepEqual(await bobL.system.take(any, 3000, 'system message'), { id: sysId, userId: ann.id, body: 'refresh please', extension: { action: 'refresh', dialog: dialogId } });

    // 6. REST send_to_chat=1: the stored message arrives over XMPP with the stored id.
    const viaRest = await call<any>((cb) => ann.qb.chat.message.create({ chat_dialog_id: dialogId, message: 'via REST', send_to_chat: 1, topic: 'news' }, cb));
    const pushed = await bobL.messages.take(any, 3000, 'REST message');
    assert.equal(pushed.userId, ann.id);
    assert.equal(pushed.message.id, viaRest._id);
    assert.equal(pushed.message.body, 'via REST');
    assert.equal(pushed.message.dialog_id, dialogId);
    assert.deepEqual(pushed.message.extension, { save_to_history: '1', date_sent: String(viaRest.date_sent), dialog_id: dialogId, topic: 'news' });
    // REST system=1: a system notification with the REST id.
    const sysRest = await call<any>((cb) => ann.qb.chat.message.create({ chat_dialog_id: dialogId, system: 1, reason: 'sync' }, cb));
    const sysPushed = await bobL.system.take(any, 3000, 'REST system message');
    assert.equal(sysPushed.id, sysRest._id);
    assert.equal(sysPushed.userId, ann.id);
    assert.deepEqual(sysPushed.extension, { reason: 'sync' });

    // 7. The whole history over REST, oldest first: the XMPP message once, the REST one.
    history = await call<any>((cb) => bob.qb.chat.message.list({ chat_dialog_id: dialogId, sort_asc: 'date_sent' }, cb));
    assert.deepEqual(history.items.map((m: any) => [m._id, m.message]), [[id, 'Hello Bob'], [viaRest._id, 'via REST']]);

    // Nothing misreported anywhere.
    assert.deepEqual([annL.errors, bobL.errors, padL.errors], [[], [], []]);
    assert.deepEqual(annL.messages.items, [], 'the sending connection gets no copy of its own messages');
    assert.deepEqual(padL.messages.items, [], 'no carbon of markers, typing or REST messages');
    assert.deepEqual(bobL.messages.items, []);
  });
});
