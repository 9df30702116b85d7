import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chatFixture, rejectsWith, type ChatFixture } from './chat-fixture.js';

import type { MessageList } from './messages.js';
import type { Caller } from './service.js';
import type { DialogView, MessageView } from './views.js';

describe('messages', () => {
  let f: ChatFixture;
  let a: Caller, b: Caller, c: Caller, outsider: Caller, stranger: Caller;
  let team: DialogView;
  before(async () => {
    f = await chatFixture();
    [a, b, c, outsider] = await f.newApp(4);
    [stranger] = await f.newApp(1);
    team = await f.chat.createDialog(a, { type: 2, name: 'Team', occupants_ids: `${b.userId},${c.userId}` });
  });
  after(() => f.close());

  const newGroup = () => f.chat.createDialog(a, { type: 2, name: 'g', occupants_ids: `${b.userId},${c.userId}` });
  const send = (caller: Caller, dialog: DialogView, message: string, extra: Record<string, unknown> = {}) =>
    f.chat.createMessage(caller, { chat_dialog_id: dialog._id, message, ...extra });
  const page = async (caller: Caller, params: Record<string, unknown>) => (await f.chat.listMessages(caller, params)) as MessageList;
  const unread = async (caller: Caller, dialog: DialogView) => (await f.chat.getDialog(caller, dialog._id)).unread_messages_count;

  describe('create', () => {
    it('stores a group message in the exact QuickBlox shape and updates the dialog and counters', async () => {
      const dialog = await newGroup();
      f.tick(10);
      const before = f.events.length;
      const m = await send(a, dialog, 'hello', { send_to_chat: '1', sender_id: 999, recipient_id: 999, read: 1, date_sent: 5 });
      const seconds = Math.floor(f.clock.now / 1000);
      const iso = `${new Date(f.clock.now).toISOString().slice(0, 19)}Z`;
      assert.deepEqual(m, {
        _id: m._id, chat_dialog_id: dialog._id, message: 'hello', date_sent: seconds, sender_id: a.userId, recipient_id: 0,
        read_ids: [a.userId], delivered_ids: [a.userId], read: 0, attachments: [], created_at: iso, updated_at: iso,
      });
      const seen = await f.chat.getDialog(a, dialog._id);
      assert.deepEqual([seen.last_message, seen.last_message_id, seen.last_message_date_sent, seen.last_message_user_id, seen.updated_at],
        ['hello', m._id, seconds, a.userId, iso]);
      assert.deepEqual([await unread(a, dialog), await unread(b, dialog), await unread(c, dialog)], [0, 1, 1]);
      const events = f.events.slice(before);
      assert.equal(events.length, 1);
      const event = events[0];
      assert.ok(event.name === 'message');
      assert.deepEqual([event.payload.message, event.payload.sendToChat, event.payload.system, event.payload.origin], [m, true, false, 'rest']);
      assert.equal(event.payload.dialog.lastMessageId, m._id);
      assert.deepEqual(event.payload.record.customParams, {});
    });

    it('finds or creates the private dialog from recipient_id, and marks read for the opponent', async () => {
      const [x, y] = await f.newApp(2);
      const first = await f.chat.createMessage(x, { recipient_id: String(y.userId), message: 'hi y' });
      assert.equal(first.recipient_id, y.userId);
      const second = await f.chat.createMessage(y, { recipient_id: x.userId, message: 'hi x' });
      assert.equal(second.chat_dialog_id, first.chat_dialog_id);
      const dialog = await f.chat.getDialog(y, first.chat_dialog_id);
      assert.equal(dialog.type, 3);
      assert.equal(dialog.unread_messages_count, 1);
      const read = (await page(y, { chat_dialog_id: dialog._id })).items;
      assert.deepEqual(read.map((m) => [m.message, m.read, m.read_ids]), [['hi y', 1, [x.userId, y.userId]], ['hi x', 0, [y.userId]]]);
      assert.equal((await f.chat.getMessage(x, first._id)).read, 1);
      await rejectsWith(f.chat.createMessage(x, { recipient_id: x.userId, message: 'me' }), 'invalidField', 'is invalid', 'recipient_id');
      await rejectsWith(f.chat.createMessage(x, { recipient_id: 'abc', message: 'me' }), 'invalidField', 'is invalid', 'recipient_id');
      await rejectsWith(f.chat.createMessage(x, { recipient_id: stranger.userId, message: 'hi' }), 'occupantsNotFound');
    });

    it('lets anyone post to a public dialog without read marks or unread counts', async () => {
      const pub = await f.chat.createDialog(a, { type: 1, name: 'Lobby' });
      const m = await send(outsider, pub, 'hello all');
      assert.deepEqual([m.read_ids, m.delivered_ids, m.recipient_id], [[], [], 0]);
      assert.equal((await f.chat.unreadCount(b)).total, (await f.chat.unreadCount(b)).total);
      const listed = await page(b, { chat_dialog_id: pub._id });
      assert.deepEqual(listed.items[0].read_ids, [], 'reading a public dialog marks nothing');
      assert.equal((await f.chat.getDialog(b, pub._id)).unread_messages_count, 0);
    });

    it('keeps attachments, custom parameters and markable; strips XML-invalid characters', async () => {
      const asObject = await send(a, team, 'pic\u0000\u0007 ok\ud800', {
        attachments: { 1: { type: 'video', id: '2' }, 0: { type: 'image', id: '1', size: '2048', 'content-type': 'image/png', data: '{"k":1}' } },
        markable: '1', age: '25', is_pinned: false, nested: { x: 1 },
      });
      assert.equal(asObject.message, 'pic ok');
      assert.deepEqual(asObject.attachments, [
        { type: 'image', id: '1', size: '2048', 'content-type': 'image/png', data: '{"k":1}' }, { type: 'video', id: '2' },
      ]);
      assert.deepEqual([asObject.markable, asObject.age, asObject.is_pinned, asObject.nested], [1, '25', false, { x: 1 }]);
      const asArray = await send(a, team, '', { attachments: [{ type: 'file', url: 'https://x/y', size: 10 }, 'junk'] });
      assert.deepEqual(asArray.attachments, [{ type: 'file', url: 'https://x/y', size: 10 }]);
      assert.equal('markable' in asArray, false);
      const stored = await f.chat.getMessage(b, asObject._id);
      assert.deepEqual(stored, { ...asObject });
      await rejectsWith(send(a, team, { nested: true } as unknown as string), 'invalidField', 'is invalid', 'message');
    });

    it('keeps an XMPP stanza id and date_sent, and treats a resend of the same id as the same message', async () => {
      const dialog = await newGroup();
      const id = '6b06dfc27862583174000000';
      const before = f.events.length;
      const m = await f.chat.createMessage(b, { chat_dialog_id: dialog._id, message: 'via xmpp' }, { id: id.toUpperCase(), dateSent: 1409146118.9, origin: 'xmpp' });
      assert.deepEqual([m._id, m.date_sent], [id, 1409146118]);
      const again = await f.chat.createMessage(b, { chat_dialog_id: dialog._id, message: 'via xmpp' }, { id, origin: 'xmpp' });
      assert.deepEqual(again, m);
      assert.equal(f.events.length - before, 1, 'no second event for a resend');
      assert.equal(await unread(a, dialog), 1, 'counted once');
      const clash = await f.chat.createMessage(a, { chat_dialog_id: dialog._id, message: 'same id, other sender' }, { id });
      assert.notEqual(clash._id, id);
      const [elsewhere] = await f.newApp(1);
      const own = await f.chat.createDialog(elsewhere, { type: 1, name: 'other app' });
      const otherApp = await f.chat.createMessage(elsewhere, { chat_dialog_id: own._id, message: 'same id, other app' }, { id });
      assert.notEqual(otherApp._id, id);
      assert.equal((await f.chat.getMessage(elsewhere, otherApp._id)).message, 'same id, other app');
      const generated = await f.chat.createMessage(a, { chat_dialog_id: dialog._id, message: 'x' }, { id: 'not-an-object-id' });
      assert.match(generated._id, /^[0-9a-f]{24}$/);
      const lastEvent = f.events.at(-1)!;
      assert.ok(lastEvent.name === 'message' && lastEvent.payload.origin === 'rest');
    });

    it('delivers system messages to private dialogs only, without storing them', async () => {
      const [x, y] = await f.newApp(2);
      const dialog = await f.chat.createDialog(x, { type: 3, occupants_ids: `${y.userId}` });
      const sys = await f.chat.createMessage(x, { chat_dialog_id: dialog._id, system: '1', message: 'call', callState: 'ring' });
      const event = f.events.at(-1)!;
      assert.ok(event.name === 'message' && event.payload.system && event.payload.record.customParams.callState === 'ring');
      await rejectsWith(f.chat.getMessage(x, sys._id), 'notFound');
      assert.equal((await f.chat.getDialog(y, dialog._id)).last_message, null);
      assert.equal((await f.chat.unreadCount(y)).total, 0);
      await rejectsWith(send(a, team, 'sys', { system: 1 }), 'invalid', 'System messages can be sent to private dialogs only.');
    });

    it('refuses messages to unknown dialogs and dialogs of others', async () => {
      await rejectsWith(send(outsider, team, 'let me in'), 'forbidden');
      await rejectsWith(f.chat.createMessage(a, { chat_dialog_id: '0123456789abcdef01234567', message: 'x' }), 'notFound');
      await rejectsWith(f.chat.createMessage(a, { chat_dialog_id: 'garbage', message: 'x' }), 'notFound');
      await rejectsWith(f.chat.createMessage(stranger, { chat_dialog_id: team._id, message: 'x' }), 'notFound');
      await rejectsWith(f.chat.createMessage(a, { message: 'x' }), 'invalidField', "can't be blank", 'chat_dialog_id');
    });
  });

  describe('list and get', () => {
    let dialog: DialogView;
    let sent: MessageView[];
    before(async () => {
      dialog = await newGroup();
      sent = [];
      for (const [who, text, at] of [[a, 'one', 100], [b, 'two', 300], [a, 'three', 200], [c, 'four', 300]] as const) {
        sent.push(await f.chat.createMessage(who, { chat_dialog_id: dialog._id, message: text, attachments: text === 'two' ? [{ type: 'image' }] : [] },
          { dateSent: 1_700_000_000 + at }));
      }
    });

    const texts = async (caller: Caller, params: Record<string, unknown>) =>
      (await page(caller, { chat_dialog_id: dialog._id, mark_as_read: 0, ...params })).items.map((m) => m.message);
    const sameSecond = () => [sent[1], sent[3]].sort((x, y) => (x._id < y._id ? -1 : 1)).map((m) => m.message);

    it('lists oldest first, sorts, filters and pages', async () => {
      assert.deepEqual(await texts(a, {}), ['one', 'three', ...sameSecond()]);
      assert.deepEqual(await texts(a, { sort_desc: 'date_sent' }), [...sameSecond().reverse(), 'three', 'one']);
      assert.deepEqual(await texts(a, { date_sent: { lt: String(1_700_000_000 + 300) }, sort_desc: 'date_sent' }), ['three', 'one']);
      assert.deepEqual(await texts(a, { sender_id: a.userId }), ['one', 'three']);
      assert.deepEqual(await texts(a, { sender_id: { in: `${b.userId}, ${c.userId}` } }), sameSecond());
      assert.deepEqual(await texts(a, { 'attachments.type': 'image' }), ['two']);
      assert.deepEqual(await texts(a, { message: { ctn: 'thr' } }), ['three']);
      assert.deepEqual(await texts(a, { _id: { ne: sent[0]._id }, limit: '1', skip: '1' }), [sameSecond()[0]]);
      const listed = await page(a, { chat_dialog_id: dialog._id, limit: 5000, mark_as_read: 0 });
      assert.deepEqual([listed.skip, listed.limit], [0, 1000]);
      assert.deepEqual(await f.chat.listMessages(a, { chat_dialog_id: dialog._id, count: 1, sender_id: a.userId }), { items: { count: 2 } });
    });

    it('marks listed messages read and delivered for the caller unless mark_as_read=0', async () => {
      assert.equal(await unread(b, dialog), 3);
      await page(b, { chat_dialog_id: dialog._id, mark_as_read: '0' });
      assert.equal(await unread(b, dialog), 3);
      const firstTwo = await page(b, { chat_dialog_id: dialog._id, limit: 2 });
      assert.deepEqual(firstTwo.items.map((m) => [m.read_ids.includes(b.userId), m.delivered_ids.includes(b.userId)]), [[true, true], [true, true]]);
      assert.equal(await unread(b, dialog), 1);
      await page(b, { chat_dialog_id: dialog._id });
      assert.equal(await unread(b, dialog), 0);
      assert.equal((await f.chat.unreadCount(b, { chat_dialog_ids: dialog._id }))[dialog._id], 0);
    });

    it('refuses lists of dialogs the caller is not in, and unknown dialogs', async () => {
      await rejectsWith(f.chat.listMessages(outsider, { chat_dialog_id: dialog._id }), 'forbidden');
      await rejectsWith(f.chat.listMessages(a, { chat_dialog_id: '0123456789abcdef01234567' }), 'notFound');
      await rejectsWith(f.chat.listMessages(a, {}), 'invalidField', "can't be blank", 'chat_dialog_id');
      await rejectsWith(f.chat.listMessages(a, { chat_dialog_id: dialog._id, date_sent: { gt: 'soon' } }), 'badRequest');
    });

    it('gets one message: 404 unknown, 403 outside the caller\'s dialogs', async () => {
      assert.equal((await f.chat.getMessage(c, sent[0]._id)).message, 'one');
      await rejectsWith(f.chat.getMessage(outsider, sent[0]._id), 'forbidden');
      await rejectsWith(f.chat.getMessage(a, '0123456789abcdef01234567'), 'notFound');
      await rejectsWith(f.chat.getMessage(a, 'x'), 'notFound');
      await rejectsWith(f.chat.getMessage(stranger, sent[0]._id), 'notFound');
    });
  });

  describe('update', () => {
    it('marks read, unread and delivered by id or for the whole dialog', async () => {
      const dialog = await newGroup();
      const m1 = await send(a, dialog, 'one');
      const m2 = await send(a, dialog, 'two');
      await f.chat.updateMessages(b, [m1._id], { chat_dialog_id: dialog._id, read: '1' });
      assert.equal(await unread(b, dialog), 1);
      assert.deepEqual((await f.chat.getMessage(b, m1._id)).read_ids, [a.userId, b.userId]);
      await f.chat.updateMessages(b, [m1._id], { chat_dialog_id: dialog._id, read: '0' });
      assert.equal(await unread(b, dialog), 2);
      await f.chat.updateMessages(c, [m2._id], { chat_dialog_id: dialog._id, delivered: '1' });
      assert.deepEqual((await f.chat.getMessage(c, m2._id)).delivered_ids, [a.userId, c.userId]);
      assert.equal(await unread(c, dialog), 2);
      await f.chat.updateMessages(b, null, { chat_dialog_id: dialog._id, read: 1 });
      assert.equal(await unread(b, dialog), 0);
      await f.chat.updateMessages(c, [m1._id, m2._id].join(',').split(','), { chat_dialog_id: dialog._id, read: 1 });
      assert.equal(await unread(c, dialog), 0);
    });

    it('lets only the sender edit, and follows an edit of the last message', async () => {
      const dialog = await newGroup();
      const m1 = await send(a, dialog, 'one');
      const m2 = await send(a, dialog, 'two');
      f.tick(30);
      await f.chat.updateMessages(a, [m2._id], { chat_dialog_id: dialog._id, message: 'two, edited\u0001' });
      const edited = await f.chat.getMessage(b, m2._id);
      assert.equal(edited.message, 'two, edited');
      assert.notEqual(edited.updated_at, edited.created_at);
      assert.equal((await f.chat.getDialog(b, dialog._id)).last_message, 'two, edited');
      await f.chat.updateMessages(a, [m1._id], { chat_dialog_id: dialog._id, message: 'one, edited' });
      assert.equal((await f.chat.getDialog(b, dialog._id)).last_message, 'two, edited');
      await rejectsWith(f.chat.updateMessages(b, [m1._id], { chat_dialog_id: dialog._id, message: 'not yours' }), 'forbidden');
      assert.equal((await f.chat.getMessage(b, m1._id)).message, 'one, edited');
      await rejectsWith(f.chat.updateMessages(a, null, { chat_dialog_id: dialog._id, message: 'all?' }), 'badRequest');
    });

    it('refuses updates without a dialog, outside the caller\'s dialogs, or of unknown messages', async () => {
      const dialog = await newGroup();
      const m = await send(a, dialog, 'x');
      await rejectsWith(f.chat.updateMessages(b, [m._id], { read: 1 }), 'invalidField', "can't be blank", 'chat_dialog_id');
      await rejectsWith(f.chat.updateMessages(outsider, [m._id], { chat_dialog_id: dialog._id, read: 1 }), 'forbidden');
      await rejectsWith(f.chat.updateMessages(b, ['0123456789abcdef01234567'], { chat_dialog_id: dialog._id, read: 1 }), 'notFound');
      await rejectsWith(f.chat.updateMessages(b, [m._id], { chat_dialog_id: team._id, read: 1 }), 'notFound', undefined, undefined);
    });
  });

  describe('XMPP markers', () => {
    it('record delivery and reading and name the sender to route to', async () => {
      const dialog = await newGroup();
      const m = await send(a, dialog, 'mark me', { markable: 1 });
      assert.deepEqual(await f.chat.markDelivered(b, m._id), { messageId: m._id, dialogId: dialog._id, senderId: a.userId });
      assert.deepEqual((await f.chat.getMessage(a, m._id)).delivered_ids, [a.userId, b.userId]);
      assert.equal(await unread(b, dialog), 1);
      await f.chat.markRead(b, m._id);
      assert.deepEqual((await f.chat.getMessage(a, m._id)).read_ids, [a.userId, b.userId]);
      assert.equal(await unread(b, dialog), 0);
      await f.chat.markRead(b, m._id);
      assert.deepEqual((await f.chat.getMessage(a, m._id)).read_ids, [a.userId, b.userId], 'idempotent');
    });

    it('are refused for messages outside the caller\'s dialogs', async () => {
      const m = await send(a, team, 'private to the team');
      await rejectsWith(f.chat.markRead(outsider, m._id), 'forbidden');
      await rejectsWith(f.chat.markDelivered(outsider, m._id), 'forbidden');
      await rejectsWith(f.chat.markRead(stranger, m._id), 'notFound');
      await rejectsWith(f.chat.markRead(b, '0123456789abcdef01234567'), 'notFound');
      assert.ok(!(await f.chat.getMessage(a, m._id)).read_ids.includes(outsider.userId));
    });
  });

  describe('delete', () => {
    it('deletes for me: gone for the caller only, with their unread count adjusted', async () => {
      const dialog = await newGroup();
      const m = await send(a, dialog, 'x');
      assert.deepEqual(await f.chat.deleteMessages(b, [m._id, 'notExistentId'], false), {
        SuccessfullyDeleted: { ids: [m._id] }, WrongPermissions: { ids: [] }, NotFound: { ids: ['notExistentId'] },
      });
      assert.equal(await unread(b, dialog), 0);
      assert.equal(await unread(c, dialog), 1);
      await rejectsWith(f.chat.getMessage(b, m._id), 'notFound');
      assert.equal((await f.chat.getMessage(c, m._id)).message, 'x');
      assert.deepEqual((await f.chat.deleteMessages(b, [m._id], false)).NotFound.ids, [m._id]);
    });

    it('deletes for everyone only when the sender forces it', async () => {
      const dialog = await newGroup();
      const keep = await send(a, dialog, 'keep');
      const m = await send(a, dialog, 'x');
      assert.deepEqual((await f.chat.deleteMessages(b, [m._id], true)).WrongPermissions.ids, [m._id]);
      assert.deepEqual((await f.chat.deleteMessages(outsider, [m._id], false)).WrongPermissions.ids, [m._id]);
      assert.deepEqual((await f.chat.deleteMessages(a, [m._id], true)).SuccessfullyDeleted.ids, [m._id]);
      await rejectsWith(f.chat.getMessage(c, m._id), 'notFound');
      assert.equal(await unread(c, dialog), 1);
      const after = await f.chat.getDialog(c, dialog._id);
      assert.deepEqual([after.last_message, after.last_message_id], ['keep', keep._id]);
    });
  });

  describe('unread counts', () => {
    it('sum the caller\'s dialogs, excluding public ones, with the requested dialogs listed', async () => {
      const [x, y, z] = await f.newApp(3);
      const g = await f.chat.createDialog(x, { type: 2, name: 'g', occupants_ids: `${y.userId},${z.userId}` });
      const p = await f.chat.createDialog(x, { type: 3, occupants_ids: `${y.userId}` });
      const pub = await f.chat.createDialog(x, { type: 1, name: 'pub' });
      await send(x, g, '1');
      await send(z, g, '2');
      await send(x, p, '3');
      await send(x, pub, '4');
      assert.deepEqual(await f.chat.unreadCount(y), { total: 3 });
      assert.deepEqual(await f.chat.unreadCount(y, { chat_dialog_ids: `${g._id}, ${pub._id},nonsense` }), { total: 3, [g._id]: 2, [pub._id]: 0, nonsense: 0 });
      assert.deepEqual(await f.chat.unreadCount(x, { chat_dialog_ids: [p._id] }), { total: 1, [p._id]: 0 });
      await f.chat.updateMessages(y, null, { chat_dialog_id: g._id, read: 1 });
      assert.deepEqual(await f.chat.unreadCount(y, { chat_dialog_ids: [p._id] }), { total: 1, [p._id]: 1 });
    });

    it('stay true when occupants join late or leave', async () => {
      const [x, y, z] = await f.newApp(3);
      const g = await f.chat.createDialog(x, { type: 2, name: 'g', occupants_ids: `${y.userId}` });
      await send(x, g, 'before z');
      await f.chat.updateDialog(x, g._id, { push_all: { occupants_ids: [z.userId] } });
      await send(x, g, 'after z');
      assert.deepEqual([await unread(y, g), await unread(z, g)], [2, 1]);
      await page(z, { chat_dialog_id: g._id });
      assert.equal(await unread(z, g), 0, 'reading old messages does not go below zero or hide new ones');
      await f.chat.updateDialog(y, g._id, { pull_all: { occupants_ids: [y.userId] } });
      assert.deepEqual(await f.chat.unreadCount(y), { total: 0 });
    });
  });

  describe('history export', () => {
    it('iterates every stored message oldest first in batches', async () => {
      const [x, y] = await f.newApp(2);
      const d1 = await f.chat.createDialog(x, { type: 3, occupants_ids: `${y.userId}` });
      const d2 = await f.chat.createDialog(x, { type: 2, name: 'g', occupants_ids: `${y.userId}` });
      for (const [d, t, at] of [[d1, 'b', 20], [d1, 'a', 10], [d2, 'c', 5], [d1, 'c', 30]] as const) {
        await f.chat.createMessage(x, { chat_dialog_id: d._id, message: t }, { dateSent: at });
      }
      await f.chat.deleteMessages(x, [(await page(y, { chat_dialog_id: d1._id, mark_as_read: 0 })).items[0]._id], false);
      const batches: string[][] = [];
      for await (const batch of f.chat.iterateHistory({ appId: x.appId, batchSize: 2 })) batches.push(batch.map((m) => `${m.chat_dialog_id === d1._id ? 'd1' : 'd2'}:${m.message}`));
      assert.deepEqual(batches, [['d1:a', 'd1:b'], ['d1:c'], ['d2:c']]);
      const one: MessageView[] = [];
      for await (const batch of f.chat.iterateHistory({ appId: x.appId, dialogId: d2._id })) one.push(...batch);
      assert.deepEqual(one.map((m) => m.message), ['c']);
    });
  });

  describe('events', () => {
    it('never let a failing listener undo or fail a committed operation', async () => {
      const errors: unknown[] = [];
      const { ChatService } = await import('./service.js');
      const chat = new ChatService(f.store, { mucDomain: 'muc.x', onListenerError: (err) => errors.push(err) });
      const off1 = chat.events.on('message', () => { throw new Error('sync boom'); });
      const off2 = chat.events.on('message', async () => { throw new Error('async boom'); });
      const m = await chat.createMessage(a, { chat_dialog_id: team._id, message: 'still saved' });
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(errors.map((e) => (e as Error).message), ['sync boom', 'async boom']);
      assert.equal((await chat.getMessage(b, m._id)).message, 'still saved');
      off1();
      off2();
      await chat.createMessage(a, { chat_dialog_id: team._id, message: 'quiet' });
      assert.equal(errors.length, 2);
    });
  });
});
