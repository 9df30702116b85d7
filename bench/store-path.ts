// The storage path of a stored 1-1 message alone, for A/B comparisons that CPU time on a shared machine
// cannot settle: ChatService.createMessage by recipient_id (what XMPP save_to_history calls) against the
// SQLite store, `--burst` messages issued at once and the next burst once they are stored (so each
// burst is one group-commit batch, as under load), `--messages` of them after a warm-up.
//   node dist/bench/store-path.js [--messages 20000] [--burst 20] [--users 1000] [--pairs 0] [--callgrind]
// Random pairs of `--users` users by default (most messages open a new private dialog, as tsung's do);
// `--pairs N` sends every message within N dialogs opened during the warm-up instead.
// --callgrind: when run under `valgrind --tool=callgrind --instr-atstart=no`, counts the instructions of
// the measured part (every thread: fdatasync's kernel time is not in it); prints instructions per message.
// Under valgrind the checkpoint worker's 250 ms rounds come ~50 times as often per message as natively,
// so add --separate-threads=yes and compare the main thread's figure.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { ChatService } from '../src/chat/service.js';
import { openSqliteStore, sqliteFile } from '../src/storage/sqlite/index.js';
import { cloneUser } from './harness/users.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' }, burst: { type: 'string', default: '20' }, users: { type: 'string', default: '1000' },
    pairs: { type: 'string', default: '0' }, warmup: { type: 'string', default: '3000' }, callgrind: { type: 'boolean', default: false },
  },
});
const callgrind = (...args: string[]): Promise<unknown> => promisify(execFile)('callgrind_control', [...args, String(process.pid)]);
const total = Number(values.messages);
const burst = Number(values.burst);
const pairCount = Number(values.pairs);

const dir = mkdtempSync(join(tmpdir(), 'parley-store-path-'));
try {
  const store = await openSqliteStore(sqliteFile(dir));
  const chat = new ChatService(store, { mucDomain: 'muc.localhost' });
  const app = await store.accounts.createApplication({ name: 'bench' });
  const first = await store.accounts.createUser(app.id, { login: 'u0', password: 'pw' });
  const userIds = [first.id, ...cloneUser(store.db, first.id, Array.from({ length: Number(values.users) - 1 }, (_, i) => `u${i + 1}`))];
  // A fixed pseudo-random sequence, so that two builds store the same messages.
  let seed = 12345;
  const random = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const randomPair = (): [number, number] => {
    const from = userIds[random(userIds.length)]!;
    let to = from;
    while (to === from) to = userIds[random(userIds.length)]!;
    return [from, to];
  };
  const fixedPairs = Array.from({ length: pairCount }, randomPair);
  const nextPair = (): [number, number] => (pairCount > 0 ? fixedPairs[random(pairCount)]! : randomPair());
  let n = 0;
  const send = ([from, to]: [number, number]): Promise<unknown> =>
    chat.createMessage({ appId: app.id, userId: from }, { recipient_id: String(to), message: `hello ${n++}`, save_to_history: 1 }, { origin: 'xmpp' });
  /** Issues `count` messages, `burst` at a time, each burst once the previous one is stored (one commit each). */
  const run = async (count: number, pairs: () => [number, number]): Promise<void> => {
    for (let i = 0; i < count; i += burst) {
      const inFlight: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(count, i + burst); j++) inFlight.push(send(pairs()));
      await Promise.all(inFlight);
    }
  };
  for (const pair of fixedPairs) await send(pair);
  await run(Number(values.warmup), nextPair);
  if (values.callgrind) {
    await callgrind('-z');
    await callgrind('-i', 'on');
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(total, nextPair);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (values.callgrind) {
    await callgrind('-d');
    await callgrind('-i', 'off');
    let instructions = 0;
    let main = 0;
    for (const f of readdirSync('.').filter((name) => name.startsWith(`callgrind.out.${process.pid}`))) {
      const n = Number(/^summary: (\d+)/m.exec(readFileSync(f, 'utf8'))?.[1] ?? 0);
      instructions += n;
      // With --separate-threads=yes each thread has a file of its own; -01 is the event loop's.
      if (f.endsWith('-01')) main += n;
    }
    console.log(`callgrind: ${(instructions / total).toFixed(0)} instructions per message${main > 0 ? `, ${(main / total).toFixed(0)} on the main thread` : ''}`);
  }
  const dialogs = (store.db.prepare('SELECT count(*) FROM dialogs').pluck().get() as number);
  const wal = statSync(`${sqliteFile(dir)}-wal`, { throwIfNoEntry: false })?.size ?? 0;
  console.log(`${total} messages (${burst} per turn, ${pairCount > 0 ? `${pairCount} dialogs` : `random pairs of ${userIds.length} users`}; ${dialogs} dialogs at the end, ${store.writes.batches} commits in all, WAL ${(wal / 1e6).toFixed(1)} MB): user ${(cpu.user / total).toFixed(1)} µs + system ${(cpu.system / total).toFixed(1)} µs per message, main thread only (wall ${((wall * 1000) / total).toFixed(1)} µs); load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
