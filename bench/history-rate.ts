// Durable history writes at a fixed rate: what one stored message costs when messages arrive one at a
// time (a quiet server) rather than in bursts. Each timer tick issues one ChatService.createMessage
// between a random pair of 1,000 users (most open a new private dialog, as tsung's random pairs do),
// and the process's CPU (every thread: the event loop, libuv's pool doing fdatasync, the checkpoint
// worker) is divided by the writes. No sockets: this is the storage's share of a stored message.
//   node dist/bench/history-rate.js [--rate 500,8000] [--seconds 10] [--commit-window 5]  (sqlite_commit_window_ms) [--origin rest|xmpp] [--threads] [--warmup 20000]
// --origin xmpp: as XMPP's save_to_history stores them (the privacy module has already judged the
// stanza, so no default privacy list is read per message); rest (the default): as REST's POST does.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ChatService } from '../src/chat/service.js';
import { openSqliteStore, sqliteFile } from '../src/storage/sqlite/index.js';
import { cloneUser } from './harness/users.js';
import { paced, quantile } from './harness/pace.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, rate: { type: 'string', default: '500,8000' }, 'commit-window': { type: 'string', default: '5' }, origin: { type: 'string', default: 'rest' }, threads: { type: 'boolean', default: false }, warmup: { type: 'string', default: '20000' } } });
if (values.origin !== 'rest' && values.origin !== 'xmpp') throw new Error('--origin is rest or xmpp');
const origin = values.origin;
const warmup = Number(values.warmup);
const seconds = Number(values.seconds);
const rates = values.rate.split(',').map(Number);
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** utime and stime in ms of every thread of this process, by thread id. */
function threadTimes(): Map<string, [number, number]> {
  const threads = new Map<string, [number, number]>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      threads.set(tid, [(Number(fields[11]) * 1000) / 100, (Number(fields[12]) * 1000) / 100]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return threads;
}

/** utime + stime in ms of every thread of this process, by thread id. */
const threadCpu = (times: Map<string, [number, number]>): Map<string, number> => new Map([...times].map(([tid, [u, s]]) => [tid, u + s]));

/** utime and stime in ms of the main thread. */
function mainCpu(): [number, number] {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return [(Number(fields[11]) * 1000) / 100, (Number(fields[12]) * 1000) / 100];
}

/** Voluntary + involuntary context switches of every thread of this process (wake-ups). */
function switches(): number {
  let n = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const status = readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
      for (const m of status.matchAll(/ctxt_switches:\s+(\d+)/g)) n += Number(m[1]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return n;
}

const dir = mkdtempSync(join(tmpdir(), 'parley-history-rate-'));
try {
  const store = await openSqliteStore(sqliteFile(dir), null, { commitWindowMs: Number(values['commit-window']) });
  const chat = new ChatService(store, { mucDomain: 'muc.localhost' });
  const app = await store.accounts.createApplication({ name: 'bench' });
  const a = await store.accounts.createUser(app.id, { login: 'a', password: 'pw' });
  const userIds = [a.id, ...cloneUser(store.db, a.id, Array.from({ length: 999 }, (_, i) => `u${i}`))];
  const randomPair = (): { caller: { appId: number; userId: number }; to: number } => {
    const from = userIds[Math.floor(Math.random() * userIds.length)]!;
    let to = from;
    while (to === from) to = userIds[Math.floor(Math.random() * userIds.length)]!;
    return { caller: { appId: app.id, userId: from }, to };
  };
  const write = (i: number): Promise<unknown> => {
    const p = randomPair();
    return chat.createMessage(p.caller, { recipient_id: String(p.to), message: `hello ${i}`, send_to_chat: 0, custom: 'x' }, { origin });
  };
  // Warm up: the checkpoint worker starts after the first batches, statements get prepared, and V8
  // optimises the path (with a short warm-up, TurboFan compiles it inside the first measured rate:
  // about 300 ms of compiler threads at 500/s, ~75 µs per write of 4,000). 20 writes at a time.
  for (let i = 0; i < warmup; i += 20) await Promise.all(Array.from({ length: Math.min(20, warmup - i) }, (_, j) => write(i + j)));
  await new Promise((resolve) => setTimeout(resolve, 500)); // concurrent compile jobs finish
  console.log(`ChatService.createMessage at a fixed rate → SQLite (WAL, durable), random pairs of 1,000 users, ${seconds} s per rate, commit window ${values['commit-window']} ms, origin ${origin}, after ${warmup} writes of warm-up`);
  console.log(`${'rate/s'.padStart(7)} ${'writes'.padStart(7)} ${'batches'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'CPU µs/write'.padStart(13)} ${'main µs'.padStart(8)} ${'others µs'.padStart(10)} ${'switches/write'.padStart(15)} ${'main user/sys µs'.padStart(17)}  load`);
  for (const rate of rates) {
    const before = loadavg();
    const batches0 = store.writes.batches;
    const times0 = threadTimes();
    const threads0 = threadCpu(times0);
    const switches0 = switches();
    const main0 = mainCpu();
    const { sent: n, latencies: lat } = await paced(rate, seconds, write);
    const times1 = threadTimes();
    const threads1 = threadCpu(times1);
    const switchCount = switches() - switches0;
    const main1 = mainCpu();
    let main = 0;
    let others = 0;
    const each: [string, number, number][] = [];
    for (const [tid, ms] of threads1) {
      const spent = ms - (threads0.get(tid) ?? 0);
      if (tid === String(process.pid)) main += spent;
      else others += spent;
      const [u0, s0] = times0.get(tid) ?? [0, 0];
      const [u1, s1] = times1.get(tid)!;
      if (tid !== String(process.pid) && spent > 0) each.push([tid, u1 - u0, s1 - s0]);
    }
    const pct = (p: number): string => quantile(lat, p).toFixed(2);
    const us = (ms: number): string => ((ms * 1000) / n).toFixed(1);
    console.log(
      `${String(rate).padStart(7)} ${String(n).padStart(7)} ${String(store.writes.batches - batches0).padStart(8)} ${pct(0.5).padStart(7)} ${pct(0.99).padStart(7)} ${us(main + others).padStart(13)} ${us(main).padStart(8)} ${us(others).padStart(10)} ${(switchCount / n).toFixed(2).padStart(15)} ${`${us(main1[0] - main0[0])} / ${us(main1[1] - main0[1])}`.padStart(17)}  ${before} → ${loadavg()}`,
    );
    // Which thread is which is not written anywhere (Node names them all "node"): libuv's pool threads do
    // the fdatasyncs (mostly system time), the checkpoint worker starts last.
    if (values.threads) console.log(`        other threads, user/system µs per write: ${each.sort((x, y) => y[1] + y[2] - x[1] - x[2]).map(([tid, u, sy]) => `${tid} ${us(u)}/${us(sy)}`).join(', ') || 'none'}`);
  }
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
