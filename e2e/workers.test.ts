// `parley serve --workers 2` as a real process tree (PARLEY_TEST_REDIS_URL): both workers take
// connections on the shared port and route between each other, a killed worker is restarted,
// SIGTERM stops everything cleanly; without redis_url the option is refused.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config/load.js';
import { openStore } from '../src/storage/open.js';
import type { Store } from '../src/storage/types.js';
import { main } from '../src/cli/main.js';
import { freePort } from './support/server.js';
import { RawPool, streamError, type RawClient } from './support/raw.js';
import { sleep } from './support/wait.js';

const REDIS_URL = process.env.PARLEY_TEST_REDIS_URL;
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'parley.js');

interface LogLine {
  msg?: string;
  pid?: number;
  worker?: number;
  node?: string;
}

const waitFor = async (what: () => boolean | Promise<boolean>, label: string, ms = 15_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await sleep(25);
  }
};

describe('parley serve --workers', () => {
  it('refuses --workers without redis_url, and a bad count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-workers-'));
    try {
      const errors: string[] = [];
      const io = { stdout: () => {}, stderr: (s: string) => void errors.push(s), env: { PARLEY_DATA_DIR: dir } };
      assert.equal(await main(['serve', '--workers', '2'], io), 2);
      assert.match(errors.join(''), /--workers needs redis_url/);
      for (const bad of ['0', 'two', '-1', '65']) assert.equal(await main(['serve', '--workers', bad], io), 1, bad);
      assert.match(errors.join(''), /--workers: expected a number of processes from 1 to 64/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parley serve --workers 2', { skip: REDIS_URL ? false : 'PARLEY_TEST_REDIS_URL is unset: the workers cluster over Redis' }, () => {
  const prefix = `parley-test-${randomBytes(4).toString('hex')}:`;
  const raws = new RawPool();
  const lines: LogLine[] = [];
  let dir: string;
  let c2s: number;
  let primary: ChildProcess;
  let exited: Promise<number | null>;
  let redis: Redis;
  let store: Store;
  let appId: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-workers-'));
    redis = new Redis(REDIS_URL!);
    c2s = await freePort();
    const env = {
      ...process.env,
      PARLEY_DATA_DIR: dir,
      PARLEY_C2S_PORT: String(c2s),
      PARLEY_C2S_TLS_PORT: '0',
      PARLEY_WS_PORT: '0',
      PARLEY_HTTP_PORT: String(await freePort()),
      PARLEY_HTTPS_PORT: '0',
      PARLEY_REDIS_URL: REDIS_URL!,
      PARLEY_REDIS_PREFIX: prefix,
      PARLEY_CLUSTER_NODE_ID: 'wt',
      PARLEY_CLUSTER_TTL: '2',
      PARLEY_LOG_LEVEL: 'info',
    };
    primary = spawn(process.execPath, [BIN, 'serve', '--workers', '2'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    exited = new Promise((resolve) => primary.once('exit', (code) => resolve(code)));
    let buffered = '';
    primary.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const part of parts) {
        try {
          lines.push(JSON.parse(part) as LogLine);
        } catch {
          // the demo application banner
        }
      }
    });
    await waitFor(() => listening().size === 2, 'both workers listening');
    store = await openStore(loadConfig({ file: null, env: {}, overrides: { data_dir: dir } }));
    appId = (await store.accounts.listApplications())[0]!.id;
  });

  after(async () => {
    raws.destroyAll();
    if (primary.exitCode === null) primary.kill('SIGKILL');
    await store?.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Worker pids that logged "Parley is listening". */
  const listening = (): Set<number> => new Set(lines.filter((l) => l.msg === 'Parley is listening').map((l) => l.pid!));
  const workerPid = (i: number): number | undefined => lines.filter((l) => l.msg === 'worker started' && l.worker === i).at(-1)?.pid;

  let counter = 0;
  /** A new user logged in over the shared port, and the worker node that took it. */
  async function login(): Promise<{ raw: RawClient; jid: string; bare: string; node: string }> {
    const login = `w${++counter}`;
    const user = await store.accounts.createUser(appId, { login, password: 'pw' });
    const raw = await raws.connect(c2s);
    const jid = await raw.login(`${user.id}-${appId}`, 'pw');
    const bare = jid.split('/')[0]!;
    let node = '';
    await waitFor(async () => {
      node = (Object.values(await redis.hgetall(`${prefix}sess:${bare}`))[0] ?? '').split('\t')[0]!;
      return node !== '';
    }, 'registered');
    return { raw, jid, bare, node };
  }

  /** Logs users in until one lands on each worker. */
  async function onBoth(): Promise<Map<string, Awaited<ReturnType<typeof login>>>> {
    const by = new Map<string, Awaited<ReturnType<typeof login>>>();
    for (let i = 0; i < 10 && by.size < 2; i++) {
      const client = await login();
      if (!by.has(client.node)) by.set(client.node, client);
    }
    assert.deepEqual([...by.keys()].sort(), ['wt-w0', 'wt-w1'], 'connections reached both workers');
    return by;
  }

  async function exchange(a: { raw: RawClient; bare: string }, b: { raw: RawClient; bare: string }, tag: string): Promise<void> {
    a.raw.send(`<message type="chat" to="${b.bare}" id="${tag}-1"><body>${tag} a to b</body></message>`);
    await b.raw.expect(`<body>${tag} a to b</body>`, 5000);
    b.raw.send(`<message type="chat" to="${a.bare}" id="${tag}-2"><body>${tag} b to a</body></message>`);
    await a.raw.expect(`<body>${tag} b to a</body>`, 5000);
  }

  it('both workers accept connections on the shared port, and their clients talk to each other', async () => {
    const by = await onBoth();
    await exchange(by.get('wt-w0')!, by.get('wt-w1')!, 'first');
  });

  it('a worker that dies is started again under the same node id, without its dead sessions', async () => {
    const before = await onBoth();
    const victim = before.get('wt-w1')!;
    const oldPid = workerPid(1)!;
    process.kill(oldPid, 'SIGKILL');
    await victim.raw.waitClosed(5000);
    await waitFor(() => (workerPid(1) ?? oldPid) !== oldPid, 'worker 1 started again');
    await waitFor(() => listening().has(workerPid(1)!), 'worker 1 listening again');
    await waitFor(async () => Object.keys(await redis.hgetall(`${prefix}sess:${victim.bare}`)).length === 0, 'the dead worker\'s session left the registry');
    const after = await onBoth();
    await exchange(after.get('wt-w0')!, after.get('wt-w1')!, 'again');
  });

  it('stops every worker cleanly on SIGTERM', async () => {
    const client = await login();
    primary.kill('SIGTERM');
    await client.raw.expect(streamError('system-shutdown'), 10_000);
    const code = await Promise.race([exited, sleep(15_000).then(() => 'timeout')]);
    assert.equal(code, 0);
    assert.deepEqual(lines.filter((l) => l.msg === 'worker stopped').length, 2);
    assert.deepEqual((await redis.zrange(`${prefix}nodes`, '0', '-1')).filter((n) => n.startsWith('wt-')), [], 'the workers left the cluster');
  });
});
