// Blob files whose row is gone are removed; files with a row, young files and unfinished uploads stay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BlobFiles } from './blob-files.js';
import { sweepOrphanBlobFiles } from './blob-sweeper.js';
import { openSqliteStore, sqliteFile } from './sqlite/index.js';

test('sweeps orphan blob files older than the grace period, and nothing else', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-sweep-'));
  const store = await openSqliteStore(sqliteFile(dir));
  const files = new BlobFiles(join(dir, 'blobs'));
  try {
    const app = await store.accounts.createApplication({ name: 'sweep' });
    const user = await store.accounts.createUser(app.id, { login: 'owner', password: 'secret-pass' });
    const withRow = 'a1'.repeat(16);
    await store.blobs.createBlob({
      appId: app.id, userId: user.id, uid: withRow, name: 'kept.txt', contentType: 'text/plain', public: false, tags: [],
      uploadKeyHash: 'k', uploadExpiresAt: new Date(Date.now() + 60_000),
    });
    const oldOrphan = 'b2'.repeat(16);
    const youngOrphan = 'c3'.repeat(16);
    for (const uid of [withRow, oldOrphan, youngOrphan]) await files.put(uid, Readable.from([Buffer.from('x')]), 10);
    const anHourAgo = new Date(Date.now() - 3600_000);
    for (const uid of [withRow, oldOrphan]) utimesSync(files.pathOf(uid), anHourAgo, anHourAgo);
    mkdirSync(join(dir, 'blobs', 'tmp'), { recursive: true });
    writeFileSync(join(dir, 'blobs', 'tmp', `${oldOrphan}.abc.part`), 'partial');
    writeFileSync(join(dir, 'blobs', 'b2', 'not-a-uid'), 'stranger');

    assert.deepEqual(await sweepOrphanBlobFiles(files, store.blobs), { checked: 2, removed: 1 });
    assert.equal(existsSync(files.pathOf(oldOrphan)), false);
    assert.equal(existsSync(files.pathOf(withRow)), true);
    assert.equal(existsSync(files.pathOf(youngOrphan)), true, 'younger than the grace period');
    assert.equal(existsSync(join(dir, 'blobs', 'tmp', `${oldOrphan}.abc.part`)), true, 'an unfinished upload is not a blob file');
    assert.equal(existsSync(join(dir, 'blobs', 'b2', 'not-a-uid')), true);

    assert.deepEqual(await sweepOrphanBlobFiles(files, store.blobs, { graceMs: 0 }), { checked: 2, removed: 1 });
    assert.equal(existsSync(files.pathOf(youngOrphan)), false);
  } finally {
    await store.close();
  }
});
