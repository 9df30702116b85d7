// REST read latency: GET /chat/Message.json (100 items) on a dialog of 1,000,000 messages and
// GET /chat/Dialog.json for a user in 1,000 dialogs more, through a spawned Parley, driven by
// autocannon. Seeds with direct SQL inserts in one transaction (schema of
// src/storage/sqlite/migrations.ts), then asks for the oldest page (QuickBlox's default order), the
// newest page (sort_desc=date_sent), a page deep in the dialog (skip) and the first dialog pages, and
// a floor: a signed-in request with a tiny answer (what HTTP, routing, hooks and the session cost).
//   node dist/bench/rest-history.js [--messages 1000000] [--dialogs 1000] [--seconds 10] [--connections 10]
//     [--rate N] [--server PATH] [--profile DIR] [--only REGEX] [--env KEY=VALUE,...]
// --profile writes the server's CPU profile (node --cpu-prof) into DIR; --only runs the cases whose
// label matches; --rate offers N requests/s in all (open loop) instead of a request per answer; --server runs another build's bin/parley.js (A/B on one seeded database layout); --env passes settings to the server (e.g. PARLEY_SQLITE_READ_WORKERS=0).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ChatService } from '../src/chat/service.js';
import { openSqliteStore, sqliteFile } from '../src/storage/sqlite/index.js';
import { freePort, sleep, TreeMonitor, waitForPort } from './harness/proc.js';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { mean: number; p50: number; p90: number; p97_5: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' }, dialogs: { type: 'string', default: '1000' }, seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' }, profile: { type: 'string' }, only: { type: 'string' }, env: { type: 'string' },
    rate: { type: 'string' }, server: { type: 'string', default: 'bin/parley.js' },
  },
});
const dialogCount = Number(values.dialogs);
const only = values.only ? new RegExp(values.only) : null;
const serverEnv = Object.fromEntries((values.env ?? '').split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const total = Number(values.messages);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
// Open loop: requests offered at this fixed rate (all connections together) instead of as fast as answered.
const rate = values.rate ? Number(values.rate) : null;

const dir = mkdtempSync(join(tmpdir(), 'parley-rest-'));
let server: ReturnType<typeof spawn> | null = null;
try {
  const store = await openSqliteStore(sqliteFile(dir));
  const chat = new ChatService(store, { mucDomain: 'muc.localhost' });
  const app = await store.accounts.createApplication({ name: 'bench' });
  const a = await store.accounts.createUser(app.id, { login: 'a', password: 'pw' });
  const b = await store.accounts.createUser(app.id, { login: 'b', password: 'pw' });
  const caller = { appId: app.id, userId: a.id };
  const dialog = (await chat.createDialog(caller, { type: 3, occupants_ids: String(b.id) })) as unknown as { _id: string };
  const t0 = performance.now();
  const insert = store.db.prepare(`INSERT INTO messages (id, app_id, dialog_id, sender_id, recipient_id, body, date_sent, attachments,
    custom, markable, read_ids, delivered_ids, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, '[]', '{}', 0, '[]', '[]', ?, ?)`);
  const base = Math.floor(Date.now() / 1000) - total;
  store.db.transaction(() => {
    for (let i = 0; i < total; i++) {
      // 24-hex ObjectId: 4-byte seconds, then a counter, unique and increasing.
      const sec = base + i;
      const id = sec.toString(16).padStart(8, '0') + i.toString(16).padStart(16, '0');
      const from = i % 2 ? b.id : a.id;
      insert.run(id, app.id, dialog._id, from, from === a.id ? b.id : a.id, `message number ${i} with some ordinary text`, sec, sec * 1000, sec * 1000);
    }
  })();
  // The caller's other dialogs: groups with b, each with a last message, updated at different times.
  const insertDialog = store.db.prepare(`INSERT INTO dialogs (id, app_id, type, name, owner_id, occupant_ids, admin_ids, last_message,
    last_message_date_sent, last_message_id, last_message_user_id, created_at, updated_at) VALUES (?, ?, 2, ?, ?, ?, '[]', ?, ?, ?, ?, ?, ?)`);
  const insertMember = store.db.prepare('INSERT INTO dialog_members (dialog_id, user_id, occupant, unread_count) VALUES (?, ?, 1, ?)');
  const occupants = JSON.stringify([a.id, b.id].sort((x, y) => x - y));
  store.db.transaction(() => {
    for (let i = 0; i < dialogCount; i++) {
      const sec = base + i * 7;
      const id = sec.toString(16).padStart(8, '0') + 'd'.padEnd(8, '0') + i.toString(16).padStart(8, '0');
      const lastId = sec.toString(16).padStart(8, '0') + 'e'.padEnd(8, '0') + i.toString(16).padStart(8, '0');
      insertDialog.run(id, app.id, `group ${i}`, a.id, occupants, `last message of group ${i}`, sec, lastId, b.id, sec * 1000, sec * 1000);
      insertMember.run(id, a.id, i % 5);
      insertMember.run(id, b.id, 0);
    }
  })();
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  const seedS = (performance.now() - t0) / 1000;
  const token = 'bench' + Math.random().toString(16).slice(2);
  await store.sessions.createSession({ token, appId: app.id, userId: a.id, nonce: 1, ts: Math.floor(Date.now() / 1000), expiresAt: new Date(Date.now() + 86_400_000) });
  await store.close();

  const port = await freePort();
  const profileArgs = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values.profile)}`] : [];
  server = spawn(process.execPath, [...profileArgs, resolve(values.server!), 'serve'], {
    env: {
      ...process.env, PARLEY_DATA_DIR: dir, PARLEY_HTTP_PORT: String(port), PARLEY_C2S_PORT: '0', PARLEY_C2S_TLS_PORT: '0',
      PARLEY_WS_PORT: '0', PARLEY_HTTPS_PORT: '0', PARLEY_LOG_LEVEL: 'warn', PARLEY_BIND: '127.0.0.1', ...serverEnv,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const alive = (): boolean => server!.exitCode === null;
  await waitForPort(port, 30_000, alive);
  const mon = new TreeMonitor(server.pid!, 200).start();
  // The event loop's own thread (its task id is the process id): what stays serialised per request.
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  const mainThreadMs = (): number => {
    const fields = readFileSync(`/proc/${server!.pid}/task/${server!.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticks;
  };
  const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`dialog of ${total.toLocaleString('en-US')} messages and ${dialogCount.toLocaleString('en-US')} other dialogs (seeded in ${seedS.toFixed(1)} s); autocannon ${connections} connections × ${seconds} s per case${rate ? `, offered ${rate} req/s (open loop)` : ' (closed loop)'}; server env ${JSON.stringify(serverEnv)}; load average ${loadavg()}`);
  console.log(`| request | req/s | latency ms mean / p50 / p90 / p97.5 / p99 / max | non-2xx | server CPU µs/req (all threads / event loop) | load average after |`);
  console.log(`| --- | --- | --- | --- | --- | --- |`);
  const cases: [string, string][] = [
    ['Message.json oldest 100 (default sort)', `/chat/Message.json?chat_dialog_id=${dialog._id}&limit=100`],
    ['Message.json newest 100 (sort_desc=date_sent)', `/chat/Message.json?chat_dialog_id=${dialog._id}&limit=100&sort_desc=date_sent`],
    [`Message.json skip=${total / 2}`, `/chat/Message.json?chat_dialog_id=${dialog._id}&limit=100&skip=${total / 2}`],
    [`Dialog.json first 100 of ${(dialogCount + 1).toLocaleString('en-US')} (default sort)`, '/chat/Dialog.json'],
    [`Dialog.json skip=${Math.floor(dialogCount / 2)}, sort_asc=last_message_date_sent`, `/chat/Dialog.json?skip=${Math.floor(dialogCount / 2)}&sort_asc=last_message_date_sent`],
    // The floor: a signed-in request with a small answer (HTTP, routing, hooks, session, one dialog read).
    ['floor: Dialog/{id}/notifications.json', `/chat/Dialog/${dialog._id}/notifications.json`],
  ];
  for (const [label, path] of cases) {
    if (only && !only.test(label)) continue;
    // Warm-up request (statement cache, page cache, the read workers), then the timed run.
    const warm = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { 'QB-Token': token } });
    const body = (await warm.json()) as { items?: unknown[] };
    const pageExpected = !label.startsWith('floor');
    if (warm.status !== 200 || (pageExpected && (!Array.isArray(body.items) || body.items.length !== 100))) throw new Error(`${label}: ${warm.status}, ${body.items?.length} items`);
    const c0 = mon.sample();
    const m0 = mainThreadMs();
    const r = await autocannon({ url: `http://127.0.0.1:${port}${path}`, headers: { 'QB-Token': token }, connections, duration: seconds, ...(rate ? { overallRate: rate } : {}) });
    const c1 = mon.sample();
    const m1 = mainThreadMs();
    const l = r.latency;
    const perRequest = (ms: number): string => ((ms * 1000) / Math.max(1, r.requests.total)).toFixed(0);
    console.log(`| ${label} | ${Math.round(r.requests.average)} | ${[l.mean, l.p50, l.p90, l.p97_5, l.p99, l.max].map((v) => v.toFixed(1)).join(' / ')} | ${r.non2xx + r.errors + r.timeouts} | ${perRequest(c1 - c0)} / ${perRequest(m1 - m0)} | ${loadavg()} |`);
  }
  mon.stop();
  // A clean stop (the read workers close their connections first) takes well under the 5 s below.
  const stopping = performance.now();
  const exited = new Promise<number | null>((r) => server!.once('exit', (code) => r(code)));
  server.kill('SIGTERM');
  const code = await Promise.race([exited, sleep(5000).then(() => 'still running')]);
  console.log(`server stopped on SIGTERM in ${(performance.now() - stopping).toFixed(0)} ms, exit code ${code}`);
} finally {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await Promise.race([new Promise((r) => server!.once('exit', r)), sleep(5000)]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  if (process.env.BENCH_KEEP_DIR) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
