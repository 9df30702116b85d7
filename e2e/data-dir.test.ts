// The SQLite data directory at rest (issue 14, "Also"): created owner-only (directory 0700,
// database and its WAL 0600, blobs too), and a second server on the same directory refuses to start.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { openStore } from '../src/storage/open.js';
import { BlobFiles } from '../src/storage/blob-files.js';
import { freePort } from './support/server.js';
import { withTimeout } from './support/wait.js';

const BIN = fileURLToPath(new URL('../../bin/parley.js', import.meta.url));
const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe('data directory at rest', () => {
  const root = mkdtempSync(join(tmpdir(), 'parley-datadir-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('creates the directory 0700 and the database, its WAL and blobs 0600', async () => {
    const dir = join(root, 'fresh');
    const store = await openStore({ store: 'sqlite', database_url: null, data_dir: dir });
    const app = await store.accounts.createApplication({ name: 'x' });
    await store.accounts.createUser(app.id, { login: 'u', password: 'p' });
    assert.equal(mode(dir), '700');
    assert.equal(mode(join(dir, 'parley.sqlite')), '600');
    assert.equal(mode(join(dir, 'parley.sqlite-wal')), '600');
    const blobs = new BlobFiles(join(dir, 'blobs'));
    const uid = 'ab'.repeat(16);
    await blobs.put(uid, Readable.from([Buffer.from('secret picture')]), 1000);
    assert.equal(mode(blobs.pathOf(uid)), '600');
    assert.equal(mode(join(dir, 'blobs')), '700');
    assert.equal(mode(join(blobs.pathOf(uid), '..')), '700');
    await store.close();
  });

  it('a second server on the same data directory refuses to start with a clear message', async () => {
    const dir = join(root, 'shared');
    const env = {
      ...process.env,
      PARLEY_DATA_DIR: dir,
      // One listener, so that the server has something to wait on.
      PARLEY_C2S_PORT: '0', PARLEY_C2S_TLS_PORT: '0', PARLEY_WS_PORT: '0', PARLEY_HTTP_PORT: String(await freePort()), PARLEY_HTTPS_PORT: '0',
      PARLEY_LOG_LEVEL: 'info',
    };
    const first = spawn(process.execPath, [BIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const firstExit = new Promise<number | null>((resolve) => first.once('exit', resolve));
    try {
      let out = '';
      await withTimeout(new Promise<void>((resolve) => first.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Parley is listening')) resolve();
      })), 30_000, () => `first server start (${out.slice(-500)})`);

      const second = spawn(process.execPath, [BIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      second.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await withTimeout(new Promise<number | null>((resolve) => second.once('exit', resolve)), 20_000, 'second server exit').catch((err) => {
        second.kill('SIGKILL');
        throw err;
      });
      assert.equal(code, 1, stderr);
      assert.match(stderr, new RegExp(`another Parley server \\(pid ${first.pid}\\) is using the data directory ${dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
      assert.equal(first.exitCode, null, 'the first server runs on');
    } finally {
      first.kill('SIGTERM');
      await withTimeout(firstExit, 20_000, 'first server exit');
    }
    assert.equal(existsSync(join(dir, 'parley.lock')), false, 'the lock is released at shutdown');
  });
});
