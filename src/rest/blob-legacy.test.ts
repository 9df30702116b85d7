// Legacy content paths: download by numeric id (`/blobs/{id}/download[.json]`, session needed) and
// `getblobobjectbyid` (POST and GET) whose `params` URL serves the bytes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BlobFiles } from '../storage/blob-files.js';
import type { Blob } from '../storage/types.js';
import { blobRoutes } from './blobs.js';
import { PASSWORD, restHarness, type RestHarness } from './harness.js';

describe('legacy blob paths', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-blob-legacy-'));
  let h: RestHarness;
  let token: string;
  let blob: Blob;
  const bytes = Buffer.from('legacy bytes');

  before(async () => {
    h = await restHarness({ data_dir: dir, public_api_url: 'https://api.chat.test' }, { plugins: [blobRoutes] });
    const user = await h.newUser();
    token = await h.session({ login: user.login, password: PASSWORD });
    const created = await h.store.blobs.createBlob({
      appId: h.application.id, userId: user.id, uid: randomBytes(16).toString('hex'), name: 'a.txt', contentType: 'text/plain', public: false, tags: [],
      uploadKeyHash: randomBytes(32).toString('hex'), uploadExpiresAt: new Date(Date.now() + 60_000),
    });
    await new BlobFiles(join(dir, 'blobs')).put(created.uid, Readable.from([bytes]), 1024);
    blob = (await h.store.blobs.completeBlob(h.application.id, created.id, bytes.length, new Date()))!;
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('downloads by numeric id with a session only', async () => {
    for (const path of [`/blobs/${blob.id}/download`, `/blobs/${blob.id}/download.json`]) {
      const res = await h.request({ method: 'GET', url: `${path}?token=${token}` });
      assert.equal(res.statusCode, 200, path);
      assert.equal(res.body, bytes.toString());
      assert.equal((await h.request({ method: 'GET', url: path })).statusCode, 401);
    }
    assert.equal((await h.request({ method: 'GET', url: `/blobs/${blob.id + 1000}/download?token=${token}` })).statusCode, 404);
    const other = await h.store.accounts.createApplication({});
    const stranger = await h.session(undefined, other);
    assert.equal((await h.request({ method: 'GET', url: `/blobs/${blob.id}/download`, headers: { 'qb-token': stranger } })).statusCode, 404);
  });

  it('answers getblobobjectbyid with a read URL that serves the file', async () => {
    for (const method of ['POST', 'GET'] as const) {
      const res = await h.request({ method, url: `/blobs/${blob.id}/getblobobjectbyid.json`, headers: { 'qb-token': token } });
      assert.equal(res.statusCode, 200, method);
      const access = res.json().blob_object_access;
      assert.deepEqual({ ...access, expires: undefined, params: undefined }, { id: blob.id, blob_id: blob.id, object_access_type: 'Read', expires: undefined, params: undefined });
      const url = new URL(access.params);
      assert.equal(url.origin, 'https://api.chat.test');
      const served = await h.request({ method: 'GET', url: `${url.pathname}${url.search}` });
      assert.equal(served.body, bytes.toString());
    }
    assert.equal((await h.request({ method: 'POST', url: '/blobs/999999/getblobobjectbyid.json', headers: { 'qb-token': token } })).statusCode, 404);
    assert.equal((await h.request({ method: 'POST', url: `/blobs/${blob.id}/getblobobjectbyid.json` })).statusCode, 401);
  });
});
