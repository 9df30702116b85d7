// Durable history writes per second: ChatService.createMessage (what REST and XMPP save_to_history
// call) against the SQLite store (WAL, synchronous=FULL: each message is committed before it resolves).
//   node dist/bench/history-writes.js [--seconds 10] [--concurrency 1,16] [--cases private,group,random]
// Cases: one private dialog, one group dialog, and "random pairs": each message from a random one of
// 1,000 users to another by recipient_id (as XMPP 1-1 history does), so most open a new dialog.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ChatService } from '../src/chat/service.js';
import { openSqliteStore, sqliteFile } from '../src/storage/sqlite/index.js';
import { cloneUser } from './harness/users.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '1,16' }, cases: { type: 'string', default: 'private,group,random' } } });
const cases = new Set(values.cases.split(','));
const seconds = Number(values.seconds);
const levels = values.concurrency.split(',').map(Number);

const dir = mkdtempSync(join(tmpdir(), 'parley-history-'));
try {
  const store = await openSqliteStore(sqliteFile(dir));
  const chat = new ChatService(store, { mucDomain: 'muc.localhost' });
  const app = await store.accounts.createApplication({ name: 'bench' });
  const a = await store.accounts.createUser(app.id, { login: 'a', password: 'pw' });
  const b = await store.accounts.createUser(app.id, { login: 'b', password: 'pw' });
  const caller = { appId: app.id, userId: a.id };
  const dialog = await chat.createDialog(caller, { type: 3, occupants_ids: String(b.id) });
  const dialogId = (dialog as unknown as { _id: string })._id;
  const group = await chat.createDialog(caller, { type: 2, name: 'g', occupants_ids: String(b.id) });
  const groupId = (group as unknown as { _id: string })._id;
  // 998 more users, copies of b (one password hash for all: no scrypt each).
  const userIds = [a.id, b.id, ...cloneUser(store.db, b.id, Array.from({ length: 998 }, (_, i) => `u${i}`))];
  const randomPair = (): { caller: typeof caller; params: Record<string, unknown> } => {
    const from = userIds[Math.floor(Math.random() * userIds.length)]!;
    let to = from;
    while (to === from) to = userIds[Math.floor(Math.random() * userIds.length)]!;
    return { caller: { appId: app.id, userId: from }, params: { recipient_id: String(to) } };
  };
  console.log(`ChatService.createMessage → SQLite (WAL, synchronous=FULL), ${seconds} s per case, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  console.log(`${'case'.padEnd(44)} ${'writes/s'.padStart(9)} ${'mean ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'CPU µs/write'.padStart(13)}`);
  for (const [name, label, id] of [['private', 'private dialog', dialogId], ['group', 'group dialog', groupId], ['random', 'random pairs', null]] as const) {
    if (!cases.has(name)) continue;
    for (const concurrency of levels) {
      let n = 0;
      const lat: number[] = [];
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const end = t0 + seconds * 1000;
      const worker = async (): Promise<void> => {
        while (performance.now() < end) {
          const s = performance.now();
          const target = id === null ? randomPair() : { caller, params: { chat_dialog_id: id } };
          await chat.createMessage(target.caller, { ...target.params, message: `hello ${n}`, send_to_chat: 0, custom: 'x' });
          lat.push(performance.now() - s);
          n++;
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      const wall = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      lat.sort((x, y) => x - y);
      const p99 = lat[Math.floor(lat.length * 0.99)]!;
      const meanMs = lat.reduce((x, y) => x + y, 0) / lat.length;
      console.log(
        `${`${label}, ${concurrency} in flight`.padEnd(44)} ${Math.round(n / wall).toLocaleString('en-US').padStart(9)} ${meanMs.toFixed(2).padStart(8)} ${p99.toFixed(2).padStart(8)} ${((cpu.user + cpu.system) / n).toFixed(0).padStart(13)}`,
      );
    }
  }
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

