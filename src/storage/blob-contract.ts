// Driver-neutral behaviour of BlobStore. Like the store contract, tests never assume an empty
// database: each creates its own application and owner.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { NewBlob, Store } from './types.js';

export function blobStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
    });

    const HOUR = 3600_000;
    const owner = async () => {
      const app = await store.accounts.createApplication({});
      const user = await store.accounts.createUser(app.id, { login: `owner-${randomBytes(4).toString('hex')}`, password: 'pw' });
      return { appId: app.id, userId: user.id };
    };
    const newBlob = (who: { appId: number; userId: number }, extra: Partial<NewBlob> = {}): NewBlob => ({
      ...who,
      uid: randomBytes(16).toString('hex'),
      name: 'photo.png',
      contentType: 'image/png',
      public: false,
      tags: [],
      uploadKeyHash: randomBytes(32).toString('hex'),
      uploadExpiresAt: new Date(Date.now() + HOUR),
      ...extra,
    });

    it('creates a pending blob and finds it by id within its application, and by uid', async () => {
      const who = await owner();
      const since = Date.now();
      const input = newBlob(who, { public: true, tags: ['a', 'b c'] });
      const blob = await store.blobs.createBlob(input);
      assert.ok(Number.isInteger(blob.id) && blob.id > 0);
      assert.deepEqual({ ...blob, id: 0, createdAt: 0, updatedAt: 0 }, {
        id: 0, uid: input.uid, appId: who.appId, userId: who.userId, name: 'photo.png', contentType: 'image/png', size: null,
        public: true, tags: ['a', 'b c'], status: null, createdAt: 0, updatedAt: 0, completedAt: null,
      });
      assert.ok(blob.createdAt.getTime() >= since - 1000 && blob.createdAt.getTime() <= Date.now() + 1000);
      assert.deepEqual(await store.blobs.getBlob(who.appId, blob.id), blob);
      assert.deepEqual(await store.blobs.getBlobByUid(input.uid), blob);
      const stranger = await owner();
      assert.equal(await store.blobs.getBlob(stranger.appId, blob.id), null);
      assert.equal(await store.blobs.getBlob(who.appId, 2 ** 31 - 1), null);
      assert.equal(await store.blobs.getBlobByUid('0'.repeat(32)), null);
    });

    it('refuses a second blob with the same uid', async () => {
      const who = await owner();
      const input = newBlob(who);
      await store.blobs.createBlob(input);
      await assert.rejects(store.blobs.createBlob({ ...newBlob(who), uid: input.uid }));
    });

    it('opens a blob for upload only with its live key and only until it is complete', async () => {
      const who = await owner();
      const input = newBlob(who);
      const blob = await store.blobs.createBlob(input);
      const now = new Date();
      assert.equal((await store.blobs.blobForUpload(input.uploadKeyHash, now))?.id, blob.id);
      assert.equal(await store.blobs.blobForUpload(randomBytes(32).toString('hex'), now), null);
      assert.equal(await store.blobs.blobForUpload(input.uploadKeyHash, new Date(now.getTime() + 2 * HOUR)), null, 'expired key');

      const at = new Date(Math.floor(Date.now() / 1000) * 1000);
      const done = await store.blobs.completeBlob(who.appId, blob.id, 1234, at);
      assert.equal(done?.status, 'complete');
      assert.equal(done?.size, 1234);
      assert.deepEqual(done?.completedAt, at);
      assert.equal(await store.blobs.blobForUpload(input.uploadKeyHash, now), null, 'key retired by completion');
      assert.deepEqual(await store.blobs.getBlob(who.appId, blob.id), done);
    });

    it('completes once: a second completion changes nothing', async () => {
      const who = await owner();
      const blob = await store.blobs.createBlob(newBlob(who));
      const first = await store.blobs.completeBlob(who.appId, blob.id, 10, new Date());
      const again = await store.blobs.completeBlob(who.appId, blob.id, 99, new Date(Date.now() + 5000));
      assert.deepEqual(again, first);
      assert.equal(await store.blobs.completeBlob(who.appId, 2 ** 31 - 1, 1, new Date()), null);
      const stranger = await owner();
      assert.equal(await store.blobs.completeBlob(stranger.appId, blob.id, 1, new Date()), null);
    });

    it("lists one owner's blobs oldest first, with the total, page by page", async () => {
      const who = await owner();
      const other = { appId: who.appId, userId: (await store.accounts.createUser(who.appId, { login: `o-${randomBytes(4).toString('hex')}`, password: 'pw' })).id };
      const mine = [];
      for (let i = 0; i < 5; i++) mine.push(await store.blobs.createBlob(newBlob(who, { name: `f${i}` })));
      await store.blobs.createBlob(newBlob(other));
      const first = await store.blobs.listBlobs(who.appId, who.userId, { limit: 2, offset: 0 });
      assert.equal(first.total, 5);
      assert.deepEqual(first.blobs.map((b) => b.name), ['f0', 'f1']);
      const last = await store.blobs.listBlobs(who.appId, who.userId, { limit: 2, offset: 4 });
      assert.deepEqual(last.blobs, [mine[4]]);
      assert.deepEqual((await store.blobs.listBlobs(who.appId, who.userId, { limit: 10, offset: 10 })).blobs, []);
      assert.equal((await store.blobs.listBlobs(who.appId, other.userId, { limit: 10, offset: 0 })).total, 1);
    });

    it('renames within the application only', async () => {
      const who = await owner();
      const blob = await store.blobs.createBlob(newBlob(who));
      const renamed = await store.blobs.renameBlob(who.appId, blob.id, 'new name.png');
      assert.equal(renamed?.name, 'new name.png');
      assert.ok(renamed!.updatedAt.getTime() >= blob.updatedAt.getTime());
      const stranger = await owner();
      assert.equal(await store.blobs.renameBlob(stranger.appId, blob.id, 'x'), null);
      assert.equal((await store.blobs.getBlob(who.appId, blob.id))?.name, 'new name.png');
    });

    it('deletes within the application only', async () => {
      const who = await owner();
      const blob = await store.blobs.createBlob(newBlob(who));
      const stranger = await owner();
      assert.equal(await store.blobs.deleteBlob(stranger.appId, blob.id), false);
      assert.equal(await store.blobs.deleteBlob(who.appId, blob.id), true);
      assert.equal(await store.blobs.deleteBlob(who.appId, blob.id), false);
      assert.equal(await store.blobs.getBlob(who.appId, blob.id), null);
      assert.equal(await store.blobs.getBlobByUid(blob.uid), null);
    });

    it('keeps blobs when their owner is deleted', async () => {
      const who = await owner();
      const blob = await store.blobs.createBlob(newBlob(who));
      assert.equal(await store.accounts.deleteUser(who.appId, who.userId), true);
      assert.deepEqual(await store.blobs.getBlob(who.appId, blob.id), blob);
    });
  });
}
