// The platform admin verbs through main(): classes, API keys and application settings, on SQLite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from './main.js';
import { openSqliteStore, sqliteFile } from '../storage/sqlite/index.js';
import { hashApiKey } from '../rest/api-keys.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-cli-platform-'));

async function admin(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main([...argv, '--data-dir', dataDir], { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env: {} });
  return { code, stdout, stderr };
}

test('classes, API keys and settings from the command line', async () => {
  const app = JSON.parse((await admin('apps', 'create', '--json')).stdout) as { id: number };
  const id = String(app.id);

  const created = await admin('classes', 'create', '--app', id, '--name', 'Note', '--fields', 'title:String,score:Integer,tags:String_a', '--json');
  assert.equal(created.code, 0, created.stderr);
  const cls = JSON.parse(created.stdout);
  assert.deepEqual(cls.fields, { title: 'String', score: 'Integer', tags: 'String_a' });
  assert.deepEqual(cls.custom_fields[2], { name: 'tags', type: 'String', is_array: '1' });
  const again = await admin('classes', 'create', '--app', id, '--name', 'Note', '--fields', 'title:String');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /name has already been taken/);
  const badType = await admin('classes', 'create', '--app', id, '--name', 'Other', '--fields', 'when:Time');
  assert.equal(badType.code, 1);
  assert.match(badType.stderr, /unknown type "Time"/);
  const reserved = await admin('classes', 'create', '--app', id, '--name', 'Other', '--fields', 'user_id:Integer');
  assert.match(reserved.stderr, /reserved/);
  assert.deepEqual(JSON.parse((await admin('classes', 'list', '--app', id, '--json')).stdout).map((c: { name: string }) => c.name), ['Note']);
  assert.equal((await admin('classes', 'delete', '--app', id, '--name', 'Note')).code, 0);
  assert.equal((await admin('classes', 'delete', '--app', id, '--name', 'Note')).code, 1);

  const key = JSON.parse((await admin('apikeys', 'create', '--app', id, '--json')).stdout) as { id: number; key: string };
  assert.deepEqual(Object.keys(key), ['id', 'key']);
  const listed = await admin('apikeys', 'list', '--app', id, '--json');
  assert.ok(!listed.stdout.includes(key.key), 'the key is shown once only');
  const store = await openSqliteStore(sqliteFile(dataDir));
  try {
    assert.equal((await store.apiKeys.findLiveKey(hashApiKey(key.key)))?.id, key.id);
    const raw = store.db.prepare('SELECT key_hash FROM api_keys').pluck().all() as string[];
    assert.ok(!raw.includes(key.key), 'only a digest is stored');
  } finally {
    await store.close();
  }
  assert.equal((await admin('apikeys', 'revoke', '--app', id, '--id', String(key.id))).code, 0);
  assert.equal((await admin('apikeys', 'revoke', '--app', id, '--id', String(key.id))).code, 1);
  assert.ok(JSON.parse((await admin('apikeys', 'list', '--app', id, '--json')).stdout)[0].revoked_at);

  const set = await admin('apps', 'set', '--app', id, '--key', 'custom_objects_auto_create', '--value', 'true', '--json');
  assert.deepEqual(JSON.parse(set.stdout), { custom_objects_auto_create: true });
  const unknown = await admin('apps', 'set', '--app', id, '--key', 'nope', '--value', '1');
  assert.equal(unknown.code, 1);
  assert.deepEqual(JSON.parse((await admin('apps', 'set', '--app', id, '--key', 'custom_objects_auto_create', '--json')).stdout), {});
  assert.equal((await admin('classes', 'list', '--app', '99999')).code, 1);
});
