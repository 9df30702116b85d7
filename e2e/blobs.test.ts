// Blobs over a real socket: the upload is sent by Node's fetch with a FormData body, as the
// QuickBlox SDK does in browsers (and with the same field order it uses in Node).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import qs from 'qs';
import { signedSessionParams } from '../src/rest/harness.js';
import { startTestServer, type TestServer, type TestUser } from './support/server.js';

const MAX = 256 * 1024;

describe('blobs over HTTP', () => {
  let server: TestServer;
  let user: TestUser;
  let base: string;
  let token: string;

  const formPost = (path: string, data: Record<string, unknown>, method = 'POST') =>
    fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8', 'qb-token': token },
      body: qs.stringify(data, { encodeValuesOnly: true }),
    });

  /** QB.content.createAndUpload's upload step: the URL's query pairs as fields, then `file`, then `name`. */
  const uploadTo = (params: string, bytes: Uint8Array, name: string) => {
    const url = new URL(params);
    const body = new FormData();
    for (const [key, value] of url.searchParams) body.append(key, value);
    body.append('file', new Blob([new Uint8Array(bytes)]), name);
    body.append('name', name);
    return fetch(`${url.origin}${url.pathname}`, { method: 'POST', body, headers: { 'qb-token': token, 'qb-sdk': 'JS 2.23.0 - Client' } });
  };

  before(async () => {
    server = await startTestServer({ blob_max_size: MAX });
    base = `http://127.0.0.1:${server.server.ports.http}`;
    user = await server.createUser();
    const session = await fetch(`${base}/session.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      body: qs.stringify(signedSessionParams(server.app, { user: { login: user.login, password: user.password } }), { encodeValuesOnly: true }),
    });
    assert.equal(session.status, 201, await session.clone().text());
    token = (await session.json()).session.token;
  });
  after(() => server?.stop());

  it('creates, uploads with fetch and FormData, completes and downloads whole and in part', async () => {
    const bytes = randomBytes(200 * 1024);
    const created = await formPost('/blobs.json', { blob: { name: 'clip.bin', content_type: 'application/octet-stream' } });
    assert.equal(created.status, 201);
    const blob = (await created.json()).blob;
    assert.ok(blob.blob_object_access.params.startsWith(`${base}/blobs/upload?key=`), blob.blob_object_access.params);

    const uploaded = await uploadTo(blob.blob_object_access.params, bytes, 'clip.bin');
    assert.equal(uploaded.status, 201, await uploaded.clone().text());
    const completed = await formPost(`/blobs/${blob.id}/complete.json`, { size: bytes.length }, 'PUT');
    assert.equal(completed.status, 200, await completed.clone().text());

    const whole = await fetch(`${base}/blobs/${blob.uid}?token=${token}`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-length'), String(bytes.length));
    assert.ok(Buffer.from(await whole.arrayBuffer()).equals(bytes));
    const part = await fetch(`${base}/blobs/${blob.uid}/download`, { headers: { 'qb-token': token, range: 'bytes=100-199' } });
    assert.equal(part.status, 206);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 200)));
  });

  it('answers an oversized upload with a QuickBlox error the client can read', async () => {
    const created = await (await formPost('/blobs.json', { blob: { name: 'big.bin' } })).json();
    const res = await uploadTo(created.blob.blob_object_access.params, randomBytes(16 * MAX), 'big.bin');
    assert.equal(res.status, 413);
    assert.deepEqual(await res.json(), { errors: { base: [`File is too large (maximum is ${MAX} bytes)`] } });
    const info = await (await fetch(`${base}/blobs/${created.blob.id}.json`, { headers: { 'qb-token': token } })).json();
    assert.equal(info.blob.blob_status, null);
  });
});
