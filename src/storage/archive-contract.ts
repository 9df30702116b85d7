// Driver-neutral behaviour of the archive queries of ChatStore (XEP-0313 over QuickBlox history).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ArchiveQuery } from './archive-types.js';
import type { ChatMessage, Dialog, NewDialog, Store } from './types.js';

export function archiveContract(name: string, open: () => Promise<Store>): void {
  describe(`ChatStore archive contract: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
    });

    const objectId = () => randomBytes(12).toString('hex');
    async function world(n: number): Promise<{ appId: number; users: number[] }> {
      const app = await store.accounts.createApplication({});
      const users: number[] = [];
      for (let i = 0; i < n; i++) users.push((await store.accounts.createUser(app.id, { login: `a${i}-${randomBytes(4).toString('hex')}`, password: 'pw' })).id);
      return { appId: app.id, users };
    }
    const dialog = (appId: number, type: 2 | 3, ownerId: number, occupantIds: number[]): Promise<Dialog> => {
      const input: NewDialog = { id: objectId(), appId, type, ownerId, occupantIds, name: null, photo: null, adminIds: [], data: null, isJoinRequired: false, createdAt: new Date() };
      return store.chat.createDialog(input);
    };
    async function send(d: Dialog, senderId: number, dateSent: number, id = objectId()): Promise<ChatMessage> {
      const m: ChatMessage = {
        id, appId: d.appId, dialogId: d.id, senderId, body: `at ${dateSent}`, dateSent,
        recipientId: d.type === 3 ? d.occupantIds.find((u) => u !== senderId)! : 0,
        attachments: [], customParams: {}, markable: false, readIds: [senderId], deliveredIds: [senderId],
        createdAt: new Date(dateSent * 1000), updatedAt: new Date(dateSent * 1000),
      };
      await store.chat.insertMessage(m, { unreadFor: d.occupantIds.filter((u) => u !== senderId), unhideFor: [senderId] });
      return m;
    }
    const page = async (q: Partial<ArchiveQuery> & Pick<ArchiveQuery, 'appId' | 'viewerId' | 'dialogId'>) =>
      (await store.chat.archiveMessages({ order: 'asc', limit: 100, ...q })).map((m) => m.body);

    it("a user's archive is every private dialog they occupy, in (date_sent, _id) order, not group dialogs nor others' dialogs", async () => {
      const { appId, users: [a, b, c] } = await world(3);
      const ab = await dialog(appId, 3, a, [a, b]);
      const ac = await dialog(appId, 3, a, [a, c]);
      const bc = await dialog(appId, 3, b, [b, c]);
      const group = await dialog(appId, 2, a, [a, b, c]);
      await send(ab, a, 100);
      await send(ac, c, 101);
      await send(bc, b, 102);
      await send(group, a, 103);
      await send(ab, b, 104);
      assert.deepEqual(await page({ appId, viewerId: a, dialogId: null }), ['at 100', 'at 101', 'at 104']);
      assert.deepEqual(await page({ appId, viewerId: a, dialogId: null, order: 'desc', limit: 2 }), ['at 104', 'at 101']);
      assert.equal(await store.chat.countArchive({ appId, viewerId: a, dialogId: null }), 3);
      assert.deepEqual(await page({ appId: appId + 1000, viewerId: a, dialogId: null }), []);
      assert.deepEqual(await page({ appId, viewerId: a, dialogId: group.id }), ['at 103']);
    });

    it('filters by sender, time (inclusive), ids, and pages strictly after / before a position', async () => {
      const { appId, users: [a, b] } = await world(2);
      const ab = await dialog(appId, 3, a, [a, b]);
      // Two messages in the same second: their ids decide the order.
      const first = await send(ab, a, 200, '0'.repeat(23) + '1');
      const second = await send(ab, b, 200, '0'.repeat(23) + '2');
      const third = await send(ab, a, 201);
      const fourth = await send(ab, b, 205);
      const all = { appId, viewerId: b, dialogId: ab.id };
      assert.deepEqual(await page({ ...all, senderId: b }), ['at 200', 'at 205']);
      assert.deepEqual(await page({ ...all, start: 201 }), ['at 201', 'at 205']);
      assert.deepEqual(await page({ ...all, end: 200 }), ['at 200', 'at 200']);
      assert.deepEqual(await page({ ...all, start: 202, end: 204 }), []);
      assert.equal(await store.chat.countArchive({ ...all, start: 200, end: 201 }), 3);
      const after = (m: ChatMessage) => ({ dateSent: m.dateSent, id: m.id });
      assert.deepEqual((await store.chat.archiveMessages({ ...all, after: after(first), order: 'asc', limit: 2 })).map((m) => m.id), [second.id, third.id]);
      assert.deepEqual((await store.chat.archiveMessages({ ...all, before: after(fourth), order: 'desc', limit: 2 })).map((m) => m.id), [third.id, second.id]);
      assert.deepEqual((await store.chat.archiveMessages({ ...all, before: after(second), order: 'asc', limit: 5 })).map((m) => m.id), [first.id]);
      assert.deepEqual((await store.chat.archiveMessages({ ...all, ids: [fourth.id, first.id, objectId()], order: 'asc', limit: 5 })).map((m) => m.id), [first.id, fourth.id]);
      assert.deepEqual(await page({ ...all, ids: [] }), []);
    });

    it("leaves out what the viewer deleted for themselves, one by one or with the dialog", async () => {
      const { appId, users: [a, b] } = await world(2);
      const ab = await dialog(appId, 3, a, [a, b]);
      const m1 = await send(ab, a, 300);
      await send(ab, b, 301);
      await store.chat.hideMessages(b, [m1.id]);
      assert.deepEqual(await page({ appId, viewerId: b, dialogId: null }), ['at 301']);
      assert.deepEqual(await page({ appId, viewerId: a, dialogId: null }), ['at 300', 'at 301']);
      await store.chat.hideDialog(ab.id, a);
      await send(ab, b, 302);
      assert.deepEqual(await page({ appId, viewerId: a, dialogId: ab.id }), ['at 302']);
      assert.equal(await store.chat.countArchive({ appId, viewerId: a, dialogId: null }), 1);
    });
  });
}
