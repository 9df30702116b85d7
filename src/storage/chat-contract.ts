// Driver-neutral behaviour of ChatStore. Like storeContract, tests never assume an empty database:
// each makes its own application and users.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DuplicateMessageIdError, type ChatMessage, type Dialog, type DialogQuery, type MessageQuery, type NewDialog, type Store } from './types.js';

export function chatStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`ChatStore contract: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
    });

    const objectId = () => randomBytes(12).toString('hex');
    const at = (seconds: number) => new Date(seconds * 1000);

    /** An application with `n` users; returns the app id and the user ids. */
    async function world(n: number): Promise<{ appId: number; users: number[] }> {
      const app = await store.accounts.createApplication({});
      const users: number[] = [];
      for (let i = 0; i < n; i++) {
        users.push((await store.accounts.createUser(app.id, { login: `u${i}-${randomBytes(4).toString('hex')}`, password: 'pw' })).id);
      }
      return { appId: app.id, users };
    }

    const newDialog = (appId: number, fields: Partial<NewDialog> & Pick<NewDialog, 'type' | 'ownerId'>): NewDialog => ({
      id: objectId(), appId, name: null, photo: null, occupantIds: [], adminIds: [], data: null, isJoinRequired: false,
      createdAt: new Date(), ...fields,
    });

    let clock = 1_700_000_000;
    async function send(dialog: Dialog, senderId: number, body = 'hi', fields: Partial<ChatMessage> = {}): Promise<ChatMessage> {
      const dateSent = fields.dateSent ?? ++clock;
      const message: ChatMessage = {
        id: objectId(), appId: dialog.appId, dialogId: dialog.id, senderId, body, dateSent,
        recipientId: dialog.type === 3 ? dialog.occupantIds.find((id) => id !== senderId)! : 0,
        attachments: [], customParams: {}, markable: false, readIds: [senderId], deliveredIds: [senderId],
        createdAt: at(dateSent), updatedAt: at(dateSent), ...fields,
      };
      const others = dialog.occupantIds.filter((id) => id !== senderId);
      await store.chat.insertMessage(message, { unreadFor: dialog.type === 1 ? [] : others, unhideFor: [senderId] });
      return message;
    }

    const unread = async (dialog: Dialog, userId: number) => (await store.chat.getMemberState(dialog.id, userId)).unreadCount;
    const listIds = async (q: Partial<DialogQuery> & Pick<DialogQuery, 'appId' | 'userId'>) =>
      (await store.chat.listDialogs({ filters: [], limit: 100, skip: 0, ...q })).map((d) => d.dialog.id);
    const messageIds = async (q: Partial<MessageQuery> & Pick<MessageQuery, 'dialogId' | 'viewerId'>) =>
      (await store.chat.listMessages({ filters: [], limit: 100, skip: 0, ...q })).map((m) => m.id);

    describe('dialogs', () => {
      it('creates and reads dialogs with sorted occupants and admins', async () => {
        const { appId, users: [a, b, c] } = await world(3);
        const input = newDialog(appId, {
          type: 2, ownerId: a, name: 'Team', photo: 'p.png', occupantIds: [c, a, b], adminIds: [c, b],
          data: { class_name: 'Extra', level: 3 }, isJoinRequired: true, createdAt: at(1_600_000_000),
        });
        const created = await store.chat.createDialog(input);
        assert.deepEqual(created, {
          ...input, occupantIds: [a, b, c].sort((x, y) => x - y), adminIds: [b, c].sort((x, y) => x - y),
          lastMessage: null, lastMessageDateSent: null, lastMessageId: null, lastMessageUserId: null, updatedAt: at(1_600_000_000),
        });
        assert.deepEqual(await store.chat.getDialog(appId, input.id), created);
        assert.equal(await store.chat.getDialog(appId + 1000, input.id), null);
        assert.equal(await store.chat.getDialog(appId, objectId()), null);
        assert.deepEqual(await store.chat.getMemberState(input.id, a), { unreadCount: 0, hidden: false, notificationsEnabled: true });
      });

      it('finds or creates one private dialog per pair, also under concurrency', async () => {
        const { appId, users: [a, b, c] } = await world(3);
        const results = await Promise.all([
          store.chat.findOrCreatePrivateDialog(newDialog(appId, { type: 3, ownerId: a, occupantIds: [a, b] })),
          store.chat.findOrCreatePrivateDialog(newDialog(appId, { type: 3, ownerId: b, occupantIds: [b, a] })),
        ]);
        assert.deepEqual(results.map((r) => r.created).sort(), [false, true]);
        assert.equal(results[0].dialog.id, results[1].dialog.id);
        assert.equal((await store.chat.findPrivateDialog(appId, b, a))?.id, results[0].dialog.id);
        assert.equal(await store.chat.findPrivateDialog(appId, a, c), null);
        const other = await world(0);
        assert.equal(await store.chat.findPrivateDialog(other.appId, a, b), null);
        await assert.rejects(store.chat.findOrCreatePrivateDialog(newDialog(appId, { type: 3, ownerId: a, occupantIds: [a] })));
      });

      it('stores a private message with its dialog found or created in the same transaction', async () => {
        const { appId, users: [a, b, c] } = await world(3);
        const message = (senderId: number, recipientId: number, body: string): ChatMessage => ({
          id: objectId(), appId, dialogId: '', senderId, recipientId, body, dateSent: ++clock, attachments: [], customParams: {},
          markable: false, readIds: [senderId], deliveredIds: [senderId], createdAt: at(clock), updatedAt: at(clock),
        });
        const first = message(a, b, 'one');
        const opened = await store.chat.insertPrivateMessage(newDialog(appId, { type: 3, ownerId: a, occupantIds: [a, b] }), first,
          { unreadFor: [b], unhideFor: [a] });
        assert.equal(opened?.created, true);
        assert.equal(first.dialogId, opened!.dialog.id);
        const stored = await store.chat.findPrivateDialog(appId, b, a);
        assert.deepEqual([stored?.id, stored?.lastMessageId, stored?.lastMessage, stored?.occupantIds], [opened!.dialog.id, first.id, 'one', [a, b].sort((x, y) => x - y)]);
        assert.deepEqual([await unread(opened!.dialog, a), await unread(opened!.dialog, b)], [0, 1]);
        assert.deepEqual(await store.chat.getMessage(appId, first.id), first);
        const reply = message(b, a, 'two');
        const again = await store.chat.insertPrivateMessage(newDialog(appId, { type: 3, ownerId: b, occupantIds: [b, a] }), reply,
          { unreadFor: [a], unhideFor: [b] });
        assert.deepEqual([again?.created, again?.dialog.id], [false, opened!.dialog.id]);
        assert.deepEqual([await unread(opened!.dialog, a), await unread(opened!.dialog, b)], [1, 1]);
        assert.deepEqual(await messageIds({ dialogId: opened!.dialog.id, viewerId: a }), [first.id, reply.id]);
        assert.equal((await store.chat.getDialog(appId, opened!.dialog.id))?.lastMessageId, reply.id);
        // Hidden for the sender: the next message shows it again.
        await store.chat.hideDialog(opened!.dialog.id, a);
        await store.chat.insertPrivateMessage(newDialog(appId, { type: 3, ownerId: a, occupantIds: [a, b] }), message(a, b, 'three'),
          { unreadFor: [b], unhideFor: [a] });
        assert.equal((await store.chat.getMemberState(opened!.dialog.id, a)).hidden, false);
        // A taken id changes nothing; an opponent who is not a user opens no dialog.
        await assert.rejects(store.chat.insertPrivateMessage(newDialog(appId, { type: 3, ownerId: a, occupantIds: [a, c] }),
          { ...message(a, c, 'dup'), id: first.id }, { unreadFor: [c], unhideFor: [a] }), DuplicateMessageIdError);
        assert.equal(await store.chat.findPrivateDialog(appId, a, c), null);
        const stranger = c + 1_000_000;
        assert.equal(await store.chat.insertPrivateMessage(newDialog(appId, { type: 3, ownerId: a, occupantIds: [a, stranger] }),
          message(a, stranger, 'nobody'), { unreadFor: [stranger], unhideFor: [a] }), null);
        assert.equal(await store.chat.findPrivateDialog(appId, a, stranger), null);
        // A deleted dialog is not found again from memory.
        assert.equal(await store.chat.deleteDialog(appId, opened!.dialog.id), true);
        const fresh = await store.chat.insertPrivateMessage(newDialog(appId, { type: 3, ownerId: a, occupantIds: [a, b] }), message(a, b, 'new'),
          { unreadFor: [b], unhideFor: [a] });
        assert.equal(fresh?.created, true);
        assert.notEqual(fresh?.dialog.id, opened!.dialog.id);
      });

      it('updates fields and occupants; removed occupants lose admin rights and unread messages', async () => {
        const { appId, users: [a, b, c, d] } = await world(4);
        const dialog = await store.chat.createDialog(newDialog(appId, { type: 2, ownerId: a, name: 'x', occupantIds: [a, b, c], adminIds: [b] }));
        await send(dialog, a);
        assert.equal(await unread(dialog, b), 1);
        const updated = await store.chat.updateDialog(appId, dialog.id, {
          name: 'y', photo: null, data: { k: 'v' }, isJoinRequired: true, addOccupants: [d, a], removeOccupants: [b], updatedAt: at(1_800_000_000),
        });
        assert.ok(updated);
        assert.deepEqual([updated.name, updated.photo, updated.data, updated.isJoinRequired], ['y', null, { k: 'v' }, true]);
        assert.deepEqual(updated.occupantIds, [a, c, d].sort((x, y) => x - y));
        assert.deepEqual(updated.adminIds, []);
        assert.deepEqual(updated.updatedAt, at(1_800_000_000));
        assert.equal(updated.lastMessage, 'hi');
        assert.equal(await unread(dialog, b), 0);
        assert.equal(await unread(dialog, d), 0, 'messages from before joining do not count');
        assert.deepEqual(await listIds({ appId, userId: b }), []);
        assert.deepEqual(await listIds({ appId, userId: d }), [dialog.id]);
        const admins = await store.chat.updateDialog(appId, dialog.id, { adminIds: [c, d], updatedAt: at(1_800_000_001) });
        assert.deepEqual(admins?.adminIds, [c, d].sort((x, y) => x - y));
        assert.equal(admins?.name, 'y', 'fields not given stay');
        assert.equal(await store.chat.updateDialog(appId, objectId(), { name: 'z', updatedAt: new Date() }), null);
      });

      it('deletes a dialog with its history', async () => {
        const { appId, users: [a, b] } = await world(2);
        const dialog = await store.chat.createDialog(newDialog(appId, { type: 2, ownerId: a, occupantIds: [a, b] }));
        const m = await send(dialog, a);
        assert.equal(await store.chat.deleteDialog(appId + 1000, dialog.id), false);
        assert.equal(await store.chat.deleteDialog(appId, dialog.id), true);
        assert.equal(await store.chat.getDialog(appId, dialog.id), null);
        assert.equal(await store.chat.getMessage(appId, m.id), null);
        assert.equal(await store.chat.deleteDialog(appId, dialog.id), false);
        assert.equal((await store.chat.unreadCounts(appId, b)).size, 0);
      });
    });

    describe('dialog lists', () => {
      it("lists the user's dialogs and the application's public ones, not others' or other apps'", async () => {
        const { appId, users: [a, b, c] } = await world(3);
        const mine = await store.chat.createDialog(newDialog(appId, { type: 2, ownerId: b, occupantIds: [a, b] }));
        const pub = await store.chat.createDialog(newDialog(appId, { type: 1, ownerId: c }));
        await store.chat.createDialog(newDialog(appId, { type: 2, ownerId: b, occupantIds: [b, c] }));
        const elsewhere = await world(1);
        await store.chat.createDialog(newDialog(elsewhere.appId, { type: 1, ownerId: elsewhere.users[0] }));
        assert.deepEqual(new Set(await listIds({ appId, userId: a })), new Set([mine.id, pub.id]));
        assert.equal(await store.chat.countDialogs({ appId, userId: a, filters: [] }), 2);
        assert.equal(await store.chat.countDialogs({ appId, userId: c, filters: [] }), 2);
      });

      it('hides a dialog for one user until a new message arrives, with old history gone for them', async () => {
        const { appId, users: [a, b] } = await world(2);
        const dialog = await store.chat.createDialog(newDialog(appId, { type: 3, ownerId: a, occupantIds: [a, b] }));
        const old = await send(dialog, a);
        await store.chat.hideDialog(dialog.id, b);
        assert.deepEqual(await store.chat.getMemberState(dialog.id, b), { unreadCount: 0, hidden: true, notificationsEnabled: true });
        assert.deepEqual(await listIds({ appId, userId: b }), []);
        assert.deepEqual(await listIds({ appId, userId: a }), [dialog.id]);
        assert.deepEqual(await messageIds({ dialogId: dialog.id, viewerId: b }), []);
        assert.equal(await store.chat.getMessage(appId, old.id, b), null);
        assert.ok(await store.chat.getMessage(appId, old.id, a));
        const fresh = await send(dialog, a);
        assert.deepEqual(await listIds({ appId, userId: b }), [dialog.id]);
        assert.equal(await unread(dialog, b), 1);
        assert.deepEqual(await messageIds({ dialogId: dialog.id, viewerId: b }), [fresh.id]);
        await store.chat.hideDialog(dialog.id, b);
        await store.chat.unhideDialog(dialog.id, b);
        assert.deepEqual(await listIds({ appId, userId: b }), [dialog.id]);
        assert.deepEqual(await messageIds({ dialogId: dialog.id, viewerId: b }), []);
      });

      it('filters', async () => {
        const { appId, users: [a, b, c] } = await world(3);
        const one = await store.chat.createDialog(newDialog(appId, {
          type: 2, ownerId: a, name: 'Alpha team', occupantIds: [a, b], data: { class_name: 'Meta', level: 1, tag: 'x' }, createdAt: at(1000),
        }));
        const two = await store.chat.createDialog(newDialog(appId, {
          type: 2, ownerId: b, name: 'Beta 100%', occupantIds: [a, b, c], data: { class_name: 'Meta', level: 2 }, createdAt: at(2000),
        }));
        const three = await store.chat.createDialog(newDialog(appId, { type: 3, ownerId: a, occupantIds: [a, c], createdAt: at(3000) }));
        const q = (filters: DialogQuery['filters']) => listIds({ appId, userId: a, filters }).then((ids) => new Set(ids));
        const set = (...ds: Dialog[]) => new Set(ds.map((d) => d.id));
        assert.deepEqual(await q([{ field: 'type', op: 'eq', value: 3 }]), set(three));
        assert.deepEqual(await q([{ field: 'type', op: 'in', value: [2, 3] }]), set(one, two, three));
        assert.deepEqual(await q([{ field: 'type', op: 'nin', value: [3] }]), set(one, two));
        assert.deepEqual(await q([{ field: 'type', op: 'ne', value: 2 }]), set(three));
        assert.deepEqual(await q([{ field: '_id', op: 'in', value: [one.id, three.id] }]), set(one, three));
        assert.deepEqual(await q([{ field: 'name', op: 'ctn', value: 'alpha' }]), set(one));
        assert.deepEqual(await q([{ field: 'name', op: 'ctn', value: '0%' }]), set(two));
        assert.deepEqual(await q([{ field: 'name', op: 'ctn', value: '_' }]), set());
        assert.deepEqual(await q([{ field: 'user_id', op: 'eq', value: b }]), set(two));
        assert.deepEqual(await q([{ field: 'occupants_ids', op: 'all', value: [b, c] }]), set(two));
        assert.deepEqual(await q([{ field: 'occupants_ids', op: 'in', value: [c] }]), set(two, three));
        assert.deepEqual(await q([{ field: 'occupants_ids', op: 'nin', value: [c] }]), set(one));
        assert.deepEqual(await q([{ field: 'occupants_ids', op: 'eq', value: b }]), set(one, two));
        assert.deepEqual(await q([{ field: 'created_at', op: 'gt', value: at(1000) }]), set(two, three));
        assert.deepEqual(await q([{ field: 'created_at', op: 'lte', value: at(2000.9) }]), set(one, two));
        assert.deepEqual(await q([{ field: 'data.class_name', op: 'eq', value: 'Meta' }, { field: 'data.level', op: 'eq', value: '2' }]), set(two));
        assert.deepEqual(await q([{ field: 'data.level', op: 'gte', value: 2 }]), set(two));
        assert.deepEqual(await q([{ field: 'data.tag', op: 'eq', value: null }]), set(two, three));
        assert.deepEqual(await q([{ field: 'last_message_date_sent', op: 'eq', value: null }]), set(one, two, three));
        assert.deepEqual(await q([{ field: 'data.bad key', op: 'eq', value: 'x' }]), set(one, two, three), 'unsafe keys are ignored');
        assert.equal(await store.chat.countDialogs({ appId, userId: a, filters: [{ field: 'type', op: 'eq', value: 2 }] }), 2);
      });

      it('sorts and pages', async () => {
        const { appId, users: [a] } = await world(1);
        const ds: Dialog[] = [];
        for (let i = 0; i < 5; i++) {
          ds.push(await store.chat.createDialog(newDialog(appId, { type: 2, ownerId: a, name: `d${i}`, occupantIds: [a], createdAt: at(5000 + i) })));
        }
        await send(ds[1], a, 'x', { dateSent: 9000 });
        await send(ds[3], a, 'x', { dateSent: 8000 });
        const ids = (...is: number[]) => is.map((i) => ds[i].id);
        assert.deepEqual(await listIds({ appId, userId: a, sort: { field: 'created_at', direction: 'asc' } }), ids(0, 1, 2, 3, 4));
        assert.deepEqual(await listIds({ appId, userId: a, sort: { field: 'name', direction: 'desc' }, limit: 2, skip: 1 }), ids(3, 2));
        assert.deepEqual((await listIds({ appId, userId: a, sort: { field: 'last_message_date_sent', direction: 'desc' } })).slice(0, 2), ids(1, 3));
        assert.deepEqual((await listIds({ appId, userId: a, sort: { field: 'last_message_date_sent', direction: 'asc' } })).slice(0, 2), ids(3, 1),
          'dialogs without messages come last either way');
        assert.deepEqual((await listIds({ appId, userId: a })).slice(0, 3), ids(1, 3, 4), 'default: most recently updated first');
        assert.deepEqual(await listIds({ appId, userId: a, skip: 5 }), []);
      });
    });

    describe('messages', () => {
      it('stores a message, updates the dialog and counts it unread for the other occupants', async () => {
        const { appId, users: [a, b, c] } = await world(3);
        const dialog = await store.chat.createDialog(newDialog(appId, { type: 2, ownerId: a, occupantIds: [a, b, c], createdAt: at(100) }));
        const m = await send(dialog, a, 'hello', {
          attachments: [{ type: 'image', id: '42', size: 10, 'content-type': 'image/png' }], customParams: { age: '25', pinned: false, nested: { x: 1 } },
          markable: true,
        });
        assert.deepEqual(await store.chat.getMessage(appId, m.id), m);
        assert.equal(await store.chat.getMessage(appId + 1000, m.id), null);
        const after = (await store.chat.getDialog(appId, dialog.id))!;
        assert.deepEqual([after.lastMessage, after.lastMessageDateSent, after.lastMessageId, after.lastMessageUserId], ['hello', m.dateSent, m.id, a]);
        assert.deepEqual(after.updatedAt, m.createdAt);
        assert.deepEqual([await unread(dialog, a), await unread(dialog, b), await unread(dialog, c)], [0, 1, 1]);
        assert.deepEqual(await store.chat.unreadCounts(appId, b), new Map([[dialog.id, 1]]));
        await assert.rejects(store.chat.insertMessage(m, { unreadFor: [b], unhideFor: [] }),
          (err: unknown) => err instanceof DuplicateMessageIdError && err.messageId === m.id);
        const elsewhere = await world(1);
        const otherDialog = await store.chat.createDialog(newDialog(elsewhere.appId, { type: 1, ownerId: elsewhere.users[0] }));
        await assert.rejects(store.chat.insertMessage({ ...m, appId: elsewhere.appId, dialogId: otherDialog.id }, { unreadFor: [], unhideFor: [] }),
          DuplicateMessageIdError, 'ids are unique across applications');
        assert.equal(await unread(dialog, b), 1, 'a failed insert changes nothing');
      });

      it('does not count public dialogs as unread', async () => {
        const { appId, users: [a, b] } = await world(2);
        const pub = await store.chat.createDialog(newDialog(appId, { type: 1, ownerId: a }));
        await send(pub, a);
        assert.equal(await unread(pub, b), 0);
        assert.equal((await store.chat.unreadCounts(appId, b)).size, 0);
      });

      it('lists oldest first by default, with filters, sorting and paging', async () => {
        const { appId, users: [a, b] } = await world(2);
        const dialog = await store.chat.createDialog(newDialog(appId, { type: 3, ownerId: a, occupantIds: [a, b] }));
        const m1 = await send(dialog, a, 'first', { dateSent: 1000, attachments: [{ type: 'image' }] });
        const m2 = await send(dialog, b, 'Second', { dateSent: 1000 });
        const m3 = await send(dialog, a, 'third', { dateSent: 900, attachments: [{ type: 'video' }, { type: 'audio' }] });
        const m4 = await send(dialog, b, 'fourth', { dateSent: 2000, updatedAt: at(5000) });
        const sameSecond = [m1, m2].sort((x, y) => (x.id < y.id ? -1 : 1)).map((m) => m.id);
        const q = (f: Partial<MessageQuery>) => messageIds({ dialogId: dialog.id, viewerId: a, ...f });
        assert.deepEqual(await q({}), [m3.id, ...sameSecond, m4.id]);
        assert.deepEqual(await q({ sort: { field: 'date_sent', direction: 'desc' } }), [m4.id, ...[...sameSecond].reverse(), m3.id]);
        assert.deepEqual(await q({ limit: 2, skip: 1 }), [...sameSecond]);
        assert.deepEqual(await q({ filters: [{ field: 'sender_id', op: 'eq', value: b }] }), [m2.id, m4.id]);
        assert.deepEqual(await q({ filters: [{ field: 'recipient_id', op: 'eq', value: b }] }), [m3.id, m1.id]);
        assert.deepEqual(await q({ filters: [{ field: 'date_sent', op: 'gte', value: 999.5 }, { field: 'date_sent', op: 'lt', value: 2000 }] }), sameSecond);
        assert.deepEqual(await q({ filters: [{ field: 'message', op: 'ctn', value: 'SEC' }] }), [m2.id]);
        assert.deepEqual(await q({ filters: [{ field: '_id', op: 'nin', value: [m1.id, m2.id] }] }), [m3.id, m4.id]);
        assert.deepEqual(await q({ filters: [{ field: 'attachments.type', op: 'eq', value: 'audio' }] }), [m3.id]);
        assert.deepEqual(await q({ filters: [{ field: 'attachments.type', op: 'in', value: ['image', 'video'] }] }), [m3.id, m1.id]);
        assert.deepEqual(await q({ filters: [{ field: 'attachments.type', op: 'ne', value: 'image' }] }), [m3.id, m2.id, m4.id]);
        assert.deepEqual(await q({ filters: [{ field: 'updated_at', op: 'gt', value: at(4999) }] }), [m4.id]);
        assert.equal(await store.chat.countMessages({ dialogId: dialog.id, viewerId: a, filters: [{ field: 'sender_id', op: 'eq', value: a }] }), 2);
      });

      it('marks read, unread and delivered, keeping the unread counter true', async () => {
        const { appId, users: [a, b, c] } = await world(3);
        const dialog = await store.chat.createDialog(newDialog(appId, { type: 2, ownerId: a, occupantIds: [a, b, c] }));
        const m1 = await send(dialog, a);
        const m2 = await send(dialog, a);
        const m3 = await send(dialog, c);
        assert.equal(await unread(dialog, b), 3);
        const marked = await store.chat.markMessages(dialog.id, b, [m1.id, m1.id, objectId()], { read: true });
        assert.deepEqual(marked.map((m) => [m.id, m.readIds, m.deliveredIds]), [[m1.id, [a, b], [a, b]]]);
        assert.equal(await unread(dialog, b), 2);
        await store.chat.markMessages(dialog.id, b, [m1.id], { read: true });
        assert.equal(await unread(dialog, b), 2, 'reading twice counts once');
        await store.chat.markMessages(dialog.id, b, [m2.id], { delivered: true });
        assert.equal(await unread(dialog, b), 2, 'delivered is not read');
        assert.deepEqual((await store.chat.getMessage(appId, m2.id))!.deliveredIds, [a, b]);
        await store.chat.markMessages(dialog.id, b, [m1.id], { read: false });
        assert.equal(await unread(dialog, b), 3);
        assert.deepEqual((await store.chat.getMessage(appId, m1.id))!.readIds, [a]);
        await store.chat.markMessages(dialog.id, a, [m1.id], { read: false });
        assert.deepEqual((await store.chat.getMessage(appId, m1.id))!.readIds, [a], 'the sender stays a reader of their own message');
        await store.chat.markMessages(dialog.id, a, [m3.id], { read: true });
        assert.equal(await unread(dialog, a), 0);
        const other = await store.chat.createDialog(newDialog(appId, { type: 2, ownerId: a, occupantIds: [a, b] }));
        assert.deepEqual(await store.chat.markMessages(other.id, b, [m2.id], { read: true }), [], 'only messages of the given dialog');

        await store.chat.markAllMessages(dialog.id, b, { read: true });
        assert.equal(await unread(dialog, b), 0);
        for (const m of [m1, m2, m3]) assert.ok((await store.chat.getMessage(appId, m.id))!.readIds.includes(b));
        await store.chat.markAllMessages(dialog.id, b, { read: false });
        assert.equal(await unread(dialog, b), 3);
        await store.chat.markAllMessages(dialog.id, c, { delivered: true });
        for (const m of [m1, m2, m3]) assert.equal((await store.chat.getMessage(appId, m.id))!.deliveredIds.filter((id) => id === c).length, 1);
        assert.equal(await unread(dialog, c), 2, 'delivered is not read');
      });

      it('marks all read across more messages than one scan batch', async () => {
        const { appId, users: [a, b] } = await world(2);
        const dialog = await store.chat.createDialog(newDialog(appId, { type: 3, ownerId: a, occupantIds: [a, b] }));
        const first = await send(dialog, a);
        for (let i = 0; i < 1200; i++) await send(dialog, a);
        await store.chat.markMessages(dialog.id, b, [first.id], { read: true });
        assert.equal(await unread(dialog, b), 1200);
        await store.chat.markAllMessages(dialog.id, b, { read: true });
        assert.equal(await unread(dialog, b), 0);
        assert.equal(await store.chat.countMessages({ dialogId: dialog.id, viewerId: a, filters: [] }), 1201);
      });

      it('edits text and follows it in last_message', async () => {
        const { appId, users: [a, b] } = await world(2);
        const dialog = await store.chat.createDialog(newDialog(appId, { type: 3, ownerId: a, occupantIds: [a, b] }));
        const m1 = await send(dialog, a, 'one');
        const m2 = await send(dialog, a, 'two');
        const edited = await store.chat.editMessage(dialog.id, m2.id, 'two!', at(9_999_999));
        assert.equal(edited?.body, 'two!');
        assert.deepEqual(edited?.updatedAt, at(9_999_999));
        assert.equal((await store.chat.getDialog(appId, dialog.id))!.lastMessage, 'two!');
        await store.chat.editMessage(dialog.id, m1.id, 'one!', new Date());
        assert.equal((await store.chat.getDialog(appId, dialog.id))!.lastMessage, 'two!');
        assert.equal(await store.chat.editMessage(objectId(), m1.id, 'x', new Date()), null);
      });

      it('deletes for one user, adjusting only their counter', async () => {
        const { appId, users: [a, b, c] } = await world(3);
        const dialog = await store.chat.createDialog(newDialog(appId, { type: 2, ownerId: a, occupantIds: [a, b, c] }));
        const m1 = await send(dialog, a);
        const m2 = await send(dialog, a);
        assert.deepEqual(await store.chat.hideMessages(b, [m1.id, objectId()]), [m1.id]);
        assert.deepEqual(await store.chat.hideMessages(b, [m1.id]), []);
        assert.equal(await unread(dialog, b), 1);
        assert.equal(await unread(dialog, c), 2);
        assert.deepEqual(await messageIds({ dialogId: dialog.id, viewerId: b }), [m2.id]);
        assert.deepEqual(await messageIds({ dialogId: dialog.id, viewerId: c }), [m1.id, m2.id]);
        assert.equal(await store.chat.getMessage(appId, m1.id, b), null);
        assert.deepEqual(await store.chat.markMessages(dialog.id, b, [m1.id], { read: true }), [], 'a hidden message cannot be marked');
        assert.equal(await unread(dialog, b), 1);
      });

      it('deletes for everyone, adjusting counters and the last message', async () => {
        const { appId, users: [a, b, c] } = await world(3);
        const dialog = await store.chat.createDialog(newDialog(appId, { type: 2, ownerId: a, occupantIds: [a, b, c] }));
        const m1 = await send(dialog, a, 'one');
        const m2 = await send(dialog, a, 'two');
        await store.chat.markMessages(dialog.id, c, [m2.id], { read: true });
        await store.chat.hideMessages(b, [m2.id]);
        assert.deepEqual(await store.chat.deleteMessages([m2.id, objectId()]), [m2.id]);
        assert.deepEqual([await unread(dialog, b), await unread(dialog, c)], [1, 1]);
        const after = (await store.chat.getDialog(appId, dialog.id))!;
        assert.deepEqual([after.lastMessage, after.lastMessageId, after.lastMessageDateSent], ['one', m1.id, m1.dateSent]);
        await store.chat.deleteMessages([m1.id]);
        const empty = (await store.chat.getDialog(appId, dialog.id))!;
        assert.deepEqual([empty.lastMessage, empty.lastMessageId, empty.lastMessageDateSent, empty.lastMessageUserId], [null, null, null, null]);
        assert.deepEqual([await unread(dialog, b), await unread(dialog, c)], [0, 0]);
      });

      it('keeps notification settings per user', async () => {
        const { appId, users: [a, b] } = await world(2);
        const dialog = await store.chat.createDialog(newDialog(appId, { type: 3, ownerId: a, occupantIds: [a, b] }));
        await store.chat.setNotifications(dialog.id, a, false);
        assert.equal((await store.chat.getMemberState(dialog.id, a)).notificationsEnabled, false);
        assert.equal((await store.chat.getMemberState(dialog.id, b)).notificationsEnabled, true);
        const pub = await store.chat.createDialog(newDialog(appId, { type: 1, ownerId: a }));
        await store.chat.setNotifications(pub.id, b, false);
        assert.equal((await store.chat.getMemberState(pub.id, b)).notificationsEnabled, false);
        await store.chat.setNotifications(dialog.id, a, true);
        assert.equal((await store.chat.getMemberState(dialog.id, a)).notificationsEnabled, true);
      });

      it('reads history in batches oldest first, and dialog ids for exports', async () => {
        const { appId, users: [a, b] } = await world(2);
        const d1 = await store.chat.createDialog(newDialog(appId, { type: 3, ownerId: a, occupantIds: [a, b] }));
        const sent = [await send(d1, a, '1', { dateSent: 30 }), await send(d1, b, '2', { dateSent: 10 }), await send(d1, a, '3', { dateSent: 20 })];
        await store.chat.hideMessages(a, [sent[0].id]);
        const read: string[] = [];
        let cursor = null;
        for (;;) {
          const batch: ChatMessage[] = await store.chat.historyBatch(appId, d1.id, cursor, 2);
          if (batch.length === 0) break;
          read.push(...batch.map((m) => m.body));
          const last = batch[batch.length - 1];
          cursor = { dateSent: last.dateSent, id: last.id };
        }
        assert.deepEqual(read, ['2', '3', '1']);
        assert.deepEqual(await store.chat.historyBatch(appId + 1000, d1.id, null, 10), []);
        const d2 = await store.chat.createDialog(newDialog(appId, { type: 1, ownerId: a }));
        const all = await store.chat.dialogIds(appId, null, 10);
        assert.deepEqual(new Set(all), new Set([d1.id, d2.id]));
        assert.deepEqual(await store.chat.dialogIds(appId, all[0], 10), [all[1]]);
      });
    });
  });
}
