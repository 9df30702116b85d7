import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreBusyError } from '../busy.js';
import type { ChatMessage, Dialog } from '../types.js';
import { openSqliteStore, type SqliteStore } from './index.js';
import { PooledSqliteChatStore } from './pooled-chat.js';
import { twoUsersInADialog } from './two-user-dialog.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-read-pool-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;


const message = (dialog: Dialog, senderId: number, recipientId: number, n: number): ChatMessage => ({
  id: `5f00000000000000${n.toString(16).padStart(8, '0')}`, appId: dialog.appId, dialogId: dialog.id, senderId, recipientId,
  body: `message ${n}`, dateSent: 1_700_000_000 + n, attachments: [{ type: 'image', id: '7' }], customParams: { k: n },
  markable: n % 2 === 0, readIds: [senderId], deliveredIds: [senderId], createdAt: new Date(1_700_000_000_000 + n * 1000),
  updatedAt: new Date(1_700_000_000_000 + n * 1000),
});

describe('SQLite read pool', () => {
  it('is used only for a file database in WAL mode with workers asked for', async () => {
    const memory = await openSqliteStore(':memory:', { workers: 2, maxQueue: 8 });
    assert.equal(memory.reads, null);
    await memory.close();
    const none = await openSqliteStore(join(dir, `${files++}.db`));
    assert.equal(none.reads, null);
    await none.close();
  });

  it('reads on the workers what the main connection committed, each write as soon as it was acknowledged', async () => {
    const store = await openSqliteStore(join(dir, `${files++}.db`), { workers: 2, maxQueue: 64 });
    try {
      assert.ok(store.chat instanceof PooledSqliteChatStore);
      const { dialog, a, b } = await twoUsersInADialog(store);
      const query = { dialogId: dialog.id, viewerId: a, filters: [] };
      for (let n = 1; n <= 30; n++) {
        await store.chat.insertMessage(message(dialog, n % 2 ? a : b, n % 2 ? b : a, n), { unreadFor: [n % 2 ? b : a], unhideFor: [] });
        // Read-your-writes: each acknowledged insert is on the page and in the count read right after it.
        // (A page this shallow is read on the main connection by the store; asked of the pool here.)
        const [page, count]: [ChatMessage[], number] = await Promise.all([
          store.reads!.run<ChatMessage[]>('listMessages', [{ ...query, limit: 100, skip: 0 }]), store.chat.countMessages(query),
        ]);
        assert.equal(page.length, n);
        assert.equal(count, n);
        assert.deepEqual(page.at(-1), message(dialog, n % 2 ? a : b, n % 2 ? b : a, n));
      }
      assert.ok(store.reads!.pending === 0);
      const dialogs = await store.chat.listDialogs({ appId: dialog.appId, userId: b, filters: [], limit: 10, skip: 0 });
      assert.equal(dialogs.length, 1);
      assert.equal(dialogs[0]!.dialog.lastMessage, 'message 30');
      assert.equal(dialogs[0]!.state.unreadCount, 15);
      assert.ok(dialogs[0]!.dialog.createdAt instanceof Date);
      assert.equal(await store.chat.countDialogs({ appId: dialog.appId, userId: b, filters: [] }), 1);
      // The main connection answers the same.
      void store.reads!.close(); // closing twice is harmless
      await store.reads!.close();
      assert.equal(store.reads!.available, false);
      assert.equal((await store.chat.listMessages({ ...query, limit: 100, skip: 0 })).length, 30);
    } finally {
      await store.close();
    }
  });

  it('refuses reads past its queue with StoreBusyError, and keeps serving the others', async () => {
    const store = await openSqliteStore(join(dir, `${files++}.db`), { workers: 1, maxQueue: 2 });
    try {
      const { dialog, a } = await twoUsersInADialog(store);
      const query = { dialogId: dialog.id, viewerId: a, filters: [] };
      const reads = Array.from({ length: 5 }, () => store.chat.countMessages(query));
      const results = await Promise.allSettled(reads);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected']);
      for (const r of results.slice(2)) assert.ok((r as PromiseRejectedResult).reason instanceof StoreBusyError);
      assert.equal(await store.chat.countMessages(query), 0);
    } finally {
      await store.close();
    }
  });

  it("passes a failing read's error back, and replaces a worker that died", async () => {
    const store = await openSqliteStore(join(dir, `${files++}.db`), { workers: 1, maxQueue: 8 });
    try {
      const { dialog, a } = await twoUsersInADialog(store);
      const bad = { dialogId: dialog.id, viewerId: a, filters: [{ field: '_id', op: 'bogus', value: 1 }] } as never;
      await assert.rejects(store.chat.countMessages(bad));
      const query = { dialogId: dialog.id, viewerId: a, filters: [] };
      assert.equal(await store.chat.countMessages(query), 0);
      // Kill the worker while a read waits on it: that read fails, the next one runs on a new worker.
      const pool = store.reads!;
      const waiting = store.chat.countMessages(query);
      const worker = (pool as unknown as { slots: { worker: import('node:worker_threads').Worker }[] }).slots[0]!.worker;
      await worker.terminate();
      await waiting.then(() => {}, () => {}); // answered before the kill, or failed by it
      assert.equal(pool.pending, 0);
      assert.equal(await store.chat.countMessages(query), 0);
      assert.equal(pool.available, true);
    } finally {
      await store.close();
    }
  });

  it('runs the tasks of extensions loaded into running and later workers, bytes handed over, failures passed back', async () => {
    const store = await openSqliteStore(join(dir, `${files++}.db`), { workers: 2, maxQueue: 16 });
    try {
      const { dialog, a } = await twoUsersInADialog(store);
      const pool = store.reads!;
      const query = { dialogId: dialog.id, viewerId: a, filters: [] };
      await assert.rejects(pool.runTask('fixture.count', [query]), /no such read task/);
      await store.chat.insertMessage(message(dialog, a, 0, 1), { unreadFor: [], unhideFor: [] });
      pool.extend(new URL('./read-extension-fixture.js', import.meta.url), { tag: 'x' });
      // Four at once: both workers (the one already running and the one started after extend) answer.
      const counts = await Promise.all(Array.from({ length: 4 }, () => pool.runTask('fixture.count', [query])));
      assert.deepEqual(counts, Array.from({ length: 4 }, () => ({ count: 1, options: { tag: 'x' } })));
      const bytes = await pool.runTask<Uint8Array>('fixture.bytes', ['héllo']);
      assert.equal(Buffer.from(bytes).toString('utf8'), 'héllo');
      await assert.rejects(pool.runTask('fixture.fail', []), /fixture task failed/);
      // A module that does not load fails its tasks; the workers and their reads carry on.
      pool.extend(new URL('./no-such-extension.js', import.meta.url), null);
      await assert.rejects(pool.runTask('missing.task', []), /Cannot find module|ERR_MODULE_NOT_FOUND/);
      assert.deepEqual(await pool.runTask('fixture.count', [query]), { count: 1, options: { tag: 'x' } });
      assert.equal(await store.chat.countMessages(query), 1);
      assert.equal(pool.pending, 0);
    } finally {
      await store.close();
    }
  });
});
