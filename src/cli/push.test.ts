// `parley push set|show|alerts`: credentials land in owner-only files, bad keys are refused with a
// clear message, and nothing secret is ever printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { newApnsKey, newServiceAccount } from '../push/local-providers.js';
import { main } from './main.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-cli-push-'));

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main([...argv, '--data-dir', dataDir], { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env: {} });
  return { code, stdout, stderr };
}

test('push set stores credentials owner-only and push show never prints them', async () => {
  const app = JSON.parse((await run('apps', 'create', '--json')).stdout) as { id: number };
  const key = newApnsKey();
  const keyFile = path.join(dataDir, 'AuthKey.p8');
  writeFileSync(keyFile, key.keyPem);
  const { account } = newServiceAccount('https://oauth2.googleapis.com/token');
  const accountFile = path.join(dataDir, 'sa.json');
  writeFileSync(accountFile, JSON.stringify(account));
  const id = String(app.id);

  const apns = await run('push', 'set', '--app', id, '--channel', 'apns', '--key-file', keyFile, '--key-id', key.keyId, '--team-id', key.teamId, '--bundle-id', 'com.example.a', '--json');
  assert.equal(apns.code, 0, apns.stderr);
  const gcm = await run('push', 'set', '--app', id, '--channel', 'gcm', '--service-account', accountFile, '--endpoint', 'http://127.0.0.1:9/');
  assert.equal(gcm.code, 0, gcm.stderr);
  const hook = await run('push', 'set', '--app', id, '--channel', 'webhook', '--url', 'https://gw.example.com/push', '--secret', 'webhook-secret-0123456789');
  assert.equal(hook.code, 0, hook.stderr);
  const alerts = await run('push', 'alerts', '--app', id, '--disable', '--template', '{sender}: {text}!');
  assert.equal(alerts.code, 0, alerts.stderr);

  const file = path.join(dataDir, 'push', `app-${id}.json`);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
  assert.ok(readFileSync(file, 'utf8').includes('PRIVATE KEY'), 'the key is kept for the server');

  const shown = await run('push', 'show', '--app', id, '--json');
  assert.equal(shown.code, 0, shown.stderr);
  assert.deepEqual(JSON.parse(shown.stdout), {
    app_id: app.id,
    apns: { key_id: key.keyId, team_id: key.teamId, bundle_id: 'com.example.a', endpoint: null },
    gcm: { project_id: account.project_id, client_email: account.client_email, endpoint: 'http://127.0.0.1:9' },
    webhook: { url: 'https://gw.example.com/push' },
    alerts: { enabled: false, template: '{sender}: {text}!' },
  });
  for (const out of [apns, gcm, hook, alerts, shown, await run('push', 'show', '--app', id)]) {
    assert.ok(!/PRIVATE KEY|webhook-secret/.test(out.stdout + out.stderr), 'no secret printed');
  }
});

test('push set refuses bad keys, unknown channels and unknown applications', async () => {
  const app = JSON.parse((await run('apps', 'create', '--json')).stdout) as { id: number };
  const notAKey = path.join(dataDir, 'not-a-key.p8');
  writeFileSync(notAKey, 'hello');
  const id = String(app.id);
  const bad = await run('push', 'set', '--app', id, '--channel', 'apns', '--key-file', notAKey, '--key-id', 'ABCDEFGHIJ', '--team-id', 'ABCDEFGHIJ', '--bundle-id', 'b');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /not an APNs \.p8 key/);
  assert.match((await run('push', 'set', '--app', id, '--channel', 'mpns')).stderr, /--channel must be apns, gcm or webhook/);
  assert.match((await run('push', 'set', '--app', id, '--channel', 'webhook', '--url', 'https://x', '--secret', 'short')).stderr, /at least 16/);
  assert.equal((await run('push', 'show', '--app', '99999')).code, 1);
  assert.match((await run('push', 'alerts', '--app', id)).stderr, /--enable or --disable/);
});
