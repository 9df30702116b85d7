// REST read latency: GET /chat/Message.json (100 items) on a dialog of 1,000,000 messages and
// GET /chat/Dialog.json for a user in 1,000 dialogs more, through a spawned Parley, driven by
// autocannon. Seeds with direct SQL inserts in one transaction (schema of
// src/storage/sqlite/migrations.ts), then asks for the oldest page (QuickBlox's default order), the
// newest page (sort_desc=date_sent), a page deep in the dialog (skip) and the first dialog pages, and
// a floor: a signed-in request with a tiny answer (what HTTP, routing, hooks and the session cost).
//   node dist/bench/rest-history.js [--messages 1000000] [--dialogs 1000] [--seconds 10] [--connections 10] [--warmup 2]
//     [--rate N[,N…]] [--server PATH] [--profile DIR] [--only REGEX] [--env KEY=VALUE,...] [--db DIR] [--node-args ARGS]
// --profile writes the server's CPU profile (node --cpu-prof) into DIR; --only runs the cases whose
// label matches; --rate offers N requests/s in all (open loop) instead of a request per answer, on
// the same number of keep-alive connections, each request sent at its time (i / N s from the start,
// evenly spaced) and its latency counted from that time, so time spent waiting for a free connection
// counts too; several rates run one after the other; --server runs another build's bin/parley.js (A/B on one seeded database layout); --env passes settings to the server (e.g. PARLEY_SQLITE_READ_WORKERS=0);
// --db reuses a directory kept by an earlier run (BENCH_KEEP_DIR=1) instead of seeding one (it is kept);
// --perf DIR records each measured run with `perf record -e cpu-clock -g` (the server started with
// --perf-basic-prof) and prints where the server's CPU went, by thread and kind of work
// (harness/perf-breakdown.ts); --node-args passes options to the server's node; --warmup runs each case
// closed-loop for that many seconds before it is measured (V8 compiles the hot code in the first
// seconds: ~13 % of the server's CPU in a profile of a cold 10 s run went to the optimising compiler).
// Beside the server's CPU per request, the table splits it by thread (the event loop; the threads the
// first read started, i.e. the read workers; the rest: V8's GC and compiler threads, libuv) and gives
// the load generator's own CPU per request (autocannon or the paced client share the two cores).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ChatService } from '../src/chat/service.js';
import { openSqliteStore, sqliteFile } from '../src/storage/sqlite/index.js';
import { breakdownTable, perfBreakdown } from './harness/perf-breakdown.js';
import { freePort, sleep, waitForPort } from './harness/proc.js';

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
    rate: { type: 'string' }, warmup: { type: 'string', default: '2' }, server: { type: 'string', default: 'bin/parley.js' }, db: { type: 'string' }, 'node-args': { type: 'string' }, perf: { type: 'string' },
  },
});
const dialogCount = Number(values.dialogs);
const only = values.only ? new RegExp(values.only) : null;
const serverEnv = Object.fromEntries((values.env ?? '').split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const total = Number(values.messages);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
// Open loop: requests offered at these fixed rates (all connections together) instead of as fast as answered.
const rates = values.rate ? values.rate.split(',').map(Number) : [];

const dir = values.db ? resolve(values.db) : mkdtempSync(join(tmpdir(), 'parley-rest-'));
let server = null as ReturnType<typeof spawn> | null;
try {
  let dialogId: string;
  let token: string;
  let seedS = 0;
  if (values.db) {
    ({ dialogId, token } = JSON.parse(readFileSync(join(dir, 'bench.json'), 'utf8')) as { dialogId: string; token: string });
  } else {
    ({ dialogId, token, seedS } = await seed());
    writeFileSync(join(dir, 'bench.json'), JSON.stringify({ dialogId, token }));
  }
  await run(dialogId, token, seedS);
} finally {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await Promise.race([new Promise((r) => server!.once('exit', r)), sleep(5000)]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  if (values.db) { /* the caller's */ } else if (process.env.BENCH_KEEP_DIR) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

async function seed(): Promise<{ dialogId: string; token: string; seedS: number }> {
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
  // A year: a kept directory serves later runs.
  await store.sessions.createSession({ token, appId: app.id, userId: a.id, nonce: 1, ts: Math.floor(Date.now() / 1000), expiresAt: new Date(Date.now() + 365 * 86_400_000) });
  await store.close();
  return { dialogId: dialog._id, token, seedS };
}

async function run(dialogId: string, token: string, seedS: number): Promise<void> {
  const dialog = { _id: dialogId };

  const port = await freePort();
  const profileArgs = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values.profile)}`] : [];
  const nodeArgs = [...(values['node-args'] ?? '').split(' ').filter(Boolean), ...(values.perf ? ['--perf-basic-prof'] : [])];
  server = spawn(process.execPath, [...nodeArgs, ...profileArgs, resolve(values.server!), 'serve'], {
    env: {
      ...process.env, PARLEY_DATA_DIR: dir, PARLEY_HTTP_PORT: String(port), PARLEY_C2S_PORT: '0', PARLEY_C2S_TLS_PORT: '0',
      PARLEY_WS_PORT: '0', PARLEY_HTTPS_PORT: '0', PARLEY_LOG_LEVEL: 'warn', PARLEY_BIND: '127.0.0.1', ...serverEnv,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const alive = (): boolean => server!.exitCode === null;
  await waitForPort(port, 30_000, alive);
  const pid = server.pid!;
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  const cpuMsOf = (stat: string): number => {
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticks;
  };
  /** CPU ms of each of the server's threads (a thread that exited is gone from /proc: none exit during a run). */
  const threadsMs = (): Map<number, number> => {
    const out = new Map<number, number>();
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        out.set(Number(tid), cpuMsOf(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')));
      } catch {
        /* exited */
      }
    }
    return out;
  };
  // Threads there before any request: the event loop (its task id is the process id), V8's platform
  // threads (GC, compiler), libuv's. The read workers start with the first read.
  const startup = new Set(threadsMs().keys());
  const perfDir = values.perf ? resolve(values.perf) : null;
  if (perfDir) mkdirSync(perfDir, { recursive: true });
  const PERF_HZ = 999;
  const breakdowns: string[] = [];
  /** Runs `measure` under perf record when --perf is given; notes the breakdown for the end. */
  const recorded = async <T>(name: string, measure: () => Promise<T>, requests: (r: T) => number): Promise<T> => {
    if (!perfDir) return measure();
    const file = join(perfDir, `${name.replace(/[^A-Za-z0-9.=]+/g, '-')}.data`);
    const perf = spawn('perf', ['record', '-e', 'cpu-clock', '-F', String(PERF_HZ), '-g', '-p', String(pid), '-o', file], { stdio: 'ignore' });
    await sleep(500);
    const r = await measure();
    const done = new Promise((ok) => perf.once('exit', ok));
    perf.kill('SIGINT');
    await done;
    breakdowns.push(`${name} (${file}):\n\n${breakdownTable(await perfBreakdown(file, pid), requests(r), PERF_HZ)}`);
    return r;
  };
  const clientMs = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  interface Cpu { all: number; loop: number; workers: number; other: number; client: number }
  const cpu = (): Cpu => {
    const t = threadsMs();
    let all = 0, workers = 0;
    for (const [tid, ms] of t) {
      all += ms;
      if (!startup.has(tid)) workers += ms;
    }
    const loop = t.get(pid) ?? 0;
    return { all, loop, workers, other: all - loop - workers, client: clientMs() };
  };
  const cpuPerRequest = (a: Cpu, b: Cpu, requests: number): string => {
    const us = (k: keyof Cpu): string => (((b[k] - a[k]) * 1000) / Math.max(1, requests)).toFixed(0);
    return `${us('all')} / ${us('loop')} / ${us('workers')} / ${us('other')} | ${us('client')}`;
  };
  const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const mode = rates.length ? `open loop, offered ${rates.join(', ')} req/s on ${connections} keep-alive connections (node:http)` : `autocannon ${connections} connections (closed loop)`;
  console.log(`dialog of ${total.toLocaleString('en-US')} messages and ${dialogCount.toLocaleString('en-US')} other dialogs (${values.db ? `kept in ${dir}` : `seeded in ${seedS.toFixed(1)} s`}); ${mode}, ${seconds} s per case; server ${values.server} ${nodeArgs.join(' ')}, env ${JSON.stringify(serverEnv)}; load average ${loadavg()}`);
  const cpuHead = 'server CPU µs/req (all threads / event loop / read workers / other threads) | load generator CPU µs/req';
  if (rates.length) {
    console.log(`| request | offered req/s | completed req/s | latency ms mean / p50 / p90 / p99 / p99.9 / max | non-2xx or errors | ${cpuHead} | load average after |`);
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  } else {
    console.log(`| request | req/s | latency ms mean / p50 / p90 / p97.5 / p99 / max | non-2xx | ${cpuHead} | load average after |`);
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  }
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
    if (Number(values.warmup) > 0) await autocannon({ url: `http://127.0.0.1:${port}${path}`, headers: { 'QB-Token': token }, connections, duration: Number(values.warmup) });
    if (!rates.length) {
      const c0 = cpu();
      const r = await recorded(label, () => autocannon({ url: `http://127.0.0.1:${port}${path}`, headers: { 'QB-Token': token }, connections, duration: seconds }), (x) => x.requests.total);
      const c1 = cpu();
      const l = r.latency;
      console.log(`| ${label} | ${Math.round(r.requests.average)} | ${[l.mean, l.p50, l.p90, l.p97_5, l.p99, l.max].map((v) => v.toFixed(1)).join(' / ')} | ${r.non2xx + r.errors + r.timeouts} | ${cpuPerRequest(c0, c1, r.requests.total)} | ${loadavg()} |`);
      continue;
    }
    for (const offered of rates) {
      const c0 = cpu();
      const r = await recorded(`${label} at ${offered} per s`, () => paced(port, path, token, offered), (x) => x.latencies.length + x.failed);
      const c1 = cpu();
      const l = r.latencies;
      const at = (q: number): string => (l.length ? l[Math.min(l.length - 1, Math.floor(q * l.length))]! : NaN).toFixed(1);
      const mean = l.reduce((x, y) => x + y, 0) / Math.max(1, l.length);
      console.log(`| ${label} | ${offered} | ${Math.round(r.completedInWindow / seconds)} | ${mean.toFixed(1)} / ${at(0.5)} / ${at(0.9)} / ${at(0.99)} / ${at(0.999)} / ${(l.at(-1) ?? NaN).toFixed(1)} | ${r.failed} | ${cpuPerRequest(c0, c1, l.length + r.failed)} | ${loadavg()} |`);
    }
  }
  for (const b of breakdowns) console.log(`\nwhere the server's CPU went (perf, cpu-clock at ${PERF_HZ} Hz per thread): ${b}`);
  // A clean stop (the read workers close their connections first) takes well under the 5 s below.
  const stopping = performance.now();
  const exited = new Promise<number | null>((r) => server!.once('exit', (code) => r(code)));
  server.kill('SIGTERM');
  const code = await Promise.race([exited, sleep(5000).then(() => 'still running')]);
  console.log(`server stopped on SIGTERM in ${(performance.now() - stopping).toFixed(0)} ms, exit code ${code}`);
}

/**
 * Open loop: request i is due i / rate seconds after the start, whatever the answers before it; on
 * `connections` keep-alive sockets (a due request waits for a free one, and that wait counts).
 * Latency runs from the time it was due to the last byte of the answer.
 */
async function paced(port: number, path: string, token: string, rate: number): Promise<{ latencies: number[]; completedInWindow: number; failed: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const n = Math.round(rate * seconds);
  const latencies: number[] = [];
  let failed = 0, settled = 0, completedInWindow = 0, next = 0;
  const t0 = performance.now() + 10;
  const end = t0 + seconds * 1000;
  const dueAt = (i: number): number => t0 + (i * 1000) / rate;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const settle = (): void => {
    if (performance.now() <= end) completedInWindow++;
    if (++settled === n) finish();
  };
  const send = (i: number): void => {
    const due = dueAt(i);
    const req = http.get({ host: '127.0.0.1', port, path, agent, headers: { 'QB-Token': token } }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) latencies.push(performance.now() - due);
        else failed++;
        settle();
      });
    });
    req.on('error', () => {
      failed++;
      settle();
    });
  };
  const tick = (): void => {
    const now = performance.now();
    while (next < n && dueAt(next) <= now) send(next++);
    if (next < n) setTimeout(tick, Math.max(0, dueAt(next) - performance.now()));
  };
  setTimeout(tick, 10);
  // Bounded: answers still missing 30 s after the window count as failures.
  const late = await Promise.race([finished.then(() => false), sleep(seconds * 1000 + 30_000).then(() => true)]);
  agent.destroy();
  if (late) failed += n - settled;
  latencies.sort((a, b) => a - b);
  return { latencies, completedInWindow, failed };
}
