// Memory per authenticated idle connection, without tsung: a spawned Parley, N raw-socket clients that
// log in (PLAIN, bind, session, initial presence) and then stay silent.
//   node dist/bench/idle.js [--connections 5000] [--heap-snapshots DIR]
// --heap-snapshots writes the server's V8 heap snapshot before and after the logins into DIR.
// Reports the server's RSS before and after, read from /proc. The users share
// one password hash (copies of one row), so logins cost one scrypt in all, as in bench/compare.js.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openSqliteStore, sqliteFile } from '../src/storage/sqlite/index.js';
import { freePort, waitForPort } from '../e2e/support/server.js';
import { sleep } from '../e2e/support/wait.js';
import { RawClient } from '../e2e/support/raw.js';

const { values } = parseArgs({ options: { connections: { type: 'string', default: '5000' }, 'heap-snapshots': { type: 'string' } } });
const snapshots = values['heap-snapshots'] ? resolve(values['heap-snapshots']) : null;
const total = Number(values.connections);

const dataDir = mkdtempSync(join(tmpdir(), 'parley-idle-'));
const store = await openSqliteStore(sqliteFile(dataDir));
const app = await store.accounts.createApplication({ name: 'bench' });
const first = await store.accounts.createUser(app.id, { login: 'u1', password: 'pw' });
const clone = store.db.prepare(
  `INSERT INTO users (app_id, login, password_hash, scram_sha1, scram_sha256, created_at, updated_at)
   SELECT app_id, ?, password_hash, scram_sha1, scram_sha256, created_at, updated_at FROM users WHERE id = ?`,
);
store.db.transaction(() => {
  for (let i = 2; i <= total; i++) clone.run(`u${i}`, first.id);
})();
await store.close();

const port = await freePort();
const snapshotArgs = snapshots ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshots}`] : [];
const server = spawn(process.execPath, [...snapshotArgs, resolve('bin/parley.js'), 'serve'], {
  env: {
    ...process.env, PARLEY_DATA_DIR: dataDir, PARLEY_C2S_PORT: String(port), PARLEY_C2S_TLS_PORT: '0', PARLEY_WS_PORT: '0',
    PARLEY_HTTP_PORT: '0', PARLEY_HTTPS_PORT: '0', PARLEY_LOG_LEVEL: 'warn', PARLEY_MAX_CONNECTIONS_PER_IP: '1000000',
    PARLEY_AUTH_FAILURES_PER_MINUTE: '1000000',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
process.on('exit', () => {
  server.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});
await waitForPort(port);

const status = (): { rss: number; anon: number } => {
  const text = readFileSync(`/proc/${server.pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN);
  return { rss: kb('VmRSS'), anon: kb('RssAnon') };
};

const clients: RawClient[] = [];
const login = async (id: number): Promise<void> => {
  const c = await RawClient.connect(port);
  await c.login(`${id}-${app.id}`, 'pw', 'idle');
  c.socket.removeAllListeners('data');
  clients.push(c);
};
// The first login pays the scrypt hash; the rest hit the remembered digest.
await login(first.id);
await sleep(2000);
const snapshot = async (): Promise<void> => {
  if (!snapshots) return;
  const count = readdirSync(snapshots).length;
  server.kill('SIGUSR2');
  // Written synchronously by the server: done when the new file stops growing.
  let size = -1;
  for (;;) {
    await sleep(1000);
    const files = readdirSync(snapshots).sort();
    if (files.length === count) continue;
    const now = statSync(join(snapshots, files.at(-1)!)).size;
    if (now > 0 && now === size) return;
    size = now;
  }
};
await snapshot();
const before = status();
const started = performance.now();
for (let id = first.id + 1; id < first.id + total; id += 50) {
  await Promise.all(Array.from({ length: Math.min(50, first.id + total - id) }, (_, k) => login(id + k)));
}
const loginS = (performance.now() - started) / 1000;
await sleep(5000);
const after = status();
await snapshot();
const perConn = (a: number, b: number): string => (((b - a) * 1024) / (clients.length - 1) / 1024).toFixed(2);
console.log(`Parley idle connections: ${clients.length.toLocaleString('en-US')} logged in over ${loginS.toFixed(1)} s, then 5 s idle`);
console.log(`server RSS ${(before.rss / 1024).toFixed(1)} → ${(after.rss / 1024).toFixed(1)} MB: ${perConn(before.rss, after.rss)} KB per connection (anonymous memory: ${perConn(before.anon, after.anon)} KB)`);
clients.forEach((c) => c.destroy());
process.exit(0);
