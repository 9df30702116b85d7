// Driver-neutral behaviour of PrivacyStore (XEP-0016 lists). Each test makes its own user.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { PrivacyItem, Store } from './types.js';

export function privacyStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`PrivacyStore contract: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
    });

    const user = async (): Promise<number> => {
      const app = await store.accounts.createApplication({});
      return (await store.accounts.createUser(app.id, { login: `p-${randomBytes(4).toString('hex')}`, password: 'pw' })).id;
    };
    const item = (order: number, extra: Partial<PrivacyItem> = {}): PrivacyItem => ({
      type: 'jid', value: `${order}-1@localhost`, action: 'deny', order, stanzas: [], ...extra,
    });

    it('stores lists with items sorted by order, replaces them, and lists names per user', async () => {
      const [u, other] = [await user(), await user()];
      assert.deepEqual(await store.privacy.listNames(u), []);
      assert.equal(await store.privacy.getList(u, 'blocked'), null);
      await store.privacy.setList(u, { name: 'blocked', items: [item(2, { stanzas: ['message', 'presence-in'] }), item(1, { type: null, value: null, action: 'allow' })] });
      await store.privacy.setList(u, { name: 'another', items: [] });
      const list = await store.privacy.getList(u, 'blocked');
      assert.deepEqual(list?.items.map((i) => i.order), [1, 2]);
      assert.deepEqual(list?.items[1], item(2, { stanzas: ['message', 'presence-in'] }));
      assert.deepEqual(list?.items[0], item(1, { type: null, value: null, action: 'allow' }));
      assert.deepEqual(await store.privacy.listNames(u), ['another', 'blocked']);
      assert.deepEqual(await store.privacy.listNames(other), []);
      await store.privacy.setList(u, { name: 'blocked', items: [item(7)] });
      assert.deepEqual((await store.privacy.getList(u, 'blocked'))?.items, [item(7)]);
      assert.equal(await store.privacy.removeList(u, 'blocked'), true);
      assert.equal(await store.privacy.removeList(u, 'blocked'), false);
      assert.deepEqual(await store.privacy.listNames(u), ['another']);
    });

    it('keeps one default list per user, surviving edits, cleared by null or by removal', async () => {
      const u = await user();
      assert.equal(await store.privacy.getDefault(u), null);
      assert.equal(await store.privacy.setDefault(u, 'missing'), false);
      await store.privacy.setList(u, { name: 'a', items: [item(1)] });
      await store.privacy.setList(u, { name: 'b', items: [item(2)] });
      assert.equal(await store.privacy.setDefault(u, 'a'), true);
      assert.equal((await store.privacy.getDefault(u))?.name, 'a');
      assert.equal(await store.privacy.setDefault(u, 'b'), true);
      await store.privacy.setList(u, { name: 'b', items: [item(3)] });
      assert.deepEqual(await store.privacy.getDefault(u), { name: 'b', items: [item(3)] });
      assert.equal(await store.privacy.setDefault(u, null), true);
      assert.equal(await store.privacy.getDefault(u), null);
      await store.privacy.setDefault(u, 'a');
      await store.privacy.removeList(u, 'a');
      assert.equal(await store.privacy.getDefault(u), null);
    });
  });
}
