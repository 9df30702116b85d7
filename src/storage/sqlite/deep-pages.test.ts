import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatMessage, MessageQuery } from '../types.js';
import { SqliteChatStore } from './chat.js';
import { openSqliteStore } from './index.js';
import { twoUsersInADialog } from './two-user-dialog.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-deep-pages-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('deep pages read on the pool equal OFFSET pages, before and after the dialog changes', async () => {
  const store = await openSqliteStore(join(dir, 'deep.db'), { workers: 1, maxQueue: 64 });
  try {
    const { dialog, a, b } = await twoUsersInADialog(store);
    const app = { id: dialog.appId };
    let n = 0;
    const message = (): ChatMessage => {
      n++;
      // Many messages share a date_sent, and ids are not in date order: ties decide the order.
      const id = `5f${((n * 7919) % 1_000_003).toString(16).padStart(14, '0')}${n.toString(16).padStart(8, '0')}`;
      return {
        id, appId: app.id, dialogId: dialog.id, senderId: n % 3 ? a : b, recipientId: n % 3 ? b : a, body: `m${n}`,
        dateSent: 1_700_000_000 + Math.floor(n / 4), attachments: [], customParams: {}, markable: false, readIds: [], deliveredIds: [],
        createdAt: new Date(1_700_000_000_000), updatedAt: new Date(1_700_000_000_000),
      };
    };
    const insert = (count: number) => Promise.all(Array.from({ length: count }, () => {
      const m = message();
      return store.chat.insertMessage(m, { unreadFor: [], unhideFor: [] });
    }));
    await insert(2600);
    const reference = new SqliteChatStore(store.db, store.writes); // OFFSET on the main connection
    const ids = (page: ChatMessage[]) => page.map((m) => m.id);
    const check = async (label: string) => {
      const queries: MessageQuery[] = [];
      for (const direction of ['asc', 'desc'] as const) {
        for (const skip of [1000, 1100, 1200, 1337, 2500, 2590, 2700]) {
          queries.push({ dialogId: dialog.id, viewerId: a, filters: [], sort: { field: 'date_sent', direction }, limit: 100, skip });
        }
        queries.push({ dialogId: dialog.id, viewerId: b, filters: [{ field: 'sender_id', op: 'eq', value: a }], sort: { field: 'date_sent', direction }, limit: 50, skip: 1000 });
      }
      queries.push({ dialogId: dialog.id, viewerId: a, filters: [], limit: 100, skip: 1000 });
      // Twice: the second round starts from the rows the first one met.
      for (let round = 0; round < 2; round++) {
        for (const q of queries) assert.deepEqual(ids(await store.chat.listMessages(q)), ids(await reference.listMessages(q)), `${label} ${round} ${JSON.stringify(q)}`);
      }
    };
    await check('initial');
    // A message sorting before the remembered rows, a deleted one, one hidden for a: each moves the pages.
    await store.chat.insertMessage({ ...message(), dateSent: 1_600_000_000 }, { unreadFor: [], unhideFor: [] });
    await check('after an early message');
    const [victim] = await reference.listMessages({ dialogId: dialog.id, viewerId: a, filters: [], limit: 1, skip: 10 });
    await store.chat.deleteMessages([victim!.id]);
    await check('after a delete');
    const [hidden] = await reference.listMessages({ dialogId: dialog.id, viewerId: a, filters: [], limit: 1, skip: 20 });
    await store.chat.hideMessages(a, [hidden!.id]);
    await check('after a hide');
  } finally {
    await store.close();
  }
});
