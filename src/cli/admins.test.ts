// `parley admins create|list|delete`: the password comes from standard input, never argv.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { main } from './main.js';
import { openSqliteStore, sqliteFile } from '../storage/sqlite/index.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-admins-'));

async function run(argv: string[], stdin = '') {
  let stdout = '';
  let stderr = '';
  const code = await main([...argv, '--data-dir', dataDir], {
    stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env: {}, stdin: Readable.from([stdin]),
  });
  return { code, stdout, stderr };
}

test('admins create reads the password from stdin, list shows the operator, delete removes it', async () => {
  const app = JSON.parse((await run(['apps', 'create', '--json'])).stdout);
  const created = await run(['admins', 'create', '--email', 'Ops@Example.org', '--apps', `${app.id}`, '--json'], 'a long password\nignored second line\n');
  assert.equal(created.code, 0, created.stderr);
  const operator = JSON.parse(created.stdout);
  assert.deepEqual({ ...operator, id: 0, created_at: '' }, { id: 0, email: 'ops@example.org', apps: [app.id], created_at: '' });

  const store = await openSqliteStore(sqliteFile(dataDir));
  try {
    assert.equal((await store.operators.verifyOperator('ops@example.org', 'a long password'))?.id, operator.id);
    assert.equal(await store.operators.verifyOperator('ops@example.org', 'a long password\nignored second line'), null);
  } finally {
    await store.close();
  }

  const all = await run(['admins', 'create', '--email', 'root@example.org'], 'another password\n');
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /created operator root@example\.org \(every application\)/);
  const list = await run(['admins', 'list']);
  assert.match(list.stdout, new RegExp(`${operator.id}  ops@example.org  apps ${app.id}\\n`));
  assert.match(list.stdout, /root@example\.org  all apps/);

  const duplicate = await run(['admins', 'create', '--email', 'OPS@example.org'], 'a long password\n');
  assert.equal(duplicate.code, 1);
  assert.match(duplicate.stderr, /already exists/);

  const deleted = await run(['admins', 'delete', '--email', 'ops@example.org']);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal((await run(['admins', 'delete', '--email', 'ops@example.org'])).code, 1);
  assert.doesNotMatch((await run(['admins', 'list'])).stdout, /ops@example/);
});

test('admins create refuses a password in argv, a short or missing password, and unknown applications', async () => {
  const argv = await run(['admins', 'create', '--email', 'x@example.org', '--password', 'in argv'], 'a long password\n');
  assert.equal(argv.code, 1);
  assert.match(argv.stderr, /Unknown option '--password'/);
  const short = await run(['admins', 'create', '--email', 'x@example.org'], 'short\n');
  assert.equal(short.code, 1);
  assert.match(short.stderr, /8 to 128 characters/);
  const none = await run(['admins', 'create', '--email', 'x@example.org'], '');
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no password on standard input/);
  const badApp = await run(['admins', 'create', '--email', 'x@example.org', '--apps', '999'], 'a long password\n');
  assert.match(badApp.stderr, /no application with id 999/);
  const badList = await run(['admins', 'create', '--email', 'x@example.org', '--apps', '1;2'], 'a long password\n');
  assert.match(badList.stderr, /--apps: expected application ids/);
  const badEmail = await run(['admins', 'create', '--email', 'not an email'], 'a long password\n');
  assert.match(badEmail.stderr, /--email: expected an email address/);
  assert.doesNotMatch((await run(['admins', 'list'])).stdout, /x@example/);
});
