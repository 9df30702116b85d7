// Migration 14 on a database written by the previous schema: the rows stay, the rules stay, the
// dialog insert no longer builds a temporary index.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ChatMessage } from '../types.js';
import { openSqliteStore } from './index.js';
import { migrate, migrations } from './migrations.js';
import { databaseAt, objectId, oldStore } from './migration-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-migration-14-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let sent = 0;

const dialogInsertOpcodes = (db: Database.Database) => db.prepare(`EXPLAIN INSERT INTO dialogs (id, app_id, type, owner_id,
  created_at, updated_at) VALUES ('x', 1, 3, 1, 0, 0)`).all().map((op) => (op as { opcode: string }).opcode);

describe('sqlite migration 14', () => {
  it('keeps an existing database whole and drops the temporary index from the dialog insert', async () => {
    const path = join(dir, 'v13.db');
    const db = databaseAt(path, 13);
    assert.ok(dialogInsertOpcodes(db).includes('OpenEphemeral'), 'the old CHECK builds a temporary index (or this test proves nothing)');
    const { store: old, app, users: [a, b, c], newDialog } = await oldStore(db);
    const message = (senderId: number, recipientId: number, body: string): ChatMessage => ({
      id: objectId(), appId: app.id, dialogId: '', senderId, recipientId, body, dateSent: 1_700_000_000 + ++sent, attachments: [],
      customParams: {}, markable: false, readIds: [senderId], deliveredIds: [senderId], createdAt: new Date(), updatedAt: new Date(),
    });
    const first = message(a, b, 'before');
    const opened = await old.chat.insertPrivateMessage(newDialog({ type: 3, occupantIds: [a, b] }), first, { unreadFor: [b], unhideFor: [a] });
    const group = await old.chat.createDialog(newDialog({ type: 2, name: 'g', occupantIds: [a, b, c] }));
    const open = await old.chat.createDialog(newDialog({ type: 1, name: 'public', occupantIds: [] }));
    await old.close();

    const store = await openSqliteStore(path);
    try {
      assert.equal(store.db.pragma('integrity_check', { simple: true }), 'ok');
      assert.equal(store.db.prepare('SELECT max(version) FROM schema_version').pluck().get(), migrations.at(-1)!.version);
      assert.ok(!dialogInsertOpcodes(store.db).includes('OpenEphemeral'));
      const indexes = store.db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'dialogs' AND sql IS NOT NULL").pluck().all();
      assert.deepEqual(indexes, ['dialogs_app_public']);
      // The rows written before, as they were.
      assert.deepEqual(await store.chat.getMessage(app.id, first.id), { ...first, dialogId: opened!.dialog.id });
      assert.equal((await store.chat.getMemberState(opened!.dialog.id, b)).unreadCount, 1);
      assert.deepEqual((await store.chat.getDialog(app.id, group.id))?.occupantIds, [a, b, c].sort((x, y) => x - y));
      const listed = await store.chat.listDialogs({ appId: app.id, userId: c, filters: [], limit: 10, skip: 0 });
      assert.deepEqual(listed.map((d) => d.dialog.id).sort(), [group.id, open.id].sort());
      // The rule is the same: only types 1, 2 and 3.
      for (const type of [0, 4, 1.5, 'x']) {
        assert.throws(() => store.db.prepare(`INSERT INTO dialogs (id, app_id, type, owner_id, created_at, updated_at)
          VALUES (?, ?, ?, ?, 0, 0)`).run(objectId(), app.id, type, a), /CHECK constraint failed/, `type ${type}`);
      }
      // And the stored path still finds the dialog and opens new ones.
      const reply = message(b, a, 'after');
      const again = await store.chat.insertPrivateMessage(newDialog({ type: 3, ownerId: b, occupantIds: [b, a] }), reply, { unreadFor: [a], unhideFor: [b] });
      assert.deepEqual([again?.created, again?.dialog.id], [false, opened!.dialog.id]);
      const fresh = await store.chat.insertPrivateMessage(newDialog({ type: 3, occupantIds: [a, c] }), message(a, c, 'new'), { unreadFor: [c], unhideFor: [a] });
      assert.equal(fresh?.created, true);
      assert.equal(migrate(store.db), 0);
    } finally {
      await store.close();
    }
  });
});
