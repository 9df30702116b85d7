// The outbox survives a crash: pushes waiting for an unreachable provider when the server is
// killed (SIGKILL, no shutdown) are each sent exactly once after a restart; and two nodes on one
// store deliver each push once between them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signedSessionParams } from '../src/rest/harness.js';
import { openSqliteStore, sqliteFile } from '../src/storage/sqlite/index.js';
import type { Application } from '../src/storage/types.js';
import { freePort, startTestServer, waitForPort, type TestServer } from './support/server.js';
import { BUNDLE, configureProviders, hexToken, startProviders, until, type Providers } from './support/push.js';
import { sleep } from './support/wait.js';

const BIN = fileURLToPath(new URL('../../bin/parley.js', import.meta.url));
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

async function userSession(base: string, app: Application, login: string, password: string): Promise<string> {
  const res = await fetch(`${base}/session.json`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(signedSessionParams(app, { user: { login, password } })),
  });
  assert.equal(res.status, 201);
  return ((await res.json()) as { session: { token: string } }).session.token;
}

async function sendEvent(base: string, token: string, userIds: number[], text: string): Promise<void> {
  const res = await fetch(`${base}/events.json`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'QB-Token': token },
    body: JSON.stringify({ event: { notification_type: 'push', environment: 'development', user: { ids: userIds.join(',') }, message: b64(text) } }),
  });
  assert.equal(res.status, 201, await res.text());
}

describe('push outbox across a crash', () => {
  let p: Providers;
  let dataDir: string;
  let child: ChildProcess | null = null;
  before(async () => {
    p = await startProviders();
    dataDir = mkdtempSync(join(tmpdir(), 'parley-push-crash-'));
  });
  after(async () => {
    child?.kill('SIGKILL');
    await p.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('sends each pending push once after the server is killed and started again', async () => {
    const httpPort = await freePort();
    const base = `http://127.0.0.1:${httpPort}`;
    const store = await openSqliteStore(sqliteFile(dataDir));
    const app = await store.accounts.createApplication({ name: 'crash' });
    const sender = await store.accounts.createUser(app.id, { login: 'sender', password: 'pw-sender' });
    const tokens: string[] = [];
    const recipients: number[] = [];
    for (let i = 0; i < 5; i++) {
      const u = await store.accounts.createUser(app.id, { login: `r${i}`, password: 'pw' });
      tokens.push(hexToken(0x9000 + i));
      recipients.push(u.id);
      await store.push.saveSubscription({ appId: app.id, userId: u.id, channel: 'apns', environment: 'development', token: tokens[i], bundleId: BUNDLE, platform: 'ios', udid: 'd' }, new Date());
    }
    await store.close();
    // The CLI writes the credentials exactly as an operator would.
    await configureProviders({ app, config: { data_dir: dataDir, store: 'sqlite', database_url: null } } as unknown as TestServer, p, app.id);
    const env: NodeJS.ProcessEnv = {
      ...process.env, PARLEY_STORE: 'sqlite', PARLEY_DATA_DIR: dataDir, PARLEY_HTTP_PORT: String(httpPort), PARLEY_HTTPS_PORT: '0', PARLEY_C2S_PORT: '0',
      PARLEY_C2S_TLS_PORT: '0', PARLEY_WS_PORT: '0', PARLEY_LOG_LEVEL: 'silent', PARLEY_PUSH_RETRY_SECONDS: '1', NODE_TLS_REJECT_UNAUTHORIZED: '0',
    };
    delete env.PARLEY_DATABASE_URL;
    // The crashing server uses SQLite in its data directory whatever store the suite runs on.
    const serve = () => spawn(process.execPath, [BIN, 'serve'], { env, stdio: 'ignore' });

    const apnsPort = p.apns.port;
    await p.apns.stop();
    child = serve();
    await waitForPort(httpPort);
    const token = await userSession(base, app, sender.login, 'pw-sender');
    for (let i = 0; i < 5; i++) await sendEvent(base, token, [recipients[i]], `crash ${i}`);
    const pending = async () => {
      const s = await openSqliteStore(sqliteFile(dataDir));
      try {
        return (await s.push.outbox({ appId: app.id })).filter((x) => x.state === 'pending' && x.lastError !== null).length;
      } finally {
        await s.close();
      }
    };
    await until(async () => (await pending()) === 5, 15_000, 'five pushes waiting for a retry');
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    assert.equal(p.apns.delivered.length, 0, "nothing reached the provider before the crash");

    await p.apns.start(apnsPort);
    child = serve();
    await until(() => p.apns.delivered.length >= 5, 30_000, 'delivered after the restart');
    await sleep(2500);
    assert.deepEqual(p.apns.delivered.map((d) => d.token).sort(), [...tokens].sort(), 'each once');
    assert.deepEqual(p.apns.delivered.map((d) => (d.payload.aps as { alert: string }).alert).sort(), [0, 1, 2, 3, 4].map((i) => `crash ${i}`));
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
    child = null;
  });
});

describe('push outbox on two nodes', () => {
  let p: Providers;
  let nodes: TestServer[] = [];
  before(async () => {
    p = await startProviders();
    const first = await startTestServer({ push_retry_seconds: 1 });
    nodes = [first, await startTestServer({ push_retry_seconds: 1 }, { share: first })];
    await configureProviders(first, p);
  });
  after(async () => {
    for (const n of nodes.reverse()) await n.stop();
    await p.stop();
  });

  it('delivers each push once when both nodes deliver from one outbox', async () => {
    const [a] = nodes;
    const users: Awaited<ReturnType<TestServer["createUser"]>>[] = [];
    for (let i = 0; i < 40; i++) {
      const u = await a.createUser();
      await a.store.push.saveSubscription({ appId: a.app.id, userId: u.id, channel: 'apns', environment: 'development', token: hexToken(0xa000 + i), bundleId: BUNDLE, platform: 'ios', udid: 'd' }, new Date());
      users.push(u);
    }
    const sender = await a.createUser();
    // Half the events through each node, so that both have work queued at once.
    for (let i = 0; i < 10; i++) {
      const node = nodes[i % 2];
      const event = await node.server.push.service.createEvent({ appId: a.app.id, userId: sender.id },
        { notification_type: 'push', environment: 'development', user: { ids: users.map((u) => u.id) }, message: b64(`two nodes ${i}`) });
      assert.ok(event.id);
    }
    await until(() => p.apns.delivered.length >= 400, 30_000, '400 pushes');
    await sleep(1500);
    assert.equal(p.apns.delivered.length, 400);
    const seen = new Set(p.apns.delivered.map((d) => `${d.token} ${(d.payload.aps as { alert: string }).alert}`));
    assert.equal(seen.size, 400, 'no push twice');
    assert.ok(nodes.every((n) => n.server.push.delivery.attempted > 0), `both nodes delivered: ${nodes.map((n) => n.server.push.delivery.attempted)}`);
  });
});
