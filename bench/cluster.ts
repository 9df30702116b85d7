// Messages per second and delivery latency: one node vs two nodes clustered over Redis.
//   node dist/bench/cluster.js [--clients 100] [--rate 10] [--seconds 10] [--redis redis://127.0.0.1:6379] [--profile DIR] [--only 1|2] [--idle 3] [--warmup 5] [--links]
// (--redis defaults to $PARLEY_TEST_REDIS_URL, then $PARLEY_REDIS_URL.) Same approach as
// bench/messages.ts: raw TCP clients in pairs, each sending `rate` chat messages/s to its partner,
// timestamps in the body. Scenario "1 node": every client on one Parley process (the local fast
// path). Scenario "2 nodes": two Parley processes sharing one SQLite file (WAL) and one Redis,
// each pair split across them, so every message crosses nodes; with --links the two nodes share a
// cluster_secret and talk over direct node-to-node links (Redis then only holds the registry). Bounded: each scenario stops after
// --seconds of load plus at most 5 s for stragglers, after --warmup seconds of the same load, not measured.
// CPU: utime+stime of each node from /proc over the load window, and of redis-server too when it
// runs on this machine (its pid from INFO server), reported apart; before the load, --idle seconds
// with every client connected and silent measure what each process costs doing nothing, reported
// and taken off in the "net of idle" figures (two nodes pay two processes' timers). --profile writes each node's CPU
// profile (node --cpu-prof) into DIR/<scenario>-node<n>/. --perf DIR records each node during the load
// with `perf record -e cpu-clock -g` (nodes run with --perf-basic-prof) into DIR/<n>nodes-node<i>.data;
// split them with `node dist/bench/perf-split.js FILE --messages N …` (N: delivered messages). On a loaded machine run it with
// PARLEY_INSECURE_FAST_PASSWORD_HASH=1 (the logins, eight at a time, otherwise may time out).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { openSqliteStore, sqliteFile } from '../src/storage/sqlite/index.js';
import { freePort, waitForPort } from '../e2e/support/server.js';
import { sleep } from '../e2e/support/wait.js';
import { RawClient } from '../e2e/support/raw.js';
import { processCpu } from './harness/proc.js';
import { localRedisPid } from './harness/redis.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '100' },
    rate: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '10' },
    redis: { type: 'string', default: process.env.PARLEY_TEST_REDIS_URL ?? process.env.PARLEY_REDIS_URL ?? '' },
    profile: { type: 'string' },
    perf: { type: 'string' },
    only: { type: 'string' },
    idle: { type: 'string', default: '3' },
    // Seconds of unmeasured load before the idle and load windows (0: none, as before 2026-12-02's fifth round).
    warmup: { type: 'string', default: '5' },
    // Two nodes talk over direct node-to-node links (cluster_secret) instead of Redis pub/sub.
    links: { type: 'boolean', default: false },
  },
});
const clientCount = Math.max(2, Number(values.clients) - (Number(values.clients) % 2));
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const redisUrl = values.redis!;
const idleSeconds = Number(values.idle);
const warmupSeconds = Number(values.warmup);
if (!redisUrl) {
  console.error('no Redis: pass --redis redis://… or set PARLEY_TEST_REDIS_URL');
  process.exit(2);
}
const domain = 'localhost';

interface Result {
  nodes: number;
  sent: number;
  received: number;
  throughput: number;
  p50: number;
  p99: number;
  max: number;
  /** CPU of each node over the window, ms. */
  nodeCpuMs: number[];
  /** CPU of redis-server over the window, ms (null: not on this machine). */
  redisCpuMs: number | null;
  /** Read and write system calls of all nodes over the window (from /proc/<pid>/io). */
  syscalls: number;
  /** Voluntary context switches of all nodes over the window. */
  wakeups: number;
  /** What each node, and Redis, would have spent idle over the same window, ms. */
  nodeIdleMs: number[];
  redisIdleMs: number;
  nodeIdleMsPerS: number[];
}

async function scenario(nodeCount: number): Promise<Result> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-cluster-'));
  const prefix = `parley-bench-${randomBytes(4).toString('hex')}:`;
  const store = await openSqliteStore(sqliteFile(dataDir));
  const app = await store.accounts.createApplication({ name: 'bench' });
  const users: Awaited<ReturnType<typeof store.accounts.createUser>>[] = [];
  for (let i = 0; i < clientCount; i++) users.push(await store.accounts.createUser(app.id, { login: `u${i}`, password: 'pw' }));
  await store.close();

  const servers: { proc: ChildProcess; port: number }[] = [];
  const secret = randomBytes(16).toString('hex');
  const dirs: string[] = [];
  for (let n = 0; n < nodeCount; n++) {
    const port = await freePort();
    // One server per data directory (parley.lock): the other nodes get their own, whose database is
    // a link to the first one's (SQLite follows it, so the WAL and its index are shared too).
    const nodeDir = n === 0 ? dataDir : mkdtempSync(join(tmpdir(), 'parley-bench-cluster-'));
    if (n > 0) symlinkSync(sqliteFile(dataDir), sqliteFile(nodeDir));
    dirs.push(nodeDir);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PARLEY_DATA_DIR: nodeDir,
      PARLEY_C2S_PORT: String(port),
      PARLEY_C2S_TLS_PORT: '0',
      PARLEY_WS_PORT: '0',
      PARLEY_HTTP_PORT: '0',
      PARLEY_HTTPS_PORT: '0',
      PARLEY_LOG_LEVEL: 'warn',
      PARLEY_MAX_CONNECTIONS_PER_IP: '100000',
    };
    if (nodeCount > 1) Object.assign(env, { PARLEY_REDIS_URL: redisUrl, PARLEY_REDIS_PREFIX: prefix, PARLEY_CLUSTER_NODE_ID: `bench${n}` });
    if (nodeCount > 1 && values.links) Object.assign(env, { PARLEY_CLUSTER_SECRET: secret, PARLEY_CLUSTER_LINK_PORT: '0' });
    const profileArgs = [
      ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values.profile, `${nodeCount}nodes-node${n}`)}`] : []),
      ...(values.perf ? ['--perf-basic-prof'] : []),
    ];
    const proc = spawn(process.execPath, [...profileArgs, resolve('bin/parley.js'), 'serve'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    servers.push({ proc, port });
    await waitForPort(port); // one at a time: the first creates the schema
  }

  // Pair (2k, 2k+1): with two nodes, even clients on node 0 and odd ones on node 1.
  const nodeOf = (i: number): number => i % nodeCount;
  const clients: RawClient[] = [];
  for (let i = 0; i < users.length; i += 8) {
    clients.push(
      ...(await Promise.all(
        users.slice(i, i + 8).map(async (u, j) => {
          const c = await RawClient.connect(servers[nodeOf(i + j)]!.port);
          await c.login(`${u.id}-${app.id}`, 'pw', 'bench');
          return c;
        }),
      )),
    );
  }

  let sent = 0;
  let received = 0;
  const latencies: number[] = [];
  const stamp = /<body>t(\d+\.\d+)<\/body>/g;
  for (const c of clients) {
    c.socket.removeAllListeners('data');
    c.socket.setEncoding('utf8');
    c.socket.on('data', (chunk: string) => {
      for (const m of chunk.matchAll(stamp)) {
        received++;
        latencies.push(performance.now() - Number(m[1]));
      }
    });
  }
  await sleep(300); // presences settle
  // Every client sends `rate` messages/s to its partner for `forSeconds`.
  const seqs = clients.map(() => 0); // ids stay unique across the warm-up and the measured load
  const drive = async (forSeconds: number): Promise<void> => {
    const interval = 1000 / rate;
    const stops = clients.map((c, i) => {
      const to = users[i % 2 === 0 ? i + 1 : i - 1]!;
      const tick = (): void => {
        const seq = ++seqs[i]!;
        sent++;
        c.send(
          `<message type="chat" to="${to.id}-${app.id}@${domain}" id="m${i}-${seq}"><body>t${performance.now().toFixed(3)}</body><extraParams xmlns="jabber:client"><save_to_history>0</save_to_history></extraParams></message>`,
        );
      };
      let timer: NodeJS.Timeout | undefined;
      const start = setTimeout(() => (timer = setInterval(tick, interval)), Math.random() * interval);
      return () => {
        clearTimeout(start);
        clearInterval(timer);
      };
    });
    await sleep(forSeconds * 1000);
    stops.forEach((stop) => stop());
  };
  if (warmupSeconds > 0) {
    // Unmeasured load first, so that each node's optimising compiler has done its work (a short run
    // otherwise charges two nodes' compilation, a fixed ~0.3 s of CPU each, to the crossing messages).
    await drive(warmupSeconds);
    const settle = Date.now() + 5000;
    while (received < sent && Date.now() < settle) await sleep(50);
    sent = 0;
    received = 0;
    latencies.length = 0;
  }
  // What the nodes and Redis cost with every client connected and nobody talking (timers,
  // heartbeats): reported, and taken off the per-message figures as "net".
  const idleStart = await Promise.all([...servers.map((s) => processCpu(s.proc.pid!)), redisPid === null ? 0 : processCpu(redisPid)]);
  const idleStarted = performance.now();
  await sleep(idleSeconds * 1000);
  const idleEnd = await Promise.all([...servers.map((s) => processCpu(s.proc.pid!)), redisPid === null ? 0 : processCpu(redisPid)]);
  const idleMsPerS = (i: number): number => ((idleEnd[i]! - idleStart[i]!) * 1000) / (performance.now() - idleStarted);
  const nodeIdleMsPerS = servers.map((_, i) => idleMsPerS(i));
  const redisIdleMsPerS = redisPid === null ? 0 : idleMsPerS(servers.length);
  const cpuBefore = await Promise.all(servers.map((s) => processCpu(s.proc.pid!)));
  const callsBefore = await Promise.all(servers.map((s) => processSyscalls(s.proc.pid!)));
  const wakeupsBefore = await Promise.all(servers.map((s) => processWakeups(s.proc.pid!)));
  const redisBefore = redisPid === null ? null : await processCpu(redisPid);
  const perfs = values.perf
    ? servers.map((s, n) => {
        const p = spawn('perf', ['record', '-e', 'cpu-clock', '-F', '2000', '-g', '-p', String(s.proc.pid), '-o', resolve(values.perf!, `${nodeCount}nodes-node${n}.data`)], { stdio: ['ignore', 'ignore', 'ignore'] });
        return { p, exited: new Promise((done) => p.once('exit', done)) };
      })
    : [];
  const started = performance.now();
  await drive(seconds);
  const loadMs = performance.now() - started;
  const deadline = Date.now() + 5000;
  while (received < sent && Date.now() < deadline) await sleep(50);
  const windowS = (performance.now() - started) / 1000;
  for (const { p } of perfs) p.kill('SIGINT');
  await Promise.all(perfs.map((x) => x.exited));
  const cpuAfter = await Promise.all(servers.map((s) => processCpu(s.proc.pid!)));
  const callsAfter = await Promise.all(servers.map((s) => processSyscalls(s.proc.pid!)));
  const wakeupsAfter = await Promise.all(servers.map((s) => processWakeups(s.proc.pid!)));
  const redisAfter = redisPid === null ? null : await processCpu(redisPid);

  clients.forEach((c) => c.destroy());
  if (values.profile) {
    // The profile is written when the server exits on its own, not on SIGKILL.
    await Promise.all(
      servers.map((s) => {
        const exited = new Promise((done) => s.proc.once('exit', done));
        s.proc.kill('SIGTERM');
        return Promise.race([exited, sleep(10_000)]);
      }),
    );
  }
  for (const s of servers) s.proc.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  if (nodeCount > 1) {
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  }

  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return {
    nodes: nodeCount,
    sent,
    received,
    throughput: received / (loadMs / 1000),
    p50: pct(50),
    p99: pct(99),
    max: pct(100),
    nodeCpuMs: cpuAfter.map((after, i) => after - cpuBefore[i]!),
    redisCpuMs: redisBefore === null || redisAfter === null ? null : redisAfter - redisBefore,
    syscalls: callsAfter.reduce((a, b) => a + b, 0) - callsBefore.reduce((a, b) => a + b, 0),
    wakeups: wakeupsAfter.reduce((a, b) => a + b, 0) - wakeupsBefore.reduce((a, b) => a + b, 0),
    nodeIdleMs: nodeIdleMsPerS.map((ms) => ms * windowS),
    redisIdleMs: redisIdleMsPerS * windowS,
    nodeIdleMsPerS,
  };
}

const redisPid = await localRedisPid(redisUrl);
console.log(`Parley cluster benchmark: ${clientCount} clients, ${rate} msg/s each for ${seconds}s after ${warmupSeconds}s of unmeasured warm-up (Redis ${redisUrl.replace(/\/\/[^@/]*@/, '//')})`);
console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
let ok = true;
const perMessage = (ms: number, r: Result): string => ((ms * 1000) / Math.max(1, r.received)).toFixed(1);
for (const nodes of values.only ? [Number(values.only)] : [1, 2]) {
  const r = await scenario(nodes);
  ok &&= r.received === r.sent;
  const total = r.nodeCpuMs.reduce((a, b) => a + b, 0);
  console.log(
    `${nodes} node${nodes > 1 ? `s (every message crosses nodes${values.links ? ', over direct links' : ''})` : ' '}: sent ${r.sent}, delivered ${r.received} (${((100 * r.received) / r.sent).toFixed(2)}%), ` +
      `${r.throughput.toFixed(0)} msg/s; latency ms p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)} max ${r.max.toFixed(2)}; ` +
      `server CPU ${perMessage(total, r)} µs per message (all nodes${nodes > 1 ? `: ${r.nodeCpuMs.map((ms) => perMessage(ms, r)).join(' + ')}` : ''})` +
      `, Redis ${r.redisCpuMs === null ? 'n/a (not local)' : `${perMessage(r.redisCpuMs, r)} µs`} per message; ` +
      `${(r.syscalls / Math.max(1, r.received)).toFixed(2)} read/write system calls and ${(r.wakeups / Math.max(1, r.received)).toFixed(2)} wake-ups per message (all nodes); load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  );
  const idle = r.nodeIdleMs.reduce((a, b) => a + b, 0);
  console.log(
    `    idle (connected, silent): ${r.nodeIdleMsPerS.map((ms) => ms.toFixed(1)).join(' + ')} ms CPU per s per node; ` +
      `net of idle: server ${perMessage(total - idle, r)} µs per message, Redis ${r.redisCpuMs === null ? 'n/a' : `${perMessage(r.redisCpuMs - r.redisIdleMs, r)} µs`}`,
  );
}
process.exit(ok ? 0 : 1);

/** Read and write system calls a process made so far (syscr + syscw). */
async function processSyscalls(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const io = await readFile(`/proc/${pid}/io`, 'utf8');
  return Number(/syscr: (\d+)/.exec(io)?.[1]) + Number(/syscw: (\d+)/.exec(io)?.[1]);
}

/** Times a process went to sleep waiting (voluntary context switches): each is a wake-up later. */
async function processWakeups(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  return Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1]);
}


