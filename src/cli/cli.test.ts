import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from './main.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-cli-'));

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env });
  return { code, stdout, stderr };
}
const admin = (...argv: string[]) => run([...argv, '--data-dir', dataDir]);

let appId = 0;

test('apps create --json prints QuickBlox-style credentials', async () => {
  const r = await admin('apps', 'create', '--name', 'test app', '--json');
  assert.equal(r.code, 0, r.stderr);
  const app = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(app), ['id', 'name', 'auth_key', 'auth_secret', 'account_key']);
  assert.equal(app.name, 'test app');
  assert.equal(typeof app.id, 'number');
  for (const k of ['auth_key', 'auth_secret', 'account_key']) assert.ok(typeof app[k] === 'string' && app[k].length > 0);
  appId = app.id;

  const list = await admin('apps', 'list', '--json');
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(JSON.parse(list.stdout), [app]);

  const text = await admin('apps', 'list');
  assert.match(text.stdout, new RegExp(`application ${app.id} "test app"\\n  auth_key: +${app.auth_key}`));
});

test('users create and list', async () => {
  const r = await admin('users', 'create', '--app', String(appId), '--login', 'alice', '--password', 'secret1', '--email', 'a@example.com', '--full-name', 'Alice A', '--json');
  assert.equal(r.code, 0, r.stderr);
  const alice = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(alice), ['id', 'app_id', 'login', 'email', 'full_name']);
  assert.deepEqual({ ...alice, id: 0 }, { id: 0, app_id: appId, login: 'alice', email: 'a@example.com', full_name: 'Alice A' });

  const b = await admin('users', 'create', '--app', String(appId), '--login', 'bob', '--password', 'secret2');
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, new RegExp(`^created user \\d+  bob  \\d+-${appId}@localhost\\n$`));

  const list = await admin('users', 'list', '--app', String(appId), '--json');
  assert.equal(list.code, 0, list.stderr);
  const users = JSON.parse(list.stdout);
  assert.deepEqual(users.map((u: { login: string }) => u.login).sort(), ['alice', 'bob']);
  assert.deepEqual(users.find((u: { login: string }) => u.login === 'alice'), alice);

  const text = await admin('users', 'list', '--app', String(appId));
  assert.ok(text.stdout.includes(`${alice.id}  alice  ${alice.id}-${appId}@localhost  a@example.com  "Alice A"`), text.stdout);
});

test('duplicate login fails with exit 1', async () => {
  const r = await admin('users', 'create', '--app', String(appId), '--login', 'alice', '--password', 'x', '--json');
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^parley: .*alice.*already taken/);
});

test('unknown application fails with exit 1', async () => {
  for (const verb of [['users', 'list'], ['users', 'create', '--login', 'x', '--password', 'y']]) {
    const r = await admin(...verb, '--app', '9999');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no application with id 9999/);
  }
});

test('usage errors fail with exit 1', async () => {
  const missing = await admin('users', 'create', '--app', String(appId), '--login', 'x');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /missing required option --password/);
  const badApp = await admin('users', 'list', '--app', 'abc');
  assert.match(badApp.stderr, /--app: expected an application id, got "abc"/);
  const unknownOpt = await admin('apps', 'list', '--bogus');
  assert.equal(unknownOpt.code, 1);
  assert.match(unknownOpt.stderr, /bogus/);
  const unknownVerb = await run(['frobnicate']);
  assert.equal(unknownVerb.code, 1);
  assert.match(unknownVerb.stderr, /unknown command "frobnicate"/);
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: parley/);
});

test('invalid configuration exits with 2', async () => {
  const r = await run(['apps', 'list', '--data-dir', dataDir], { PARLEY_C2S_PORT: 'abc' });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'parley: invalid configuration: PARLEY_C2S_PORT: expected a port number 0-65535, got "abc"\n');
  const file = path.join(dataDir, 'bad.json');
  writeFileSync(file, JSON.stringify({ log_level: 'loud' }));
  const f = await run(['serve', '--config', file]);
  assert.equal(f.code, 2);
  assert.match(f.stderr, /^parley: invalid configuration: .*bad\.json: log_level: expected one of/);
});

test('config prints the effective configuration', async () => {
  const r = await run(['config', '--json', '--data-dir', dataDir], { PARLEY_DOMAIN: 'Chat.Example' });
  assert.equal(r.code, 0, r.stderr);
  const c = JSON.parse(r.stdout);
  assert.equal(c.domain, 'chat.example');
  assert.equal(c.data_dir, dataDir);
  const text = await run(['config'], { PARLEY_HTTP_PORT: '0' });
  assert.match(text.stdout, /^http_port +0 +PARLEY_HTTP_PORT$/m);
  const md = await run(['config', '--markdown']);
  assert.match(md.stdout, /^\| Key \| Environment \| Default \| Description \|/);
});
