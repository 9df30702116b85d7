// Instructions per statement of the stored-message path, each kind run alone over the same rows, one
// transaction per 20 rows (as the group commit): run under `valgrind --tool=callgrind --instr-atstart=no`.
//   node dist/bench/store-statements.js [--rows 5000]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openSqliteStore, sqliteFile } from '../src/storage/sqlite/index.js';
import { cloneUser } from './harness/users.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '5000' }, sql: { type: 'string', multiple: true, default: [] } } });
const rows = Number(values.rows);
const control = (...args: string[]): void => { execFileSync('callgrind_control', [...args, String(process.pid)], { stdio: 'ignore' }); };
const dir = mkdtempSync(join(tmpdir(), 'parley-statements-'));
const store = await openSqliteStore(sqliteFile(dir));
const db = store.db;
for (const sql of values.sql) db.exec(sql);
const app = await store.accounts.createApplication({ name: 'bench' });
const first = await store.accounts.createUser(app.id, { login: 'u0', password: 'pw' });
const users = [first.id, ...cloneUser(db, first.id, Array.from({ length: 999 }, (_, i) => `u${i + 1}`))];
let seed = 12345;
const random = (n: number): number => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) % n; };
const t = Math.floor(Date.now() / 1000);
const hex = (n: number): string => t.toString(16).padStart(8, '0') + n.toString(16).padStart(16, '0');
const seen = new Set<string>();
const items = Array.from({ length: rows }, (_, i) => {
  let a = 0; let b = 0;
  while (a === b || seen.has(`${Math.min(a, b)}:${Math.max(a, b)}`)) { a = users[random(1000)]!; b = users[random(1000)]!; }
  seen.add(`${Math.min(a, b)}:${Math.max(a, b)}`);
  return { dialog: hex(i * 2), message: hex(i * 2 + 1), a: Math.min(a, b), b: Math.max(a, b) };
});
const s = {
  lookup: db.prepare('SELECT * FROM dialogs WHERE app_id = ? AND private_pair = ?'),
  isUser: db.prepare('SELECT 1 FROM users WHERE id = ? AND app_id = ?').pluck(),
  dialog: db.prepare(`INSERT INTO dialogs (id, app_id, type, name, photo, owner_id, occupant_ids, admin_ids, data,
        is_join_required, private_pair, last_message, last_message_date_sent, last_message_id, last_message_user_id, created_at, updated_at)
        VALUES (?, ?, 3, ?, ?, ?, ?, '[]', ?, 0, ?, ?, ?, ?, ?, ?, ?)`),
  pair: db.prepare('INSERT INTO dialog_members (dialog_id, user_id, occupant, unread_count) VALUES (?, ?, 1, ?), (?, ?, 1, ?)'),
  message: db.prepare(`INSERT INTO messages (id, app_id, dialog_id, sender_id, recipient_id, body, date_sent, attachments,
        custom, markable, read_ids, delivered_ids, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
  last: db.prepare(`UPDATE dialogs SET last_message = ?, last_message_date_sent = ?, last_message_id = ?,
        last_message_user_id = ?, updated_at = max(updated_at, ?) WHERE id = ?`),
  receive: db.prepare(`UPDATE dialog_members SET hidden = 0,
        unread_count = CASE WHEN occupant = 1 THEN unread_count + 1 ELSE unread_count END WHERE dialog_id = ? AND user_id = ?`),
  unhide: db.prepare('UPDATE dialog_members SET hidden = 0 WHERE dialog_id = ? AND user_id = ? AND hidden = 1'),
  both: db.prepare(`UPDATE dialog_members SET hidden = 0, unread_count = unread_count + (user_id = ? AND occupant = 1)
        WHERE dialog_id = ? AND user_id IN (?, ?)`),
};
const now = Date.now();
type Item = (typeof items)[number];
const phases: [string, (x: Item, n: number) => void][] = [
  ['empty transaction', () => {}],
  ['lookup (miss) + isUser', (x) => { s.lookup.get(app.id, `${x.a}:${x.b}`); s.isUser.get(x.b, app.id); }],
  ['insert dialog', (x) => s.dialog.run(x.dialog, app.id, null, null, x.a, `[${x.a},${x.b}]`, null, `${x.a}:${x.b}`, 'hello', t, x.message, x.a, now, now)],
  ['insert 2 members', (x) => s.pair.run(x.dialog, x.a, 0, x.dialog, x.b, 1)],
  ['insert message', (x, n) => s.message.run(x.message, app.id, x.dialog, x.a, x.b, `hello ${n}`, t, '[]', '{}', 0, `[${x.a}]`, `[${x.a}]`, now, now)],
  ['lookup (hit)', (x) => s.lookup.get(app.id, `${x.a}:${x.b}`)],
  ['insert 2nd message', (x, n) => s.message.run(hex(2 * rows + n), app.id, x.dialog, x.a, x.b, `hello ${n}`, t, '[]', '{}', 0, `[${x.a}]`, `[${x.a}]`, now, now)],
  ['set last message', (x, n) => s.last.run(`hello ${n}`, t, hex(2 * rows + n), x.a, now, x.dialog)],
  ['receive (unread+1)', (x) => s.receive.run(x.dialog, x.b)],
  ['unhide sender (no-op)', (x) => s.unhide.run(x.dialog, x.a)],
  ['receive and unhide in one', (x) => s.both.run(x.b, x.dialog, x.a, x.b)],
  ['receive, unhide (2 statements)', (x) => { s.receive.run(x.dialog, x.b); s.unhide.run(x.dialog, x.a); }],
];
const commitEvery = 20;
const results: string[] = [];
for (const [name, fn] of phases) {
  (globalThis as { gc?: () => void }).gc?.();
  for (const f of readdirSync('.').filter((f) => f.startsWith(`callgrind.out.${process.pid}`))) unlinkSync(f);
  control('-z'); control('-i', 'on');
  for (let i = 0; i < rows; i += commitEvery) {
    db.transaction(() => { for (let j = i; j < Math.min(rows, i + commitEvery); j++) fn(items[j]!, j); }).immediate();
  }
  control('-d'); control('-i', 'off');
  let n = 0;
  for (const f of readdirSync('.').filter((f) => f.startsWith(`callgrind.out.${process.pid}`))) n += Number(/^summary: (\d+)/m.exec(readFileSync(f, 'utf8'))?.[1] ?? 0);
  results.push(`${name.padEnd(28)} ${(n / rows).toFixed(0).padStart(8)} instructions per row`);
}
console.log(results.join('\n'));
await store.close();
rmSync(dir, { recursive: true, force: true });
