// Pushes per second one node delivers to a local APNs endpoint (HTTP/2 over TLS, the provider
// token verified once and reused, as Apple does): N pushes queued in the SQLite outbox (WAL,
// synchronous=FULL), then the delivery loop claims, sends and records each one.
//   node dist/bench/push.js [--pushes 20000] [--concurrency 64]
// The local endpoint runs in this process, so its own work is counted against the figure.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { PushDelivery } from '../src/push/delivery.js';
import { LocalApns, newApnsKey } from '../src/push/local-providers.js';
import { SenderPool } from '../src/push/senders.js';
import { PushSettingsFiles } from '../src/push/settings.js';
import type { NewOutboxPush } from '../src/storage/push-types.js';
import { openSqliteStore, sqliteFile } from '../src/storage/sqlite/index.js';
import { cloneUser } from './harness/users.js';

const { values } = parseArgs({ options: { pushes: { type: 'string', default: '20000' }, concurrency: { type: 'string', default: '64' } } });
const total = Number(values.pushes);
const concurrency = Number(values.concurrency);
const BUNDLE = 'com.example.bench';

const dir = mkdtempSync(join(tmpdir(), 'parley-push-bench-'));
const key = newApnsKey();
const apns = new LocalApns(key, BUNDLE);
await apns.start();
try {
  const store = await openSqliteStore(sqliteFile(dir));
  const app = await store.accounts.createApplication({ name: 'bench' });
  const first = await store.accounts.createUser(app.id, { login: 'u0', password: 'pw' });
  const users = [first.id, ...cloneUser(store.db, first.id, Array.from({ length: 999 }, (_, i) => `u${i + 1}`))];
  const subs = [];
  for (const [i, userId] of users.entries()) {
    subs.push(await store.push.saveSubscription({ appId: app.id, userId, channel: 'apns', environment: 'production', token: i.toString(16).padStart(64, '0'), bundleId: BUNDLE, platform: 'ios', udid: 'd' }, new Date()));
  }
  const settings = new PushSettingsFiles(dir);
  await settings.update(app.id, (s) => void (s.apns = { keyPem: key.keyPem, keyId: key.keyId, teamId: key.teamId, bundleId: BUNDLE, endpoint: apns.url }));
  const payload = JSON.stringify({ aps: { alert: 'Ann: hello there', badge: 3, sound: 'default' }, dialog_id: '5f0c9a0e1c9d440000a1b2c3', message_id: '5f0c9a0e1c9d440000a1b2c4' });
  for (let done = 0; done < total; done += 1000) {
    const batch: NewOutboxPush[] = [];
    for (let i = done; i < Math.min(total, done + 1000); i++) {
      const s = subs[i % subs.length];
      batch.push({ appId: app.id, eventId: null, subscriptionId: s.id, userId: s.userId, channel: 'apns', environment: 'production', token: s.token, bundleId: BUNDLE, payload, collapseKey: null, dueAt: 0 });
    }
    await store.push.enqueue(batch);
  }
  const log = pino({ level: 'silent' });
  const delivery = new PushDelivery(store, new SenderPool(settings, log, { ca: apns.cert }), log, { concurrency, pollMs: 50 });
  console.log(`push delivery → local APNs (HTTP/2, TLS), ${total} pushes queued in SQLite, concurrency ${concurrency}, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  delivery.start();
  while (apns.delivered.length < total) {
    if (apns.refused.length) throw new Error(`APNs refused: ${JSON.stringify(apns.refused[0])}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const elapsed = (performance.now() - t0) / 1000;
  await delivery.stop();
  const cpu = process.cpuUsage(cpu0);
  const pending = (await store.push.outbox({ appId: app.id })).filter((p) => p.state !== 'sent').length;
  console.log(`${total} pushes in ${elapsed.toFixed(2)} s: ${Math.round(total / elapsed)} pushes/s, CPU ${(((cpu.user + cpu.system) / 1000) / total).toFixed(3)} ms/push (sender and endpoint), ${pending} not recorded as sent`);
  await store.close();
} finally {
  await apns.stop();
  rmSync(dir, { recursive: true, force: true });
}
