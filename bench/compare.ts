// Side-by-side benchmark: Parley, ejabberd 23.01 and Prosody 0.12.3 (Debian) under the same tsung 1.7.0
// scenario, on the same machine, one server at a time, in one run. One command per scenario:
//   node dist/bench/compare.js chat    [--users 200] [--rate 1] [--seconds 10]
//   node dist/bench/compare.js history [--users 200] [--rate 1] [--seconds 10]     (chat with save_to_history=1)
//   node dist/bench/compare.js muc     [--users 100] [--room-size 10] [--rate 1] [--seconds 10]
//   node dist/bench/compare.js login   [--users 1000] [--login-rate 100] [--cold]
//   node dist/bench/compare.js idle    [--users 2000] [--login-rate 250] [--hold 10]
// Common: --servers parley,ejabberd,prosody  --repeat 1  --timeout <s per tsung run>  --keep (keep the run folder)
//         --json FILE (every figure, machine-readable)  --dump (tsung traffic dump, for debugging)
//         --targets (after the table, issue 17's targets judged from this run's figures)
//         --pairs online|random (chat/history: tsung's destination=online, a round-robin over its online
//           table, or a recipient drawn uniformly from the other users for every message)
//         --pg-url URL (parley-pg on an existing PostgreSQL, in a schema of its own, instead of a throwaway cluster)
// Servers: parley, parley-pg (Parley on PostgreSQL; PostgreSQL's CPU in a column of its own), ejabberd,
//          ejabberd-mam-sql / ejabberd-mam-mnesia (mod_mam archiving every message on SQLite / Mnesia), prosody.
//          history runs all five but prosody by default; "stored" counts Parley's messages and ejabberd's archive.
//   node dist/bench/compare.js targets A.json B.json …   issue 17's targets from the --json files of several runs
// Needs root (installs the Debian packages when missing; runs the peers as their own users).
import { existsSync, mkdtempSync, readFileSync, rmSync, chmodSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensurePackages, PEER_PACKAGES, TSUNG_PACKAGES } from './harness/install.js';
import { loadavg, sleep } from './harness/proc.js';
import { DOMAIN, makeServer, PASSWORD, SERVER_NAMES, type ServerName, type ServerUnderTest, type StoredCount } from './harness/servers.js';
import { judgeTargets, type TargetRun } from './harness/targets.js';
import { mean, percentile, runTsung } from './harness/tsung.js';
import { execFileSync } from 'node:child_process';

const SCENARIOS = ['chat', 'history', 'muc', 'login', 'idle'] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    servers: { type: 'string' },
    users: { type: 'string' },
    rate: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '10' },
    'room-size': { type: 'string', default: '10' },
    'login-rate': { type: 'string' },
    hold: { type: 'string', default: '10' },
    size: { type: 'string', default: '64' },
    cold: { type: 'boolean', default: false },
    repeat: { type: 'string', default: '1' },
    timeout: { type: 'string' },
    keep: { type: 'boolean', default: false },
    json: { type: 'string' },
    force: { type: 'boolean', default: false },
    dump: { type: 'boolean', default: false },
    targets: { type: 'boolean', default: false },
    'pg-url': { type: 'string' },
    pairs: { type: 'string', default: 'online' },
  },
});

if (positionals[0] === 'targets') {
  // No load here: the targets table from the --json files of earlier runs.
  if (positionals.length < 2) {
    console.error('usage: node dist/bench/compare.js targets RUN.json [RUN.json …]   (files written by --json)');
    process.exit(2);
  }
  const runs = positionals.slice(1).map((f) => JSON.parse(readFileSync(f, 'utf8')) as TargetRun);
  console.log(judgeTargets(runs));
  process.exit(0);
}

const scenario = positionals[0] as Scenario;
if (!SCENARIOS.includes(scenario)) {
  console.error(`usage: node dist/bench/compare.js <${SCENARIOS.join('|')}> [options]   (see the header of bench/compare.ts)`);
  process.exit(2);
}
const defaults: Record<Scenario, { users: number; servers: ServerName[] }> = {
  chat: { users: 200, servers: ['parley', 'ejabberd', 'prosody'] },
  history: { users: 200, servers: ['parley', 'parley-pg', 'ejabberd', 'ejabberd-mam-sql', 'ejabberd-mam-mnesia'] },
  muc: { users: 100, servers: ['parley', 'ejabberd', 'prosody'] },
  login: { users: 1000, servers: ['parley', 'ejabberd', 'prosody'] },
  idle: { users: 2000, servers: ['parley', 'ejabberd', 'prosody'] },
};
const users = Number(values.users ?? defaults[scenario].users);
const servers = (values.servers?.split(',') ?? defaults[scenario].servers) as ServerName[];
const unknown = servers.filter((s) => !(SERVER_NAMES as readonly string[]).includes(s));
if (unknown.length) {
  console.error(`unknown server ${unknown.join(', ')}: one of ${SERVER_NAMES.join(', ')}`);
  process.exit(2);
}
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const roomSize = Number(values['room-size']);
const loginRate = Number(values['login-rate'] ?? (scenario === 'login' ? 100 : Math.min(500, Math.max(50, users / 10))));
const hold = Number(values.hold);
const repeat = Number(values.repeat);
const size = Number(values.size);

const pairs = values.pairs as 'online' | 'random';
if (pairs !== 'online' && pairs !== 'random') {
  console.error('--pairs: online or random');
  process.exit(2);
}

const interval = 1 / rate;
const count = Math.max(1, Math.round(rate * seconds));
const drain = Math.round(5 + seconds / 2); // see session-chat.xml: the senders' spread under load
const arrivalSeconds = Math.max(1, Math.ceil(users / loginRate));
// tsung stops launching at maxnumber; a long phase keeps a slow (shared) machine from ending it early.
const phaseSeconds = arrivalSeconds * 3 + 10;
const expectedSeconds = arrivalSeconds + (scenario === 'idle' ? hold : scenario === 'login' ? 2 : seconds + drain) + 10;
const tsungTimeoutMs = Number(values.timeout ?? expectedSeconds * 3 + 60) * 1000;

if (process.getuid?.() !== 0) {
  console.error('run as root: the harness installs Debian packages when missing and runs the peers as their own system users');
  process.exit(2);
}
ensurePackages([...TSUNG_PACKAGES, ...servers.flatMap((s) => [...PEER_PACKAGES[s]])]);

const runDir = mkdtempSync(join(tmpdir(), 'parley-compare-'));
chmodSync(runDir, 0o755); // the peers run as their own users and must reach their folders
let current: ServerUnderTest | null = null;
let stopping = false;
async function abort(reason: string): Promise<never> {
  if (!stopping) {
    stopping = true;
    console.error(`aborting: ${reason}`);
    await current?.stop().catch(() => {});
    if (!values.keep) rmSync(runDir, { recursive: true, force: true });
  }
  process.exit(1);
}
process.on('SIGINT', () => void abort('SIGINT'));
process.on('SIGTERM', () => void abort('SIGTERM'));
// A hard ceiling for the whole command: every run, every server.
const hardLimitMs = repeat * servers.length * (tsungTimeoutMs + 180_000);
const watchdog = setTimeout(() => void abort(`whole run exceeded ${hardLimitMs / 1000} s`), hardLimitMs);
watchdog.unref();

const mucPending = !existsSync(resolve('src/modules/muc'));
const commit = gitCommit();

interface Row {
  server: ServerName;
  run: number;
  load: string;
  sessions: number;
  sent: number;
  expected: number;
  received: number;
  lost: number;
  noOnline: number;
  deliveredPerS: number;
  sentPerS: number;
  latMean: number;
  latP50: number;
  latP95: number;
  latP99: number;
  latMax: number;
  cpuUsPerMsg: number;
  serverCorePct: number;
  peakRssMb: number;
  baseRssMb: number;
  rssPerConnKb: number;
  genCorePct: number;
  genUsPerMsg: number;
  loginsPerS: number;
  cpuUsPerLogin: number;
  loginMean: number;
  loginP50: number;
  loginP99: number;
  stored: number | null;
  storedDetail: string;
  storeCpuUsPerMsg: number;
  storeCorePct: number;
  notes: string[];
}

const rows: Row[] = [];
const started = new Date();
console.error(`run folder ${runDir}; scenario ${scenario}; ${users} users; servers ${servers.join(', ')}; ${cpus().length} cores`);

for (let run = 1; run <= repeat; run++) {
  for (const name of servers) {
    const notes: string[] = [];
    if (scenario === 'muc' && name.startsWith('parley') && mucPending && !values.force) {
      rows.push(pendingRow(name, run, 'pending: no MUC module (src/modules/muc) in this build'));
      continue;
    }
    const server = makeServer(name, join(runDir, `${scenario}-${run}`));
    current = server;
    try {
      await server.setup(users, { coldHashes: values.cold, rooms: scenario === 'muc' ? Math.ceil(users / roomSize) : 0, postgresUrl: values['pg-url'] });
      notes.push(...server.notes);
      rows.push(await measure(server, run, notes));
    } catch (err) {
      console.error(`${name}: ${(err as Error).stack ?? String(err)}`);
      rows.push(pendingRow(name, run, `failed: ${(err as Error).message}`));
    } finally {
      await server.stop();
      current = null;
    }
    await sleep(2000); // let the machine settle between servers
  }
}

printTable();
const record = { scenario, started: started.toISOString(), commit, users, rate, seconds, pairs, roomSize, loginRate, hold, rows };
if (values.targets) console.log(`\n#### Issue 17's targets from this run\n\n${judgeTargets([record])}`);
if (values.json) writeFileSync(values.json, JSON.stringify(record, null, 2));
if (!values.keep) rmSync(runDir, { recursive: true, force: true });
else console.error(`kept ${runDir}`);
clearTimeout(watchdog);

// ------------------------------------------------------------------------------------------------

function pendingRow(server: ServerName, run: number, note: string): Row {
  return {
    server, run, load: loadavg(), sessions: NaN, sent: NaN, expected: NaN, received: NaN, lost: NaN, noOnline: NaN, deliveredPerS: NaN, sentPerS: NaN,
    latMean: NaN, latP50: NaN, latP95: NaN, latP99: NaN, latMax: NaN, cpuUsPerMsg: NaN, serverCorePct: NaN, peakRssMb: NaN, baseRssMb: NaN,
    rssPerConnKb: NaN, genCorePct: NaN, genUsPerMsg: NaN, loginsPerS: NaN, cpuUsPerLogin: NaN, loginMean: NaN, loginP50: NaN, loginP99: NaN,
    stored: null, storedDetail: '', storeCpuUsPerMsg: NaN, storeCorePct: NaN, notes: [note],
  };
}

/** The commit measured, with "+dirty" when the tree has uncommitted changes. */
function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

function xmlAttr(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

async function measure(server: ServerUnderTest, run: number, notes: string[]): Promise<Row> {
  const mon = server.monitor!;
  const load = loadavg();
  const baseRssKb = mon.rssKb();
  mon.resetPeak();
  const vars = {
    PORT: server.port,
    USERS: users,
    GLOBAL_NUMBER: users,
    ARRIVAL_SECONDS: phaseSeconds,
    ARRIVAL_RATE: loginRate,
    DOMAIN,
    MUC_DOMAIN: server.mucDomain,
    USERNAME: server.usernameTemplate,
    PASSWORD,
    IDLE_TIMEOUT_MS: Math.max(60_000, (expectedSeconds + 30) * 1000),
    COUNT: count,
    INTERVAL: interval.toFixed(4),
    SIZE: size,
    DRAIN: drain,
    ROOM_SIZE: roomSize,
    ROOM_EXPR: xmlAttr(server.mucNames.room),
    NICK_EXPR: xmlAttr(server.mucNames.nick),
    HOLD: hold,
    DUMP: values.dump ? 'true' : 'false',
  };
  const session = scenario === 'history' ? 'session-chat.xml' : `session-${scenario}.xml`;
  const extraEnv: Record<string, string> = { TSUNG_CHAT_COUNT: String(count), TSUNG_CHAT_PAIRS: pairs, TSUNG_CHAT_USERS: String(users) };
  if (scenario === 'history') extraEnv['TSUNG_CHAT_EXTRA'] = "<extraParams xmlns='jabber:client'><save_to_history>1</save_to_history></extraParams>";
  let holdRssKb = NaN;
  let holdConns = NaN;
  const during = scenario === 'idle' ? () => idleProbe(server, (rss, conns) => ((holdRssKb = rss), (holdConns = conns))) : undefined;
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${server.name} run ${run}: tsung ${scenario} (load ${load})`);
  const t0 = Date.now();
  const r = await runTsung(join(runDir, `${scenario}-${run}`, `tsung-${server.name}`), { session, vars, extraEnv }, tsungTimeoutMs, during);
  const t1 = Date.now();
  if (r.timedOut) notes.push(`tsung hit its ${tsungTimeoutMs / 1000} s timeout`);
  const peakKb = mon.peakKb();
  const fanout = scenario === 'muc' ? roomSize : 1;
  const sent = r.counts['xmpp_msg_sent'] ?? 0;
  const received = r.latencies.length;
  const sessions = r.loginMs.length;
  // Message window: first send to last receipt; CPU of server and generator inside it.
  let from = t0, to = t1;
  if (r.sentAt && r.recvAt) (from = r.sentAt.min), (to = Math.max(r.recvAt.max, r.sentAt.max));
  const windowMs = Math.max(1, to - from);
  const serverCpu = mon.cpuBetween(from, to);
  const genCpu = r.monitor.cpuBetween(from, to);
  const isMsg = scenario === 'chat' || scenario === 'history' || scenario === 'muc';
  const serverCpuAll = mon.cpuBetween(t0, t1);
  const storeCpu = server.storeMonitor ? server.storeMonitor.cpuBetween(from, to) : NaN;
  let stored: StoredCount | null = null;
  if (scenario === 'history') {
    try {
      stored = await server.stored();
    } catch (err) {
      notes.push(`stored count failed: ${(err as Error).message}`);
    }
  }
  if (scenario === 'history' && server.name.startsWith('parley') && stored?.messages === 0) notes.push('save_to_history messages NOT stored');
  const noOnline = r.counts['error_no_online'] ?? 0;
  for (const [k, v] of Object.entries(r.counts)) if (k.startsWith('error') || k.startsWith('log:error')) notes.push(`${k}=${v}`);
  const loginWindowS = arrivalSeconds + (percentile(r.loginMs, 100) || 0) / 1000;
  return {
    server: server.name,
    run,
    load,
    sessions,
    sent,
    expected: sent * fanout,
    received,
    lost: sent * fanout - received,
    noOnline,
    deliveredPerS: isMsg ? (received * 1000) / windowMs : NaN,
    sentPerS: isMsg && r.sentAt ? (sent * 1000) / Math.max(1, r.sentAt.max - r.sentAt.min) : NaN,
    latMean: mean(r.latencies),
    latP50: percentile(r.latencies, 50),
    latP95: percentile(r.latencies, 95),
    latP99: percentile(r.latencies, 99),
    latMax: percentile(r.latencies, 100),
    cpuUsPerMsg: isMsg && received ? (serverCpu * 1000) / received : NaN,
    serverCorePct: ((isMsg ? serverCpu : serverCpuAll) * 100) / (isMsg ? windowMs : t1 - t0),
    peakRssMb: peakKb / 1024,
    baseRssMb: baseRssKb / 1024,
    rssPerConnKb: scenario === 'idle' ? (holdRssKb - baseRssKb) / holdConns : ((peakKb - baseRssKb) / Math.max(1, sessions)),
    genCorePct: ((isMsg ? genCpu : r.cpuMs) * 100) / (isMsg ? windowMs : t1 - t0),
    genUsPerMsg: isMsg && received ? (genCpu * 1000) / received : NaN,
    loginsPerS: scenario === 'login' ? sessions / loginWindowS : NaN,
    cpuUsPerLogin: scenario === 'login' && sessions ? (serverCpuAll * 1000) / sessions : NaN,
    loginMean: mean(r.loginMs),
    loginP50: percentile(r.loginMs, 50),
    loginP99: percentile(r.loginMs, 99),
    stored: stored?.messages ?? null,
    storedDetail: stored?.detail ?? '',
    storeCpuUsPerMsg: isMsg && received ? (storeCpu * 1000) / received : NaN,
    storeCorePct: (storeCpu * 100) / windowMs,
    notes,
  };
}

/** Idle scenario: once every connection is established and quiet, read the server's RSS. */
async function idleProbe(server: ServerUnderTest, record: (rssKb: number, conns: number) => void): Promise<void> {
  const deadline = Date.now() + (arrivalSeconds + hold + 60) * 1000;
  let last = -1;
  let stableSince = 0;
  while (Date.now() < deadline) {
    const n = establishedTo(server.port);
    if (n === users && n === last) {
      if (!stableSince) stableSince = Date.now();
      if (Date.now() - stableSince >= 3000) {
        record(server.monitor!.rssKb(), n);
        return;
      }
    } else stableSince = 0;
    last = n;
    await sleep(500);
  }
  record(server.monitor!.rssKb(), establishedTo(server.port));
}

/** Established TCP connections whose local port is `port` (the server side), from /proc/net/tcp. */
function establishedTo(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f[1]?.endsWith(`:${hex}`) && f[3] === '01') n++;
    }
  }
  return n;
}

function fmt(v: number | null, digits = 0): string {
  if (v === null || Number.isNaN(v)) return '—';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function median(xs: number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function printTable(): void {
  const title =
    scenario === 'chat' || scenario === 'history'
      ? `${scenario === 'history' ? '1-1 chat with save_to_history=1' : '1-1 chat'}: ${users} users × ${rate} msg/s for ${seconds} s (offered ${fmt(users * rate)} msg/s), ${pairs === 'random' ? 'uniformly random pairs' : 'destination=online (tsung\'s round-robin)'}`
      : scenario === 'muc'
        ? `group chat: ${users} users in rooms of ${roomSize}, each ${rate} msg/s for ${seconds} s (offered ${fmt(users * rate)} sends/s, ${fmt(users * rate * roomSize)} deliveries/s)`
        : scenario === 'login'
          ? `login storm: ${users} users arriving at ${loginRate}/s; connect, SASL PLAIN, bind, session, presence, close`
          : `idle connections: ${users} users logged in (arrival ${loginRate}/s), then silent for ${hold} s`;
  console.log(`\n### ${title}`);
  console.log(`${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${commit}, ${cpus().length} cores shared by server and tsung (and other jobs: load average before each run shown)`);
  console.log(`command: node dist/bench/compare.js ${process.argv.slice(2).join(' ')}\n`);
  const cols: [string, (r: Row) => string][] =
    scenario === 'login'
      ? [
          ['sessions', (r) => fmt(r.sessions)],
          ['logins/s', (r) => fmt(r.loginsPerS, 0)],
          ['login ms mean / p50 / p99', (r) => `${fmt(r.loginMean, 1)} / ${fmt(r.loginP50, 1)} / ${fmt(r.loginP99, 1)}`],
          ['server CPU µs/login', (r) => fmt(r.cpuUsPerLogin)],
          ['server % core', (r) => fmt(r.serverCorePct)],
          ['peak RSS MB', (r) => fmt(r.peakRssMb, 1)],
          ['tsung % core', (r) => fmt(r.genCorePct)],
        ]
      : scenario === 'idle'
        ? [
            ['connections', (r) => fmt(r.sessions)],
            ['login ms p50 / p99', (r) => `${fmt(r.loginP50, 1)} / ${fmt(r.loginP99, 1)}`],
            ['RSS before MB', (r) => fmt(r.baseRssMb, 1)],
            ['peak RSS MB', (r) => fmt(r.peakRssMb, 1)],
            ['KB per idle connection', (r) => fmt(r.rssPerConnKb, 1)],
            ['tsung % core', (r) => fmt(r.genCorePct)],
          ]
        : [
            ['sessions', (r) => fmt(r.sessions)],
            ['sent (achieved msg/s)', (r) => `${fmt(r.sent)} (${fmt(r.sentPerS)})`],
            ['received / expected', (r) => `${fmt(r.received)} / ${fmt(r.expected)}`],
            ['lost', (r) => fmt(r.lost)],
            ['delivered msg/s', (r) => fmt(r.deliveredPerS)],
            ['latency ms mean / p50 / p95 / p99 / max', (r) => [r.latMean, r.latP50, r.latP95, r.latP99, r.latMax].map((v) => fmt(v, 1)).join(' / ')],
            ['server CPU µs/msg', (r) => fmt(r.cpuUsPerMsg, 1)],
            ['server % core', (r) => fmt(r.serverCorePct)],
            ['peak RSS MB (KB/session)', (r) => `${fmt(r.peakRssMb, 1)} (${fmt(r.rssPerConnKb, 1)})`],
            ['tsung % core (µs/msg)', (r) => `${fmt(r.genCorePct)} (${fmt(r.genUsPerMsg, 1)})`],
            ...(servers.some((s) => s === 'parley-pg')
              ? ([['PostgreSQL CPU µs/msg (% core)', (r: Row) => (Number.isNaN(r.storeCpuUsPerMsg) ? '—' : `${fmt(r.storeCpuUsPerMsg, 1)} (${fmt(r.storeCorePct)})`)]] as [string, (r: Row) => string][])
              : []),
            ...(scenario === 'history'
              ? ([['stored (% of sent; how counted)', (r: Row) => (r.stored === null ? '—' : `${fmt(r.stored)} (${fmt((r.stored * 100) / r.sent, r.stored === r.sent ? 0 : 1)} %; ${r.storedDetail})`)]] as [string, (r: Row) => string][])
              : []),
          ];
  const header = ['server', 'run', 'load avg', ...cols.map((c) => c[0]), 'notes'];
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => ' --- ').join('|')}|`);
  for (const r of rows) console.log(`| ${[r.server, String(r.run), r.load, ...cols.map((c) => c[1](r)), r.notes.join('; ')].join(' | ')} |`);
  if (repeat > 1) {
    for (const name of servers) {
      const mine = rows.filter((r) => r.server === name);
      const med = Object.fromEntries(
        Object.keys(mine[0]!).map((k) => [k, typeof (mine[0] as unknown as Record<string, unknown>)[k] === 'number' ? median(mine.map((r) => (r as unknown as Record<string, number>)[k]!)) : null]),
      ) as unknown as Row;
      console.log(`| ${[name, 'median', '', ...cols.map((c) => c[1]({ ...med, storedDetail: 'median' }))].join(' | ')} | |`);
    }
  }
}
