// Stored private messages on PostgreSQL at a fixed offered rate: the store's share of target 3. Each
// timer tick issues ChatService.createMessage (as the XMPP history module calls it) between a random
// pair of --users users, most of them opening a new private dialog as tsung's random pairs do; with
// --by dialog the messages go by chat_dialog_id to --dialogs dialogs opened before the run (the REST
// path). Reported per rate: the latency of the store call (p50/p99), the rate at which writes
// completed during the offered window, batches, Parley's CPU (this process, every thread) and
// PostgreSQL's (the postmaster's tree) per message, and the load average.
//   node dist/bench/postgres-writes.js [--rate 6000,8000] [--seconds 10] [--by recipient|dialog] [--in-flight N] [--overlap N] [--postgres URL]
// Without --postgres it starts a cluster of its own in a temporary folder, durable (fsync and
// synchronous_commit on) as bench/compare.js runs it; with --postgres it uses a schema of its own there.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ChatService } from '../src/chat/service.js';
import { openPostgresStore } from '../src/storage/postgres/index.js';
import { loadavg } from './harness/proc.js';
import { paced, quantile } from './harness/pace.js';
import { startPostgres, usePostgres, type BenchPostgres } from './harness/postgres.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' }, rate: { type: 'string', default: '6000,8000' }, users: { type: 'string', default: '1000' },
    by: { type: 'string', default: 'recipient' }, dialogs: { type: 'string', default: '2000' }, postgres: { type: 'string' },
    'in-flight': { type: 'string' }, overlap: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const rates = values.rate.split(',').map(Number);
const byDialog = values.by === 'dialog';

const dir = mkdtempSync(join(tmpdir(), 'parley-pg-writes-'));
let server: BenchPostgres | null = null;
try {
  server = values.postgres ? await usePostgres(values.postgres) : await startPostgres(dir);
  const store = await openPostgresStore(server.url);
  if (values['in-flight']) store.chat.messageBatches.maxInFlight = Number(values['in-flight']);
  if (values.overlap) store.chat.messageBatches.minOverlap = Number(values.overlap);
  const chat = new ChatService(store, { mucDomain: 'muc.localhost' });
  const app = await store.accounts.createApplication({ name: 'bench' });
  const first = await store.accounts.createUser(app.id, { login: 'u0', password: 'pw' });
  // The other users are copies of the first one's row (one password hash for all).
  const { rows } = await store.pool.query<{ id: number }>(
    `INSERT INTO users (app_id, login, password_hash, scram_sha1, scram_sha256, created_at, updated_at)
     SELECT app_id, 'u' || i, password_hash, scram_sha1, scram_sha256, created_at, updated_at FROM users, generate_series(1, $2::int) AS i
     WHERE id = $1 RETURNING id`, [first.id, Number(values.users) - 1]);
  const userIds = [first.id, ...rows.map((r) => r.id)];
  const randomPair = (): { caller: { appId: number; userId: number }; to: number } => {
    const from = userIds[Math.floor(Math.random() * userIds.length)]!;
    let to = from;
    while (to === from) to = userIds[Math.floor(Math.random() * userIds.length)]!;
    return { caller: { appId: app.id, userId: from }, to };
  };
  const dialogs: { caller: { appId: number; userId: number }; dialogId: string }[] = [];
  const warm = byDialog ? Number(values.dialogs) : 500;
  for (let i = 0; i < warm; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, warm - i) }, async () => {
      const p = randomPair();
      const view = await chat.createMessage(p.caller, { recipient_id: String(p.to), message: 'warm', send_to_chat: 0 }, { origin: 'xmpp' });
      dialogs.push({ caller: p.caller, dialogId: view.chat_dialog_id });
    }));
  }
  const send = (n: number) => {
    if (byDialog) {
      const d = dialogs[Math.floor(Math.random() * dialogs.length)]!;
      return chat.createMessage(d.caller, { chat_dialog_id: d.dialogId, message: `hello ${n}`, send_to_chat: 0, custom: 'x' }, { origin: 'xmpp' });
    }
    const p = randomPair();
    return chat.createMessage(p.caller, { recipient_id: String(p.to), message: `hello ${n}`, send_to_chat: 0, custom: 'x' }, { origin: 'xmpp' });
  };
  console.log(`ChatService.createMessage by ${byDialog ? `chat_dialog_id (${dialogs.length} dialogs)` : 'recipient_id'} at a fixed rate → PostgreSQL, ` +
    `random pairs of ${userIds.length} users, ${seconds} s per rate, ${store.chat.messageBatches.maxInFlight} batches in flight (another from ${store.chat.messageBatches.minOverlap} waiting); ${server.notes.join('; ')}`);
  console.log(`${'rate/s'.padStart(7)} ${'writes'.padStart(7)} ${'done/s in window'.padStart(17)} ${'all done s'.padStart(10)} ${'batches'.padStart(8)} ` +
    `${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'Parley µs/msg'.padStart(14)} ${'PG µs/msg'.padStart(10)} ${'failed'.padStart(7)}  load`);
  for (const rate of rates) {
    const before = loadavg();
    const batches0 = store.chat.messageBatches.batches;
    const cpu0 = process.cpuUsage();
    const wall0 = Date.now();
    const t0 = performance.now();
    const { sent: n, settledInWindow: doneInWindow, latencies: lat, failed } = await paced(rate, seconds, send);
    const allDone = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const wall1 = Date.now();
    await new Promise((r) => setTimeout(r, 250)); // a monitor sample after the end
    const pgMs = server.monitor ? server.monitor.cpuBetween(wall0, wall1) : NaN;
    const pct = (p: number): string => quantile(lat, p).toFixed(1);
    const us = (ms: number): string => ((ms * 1000) / n).toFixed(1);
    console.log(
      `${String(rate).padStart(7)} ${String(n).padStart(7)} ${(doneInWindow / seconds).toFixed(0).padStart(17)} ${allDone.toFixed(1).padStart(10)} ` +
      `${String(store.chat.messageBatches.batches - batches0).padStart(8)} ${pct(0.5).padStart(8)} ${pct(0.99).padStart(8)} ${(lat.at(-1) ?? NaN).toFixed(1).padStart(8)} ` +
      `${us((cpu.user + cpu.system) / 1000).padStart(14)} ${us(pgMs).padStart(10)} ${String(failed).padStart(7)}  ${before} → ${loadavg()}`,
    );
  }
  await store.close();
} finally {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
}
