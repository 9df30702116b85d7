// Driver-neutral behaviour of ReactionStore: limits held atomically, order of names, cascade.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { newObjectId } from '../chat/objectid.js';
import type { Store } from './types.js';

export function reactionStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`ReactionStore contract: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
    });

    const message = async () => {
      const app = await store.accounts.createApplication({});
      const [a, b] = await Promise.all(['a', 'b'].map((l) => store.accounts.createUser(app.id, { login: `${l}-${randomBytes(4).toString('hex')}`, password: 'pw' })));
      const dialog = await store.chat.createDialog({
        id: newObjectId(), appId: app.id, type: 3, name: null, photo: null, ownerId: a.id, occupantIds: [a.id, b.id].sort((x, y) => x - y),
        adminIds: [], data: null, isJoinRequired: false, createdAt: new Date(),
      });
      const id = newObjectId();
      await store.chat.insertMessage({
        id, appId: app.id, dialogId: dialog.id, senderId: a.id, recipientId: b.id, body: 'm', dateSent: 1, attachments: [], customParams: {},
        markable: false, readIds: [a.id], deliveredIds: [a.id], createdAt: new Date(), updatedAt: new Date(),
      }, { unreadFor: [b.id], unhideFor: [] });
      return { id, a: a.id, b: b.id };
    };

    it('adds once per user and name, lists names in first-use order, removes', async () => {
      const m = await message();
      const at = (s: number) => new Date(1_700_000_000_000 + s * 1000);
      assert.equal(await store.reactions.addReaction(m.id, m.b, 'zz', at(1), 20), 'added');
      assert.equal(await store.reactions.addReaction(m.id, m.a, 'aa', at(2), 20), 'added');
      assert.equal(await store.reactions.addReaction(m.id, m.a, 'zz', at(3), 20), 'added');
      assert.equal(await store.reactions.addReaction(m.id, m.a, 'zz', at(4), 20), 'exists');
      const ids = [m.a, m.b].sort((x, y) => x - y);
      assert.deepEqual((await store.reactions.listReactions([m.id, newObjectId()])).get(m.id), [{ name: 'zz', userIds: ids }, { name: 'aa', userIds: [m.a] }]);
      assert.equal(await store.reactions.removeReaction(m.id, m.a, 'aa'), true);
      assert.equal(await store.reactions.removeReaction(m.id, m.a, 'aa'), false);
      assert.deepEqual((await store.reactions.listReactions([m.id])).get(m.id), [{ name: 'zz', userIds: ids }]);
    });

    it('holds the name limit against concurrent writers', async () => {
      const m = await message();
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.reactions.addReaction(m.id, i % 2 ? m.a : m.b, `n${i}`, new Date(), 5)));
      assert.equal(results.filter((r) => r === 'added').length, 5);
      assert.equal(await store.reactions.addReaction(m.id, m.a, 'n-late', new Date(), 5), 'limit');
      const taken = (await store.reactions.listReactions([m.id])).get(m.id)!;
      assert.equal(taken.length, 5);
      assert.equal(await store.reactions.addReaction(m.id, m.a, taken[0].name, new Date(), 5) === 'limit', false, 'a used name is not a new one');
    });

    it('drops reactions with their message', async () => {
      const m = await message();
      await store.reactions.addReaction(m.id, m.a, 'x', new Date(), 20);
      await store.chat.deleteMessages([m.id]);
      assert.equal((await store.reactions.listReactions([m.id])).size, 0);
    });
  });
}
