// Messages per second and delivery latency between local clients through a real Parley process.
//   node dist/bench/messages.js [--pairs 50] [--seconds 10] [--rate 200] [--profile DIR] [--history] [--random] [--postgres URL] [--idle 2]
// --syscalls counts every system call of the server (all threads) during the load with `perf stat -e 'syscalls:sys_enter_*'` (needs perf and tracepoints).
// --idle S measures the server for S seconds with every client connected and silent first (0: skip).
// --history sets save_to_history=1 on every message (each one is stored before it is delivered).
// --random sends each message to a random other client instead of the partner (as tsung's
// destination=online does): with --history most messages then open a new private dialog.
// --postgres URL stores in PostgreSQL (a schema of its own, dropped at the end) instead of SQLite, and
// reports the CPU of that PostgreSQL server's processes (utime+stime from /proc) beside Parley's.
// --profile writes the server's CPU profile (node --cpu-prof) into DIR; open it in Chrome DevTools.
// --server floor runs the same clients and load against bench/relay-floor.ts (a minimal Node relay, no
// XML) instead of Parley: the floor of what relaying costs in Node on this machine.
// --perf FILE records the server during the load with `perf record -e cpu-clock -g` (the server runs
// with --perf-basic-prof so JIT'd frames resolve); split it with `node dist/bench/perf-split.js FILE`.
// --trace-gc runs the server with --trace-gc and reports its scavenges, mark-compacts, their pause
// time and the bytes allocated (young generation, from the heap sizes before and after each GC) per
// 10,000 delivered messages, during the load only.
// --pad N adds N characters to each message body (the floor and Parley get the same bytes).
// Each pair is two users on their own connections; every sender sends `rate` messages/s to its
// partner (QuickBlox-style chat messages with extraParams), timestamps inside the body give latency.
// Bounded: stops after --seconds of load, then waits at most 5 s for stragglers.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openSqliteStore, sqliteFile } from '../src/storage/sqlite/index.js';
import { openPostgresStore } from '../src/storage/postgres/index.js';
import { createTestSchema } from '../src/storage/postgres/test-schema.js';
import { freePort, waitForPort } from '../e2e/support/server.js';
import { sleep } from '../e2e/support/wait.js';
import { RawClient } from '../e2e/support/raw.js';
import { processCpu } from './harness/proc.js';

const { values } = parseArgs({ options: { pairs: { type: 'string', default: '50' }, seconds: { type: 'string', default: '10' }, rate: { type: 'string', default: '100' }, profile: { type: 'string' }, history: { type: 'boolean', default: false }, random: { type: 'boolean', default: false }, postgres: { type: 'string' }, idle: { type: 'string', default: '2' }, syscalls: { type: 'boolean', default: false }, server: { type: 'string', default: 'parley' }, perf: { type: 'string' }, 'trace-gc': { type: 'boolean', default: false }, pad: { type: 'string', default: '0' } } });
const floor = values.server === 'floor';
const pad = 'x'.repeat(Number(values.pad));
const pairs = Number(values.pairs);
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const domain = 'localhost';

const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
const schema = values.postgres ? await createTestSchema(values.postgres, 'parley_bench') : null;
const store = schema ? await openPostgresStore(schema.url) : await openSqliteStore(sqliteFile(dataDir));
const app = await store.accounts.createApplication({ name: 'bench' });
const users: Awaited<ReturnType<typeof store.accounts.createUser>>[] = [];
for (let i = 0; i < pairs * 2; i++) users.push(await store.accounts.createUser(app.id, { login: `u${i}`, password: 'pw' }));
await store.close();

const port = await freePort();
const profileArgs = [
  ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values.profile)}`] : []),
  ...(values.perf ? ['--perf-basic-prof'] : []),
  ...(values['trace-gc'] ? ['--trace-gc'] : []),
];
const serverArgs = floor ? [resolve('dist/bench/relay-floor.js'), '--port', String(port)] : [resolve('bin/parley.js'), 'serve'];
const server = spawn(process.execPath, [...profileArgs, ...serverArgs], {
  env: { ...process.env, ...(schema ? { PARLEY_STORE: 'postgres', PARLEY_DATABASE_URL: schema.url } : {}), PARLEY_DATA_DIR: dataDir, PARLEY_C2S_PORT: String(port), PARLEY_C2S_TLS_PORT: '0', PARLEY_WS_PORT: '0', PARLEY_HTTP_PORT: '0', PARLEY_HTTPS_PORT: '0', PARLEY_LOG_LEVEL: 'warn', PARLEY_MAX_CONNECTIONS_PER_IP: '100000', PARLEY_AUTH_ATTEMPTS_PER_MINUTE: '100000', PARLEY_AUTH_ATTEMPTS_PER_ADDRESS_PER_MINUTE: '100000' },
  stdio: ['ignore', values['trace-gc'] ? 'pipe' : 'ignore', 'inherit'],
});
// --trace-gc: the server's GC lines while the load runs.
const gc = { on: false, scavenges: 0, markCompacts: 0, pauseMs: 0, allocatedMb: 0, lastAfterMb: NaN };
if (values['trace-gc']) {
  let tail = '';
  server.stdout!.setEncoding('utf8').on('data', (d: string) => {
    const lines = (tail + d).split('\n');
    tail = lines.pop()!;
    for (const line of lines) {
      // [pid:0x…]     1234 ms: Scavenge 5.2 (7.1) -> 4.3 (8.1) MB, 0.81 / 0.00 ms  (average mu = …) allocation failure;
      const m = /ms: (Scavenge|Mark-Compact|Mark-sweep)[^ ]* ([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ ([\d.]+) ms/.exec(line);
      if (!m) continue;
      const before = Number(m[2]);
      const after = Number(m[3]);
      if (gc.on) {
        if (m[1] === 'Scavenge') gc.scavenges++;
        else gc.markCompacts++;
        gc.pauseMs += Number(m[4]);
        if (!Number.isNaN(gc.lastAfterMb)) gc.allocatedMb += Math.max(0, before - gc.lastAfterMb);
      }
      gc.lastAfterMb = after;
    }
  });
}
const cleanup = (): void => {
  server.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
};
process.on('exit', cleanup);

await waitForPort(port);
const login = async (username: string): Promise<RawClient> => {
  const c = await RawClient.connect(port);
  if (floor) c.send(`${username}\n`);
  else await c.login(username, 'pw', 'bench');
  return c;
};
const clients: RawClient[] = [];
for (let i = 0; i < users.length; i += 8) {
  // Logins verify scrypt hashes on libuv's small thread pool: connect in small batches.
  clients.push(...(await Promise.all(users.slice(i, i + 8).map((u) => login(`${u.id}-${app.id}`)))));
}

let sent = 0;
let received = 0;
const latencies: number[] = [];
const stamp = /<body>t(\d+\.\d+)x*<\/body>/g;
for (const c of clients) {
  // From here on only count deliveries: the test client's transcript would grow without bound.
  c.socket.removeAllListeners('data');
  c.socket.setEncoding('utf8');
  c.socket.on('data', (chunk: string) => {
    for (const m of chunk.matchAll(stamp)) {
      received++;
      latencies.push(performance.now() - Number(m[1]));
    }
  });
}

// What the server costs with every client connected and silent (timers, sweeps): subtracted below.
const idleSeconds = Number(values.idle);
await sleep(500);
const idleCpuBefore = processCpu(server.pid!);
const idleCallsBefore = processSyscalls(server.pid!);
const idleWakeupsBefore = processWakeups(server.pid!);
const idleSyscallCounter = values.syscalls && idleSeconds > 0 ? countSyscalls(server.pid!) : null;
await sleep(idleSeconds * 1000);
const idleSyscalls = await idleSyscallCounter?.();
const idleMsPerS = idleSeconds > 0 ? (processCpu(server.pid!) - idleCpuBefore) / idleSeconds : 0;
const idleCallsPerS = idleSeconds > 0 ? (processSyscalls(server.pid!) - idleCallsBefore) / idleSeconds : 0;
const idleWakeupsPerS = idleSeconds > 0 ? (processWakeups(server.pid!) - idleWakeupsBefore) / idleSeconds : 0;

const cpuBefore = await processCpu(server.pid!);
const timesBefore = processTimes(server.pid!);
const threadsBefore = threadCpu(server.pid!);
const callsBefore = processSyscalls(server.pid!);
const wakeupsBefore = processWakeups(server.pid!);
const postmaster = schema ? await postmasterOf(schema.url) : 0;
const postgresBefore = schema ? postgresCpu(postmaster) : 0;
const syscallCounter = values.syscalls ? countSyscalls(server.pid!) : null;
const perfRecorder = values.perf ? recordPerf(server.pid!, values.perf) : null;
gc.on = true;
const started = performance.now();
const interval = 1000 / rate;
const timers = clients.map((c, i) => {
  const partner = users[i % 2 === 0 ? i + 1 : i - 1]!;
  let seq = 0;
  const tick = (): void => {
    const to = values.random ? users[(i + 1 + Math.floor(Math.random() * (users.length - 1))) % users.length]! : partner;
    seq++;
    sent++;
    c.send(
      `<message type="chat" to="${to.id}-${app.id}@${domain}" id="m${i}-${seq}"><body>t${performance.now().toFixed(3)}${pad}</body><extraParams xmlns="jabber:client"><save_to_history>${values.history ? 1 : 0}</save_to_history></extraParams></message>`,
    );
  };
  let timer: NodeJS.Timeout;
  setTimeout(() => (timer = setInterval(tick, interval)), Math.random() * interval);
  return () => clearInterval(timer);
});
await sleep(seconds * 1000);
timers.forEach((stop) => stop());
const loadMs = performance.now() - started;
const syscallCounts = await syscallCounter?.();
await perfRecorder?.();
gc.on = false;
const deadline = Date.now() + 5000;
while (received < sent && Date.now() < deadline) await sleep(50);
const cpuAfter = await processCpu(server.pid!);
const timesAfter = processTimes(server.pid!);
const threadsAfter = threadCpu(server.pid!);
const calls = processSyscalls(server.pid!) - callsBefore;
const wakeups = processWakeups(server.pid!) - wakeupsBefore;
const postgresMs = schema ? postgresCpu(postmaster) - postgresBefore : 0;

latencies.sort((a, b) => a - b);
const pct = (p: number): string => (latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN).toFixed(2);
const cpuMs = cpuAfter - cpuBefore;
console.log(`${floor ? 'Relay floor (bench/relay-floor.js)' : 'Parley'} messages benchmark: ${pairs * 2} clients, ${rate} msg/s each for ${seconds}s`);
console.log(`sent ${sent}, delivered ${received} (${((100 * received) / sent).toFixed(2)}%)`);
console.log(`throughput ${(received / (loadMs / 1000)).toFixed(0)} msg/s; latency ms p50 ${pct(50)} p99 ${pct(99)} max ${pct(100)}`);
console.log(`server CPU ${cpuMs.toFixed(0)} ms = ${((cpuMs * 1000) / Math.max(1, received)).toFixed(1)} µs per delivered message (${((100 * cpuMs) / loadMs).toFixed(0)}% of one core)`);
// User time is what the server's own code costs; system time is mostly the socket syscalls (on loopback
// a write also runs the receiving side's TCP path), which moves more with the machine's load.
const perMessage = (ms: number): string => ((ms * 1000) / Math.max(1, received)).toFixed(1);
console.log(`  user ${perMessage(timesAfter.user - timesBefore.user)} µs + system ${perMessage(timesAfter.system - timesBefore.system)} µs per delivered message`);
const threads = [...threadsAfter].map(([tid, t]) => ({ tid, name: t.name, ms: t.ms - (threadsBefore.get(tid)?.ms ?? 0) }))
  .filter((t) => t.ms > 0).sort((a, b) => b.ms - a.ms);
console.log(`  by thread (ms): ${threads.map((t) => `${t.tid === String(server.pid) ? 'main' : `${t.name}[${t.tid}]`} ${t.ms.toFixed(0)}`).join(', ')}`);
console.log(`  ${(calls / Math.max(1, received)).toFixed(2)} read/write system calls and ${(wakeups / Math.max(1, received)).toFixed(2)} wake-ups per delivered message (main thread)`);
if (syscallCounts) {
  const all = syscallCounts.reduce((a, c) => a + c.n, 0);
  console.log(`  system calls during the load (perf, all threads): ${(all / Math.max(1, sent)).toFixed(2)} per message sent: ${syscallCounts.slice(0, 14).map((c) => `${c.name} ${(c.n / Math.max(1, sent)).toFixed(3)}`).join(', ')}`);
}
if (idleSyscalls) {
  console.log(`  system calls while idle (per s): ${idleSyscalls.slice(0, 10).map((c) => `${c.name} ${(c.n / idleSeconds).toFixed(1)}`).join(', ')}`);
}
if (idleSeconds > 0) {
  const idleMs = (idleMsPerS * loadMs) / 1000;
  console.log(`  idle (connected, silent, ${idleSeconds}s): ${idleMsPerS.toFixed(1)} ms CPU, ${idleCallsPerS.toFixed(0)} read/write calls, ${idleWakeupsPerS.toFixed(0)} wake-ups per s; net of idle: ${perMessage(cpuMs - idleMs)} µs per delivered message`);
}
if (values['trace-gc']) {
  const per10k = (n: number): string => ((n * 10_000) / Math.max(1, received)).toFixed(1);
  console.log(`  GC during the load, per 10,000 delivered messages: ${per10k(gc.scavenges)} scavenges, ${per10k(gc.markCompacts)} mark-compacts, ${per10k(gc.pauseMs)} ms of pauses; ${((gc.allocatedMb * 1024 * 1024) / Math.max(1, received)).toFixed(0)} bytes allocated per message (young generation)`);
}
if (schema) console.log(`PostgreSQL CPU ${postgresMs.toFixed(0)} ms = ${((postgresMs * 1000) / Math.max(1, received)).toFixed(1)} µs per delivered message`);
console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
clients.forEach((c) => c.destroy());
if (values.profile) {
  // The profile is written when the server exits on its own, not on SIGKILL.
  const exited = new Promise((done) => server.once('exit', done));
  server.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000)]);
}
if (schema) {
  server.kill('SIGKILL');
  await sleep(200);
  await schema.drop();
}
process.exit(received === sent ? 0 : 1);


/** Starts `perf record -e cpu-clock -g` on a process; the returned function stops it and waits for the file. */
function recordPerf(pid: number, file: string): () => Promise<void> {
  const perf = spawn('perf', ['record', '-e', 'cpu-clock', '-F', '2000', '-g', '-p', String(pid), '-o', resolve(file)], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((done) => perf.once('exit', done));
  return async () => {
    perf.kill('SIGINT');
    await exited;
  };
}

/** utime and stime of a process in ms, from /proc. */
function processTimes(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { user: (Number(fields[11]) * 1000) / 100, system: (Number(fields[12]) * 1000) / 100 };
}

/** Starts counting a process's system calls (perf tracepoints); the returned function stops and reports them, most frequent first. */
function countSyscalls(pid: number): () => Promise<{ name: string; n: number }[]> {
  const perf = spawn('perf', ['stat', '-x', ',', '-e', 'syscalls:sys_enter_*', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let report = '';
  perf.stderr!.setEncoding('utf8').on('data', (d: string) => (report += d));
  const exited = new Promise((done) => perf.once('exit', done));
  return async () => {
    perf.kill('SIGINT');
    await exited;
    // perf -x, lines: count,unit,event,...
    return report.split('\n').map((l) => l.split(',')).filter((f) => Number(f[0]) > 0)
      .map((f) => ({ name: f[2]!.replace('syscalls:sys_enter_', ''), n: Number(f[0]) })).sort((a, b) => b.n - a.n);
  };
}

/** Read and write system calls a process made so far (syscr + syscw, all threads). */
function processSyscalls(pid: number): number {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  return Number(/syscr: (\d+)/.exec(io)?.[1]) + Number(/syscw: (\d+)/.exec(io)?.[1]);
}

/** Times the main thread went to sleep waiting (voluntary context switches): each is a wake-up later. */
function processWakeups(pid: number): number {
  return Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

/** utime + stime in ms from a /proc stat line. */
function ticks(stat: string): number {
  const fields = stat.split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** utime + stime per thread of a process in ms, by thread id, with the thread's name. */
function threadCpu(pid: number): Map<string, { name: string; ms: number }> {
  const threads = new Map<string, { name: string; ms: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      threads.set(tid, { name, ms: ticks(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')) });
    } catch {
      // the thread ended meanwhile
    }
  }
  return threads;
}

/** The pid of the PostgreSQL server behind `url` (the parent of a backend). */
async function postmasterOf(url: string): Promise<number> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  // Read while the backend is alive: it exits once the client ends.
  const parent = Number(readFileSync(`/proc/${rows[0]!.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
  await client.end();
  return parent;
}

/** utime + stime in ms of that PostgreSQL server and its processes (its backends, writers, autovacuum). */
function postgresCpu(postmaster: number): number {
  let ms = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const parent = Number(stat.split(') ')[1]!.split(' ')[1]);
      if (Number(pid) === postmaster || parent === postmaster) ms += ticks(stat);
    } catch {
      // the process ended meanwhile
    }
  }
  return ms;
}
