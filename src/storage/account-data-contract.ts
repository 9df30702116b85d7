// Driver-neutral behaviour of KeyValueStore and PepStore.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Store } from './types.js';

export function accountDataContract(name: string, open: () => Promise<Store>): void {
  describe(`KeyValueStore and PepStore contract: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
    });
    const user = async (): Promise<number> => {
      const app = await store.accounts.createApplication({});
      return (await store.accounts.createUser(app.id, { login: `k-${randomBytes(4).toString('hex')}`, password: 'pw' })).id;
    };

    it('keeps values per scope and owner, replaces and removes them, lists keys by literal prefix', async () => {
      const [u, v] = [await user(), await user()];
      assert.equal(await store.keyValue.get('user', u, 'vcard'), null);
      await store.keyValue.set('user', u, 'vcard', '<vCard xmlns="vcard-temp"/>');
      await store.keyValue.set('user', u, 'private:a_b', 'x');
      await store.keyValue.set('user', u, 'private:a%b', 'y');
      await store.keyValue.set('user', u, 'private:zz', 'z');
      await store.keyValue.set('app', u, 'vcard', 'app-level');
      assert.equal(await store.keyValue.get('user', u, 'vcard'), '<vCard xmlns="vcard-temp"/>');
      assert.equal(await store.keyValue.get('app', u, 'vcard'), 'app-level');
      assert.equal(await store.keyValue.get('user', v, 'vcard'), null);
      await store.keyValue.set('user', u, 'vcard', 'second');
      assert.equal(await store.keyValue.get('user', u, 'vcard'), 'second');
      assert.deepEqual(await store.keyValue.keys('user', u, 'private:'), ['private:a%b', 'private:a_b', 'private:zz']);
      assert.deepEqual(await store.keyValue.keys('user', u, 'private:a_'), ['private:a_b']);
      await store.keyValue.set('user', u, 'vcard', null);
      assert.equal(await store.keyValue.get('user', u, 'vcard'), null);
      await store.keyValue.set('user', u, 'never-set', null);
    });

    it('keeps PEP nodes with their newest items up to max_items; republishing an id makes it the newest', async () => {
      const [u, v] = [await user(), await user()];
      assert.equal(await store.pep.getNode(u, 'urn:xmpp:avatar:data'), null);
      await store.pep.putNode(u, { node: 'urn:xmpp:avatar:data', accessModel: 'presence', maxItems: 2 });
      await store.pep.putNode(u, { node: 'http://jabber.org/protocol/nick', accessModel: 'open', maxItems: 1 });
      assert.deepEqual((await store.pep.listNodes(u)).map((n) => n.node), ['http://jabber.org/protocol/nick', 'urn:xmpp:avatar:data']);
      assert.deepEqual(await store.pep.listNodes(v), []);
      const at = new Date(1_700_000_000_000);
      for (const id of ['one', 'two', 'three']) await store.pep.publish(u, 'urn:xmpp:avatar:data', { id, payload: `<data>${id}</data>`, publishedAt: at });
      assert.deepEqual((await store.pep.items(u, 'urn:xmpp:avatar:data')).map((i) => i.id), ['three', 'two']);
      await store.pep.publish(u, 'urn:xmpp:avatar:data', { id: 'two', payload: '<data>2</data>', publishedAt: at });
      const items = await store.pep.items(u, 'urn:xmpp:avatar:data');
      assert.deepEqual(items, [{ id: 'two', payload: '<data>2</data>', publishedAt: at }, { id: 'three', payload: '<data>three</data>', publishedAt: at }]);
      assert.deepEqual((await store.pep.items(u, 'urn:xmpp:avatar:data', { max: 1 })).map((i) => i.id), ['two']);
      assert.deepEqual((await store.pep.items(u, 'urn:xmpp:avatar:data', { ids: ['three', 'nope'] })).map((i) => i.id), ['three']);
      assert.equal(await store.pep.retract(u, 'urn:xmpp:avatar:data', 'three'), true);
      assert.equal(await store.pep.retract(u, 'urn:xmpp:avatar:data', 'three'), false);
      await store.pep.putNode(u, { node: 'urn:xmpp:avatar:data', accessModel: 'open', maxItems: 5 });
      assert.deepEqual(await store.pep.getNode(u, 'urn:xmpp:avatar:data'), { node: 'urn:xmpp:avatar:data', accessModel: 'open', maxItems: 5 });
      await assert.rejects(store.pep.publish(u, 'no-such-node', { id: 'x', payload: '<x/>', publishedAt: at }));
      assert.equal(await store.pep.deleteNode(u, 'urn:xmpp:avatar:data'), true);
      assert.equal(await store.pep.deleteNode(u, 'urn:xmpp:avatar:data'), false);
      assert.deepEqual(await store.pep.items(u, 'urn:xmpp:avatar:data'), []);
    });

    it('lowering max_items drops the oldest items', async () => {
      const u = await user();
      await store.pep.putNode(u, { node: 'urn:xmpp:bookmarks:1', accessModel: 'whitelist', maxItems: 10 });
      for (const id of ['a', 'b', 'c']) await store.pep.publish(u, 'urn:xmpp:bookmarks:1', { id, payload: '<conference/>', publishedAt: new Date() });
      await store.pep.putNode(u, { node: 'urn:xmpp:bookmarks:1', accessModel: 'whitelist', maxItems: 1 });
      assert.deepEqual((await store.pep.items(u, 'urn:xmpp:bookmarks:1')).map((i) => i.id), ['c']);
    });
  });
}
