// Pages rendered by SQLite (read-messages.ts) against the views the chat layer builds from the same
// rows (chat/views.ts messageView, JSON.stringify'd): byte for byte, for odd text, markers,
// attachments, custom parameters the view drops or reorders, and times and numbers outside what the
// SQL formats, which must come back whole instead.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { messageView } from '../../chat/views.js';
import type { ChatMessage, DialogType, MessageQuery } from '../types.js';
import { toMessage } from './chat.js';
import { DeepPages } from './deep-pages.js';
import { openSqliteStore } from './index.js';
import { RenderedMessageReads } from './read-messages.js';
import { twoUsersInADialog } from './two-user-dialog.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-read-messages-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TEXTS = [
  'plain', 'quote " backslash \\ slash /', 'controls \u0000\u0001\b\t\n\v\f\r\u000e\u001f\u007f\u0080\u009f', 'line sep \u2028 \u2029',
  'emoji 😀 é ß 中文 \ufeff \ufffd', '<b>&amp;</b> \'single\'', '', ' ', 'lone surrogate \ud800 end', '%s %d %% format',
];

test('SQLite writes each message view as JSON.stringify(messageView) does, or hands the row back whole', async () => {
  const store = await openSqliteStore(join(dir, 'render.db'));
  try {
    const { dialog, a, b } = await twoUsersInADialog(store);
    const customs: Record<string, unknown>[] = [
      {}, { mood: 'ok', level: '3' }, { nested: { z: 1, a: [1, 'two', null, true, { '2': 'x', '1': 'y' }] }, n: 1.5e300, neg: -0.000001 },
      { 'ключ': 'значение \u2028', 'a"b': 'c\\d', '': 'empty key' }, { big: 12345678901234567890, small: 5e-324, t: true, f: false, z: null },
      // The view drops these (its own fields, names every object has) or moves them to the front (integer-like names).
      { _id: 'forged' }, { read: 1 }, { markable: 0 }, { constructor: 'x' }, { toString: 'x' }, { __proto__: 'x' } as Record<string, unknown>,
      { hasOwnProperty: 1 }, { 7: 'seven', word: 'w' }, { '0': 'zero' }, { '01': 'not an index' }, { '4294967295': 'not an index either' },
      { '-1': 'negative' },
    ];
    const attachments: Record<string, unknown>[][] = [[], [{ type: 'image', id: '42', name: 'a "b" \u0001' }], [{ type: 'file', url: 'https://x/y?z=1&w=2', size: 10 }, {}]];
    let n = 0;
    const messages: ChatMessage[] = [];
    for (const custom of customs) {
      for (const body of TEXTS) {
        n++;
        const at = 1_700_000_000_000 + n * 1001;
        messages.push({
          id: `5f${n.toString(16).padStart(22, '0')}`, appId: dialog.appId, dialogId: dialog.id, senderId: n % 2 ? a : b, recipientId: n % 2 ? b : a,
          body, dateSent: Math.floor(at / 1000), attachments: attachments[n % attachments.length]!, customParams: custom, markable: n % 3 === 0,
          readIds: n % 4 === 0 ? [a, b] : n % 4 === 1 ? [b] : [], deliveredIds: n % 5 === 0 ? [] : [a, b].slice(0, 1 + (n % 2)),
          createdAt: new Date(at), updatedAt: new Date(at + (n % 7) * 3_600_123),
        });
      }
    }
    for (const m of messages) await store.chat.insertMessage(m, { unreadFor: [], unhideFor: [] });
    // Odd times (before 1970, past year 9999) and a date_sent SQLite would print otherwise (a fraction).
    const odd = (i: number) => messages[i]!.id;
    const update = (sql: string, id: string) => store.db.prepare(`UPDATE messages SET ${sql} WHERE id = ?`).run(id);
    update('created_at = -1500, updated_at = -86400001', odd(0));
    update('created_at = 253402300800000, updated_at = 253402300799999', odd(1));
    update('date_sent = 1700000000.25', odd(2));
    update('date_sent = -5, created_at = 0, updated_at = 999', odd(3));
    update('updated_at = 253402300799999', odd(4));

    const query: MessageQuery = { dialogId: dialog.id, viewerId: a, filters: [], limit: 1000, skip: 0 };
    const realIds = () => new Set(store.db.prepare("SELECT id FROM messages WHERE delivered_ids LIKE '%.0%'").pluck().all() as string[]);
    for (const [type, unreadFor, phase] of [[3, a, 1], [3, b, 1], [2, null, 1], [3, a, 2], [3, b, 2]] as [DialogType, number | null, number][]) {
      if (phase === 2 && realIds().size === 0) {
        // Delivered for the whole dialog: the id is appended as an integer, as JSON.stringify writes it.
        await store.chat.markAllMessages(dialog.id, b, { delivered: true });
        assert.equal(realIds().size, 0);
        // Rows stored before that, when json_insert wrote the bound id as a real (`[…,7.0]`).
        store.db.prepare(`UPDATE messages SET delivered_ids = replace(delivered_ids, ']', '.0]') WHERE delivered_ids <> '[]' AND rowid % 3 = 0`).run();
        assert.ok(realIds().size > 0);
      }
      const expected = await store.chat.listMessages({ ...query, viewerId: unreadFor ?? a });
      const rendered = await store.chat.renderMessages({ ...query, viewerId: unreadFor ?? a }, { private: type === 3, unreadFor });
      assert.equal(rendered.length, messages.length);
      let inSql = 0;
      for (const [i, r] of rendered.entries()) {
        const m = expected[i]!;
        // The id comes with what the reader needs it for: a whole message, an unread one.
        if (r.id !== '' || r.unread || r.message) assert.equal(r.id, m.id);
        assert.equal(r.json ?? JSON.stringify(messageView(r.message!, type)), JSON.stringify(messageView(m, type)), `message ${i}`);
        assert.equal(r.unread, unreadFor !== null && (!m.readIds.includes(unreadFor) || !m.deliveredIds.includes(unreadFor)), `unread ${i}`);
        if (r.json !== undefined) inSql++;
      }
      // Rows with plain custom parameters and times are written by SQLite; the odd ones come whole.
      const wholeIds = new Set(rendered.filter((r) => r.json === undefined).map((r) => r.id));
      assert.ok(wholeIds.has(odd(2)), 'a fraction of a second comes whole');
      // Times are formatted by the views' own function, whatever they are.
      if (phase === 1) for (const i of [0, 1, 3, 4]) assert.ok(!wholeIds.has(odd(i)), `row ${i} is written by SQLite`);
      assert.ok(phase === 2 || inSql >= 5 * TEXTS.length - 5, `${inSql} rendered by SQLite`);
      for (const id of realIds()) assert.ok(wholeIds.has(id), 'a real in delivered_ids: the message comes whole');
      const dropped = messages.filter((m) => Object.keys(m.customParams).some((k) => /^[0-9]|^_id$|^read$|^markable$|^constructor$|^toString$|^__proto__$|^hasOwnProperty$/.test(k)));
      for (const m of dropped) assert.ok(wholeIds.has(m.id), `custom ${JSON.stringify(m.customParams)} comes whole`);
    }
  } finally {
    await store.close();
  }
});

test('deep pages rendered by keyset are the OFFSET pages, ids and dates of their rows included', async () => {
  const store = await openSqliteStore(join(dir, 'deep.db'));
  try {
    const { dialog, a, b } = await twoUsersInADialog(store);
    for (let n = 1; n <= 1300; n++) {
      await store.chat.insertMessage({
        id: `5f${n.toString(16).padStart(22, '0')}`, appId: dialog.appId, dialogId: dialog.id, senderId: n % 2 ? a : b, recipientId: n % 2 ? b : a,
        body: `m${n}`, dateSent: 1_700_000_000 + Math.floor(n / 3), attachments: [], customParams: n % 50 === 0 ? { 9: 'whole' } : {}, markable: false,
        readIds: [], deliveredIds: [], createdAt: new Date(1_700_000_000_000 + n), updatedAt: new Date(1_700_000_000_000 + n),
      }, { unreadFor: [], unhideFor: [] });
    }
    let version = 1;
    const deep = new DeepPages(store.chat, () => version);
    const rendered = new RenderedMessageReads(store.db, store.chat, toMessage as (row: unknown) => ChatMessage, deep);
    for (const direction of ['asc', 'desc'] as const) {
      for (const skip of [1000, 1100, 1000, 1100, 1200, 1250]) {
        const query: MessageQuery = { dialogId: dialog.id, viewerId: a, filters: [], limit: 100, skip, sort: { field: 'date_sent', direction } };
        const expected = (await store.chat.listMessages(query)).map((m) => JSON.stringify(messageView(m, 3)));
        const page = await rendered.render(query, { private: true, unreadFor: b });
        assert.deepEqual(page.map((r) => r.json ?? JSON.stringify(messageView(r.message!, 3))), expected, `${direction} ${skip}`);
      }
      version++;
    }
  } finally {
    await store.close();
  }
});
