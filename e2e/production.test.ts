// `npm start` as an operator runs it: a real child process on a fresh data directory, logs read
// from its pipes. It must not recompile, must stop on SIGTERM/SIGINT sent to the npm process, and
// nothing secret (auth secret, passwords, session tokens, the metrics token) may reach its output,
// while every REST request, authentication failure and connection is logged.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.js';
import { signedSessionParams } from '../src/rest/harness.js';
import type { Application } from '../src/storage/types.js';
import { freePort, waitForPort } from './support/server.js';
import { RawClient, STREAM_HEADER, plainAuth } from './support/raw.js';
import { withTimeout } from './support/wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const METRICS_TOKEN = 'metrics-secret-5d1c9a77';

interface Started {
  npm: ChildProcess;
  output: () => string;
  http: number;
  c2s: number;
  dataDir: string;
}

async function npmStart(dataDir: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Started> {
  const [http, c2s] = [await freePort(), await freePort()];
  const env = {
    ...process.env,
    PARLEY_DATA_DIR: dataDir,
    PARLEY_HTTP_PORT: String(http),
    PARLEY_C2S_PORT: String(c2s),
    PARLEY_C2S_TLS_PORT: '0',
    PARLEY_WS_PORT: '0',
    PARLEY_HTTPS_PORT: '0',
    ...extraEnv,
  };
  // Its own process group, so that a failed test can still remove everything it started (the signals under test go to npm alone).
  const npm = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  npm.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  npm.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  await waitForPort(http);
  return { npm, output: () => output, http, c2s, dataDir };
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

const exited = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));

async function refused(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/health`);
    return false;
  } catch {
    return true;
  }
}

const jsonLines = (output: string): Record<string, any>[] =>
  output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);

describe('npm start', () => {
  it('serves without recompiling, logs what an operator needs and nothing secret, and stops on SIGTERM', async () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    assert.equal(pkg.scripts.prestart, undefined, 'no build before every start');
    assert.doesNotMatch(pkg.scripts.start, /tsc/);

    const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-npm-start-'));
    const s = await npmStart(dataDir, { PARLEY_LOG_LEVEL: 'debug', PARLEY_METRICS_TOKEN: METRICS_TOKEN });
    const base = `http://127.0.0.1:${s.http}`;
    let stopped = false;
    try {
      // The first start made a demo application: its credentials are in a file only this user reads.
      const file = path.join(dataDir, 'demo-app.json');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const demo = JSON.parse(readFileSync(file, 'utf8'));
      const app: Application = { id: demo.id, name: demo.name, authKey: demo.auth_key, authSecret: demo.auth_secret, accountKey: demo.account_key, createdAt: new Date() };

      const password = 'correct horse battery staple';
      let created = '';
      assert.equal(await main(['users', 'create', '--app', String(app.id), '--login', 'alice', '--password', password, '--json', '--data-dir', dataDir], { stdout: (t) => void (created += t), stderr: () => {}, env: {} }), 0);
      const alice = JSON.parse(created);

      // REST: a user session, a request with the token in the header and one with it in the query, a wrong password.
      const session = await fetch(`${base}/session.json`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify(signedSessionParams(app, { user: { login: 'alice', password } })),
      });
      assert.equal(session.status, 201);
      const token = ((await session.json()) as { session: { token: string } }).session.token;
      assert.equal((await fetch(`${base}/chat/Dialog.json`, { headers: { 'QB-Token': token } })).status, 200);
      assert.equal((await fetch(`${base}/chat/Dialog.json?token=${token}&limit=5`)).status, 200);
      const wrongPassword = 'wrong-password-3f9e';
      const refusedLogin = await fetch(`${base}/session.json`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify(signedSessionParams(app, { user: { login: 'alice', password: wrongPassword } })),
      });
      assert.equal(refusedLogin.status, 401);
      assert.equal((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status, 200);

      // XMPP: a wrong password, then the right one (the session token works as a password too).
      for (const secret of [wrongPassword, password, token]) {
        const raw = await RawClient.connect(s.c2s);
        raw.send(STREAM_HEADER());
        await raw.expect(/<\/stream:features>/);
        raw.send(plainAuth('', `${alice.id}-${app.id}`, secret));
        await raw.expect(/<success|<failure/);
        raw.destroy();
      }

      s.npm.kill('SIGTERM');
      const code = await withTimeout(exited(s.npm), 20_000, 'npm start exits after SIGTERM');
      stopped = true;
      assert.equal(code, 0);
      assert.ok(await refused(s.http), 'the server stopped with npm: nothing listens any more');

      const output = s.output();
      for (const [what, secret] of [['auth secret', app.authSecret], ['password', password], ['wrong password', wrongPassword], ['session token', token], ['metrics token', METRICS_TOKEN]]) {
        assert.ok(!output.includes(secret!), `the ${what} does not appear in the output`);
      }
      assert.match(output, /Its credentials are in .*demo-app\.json/);

      const lines = jsonLines(output);
      const requests = lines.filter((l) => l.msg === 'REST request');
      const dialogs = requests.filter((l) => l.route === '/chat/Dialog.json');
      assert.equal(dialogs.length, 2, 'one line per request');
      for (const line of dialogs) {
        assert.equal(line.method, 'GET');
        assert.equal(line.status, 200);
        assert.equal(typeof line.ms, 'number');
        assert.equal(line.remote, '127.0.0.1');
        assert.equal(line.url, undefined, 'never the URL: its query may hold a token');
      }
      assert.ok(requests.some((l) => l.route === '/session.json' && l.method === 'POST' && l.status === 201));
      const restFailure = lines.find((l) => l.msg === 'REST authentication failed');
      assert.ok(restFailure, 'a failed REST sign-in is logged');
      assert.deepEqual([restFailure.route, restFailure.status, restFailure.error, restFailure.remote], ['/session.json', 401, 'unauthorized', '127.0.0.1']);
      const xmppFailure = lines.find((l) => l.msg === 'authentication failed');
      assert.ok(xmppFailure, 'a failed SASL attempt is logged');
      assert.equal(xmppFailure.remote, '127.0.0.1');
      assert.ok(lines.some((l) => l.msg === 'connection opened' && l.transport === 'tcp' && l.remote === '127.0.0.1'));
      assert.ok(lines.some((l) => l.msg === 'connection closed'));
      assert.ok(lines.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM'));
    } finally {
      if (!stopped) killGroup(s.npm);
    }
  });

  it('stops on SIGINT too, and an existing installation prints no credentials', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-npm-start-'));
    assert.equal(await main(['apps', 'create', '--data-dir', dataDir], { stdout: () => {}, stderr: () => {}, env: {} }), 0);
    const s = await npmStart(dataDir);
    try {
      s.npm.kill('SIGINT');
      const code = await withTimeout(exited(s.npm), 20_000, 'npm start exits after SIGINT');
      assert.equal(code, 0);
      assert.ok(await refused(s.http));
      assert.doesNotMatch(s.output(), /demo application/);
    } finally {
      killGroup(s.npm);
    }
  });
});
