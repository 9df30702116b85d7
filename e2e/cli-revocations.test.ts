// The CLI runs outside the server, yet `parley users passwd` and `parley apps delete` end the live
// XMPP streams of a running server: they record a revocation in the store, which every node reads
// every REVOCATION_POLL_MS, and tell a server on the same SQLite data directory at once (SIGHUP).
// A real server process, a real @xmpp/client, the CLI as a child process.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../src/storage/open.js';
import { REVOCATION_POLL_MS } from '../src/session-revocations.js';
import { freePort, type TestServer } from './support/server.js';
import { rawClient, stopClient } from './support/clients.js';
import { useServer } from './support/fixture.js';
import { until, withTimeout } from './support/wait.js';

const BIN = fileURLToPath(new URL('../../bin/parley.js', import.meta.url));

/** Runs the CLI as a child process; resolves when it exits. */
function cli(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin!.end(stdin);
  return withTimeout(new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr }))), 30_000, `parley ${args.join(' ')}`);
}

/** Signs in with @xmpp/client and collects the stream errors it gets. */
async function signIn(c2s: number, user: { username: string; password: string }): Promise<{ xmpp: any; errors: string[]; closed: () => boolean }> {
  const t = { domain: 'localhost', server: { ports: { c2s } } } as unknown as TestServer;
  const xmpp = rawClient(t, user);
  const errors: string[] = [];
  let offline = false;
  xmpp.on('error', (err: { condition?: string }) => errors.push(err.condition ?? String(err)));
  xmpp.on('offline', () => (offline = true));
  await withTimeout(xmpp.start(), 10_000, `login ${user.username}`);
  return { xmpp, errors, closed: () => offline };
}

describe('CLI changes reach a running server', () => {
  const root = mkdtempSync(join(tmpdir(), 'parley-cli-revoke-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('users passwd ends the user\'s stream with <reset/>, apps delete the application\'s with <not-authorized/>', async () => {
    const dir = join(root, 'data');
    const store = await openStore({ store: 'sqlite', database_url: null, data_dir: dir });
    const [app, doomed] = [await store.accounts.createApplication({ name: 'kept' }), await store.accounts.createApplication({ name: 'doomed' })];
    const alice = await store.accounts.createUser(app.id, { login: 'alice', password: 'old-password-1' });
    const bob = await store.accounts.createUser(app.id, { login: 'bob', password: 'bob-password-1' });
    const carol = await store.accounts.createUser(doomed.id, { login: 'carol', password: 'carol-password-1' });
    await store.close();

    const c2s = await freePort();
    const env = {
      ...process.env,
      PARLEY_DATA_DIR: dir, PARLEY_DOMAIN: 'localhost', PARLEY_BIND: '127.0.0.1',
      PARLEY_C2S_PORT: String(c2s), PARLEY_C2S_TLS_PORT: '0', PARLEY_WS_PORT: '0', PARLEY_HTTP_PORT: '0', PARLEY_HTTPS_PORT: '0',
      PARLEY_LOG_LEVEL: 'info', PARLEY_INSECURE_FAST_PASSWORD_HASH: '1',
    };
    const server = spawn(process.execPath, [BIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const serverExit = new Promise<number | null>((resolve) => server.once('exit', resolve));
    let out = '';
    server.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const clients: any[] = [];
    try {
      await until(() => out.includes('Parley is listening'), 30_000, 'server start');
      const a = await signIn(c2s, { username: `${alice.id}-${app.id}`, password: 'old-password-1' });
      const b = await signIn(c2s, { username: `${bob.id}-${app.id}`, password: 'bob-password-1' });
      const c = await signIn(c2s, { username: `${carol.id}-${doomed.id}`, password: 'carol-password-1' });
      clients.push(a.xmpp, b.xmpp, c.xmpp);

      const passwd = await cli(['users', 'passwd', '--app', String(app.id), '--id', String(alice.id), '--json'], env, 'new-password-2\n');
      assert.equal(passwd.code, 0, passwd.stderr);
      assert.equal(JSON.parse(passwd.stdout).signalled_server, server.pid);
      const changedAt = Date.now();
      await until(() => a.errors.includes('reset'), 5_000, "alice's stream ends with <reset/>");
      const passwdMs = Date.now() - changedAt;
      assert.ok(passwdMs < REVOCATION_POLL_MS, `told at once (SIGHUP), not at the next read: ${passwdMs} ms`);
      // The new password signs in; the other users' streams are untouched.
      const again = await signIn(c2s, { username: `${alice.id}-${app.id}`, password: 'new-password-2' });
      clients.push(again.xmpp);

      const del = await cli(['apps', 'delete', '--app', String(doomed.id), '--yes', '--json'], env);
      assert.equal(del.code, 0, del.stderr);
      assert.equal(JSON.parse(del.stdout).signalled_server, server.pid);
      const deletedAt = Date.now();
      await until(() => c.errors.includes('not-authorized'), 5_000, "carol's stream ends with <not-authorized/>");
      const deleteMs = Date.now() - deletedAt;
      assert.ok(deleteMs < REVOCATION_POLL_MS, `told at once: ${deleteMs} ms`);
      assert.deepEqual(b.errors, []);
      assert.equal(b.closed(), false, "bob's stream stays");
      assert.deepEqual(again.errors, []);
      assert.match(out, /ended streams as the command line asked/);
      console.log(`# CLI → stream ended: users passwd ${passwdMs} ms, apps delete ${deleteMs} ms after the CLI exited`);
    } finally {
      await Promise.all(clients.map((x) => stopClient(x)));
      server.kill('SIGTERM');
      await withTimeout(serverExit, 20_000, 'server exit');
    }
  });
});

describe('a node reads recorded revocations on its own (no signal: PostgreSQL, or another host)', () => {
  const fx = useServer();

  it(`ends the user's streams within REVOCATION_POLL_MS (${REVOCATION_POLL_MS} ms) of the record, and only the streams of that user`, async () => {
    const [u, other] = [await fx.t.createUser(), await fx.t.createUser()];
    const conn = await fx.pool.connect(u);
    const bystander = await fx.pool.connect(other);
    await fx.t.store.accounts.setPassword(fx.t.app.id, u.id, 'changed-elsewhere-1');
    const at = Date.now();
    await fx.t.store.revocations.add({ kind: 'password', appId: fx.t.app.id, userId: u.id });
    await until(() => conn.errors.some((e) => e.condition === 'reset'), REVOCATION_POLL_MS + 1_500, 'a reset stream error without a signal');
    const ms = Date.now() - at;
    assert.ok(ms <= REVOCATION_POLL_MS + 1_500, `${ms} ms`);
    assert.deepEqual(bystander.errors, []);
    await bystander.ping();
    // A record is applied once: the next read has nothing new.
    assert.equal(await fx.t.server.applyRevocations(), 0);
    console.log(`# record → stream ended without a signal: ${ms} ms`);
  });
});
