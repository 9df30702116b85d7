// The operator's verbs (users passwd/delete, apps rotate-secret/delete, --version), serve refusing
// what it does not know, and start-up errors that name what to change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from './main.js';
import { openStore } from '../storage/open.js';
import { loadConfig } from '../config/load.js';
import { BlobFiles } from '../storage/blob-files.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-cli-ops-'));
const BIN = fileURLToPath(new URL('../../../bin/parley.js', import.meta.url));

async function run(argv: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: string } = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    env: opts.env ?? {},
    stdin: Readable.from(opts.stdin === undefined ? [] : [opts.stdin]),
  });
  return { code, stdout, stderr };
}
const admin = (argv: string[], stdin?: string) => run([...argv, '--data-dir', dataDir], { stdin });

async function verifies(appId: number, userId: number, password: string): Promise<boolean> {
  const store = await openStore(loadConfig({ file: null, env: {}, overrides: { data_dir: dataDir } }));
  try {
    return await store.accounts.verifyPassword(appId, userId, password);
  } finally {
    await store.close();
  }
}

test('--version prints the package version', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
  for (const flag of ['--version', '-v', 'version']) {
    const r = await run([flag]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `parley ${pkg.version}\n`);
  }
});

test('users passwd reads the new password from stdin; users delete removes the user', async () => {
  const app = JSON.parse((await admin(['apps', 'create', '--json'])).stdout);
  const alice = JSON.parse((await admin(['users', 'create', '--app', String(app.id), '--login', 'alice', '--password', 'old-pw', '--json'])).stdout);

  const byLogin = await admin(['users', 'passwd', '--app', String(app.id), '--login', 'alice'], 'new pw with spaces\n');
  assert.equal(byLogin.code, 0, byLogin.stderr);
  assert.match(byLogin.stdout, /^password changed for \d+  alice  /);
  assert.equal(await verifies(app.id, alice.id, 'new pw with spaces'), true);
  assert.equal(await verifies(app.id, alice.id, 'old-pw'), false);

  const byId = await admin(['users', 'passwd', '--app', String(app.id), '--id', String(alice.id)], 'third');
  assert.equal(byId.code, 0, byId.stderr);
  assert.equal(await verifies(app.id, alice.id, 'third'), true);

  const empty = await admin(['users', 'passwd', '--app', String(app.id), '--login', 'alice'], '');
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /no password given on stdin/);
  const argv = await admin(['users', 'passwd', '--app', String(app.id), '--login', 'alice', '--password', 'x'], 'y\n');
  assert.equal(argv.code, 1, 'never from argv');
  assert.match(argv.stderr, /Unknown option '--password'/);
  const both = await admin(['users', 'passwd', '--app', String(app.id), '--login', 'alice', '--id', '1'], 'y\n');
  assert.match(both.stderr, /either --id N or --login L/);
  const nobody = await admin(['users', 'passwd', '--app', String(app.id), '--login', 'nobody'], 'y\n');
  assert.equal(nobody.code, 1);
  assert.match(nobody.stderr, /no user with login "nobody" in application/);

  const del = await admin(['users', 'delete', '--app', String(app.id), '--login', 'alice', '--json']);
  assert.equal(del.code, 0, del.stderr);
  assert.equal(JSON.parse(del.stdout).deleted.id, alice.id);
  const list = await admin(['users', 'list', '--app', String(app.id), '--json']);
  assert.deepEqual(JSON.parse(list.stdout), []);
  const again = await admin(['users', 'delete', '--app', String(app.id), '--id', String(alice.id)]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /no user with id/);
});

test('users delete tells a server running on the data directory to look at its sessions again (SIGHUP)', async () => {
  const app = JSON.parse((await admin(['apps', 'create', '--name', 'signalled', '--json'])).stdout);
  assert.equal((await admin(['users', 'create', '--app', String(app.id), '--login', 'carol', '--password', 'secret-pass'])).code, 0);
  // Stands in for the server: holds the lock with its pid and reports the signal.
  const server = spawn(process.execPath, ['-e', "process.on('SIGHUP', () => { console.log('hup'); process.exit(0); }); console.log('ready'); setInterval(() => {}, 1000);"]);
  let heard = '';
  server.stdout.on('data', (d: Buffer) => (heard += d.toString()));
  while (!heard.includes('ready')) await new Promise((r) => setTimeout(r, 20));
  const lock = path.join(dataDir, 'parley.lock');
  writeFileSync(lock, `${server.pid}\n`);
  try {
    const del = await admin(['users', 'delete', '--app', String(app.id), '--login', 'carol', '--json']);
    assert.equal(del.code, 0, del.stderr);
    assert.equal(JSON.parse(del.stdout).signalled_server, server.pid);
    const code = await new Promise((r) => server.once('exit', r));
    assert.equal(code, 0);
    assert.match(heard, /hup/);
  } finally {
    server.kill();
    unlinkSync(lock);
  }
  assert.equal(JSON.parse((await admin(['users', 'create', '--app', String(app.id), '--login', 'dave', '--password', 'secret-pass', '--json'])).stdout).login, 'dave');
  const alone = await admin(['users', 'delete', '--app', String(app.id), '--login', 'dave', '--json']);
  assert.equal(JSON.parse(alone.stdout).signalled_server, null, 'no server runs: nobody to tell');
});

test('apps rotate-secret and apps delete (which asks for --yes)', async () => {
  const app = JSON.parse((await admin(['apps', 'create', '--name', 'rotating', '--json'])).stdout);
  const rotated = await admin(['apps', 'rotate-secret', '--app', String(app.id), '--json']);
  assert.equal(rotated.code, 0, rotated.stderr);
  const after = JSON.parse(rotated.stdout);
  assert.notEqual(after.auth_secret, app.auth_secret);
  assert.deepEqual({ ...after, auth_secret: app.auth_secret }, app);
  const listed = JSON.parse((await admin(['apps', 'list', '--json'])).stdout).find((a: { id: number }) => a.id === app.id);
  assert.equal(listed.auth_secret, after.auth_secret);

  // A blob of the application and one of another: only the first file goes with the application.
  const other = JSON.parse((await admin(['apps', 'create', '--name', 'bystander', '--json'])).stdout);
  const files = new BlobFiles(path.join(dataDir, 'blobs'));
  const blobOf = async (appId: number, uid: string) => {
    const store = await openStore(loadConfig({ file: null, env: {}, overrides: { data_dir: dataDir } }));
    try {
      const user = await store.accounts.createUser(appId, { login: `owner${uid.slice(0, 4)}`, password: 'secret-pass' });
      await store.blobs.createBlob({
        appId, userId: user.id, uid, name: 'a.txt', contentType: 'text/plain', public: false, tags: [],
        uploadKeyHash: uid, uploadExpiresAt: new Date(Date.now() + 60_000),
      });
      await files.put(uid, Readable.from([Buffer.from('bytes')]), 100);
    } finally {
      await store.close();
    }
  };
  const doomed = 'aa'.repeat(16);
  const kept = 'bb'.repeat(16);
  await blobOf(app.id, doomed);
  await blobOf(other.id, kept);

  const unconfirmed = await admin(['apps', 'delete', '--app', String(app.id)]);
  assert.equal(unconfirmed.code, 1);
  assert.match(unconfirmed.stderr, /add --yes to confirm/);
  const deleted = await admin(['apps', 'delete', '--app', String(app.id), '--yes']);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(deleted.stdout, `deleted application ${app.id} "rotating" (1 blob files removed)\n`);
  assert.equal(existsSync(files.pathOf(doomed)), false, "the deleted application's blob file is gone");
  assert.equal(existsSync(files.pathOf(kept)), true, "another application's blob file stays");
  assert.equal(JSON.parse((await admin(['apps', 'list', '--json'])).stdout).some((a: { id: number }) => a.id === app.id), false);
  const missing = await admin(['apps', 'rotate-secret', '--app', String(app.id)]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no application with id/);
});

test('serve refuses options and arguments it does not know', async () => {
  for (const [argv, message] of [
    [['serve', '--port', '80'], /serve: Unknown option '--port'/],
    [['serve', '--bogus'], /serve: Unknown option '--bogus'/],
    [['serve', 'now'], /serve: Unexpected argument 'now'/],
  ] as const) {
    const r = await admin([...argv]);
    assert.equal(r.code, 1, argv.join(' '));
    assert.match(r.stderr, message);
  }
});

test('a busy port names its configuration key', async () => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const port = (holder.address() as net.AddressInfo).port;
  try {
    const env = { PARLEY_C2S_PORT: '0', PARLEY_C2S_TLS_PORT: '0', PARLEY_WS_PORT: '0', PARLEY_HTTPS_PORT: '0', PARLEY_HTTP_PORT: String(port), PARLEY_LOG_LEVEL: 'silent' };
    const r = await run(['serve', '--data-dir', dataDir], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use: stop what holds it or change http_port \\(PARLEY_HTTP_PORT\\)`));
  } finally {
    holder.close();
  }
});

test('a database that cannot be written names its path', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-ro-'));
  const store = await openStore(loadConfig({ file: null, env: {}, overrides: { data_dir: dir } }));
  await store.close();
  const file = path.join(dir, 'parley.sqlite');
  chmodSync(file, 0o444);
  chmodSync(dir, 0o555);
  const env = { ...process.env, PARLEY_C2S_PORT: '0', PARLEY_C2S_TLS_PORT: '0', PARLEY_WS_PORT: '0', PARLEY_HTTP_PORT: '0', PARLEY_HTTPS_PORT: '0', PARLEY_LOG_LEVEL: 'silent' };
  // root may write anything: run the server as nobody then, for whom the file is read-only.
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const child = spawn(process.execPath, [BIN, 'serve', '--data-dir', dir], { env, stdio: ['ignore', 'pipe', 'pipe'], ...asNobody });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 1, stderr);
  // The data directory (made owner-only at start) or the database file, whichever is refused first.
  assert.ok(stderr.includes(`cannot write the database ${file}`) || stderr.includes(`cannot write ${dir}`), stderr);
  assert.match(stderr, /change data_dir \(PARLEY_DATA_DIR\)/);
});

test('parley config masks the metrics token', async () => {
  const r = await run(['config', '--json'], { env: { PARLEY_METRICS_TOKEN: 'do-not-print-me' } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).metrics_token, '***');
  const text = await run(['config'], { env: { PARLEY_METRICS_TOKEN: 'do-not-print-me' } });
  assert.ok(!text.stdout.includes('do-not-print-me'));
});
