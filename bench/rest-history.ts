// REST history page latency: GET /chat/Message.json (100 items) on a dialog of 1,000,000 messages,
// through a spawned Parley, driven by autocannon. Seeds the messages with direct SQL inserts in one
// transaction (schema of src/storage/sqlite/migrations.ts), then asks for the oldest page (QuickBlox's
// default order), the newest page (sort_desc=date_sent) and a page deep in the dialog (skip).
//   node dist/bench/rest-history.js [--messages 1000000] [--seconds 10] [--connections 10] [--profile DIR]
// --profile writes the server's CPU profile (node --cpu-prof) into DIR.
import { spawn } from 'node:child_process';
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
  options: { messages: { type: 'string', default: '1000000' }, seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '10' }, profile: { type: 'string' } },
});
const total = Number(values.messages);
const seconds = Number(values.seconds);
const connections = Number(values.connections);

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
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  const seedS = (performance.now() - t0) / 1000;
  const token = 'bench' + Math.random().toString(16).slice(2);
  await store.sessions.createSession({ token, appId: app.id, userId: a.id, nonce: 1, ts: Math.floor(Date.now() / 1000), expiresAt: new Date(Date.now() + 86_400_000) });
  await store.close();

  const port = await freePort();
  const profileArgs = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values.profile)}`] : [];
  server = spawn(process.execPath, [...profileArgs, resolve('bin/parley.js'), 'serve'], {
    env: {
      ...process.env, PARLEY_DATA_DIR: dir, PARLEY_HTTP_PORT: String(port), PARLEY_C2S_PORT: '0', PARLEY_C2S_TLS_PORT: '0',
      PARLEY_WS_PORT: '0', PARLEY_HTTPS_PORT: '0', PARLEY_LOG_LEVEL: 'warn', PARLEY_BIND: '127.0.0.1',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const alive = (): boolean => server!.exitCode === null;
  await waitForPort(port, 30_000, alive);
  const mon = new TreeMonitor(server.pid!, 200).start();
  console.log(`GET /chat/Message.json, limit=100, dialog of ${total.toLocaleString('en-US')} messages (seeded in ${seedS.toFixed(1)} s); autocannon ${connections} connections × ${seconds} s per case; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  console.log(`| page | req/s | latency ms mean / p50 / p90 / p97.5 / p99 / max | non-2xx | server CPU µs/req |`);
  console.log(`| --- | --- | --- | --- | --- |`);
  const cases: [string, string][] = [
    ['oldest 100 (default sort)', `chat_dialog_id=${dialog._id}&limit=100`],
    ['newest 100 (sort_desc=date_sent)', `chat_dialog_id=${dialog._id}&limit=100&sort_desc=date_sent`],
    ['skip=500000', `chat_dialog_id=${dialog._id}&limit=100&skip=500000`],
  ];
  for (const [label, query] of cases) {
    // Warm-up request (statement cache, page cache), then the timed run.
    await fetch(`http://127.0.0.1:${port}/chat/Message.json?${query}`, { headers: { 'QB-Token': token } }).then((r) => r.arrayBuffer());
    const c0 = mon.sample();
    const r = await autocannon({ url: `http://127.0.0.1:${port}/chat/Message.json?${query}`, headers: { 'QB-Token': token }, connections, duration: seconds });
    const c1 = mon.sample();
    const l = r.latency;
    console.log(`| ${label} | ${Math.round(r.requests.average)} | ${[l.mean, l.p50, l.p90, l.p97_5, l.p99, l.max].map((v) => v.toFixed(1)).join(' / ')} | ${r.non2xx + r.errors + r.timeouts} | ${(((c1 - c0) * 1000) / Math.max(1, r.requests.total)).toFixed(0)} |`);
  }
  mon.stop();
} finally {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await Promise.race([new Promise((r) => server!.once('exit', r)), sleep(5000)]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
}
