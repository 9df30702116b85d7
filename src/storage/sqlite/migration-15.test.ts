// Migration 15 on a database written by the previous schema: messages_dialog_seq goes, and what read
// through it (hiding a dialog, joining one, marking all read, a deleted last message, a cleared
// dialog's history) gives the same answers from the store's newest seq and messages_history.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatMessage } from '../types.js';
import { openSqliteStore } from './index.js';
import { migrate } from './migrations.js';
import { databaseAt, objectId, oldStore } from './migration-fixture.js';
import { archivePageSql } from '../archive-sql.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-migration-15-'));
after(() => rmSync(dir, { recursive: true, force: true }));


describe('sqlite migration 15', () => {
  it('drops messages_dialog_seq and keeps cleared histories, joins, unread counters and last messages right', async () => {
    const path = join(dir, 'v14.db');
    const db = databaseAt(path, 14);
    const { store: old, app, users: [a, b, c], newDialog } = await oldStore(db);
    let date = 1_700_000_000;
    const message = (senderId: number, recipientId: number, body: string): ChatMessage => ({
      id: objectId(), appId: app.id, dialogId: '', senderId, recipientId, body, dateSent: date++, attachments: [],
      customParams: {}, markable: false, readIds: [senderId], deliveredIds: [senderId], createdAt: new Date(), updatedAt: new Date(),
    });
    const send = async (dialogId: string, senderId: number, recipientId: number, body: string, unreadFor: number[]): Promise<ChatMessage> => {
      const m = { ...message(senderId, recipientId, body), dialogId };
      await old.chat.insertMessage(m, { unreadFor, unhideFor: [senderId] });
      return m;
    };
    const pair = (await old.chat.insertPrivateMessage(newDialog({ type: 3, occupantIds: [a, b] }), message(a, b, 'first'),
      { unreadFor: [b], unhideFor: [a] }))!.dialog;
    await send(pair.id, a, b, 'second', [b]);
    // b deletes the dialog for themselves: both messages are gone from b's history.
    await old.chat.hideDialog(pair.id, b);
    const group = await old.chat.createDialog(newDialog({ type: 2, name: 'g', occupantIds: [a, b] }));
    await old.close();

    const store = await openSqliteStore(path);
    try {
      assert.equal(store.db.pragma('integrity_check', { simple: true }), 'ok');
      assert.equal(store.db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'messages_dialog_seq'").pluck().get(), 0);
      const history = async (dialogId: string, viewerId: number) =>
        (await store.chat.listMessages({ dialogId, viewerId, filters: [], limit: 100, skip: 0 })).map((m) => m.body);
      const sendNow = async (dialogId: string, senderId: number, recipientId: number, body: string, unreadFor: number[]) => {
        const m = { ...message(senderId, recipientId, body), dialogId };
        await store.chat.insertMessage(m, { unreadFor, unhideFor: [senderId] });
        return m;
      };
      assert.deepEqual(await history(pair.id, b), []);
      assert.deepEqual(await history(pair.id, a), ['first', 'second']);
      // Messages in another dialog move the store's newest seq past this dialog's newest.
      for (let i = 0; i < 3; i++) await sendNow(group.id, a, 0, `group ${i}`, [b]);
      await store.chat.hideDialog(pair.id, a);
      const third = await sendNow(pair.id, b, a, 'third', [a]);
      assert.deepEqual(await history(pair.id, a), ['third']);
      assert.deepEqual(await history(pair.id, b), ['third']);
      assert.equal((await store.chat.getMemberState(pair.id, a)).unreadCount, 1);
      // A cleared history's page reads messages_history in order, without sorting the dialog.
      const plan = store.db.prepare(`EXPLAIN QUERY PLAN SELECT m.* FROM messages m WHERE m.dialog_id = ? AND m.seq > ?
        ORDER BY m.date_sent, m.id LIMIT 100`).all(pair.id, 1).map((r) => (r as { detail: string }).detail).join(' ');
      assert.match(plan, /messages_history/);
      assert.doesNotMatch(plan, /TEMP B-TREE/);
      // A user's archive across dialogs finds each page row by its seq, not by walking each dialog's history.
      const archive = archivePageSql('sqlite', { appId: app.id, viewerId: a, dialogId: null, limit: 10, order: 'desc' }, 'm.*');
      const archivePlan = store.db.prepare(`EXPLAIN QUERY PLAN ${archive.sql}`).all(...archive.params)
        .map((r) => (r as { detail: string }).detail).join(' | ');
      assert.match(archivePlan, /SEARCH m USING INTEGER PRIMARY KEY/);
      assert.deepEqual((await store.chat.archiveMessages({ appId: app.id, viewerId: a, dialogId: null, limit: 10, order: 'desc' }))
        .map((m) => m.body), ['third']);
      // c joins the group after its messages: none of them is unread for c, the next one is.
      await store.chat.updateDialog(app.id, group.id, { addOccupants: [c], updatedAt: new Date() });
      await sendNow(group.id, a, 0, 'welcome', [b, c]);
      assert.equal((await store.chat.getMemberState(group.id, c)).unreadCount, 1);
      assert.equal((await store.chat.getMemberState(group.id, b)).unreadCount, 4);
      // Marking all read finds the unread messages newest first, in batches of 500.
      for (let i = 0; i < 600; i++) await sendNow(group.id, a, 0, `more ${i}`, [b, c]);
      await store.chat.markAllMessages(group.id, b, { read: true });
      assert.equal((await store.chat.getMemberState(group.id, b)).unreadCount, 0);
      const readByB = store.db.prepare('SELECT count(*) FROM messages WHERE dialog_id = ? AND read_ids LIKE ?').pluck();
      assert.equal(readByB.get(group.id, `%${b}%`), 604);
      await store.chat.markAllMessages(group.id, b, { read: false });
      assert.equal((await store.chat.getMemberState(group.id, b)).unreadCount, 604);
      // Deleting the last message makes the newest remaining one the last.
      await store.chat.deleteMessages([third.id]);
      assert.equal((await store.chat.getDialog(app.id, pair.id))?.lastMessage, 'second');
      assert.equal(migrate(store.db), 0);
    } finally {
      await store.close();
    }
  });
});
