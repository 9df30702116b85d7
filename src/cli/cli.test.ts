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

test('export writes a dialog\'s or an application\'s history to a file', async () => {
  const { openSqliteStore, sqliteFile } = await import('../storage/sqlite/index.js');
  const { ChatService } = await import('../chat/service.js');
  const { readFileSync } = await import('node:fs');
  const store = await openSqliteStore(sqliteFile(dataDir));
  const app = await store.accounts.createApplication({ name: 'export' });
  const [ann, bob] = [await store.accounts.createUser(app.id, { login: 'ann', password: 'x' }), await store.accounts.createUser(app.id, { login: 'bob', password: 'x' })];
  const chat = new ChatService(store, { mucDomain: 'muc.localhost' });
  const caller = { appId: app.id, userId: ann.id };
  const dialog = await chat.createDialog(caller, { type: 2, name: 'exported', occupants_ids: String(bob.id) });
  const other = await chat.createDialog(caller, { type: 3, occupants_ids: String(bob.id) });
  for (let i = 0; i < 3; i++) await chat.createMessage(caller, { chat_dialog_id: dialog._id, message: `m${i}` });
  await chat.createMessage(caller, { chat_dialog_id: other._id, message: 'private' });
  await store.close();

  const file = path.join(dataDir, 'dialog.jsonl');
  const one = await admin('export', '--app', String(app.id), '--dialog', dialog._id, '--out', file);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stderr, /exported 3 messages/);
  assert.deepEqual(readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l).message), ['m0', 'm1', 'm2']);

  const csvFile = path.join(dataDir, 'app.csv');
  const all = await admin('export', '--app', String(app.id), '--format', 'csv', '--out', csvFile);
  assert.equal(all.code, 0, all.stderr);
  const lines = readFileSync(csvFile, 'utf8').trim().split('\n');
  assert.equal(lines.length, 1 + 4);
  assert.match(lines[0], /^_id,chat_dialog_id,date_sent/);

  const unknown = await admin('export', '--app', String(app.id), '--dialog', 'f'.repeat(24), '--out', file);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /does not exist/);
  const badFormat = await admin('export', '--app', String(app.id), '--format', 'xml');
  assert.equal(badFormat.code, 1);
  assert.match(badFormat.stderr, /--format must be one of jsonl, csv/);
});

test('apps archive shows and sets mam_archive_all', async () => {
  const before = await admin('apps', 'archive', '--app', String(appId), '--json');
  assert.equal(before.code, 0, before.stderr);
  assert.deepEqual(JSON.parse(before.stdout), { app_id: appId, mam_archive_all: false });
  const on = await admin('apps', 'archive', '--app', String(appId), '--all', 'on');
  assert.equal(on.stdout.trim(), `application ${appId}: mam_archive_all on`);
  const off = await admin('apps', 'archive', '--app', String(appId), '--all', 'off', '--json');
  assert.deepEqual(JSON.parse(off.stdout), { app_id: appId, mam_archive_all: false });
  assert.equal((await admin('apps', 'archive', '--app', String(appId), '--all', 'maybe')).code, 1);
});
