// Dialog pages rendered by SQLite (read-dialogs.ts) against the views the chat layer builds from the
// same rows (chat/views.ts dialogView, JSON.stringify'd): byte for byte, for every type, odd names and
// data, join rules, last messages, unread counts, and a page with a row SQLite cannot write (null).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dialogView } from '../../chat/views.js';
import type { DialogQuery, DialogType, NewDialog } from '../types.js';
import { openSqliteStore } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-read-dialogs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('SQLite writes each dialog view as JSON.stringify(dialogView) does', async () => {
  const store = await openSqliteStore(join(dir, 'dialogs.db'));
  try {
    const app = await store.accounts.createApplication({});
    const users: number[] = [];
    for (const login of ['a', 'b', 'c']) users.push((await store.accounts.createUser(app.id, { login, password: 'pw' })).id);
    const [a, b, c] = users as [number, number, number];
    const names = [null, 'plain', 'quote " \\ / \u0000\u001f\u2028 😀', ''];
    const datas = [null, {}, { class_name: 'x', n: 1.5, nested: { '2': 'b', '1': 'a', list: [null, true, 'é'] } }, { 'ключ': '\u0007' }];
    let n = 0;
    for (const type of [1, 2, 3] as DialogType[]) {
      for (let i = 0; i < 8; i++) {
        n++;
        const occupants = type === 3 ? [a, i % 2 ? b : c] : type === 2 ? [a, b, c].slice(0, 1 + (i % 3)) : [];
        const dialog: NewDialog = {
          id: `5f${n.toString(16).padStart(22, '0')}`, appId: app.id, type, name: type === 3 ? null : names[i % names.length]!, photo: i % 3 ? null : `photo ${i} "x"`,
          ownerId: a, occupantIds: occupants, adminIds: type === 2 && i % 2 ? [a] : [], data: datas[i % datas.length]!, isJoinRequired: type === 2 && i % 4 === 1,
          createdAt: new Date(1_700_000_000_000 + n * 3_600_000),
        };
        // Private dialogs: one per pair, the others found again.
        const dialogId = type === 3 ? (await store.chat.findOrCreatePrivateDialog(dialog)).dialog.id : (await store.chat.createDialog(dialog)).id;
        if (i % 2 === 0) {
          await store.chat.insertMessage({
            id: `6f${n.toString(16).padStart(22, '0')}`, appId: app.id, dialogId, senderId: occupants[1] ?? b, recipientId: type === 3 ? a : 0,
            body: `last ${names[i % names.length] ?? ''}`, dateSent: 1_700_000_100 + n, attachments: [], customParams: {}, markable: false, readIds: [], deliveredIds: [],
            createdAt: new Date(1_700_000_100_000 + n * 1000), updatedAt: new Date(1_700_000_100_000 + n * 1000),
          }, { unreadFor: occupants.filter((u) => u !== (occupants[1] ?? b)), unhideFor: [] });
        }
      }
    }
    const mucDomain = 'muc.chat.test';
    for (const userId of [a, b, c]) {
      for (const sort of [undefined, { field: 'name', direction: 'asc' }, { field: 'last_message_date_sent', direction: 'desc' }] as DialogQuery['sort'][]) {
        const query: DialogQuery = { appId: app.id, userId, filters: [], limit: 100, skip: 0, sort };
        const expected = (await store.chat.listDialogs(query)).map(({ dialog, state }) => JSON.stringify(dialogView(dialog, dialog.type === 1 ? 0 : state.unreadCount, mucDomain)));
        assert.ok(expected.length > 8);
        const total = await store.chat.countDialogs(query);
        assert.deepEqual(await store.chat.renderDialogs(query, { mucDomain }), { items: expected, total }, `user ${userId}`);
        // A later page, and pages past the end: the same total, counted by the page's statement or (empty) apart.
        for (const skip of [3, total - 1, total, total + 5]) {
          const later = { ...query, limit: 2, skip };
          const items = (await store.chat.listDialogs(later)).map(({ dialog, state }) => JSON.stringify(dialogView(dialog, dialog.type === 1 ? 0 : state.unreadCount, mucDomain)));
          assert.deepEqual(await store.chat.renderDialogs(later, { mucDomain }), { items, total }, `user ${userId}, skip ${skip}`);
        }
      }
    }
    // A user with no dialogs: an empty first page, none in all.
    const lonely = (await store.accounts.createUser(app.id, { login: 'lonely', password: 'pw' })).id;
    const publicCount = await store.chat.countDialogs({ appId: app.id, userId: lonely, filters: [] });
    const none = await store.chat.renderDialogs({ appId: app.id, userId: lonely, filters: [{ field: 'type', op: 'eq', value: 3 }], limit: 100, skip: 0 } as DialogQuery, { mucDomain });
    assert.deepEqual(none, { items: [], total: 0 });
    assert.ok(publicCount > 0);
    // A column of an unexpected type: the page is left to the views.
    store.db.prepare('UPDATE dialogs SET last_message_date_sent = 1.5 WHERE id = (SELECT min(id) FROM dialogs WHERE type = 1)').run();
    assert.equal(await store.chat.renderDialogs({ appId: app.id, userId: a, filters: [], limit: 100, skip: 0 }, { mucDomain }), null);
  } finally {
    await store.close();
  }
});
