// MAM page latency over QuickBlox history: one user's 1-1 archive (every private dialog), one
// private dialog (`with`), and a page in the middle of the archive (RSM after), on the SQLite store.
//   node dist/bench/mam-archive.js [--dialogs 50] [--per-dialog 2000] [--pages 200]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openSqliteStore, sqliteFile } from '../src/storage/sqlite/index.js';
import type { ArchiveQuery } from '../src/storage/archive-types.js';
import type { ChatMessage } from '../src/storage/types.js';
import { cloneUser } from './harness/users.js';

const { values } = parseArgs({ options: { dialogs: { type: 'string', default: '50' }, 'per-dialog': { type: 'string', default: '2000' }, pages: { type: 'string', default: '200' } } });
const dialogs = Number(values.dialogs);
const perDialog = Number(values['per-dialog']);
const pages = Number(values.pages);

const dir = mkdtempSync(join(tmpdir(), 'parley-mam-'));
try {
  const store = await openSqliteStore(sqliteFile(dir));
  const app = await store.accounts.createApplication({ name: 'bench' });
  const me = await store.accounts.createUser(app.id, { login: 'me', password: 'pw' });
  const peers = cloneUser(store.db, me.id, Array.from({ length: dialogs }, (_, i) => `peer${i}`));
  const dialogIds: string[] = [];
  let clock = 1_600_000_000;
  for (const peer of peers) {
    const id = randomBytes(12).toString('hex');
    await store.chat.createDialog({ id, appId: app.id, type: 3, ownerId: me.id, occupantIds: [me.id, peer], name: null, photo: null, adminIds: [], data: null, isJoinRequired: false, createdAt: new Date() });
    dialogIds.push(id);
  }
  const insert = store.db.transaction((rows: ChatMessage[]) => {
    const stmt = store.db.prepare(`INSERT INTO messages (id, app_id, dialog_id, sender_id, recipient_id, body, date_sent, attachments, custom, markable, read_ids, delivered_ids, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, '[]', '{}', 0, '[]', '[]', ?, ?)`);
    for (const m of rows) stmt.run(m.id, m.appId, m.dialogId, m.senderId, m.recipientId, m.body, m.dateSent, m.dateSent * 1000, m.dateSent * 1000);
  });
  // Messages interleaved across the dialogs in time, as real conversations are.
  for (let n = 0; n < perDialog; n++) {
    insert(dialogIds.map((dialogId, i) => {
      const mine = n % 2 === 0;
      return { id: randomBytes(12).toString('hex'), appId: app.id, dialogId, senderId: mine ? me.id : peers[i]!, recipientId: mine ? peers[i]! : me.id,
        body: `message ${n}`, dateSent: ++clock } as ChatMessage;
    }));
  }
  const total = dialogs * perDialog;
  const time = async (label: string, q: () => ArchiveQuery): Promise<void> => {
    const samples: number[] = [];
    for (let i = 0; i < pages; i++) {
      const t0 = process.hrtime.bigint();
      const page = await store.chat.archiveMessages(q());
      if (page.length === 0) throw new Error(`${label}: empty page`);
      samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    samples.sort((a, b) => a - b);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    console.log(`${label.padEnd(52)} ${mean.toFixed(2).padStart(8)} ${samples[Math.floor(samples.length * 0.99)]!.toFixed(2).padStart(8)}`);
  };
  console.log(`${total} messages in ${dialogs} private dialogs of one user, SQLite, ${pages} pages of 50 each; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  console.log(`${'query'.padEnd(52)} ${'mean ms'.padStart(8)} ${'p99 ms'.padStart(8)}`);
  const base = { appId: app.id, viewerId: me.id, limit: 51 };
  await time('user archive, first page', () => ({ ...base, dialogId: null, order: 'asc' }));
  await time('user archive, last page (RSM before="")', () => ({ ...base, dialogId: null, order: 'desc' }));
  await time('user archive, page after the middle (RSM after)', () => ({ ...base, dialogId: null, order: 'asc', after: { dateSent: 1_600_000_000 + total / 2, id: '' } }));
  await time('one private dialog (with=), last page', () => ({ ...base, dialogId: dialogIds[7]!, order: 'desc' }));
  await time('user archive, start/end window of one hour', () => ({ ...base, dialogId: null, order: 'asc', start: 1_600_000_000 + total / 3, end: 1_600_000_000 + total / 3 + 3600 }));
  const t0 = process.hrtime.bigint();
  const count = await store.chat.countArchive({ appId: app.id, viewerId: me.id, dialogId: null });
  console.log(`${'count of the user archive (RSM count)'.padEnd(52)} ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(2).padStart(8)}          (${count})`);
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
