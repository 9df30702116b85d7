// Push e2e support: local APNs and FCM endpoints, credentials set through `parley push set` (the
// CLI, in process, on the test server's data directory and store), and REST calls over a socket.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { LocalApns, LocalFcm, newApnsKey, type ApnsKey } from '../../src/push/local-providers.js';
import type { TestServer } from './server.js';
import { restUrl } from './rest.js';

export const BUNDLE = 'com.example.parley';

export interface Providers {
  key: ApnsKey;
  apns: LocalApns;
  fcm: LocalFcm;
  stop(): Promise<void>;
}

export async function startProviders(): Promise<Providers> {
  const key = newApnsKey();
  const apns = new LocalApns(key, BUNDLE);
  await apns.start();
  const fcm = new LocalFcm();
  await fcm.start();
  return { key, apns, fcm, stop: async () => void (await Promise.all([apns.stop(), fcm.stop()])) };
}

/** `parley <args> --app <app> --data-dir <server's>` against the test server's store; returns stdout. */
export async function parley(t: TestServer, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const env: NodeJS.ProcessEnv = { PARLEY_STORE: t.config.store };
  if (t.config.database_url) env.PARLEY_DATABASE_URL = t.config.database_url;
  const code = await main([...args, '--data-dir', t.config.data_dir], { stdout: (s) => void (out += s), stderr: (s) => void (err += s), env });
  return { code, out, err };
}

/** Points the test server's application at the local providers, through the CLI. */
export async function configureProviders(t: TestServer, p: Providers, appId = t.app.id): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-push-keys-'));
  const keyFile = join(dir, `AuthKey_${p.key.keyId}.p8`);
  writeFileSync(keyFile, p.key.keyPem);
  const accountFile = join(dir, 'service-account.json');
  writeFileSync(accountFile, JSON.stringify(p.fcm.account));
  const apns = await parley(t, ['push', 'set', '--app', String(appId), '--channel', 'apns', '--key-file', keyFile, '--key-id', p.key.keyId,
    '--team-id', p.key.teamId, '--bundle-id', BUNDLE, '--endpoint', p.apns.url]);
  if (apns.code !== 0) throw new Error(`push set apns: ${apns.err}`);
  const gcm = await parley(t, ['push', 'set', '--app', String(appId), '--channel', 'gcm', '--service-account', accountFile, '--endpoint', p.fcm.url]);
  if (gcm.code !== 0) throw new Error(`push set gcm: ${gcm.err}`);
}


export { until } from './wait.js';

export async function rest(t: TestServer, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(restUrl(t, path), {
    method,
    headers: { 'QB-Token': token, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export const hexToken = (seed: number): string => seed.toString(16).padStart(8, '0').repeat(8);
