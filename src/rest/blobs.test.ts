import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import qs from 'qs';
import { BlobFiles } from '../storage/blob-files.js';
import { blobRoutes } from './blobs.js';
import { restHarness, PASSWORD, type RestHarness } from './harness.js';

const MAX = 1536 * 1024; // above the app's 1 MiB JSON/form body limit, to show uploads are not bound by it
const NO_SESSION = { errors: { base: ['Required session does not exist'] } };
const NOT_FOUND = { errors: ["The resource wasn't found"] };
const FORBIDDEN = { errors: ["You don't have appropriate permissions to perform this operation"] };
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

const form = (data: Record<string, unknown>) => ({
  payload: qs.stringify(data, { encodeValuesOnly: true }),
  headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
});

/**
 * The multipart body QB.content.createAndUpload sends: every query pair of
 * blob_object_access.params as a field, then `file` with its file name, then `name`.
 */
async function sdkUploadRequest(params: string, bytes: Buffer, fileName: string, token?: string) {
  const url = new URL(params);
  const body = new FormData();
  for (const [key, value] of url.searchParams) body.append(key, value);
  body.append('file', new globalThis.Blob([new Uint8Array(bytes)]), fileName);
  body.append('name', fileName);
  const encoded = new Response(body);
  return {
    method: 'POST' as const,
    url: url.pathname,
    payload: Buffer.from(await encoded.arrayBuffer()),
    headers: { 'content-type': encoded.headers.get('content-type')!, 'qb-sdk': 'JS 2.23.0 - Client', ...(token ? { 'qb-token': token } : {}) },
  };
}

describe('REST blobs', () => {
  let h: RestHarness;
  let dataDir: string;
  let files: BlobFiles;
  let alice: string;
  let bob: string;
  let carol: string; // another application

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'parley-blobs-'));
    h = await restHarness({ data_dir: dataDir, blob_max_size: MAX }, { plugins: [blobRoutes] });
    files = new BlobFiles(join(dataDir, 'blobs'));
    const a = await h.newUser();
    const b = await h.newUser();
    alice = await h.session({ login: a.login, password: PASSWORD });
    bob = await h.session({ login: b.login, password: PASSWORD });
    const other = await h.store.accounts.createApplication({ name: 'other' });
    const c = await h.newUser(undefined, PASSWORD, other);
    carol = await h.session({ login: c.login, password: PASSWORD }, other);
  });
  after(async () => {
    await h.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const create = async (token: string, blob: Record<string, unknown> = { name: 'photo.png', content_type: 'image/png' }) => {
    const res = await h.request({ method: 'POST', url: '/blobs.json', ...form({ blob }), headers: { ...form({}).headers, 'qb-token': token } });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().blob;
  };
  const upload = async (params: string, bytes: Buffer, token?: string, fileName = 'photo.png') =>
    h.request(await sdkUploadRequest(params, bytes, fileName, token));
  const complete = (token: string, id: number | string, size: number | string) =>
    h.request({ method: 'PUT', url: `/blobs/${id}/complete.json`, ...form({ size }), headers: { ...form({}).headers, 'qb-token': token } });
  const get = (url: string, token?: string, headers: Record<string, string> = {}) =>
    h.request({ method: 'GET', url, headers: { ...(token ? { 'qb-token': token } : {}), ...headers } });
  /** create → upload → complete, as QB.content.createAndUpload does. */
  const stored = async (token: string, bytes: Buffer, blob: Record<string, unknown> = { name: 'photo.png', content_type: 'image/png' }) => {
    const created = await create(token, blob);
    assert.equal((await upload(created.blob_object_access.params, bytes, token)).statusCode, 201);
    assert.equal((await complete(token, created.id, bytes.length)).statusCode, 200);
    return created;
  };

  it('creates, uploads, completes, describes, downloads, lists and deletes a blob', async () => {
    const bytes = randomBytes(1200 * 1024);
    const created = await create(alice, { name: 'holiday photo.png', content_type: 'image/png', tag_list: 'sea, sun' });
    assert.match(created.uid, /^[0-9a-f]{32}$/);
    assert.deepEqual({ ...created, id: 0, uid: '', created_at: '', updated_at: '', blob_object_access: null }, {
      id: 0, uid: '', content_type: 'image/png', name: 'holiday photo.png', size: null, public: false, blob_status: null,
      set_completed_at: null, created_at: '', updated_at: '', tag_list: 'sea,sun', blob_object_access: null,
    });
    assert.match(created.created_at, ISO);
    const access = created.blob_object_access;
    assert.equal(access.blob_id, created.id);
    assert.equal(access.object_access_type, 'Write');
    assert.match(access.expires, ISO);
    assert.ok(Date.parse(access.expires) > Date.now() + 50 * 60_000);
    assert.match(access.params, /^http:\/\/localhost(:\d+)?\/blobs\/upload\?key=[A-Za-z0-9_-]{32}$/);

    const up = await upload(access.params, bytes, alice);
    assert.equal(up.statusCode, 201, up.body);
    assert.equal(existsSync(files.pathOf(created.uid)), true);
    const pending = await get(`/blobs/${created.id}.json`, alice);
    assert.equal(pending.json().blob.blob_status, null);

    const done = await complete(alice, created.id, bytes.length);
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.body, '');

    const byId = await get(`/blobs/${created.id}.json`, alice);
    assert.equal(byId.statusCode, 200);
    const info = byId.json().blob;
    assert.equal(info.blob_status, 'complete');
    assert.equal(info.size, bytes.length);
    assert.match(info.set_completed_at, ISO);
    assert.equal(info.blob_object_access, undefined);
    assert.deepEqual((await get(`/blobs/${created.uid}.json`, bob)).json(), { blob: info }, 'any user of the application may read it, by uid too');

    const whole = await get(`/blobs/${created.uid}?token=${alice}`);
    assert.equal(whole.statusCode, 200);
    assert.equal(whole.headers['content-type'], 'image/png');
    assert.equal(whole.headers['content-length'], String(bytes.length));
    assert.equal(whole.headers['content-disposition'], 'inline; filename="holiday photo.png"');
    assert.equal(whole.headers['accept-ranges'], 'bytes');
    assert.equal(whole.headers['x-content-type-options'], 'nosniff');
    assert.equal(whole.headers.etag, `"${created.uid}"`);
    assert.ok(whole.rawPayload.equals(bytes));
    const head = await h.request({ method: 'HEAD', url: `/blobs/${created.uid}?token=${alice}` });
    assert.equal(head.statusCode, 200);
    assert.equal(head.headers['content-length'], String(bytes.length));
    assert.equal(head.body, '');
    const viaDownload = await get(`/blobs/${created.uid}/download`, bob);
    assert.equal(viaDownload.statusCode, 200);
    assert.ok(viaDownload.rawPayload.equals(bytes));

    const part = await get(`/blobs/${created.uid}`, alice, { range: 'bytes=1000-1999' });
    assert.equal(part.statusCode, 206);
    assert.equal(part.headers['content-range'], `bytes 1000-1999/${bytes.length}`);
    assert.equal(part.headers['content-length'], '1000');
    assert.ok(part.rawPayload.equals(bytes.subarray(1000, 2000)));
    const tail = await get(`/blobs/${created.uid}`, alice, { range: 'bytes=-10' });
    assert.ok(tail.rawPayload.equals(bytes.subarray(bytes.length - 10)));
    const beyond = await get(`/blobs/${created.uid}`, alice, { range: `bytes=${bytes.length}-` });
    assert.equal(beyond.statusCode, 416);
    assert.equal(beyond.headers['content-range'], `bytes */${bytes.length}`);
    assert.deepEqual(beyond.json(), { errors: { base: ['Requested range not satisfiable'] } });
    const stale = await get(`/blobs/${created.uid}`, alice, { range: 'bytes=0-9', 'if-range': '"something-else"' });
    assert.equal(stale.statusCode, 200, 'If-Range with another validator sends the whole file');
    const cached = await get(`/blobs/${created.uid}`, alice, { 'if-none-match': `"${created.uid}"` });
    assert.equal(cached.statusCode, 304);
    assert.equal(cached.body, '');

    const list = await get('/blobs.json?page=1&per_page=5', alice);
    assert.equal(list.statusCode, 200);
    const listed = list.json();
    assert.equal(listed.current_page, 1);
    assert.equal(listed.per_page, 5);
    assert.ok(listed.items.some((item: { blob: { id: number } }) => item.blob.id === created.id));
    assert.ok(!(await get('/blobs.json', bob)).json().items.some((item: { blob: { id: number } }) => item.blob.id === created.id), "not in another user's list");

    const del = await h.request({ method: 'DELETE', url: `/blobs/${created.id}.json`, headers: { 'qb-token': alice } });
    assert.equal(del.statusCode, 200);
    assert.equal(del.body, '');
    assert.equal(existsSync(files.pathOf(created.uid)), false);
    assert.equal((await get(`/blobs/${created.id}.json`, alice)).statusCode, 404);
    assert.equal((await get(`/blobs/${created.uid}`, alice)).statusCode, 404);
  });

  it('pages the list of own blobs', async () => {
    const user = await h.newUser();
    const token = await h.session({ login: user.login, password: PASSWORD });
    for (const name of ['a', 'b', 'c']) await create(token, { name });
    const page2 = (await get('/blobs.json?page=2&per_page=2', token)).json();
    assert.deepEqual({ ...page2, items: page2.items.map((i: { blob: { name: string } }) => i.blob.name) }, { current_page: 2, per_page: 2, total_entries: 3, items: ['c'] });
    assert.equal((await get('/blobs.json?per_page=x', token)).statusCode, 400);
  });

  it('serves public blobs to anyone and private ones only with a session of their application', async () => {
    const bytes = Buffer.from('public bytes');
    const pub = await stored(alice, bytes, { name: 'p.txt', content_type: 'text/plain', public: true });
    assert.equal((await get(`/blobs/${pub.id}.json`, alice)).json().blob.public, true);
    const open = await get(`/blobs/${pub.uid}`);
    assert.equal(open.statusCode, 200);
    assert.equal(open.body, 'public bytes');
    assert.equal(open.headers['cache-control'], 'public');

    const priv = await stored(alice, Buffer.from('secret'));
    const anonymous = await get(`/blobs/${priv.uid}`);
    assert.equal(anonymous.statusCode, 401);
    assert.deepEqual(anonymous.json(), NO_SESSION);
    const badToken = await get(`/blobs/${priv.uid}?token=${'f'.repeat(40)}`);
    assert.equal(badToken.statusCode, 401);
    assert.deepEqual(badToken.json(), NO_SESSION);
    const otherApp = await get(`/blobs/${priv.uid}?token=${carol}`);
    assert.equal(otherApp.statusCode, 404);
    assert.deepEqual(otherApp.json(), NOT_FOUND);
    const appSession = await h.session();
    const viaApp = await get(`/blobs/${priv.uid}?token=${appSession}`);
    assert.equal(viaApp.statusCode, 200);
    assert.equal(viaApp.body, 'secret');
    assert.equal(viaApp.headers['cache-control'], 'private');
  });

  it('does not serve a blob until it is complete', async () => {
    const created = await create(alice, { name: 'p.bin', public: '1' });
    assert.equal((await upload(created.blob_object_access.params, Buffer.from('half'))).statusCode, 201);
    assert.equal((await get(`/blobs/${created.uid}`)).statusCode, 404);
    assert.equal((await complete(alice, created.id, 4)).statusCode, 200);
    assert.equal((await get(`/blobs/${created.uid}`)).body, 'half');
  });

  it('refuses an oversized upload and keeps nothing', async () => {
    const created = await create(alice);
    const res = await upload(created.blob_object_access.params, Buffer.alloc(MAX + 1), alice);
    assert.equal(res.statusCode, 413);
    assert.deepEqual(res.json(), { errors: { base: [`File is too large (maximum is ${MAX} bytes)`] } });
    assert.equal(existsSync(files.pathOf(created.uid)), false);
    assert.deepEqual(readdirSync(join(dataDir, 'blobs', 'tmp')), []);
    const premature = await complete(alice, created.id, MAX + 1);
    assert.equal(premature.statusCode, 422);
    assert.deepEqual(premature.json(), { errors: { base: ['The file has not been uploaded'] } });
    assert.equal((await get(`/blobs/${created.id}.json`, alice)).json().blob.blob_status, null);
    // The same key still uploads a file that fits.
    assert.equal((await upload(created.blob_object_access.params, Buffer.alloc(MAX), alice)).statusCode, 201);
    assert.equal((await complete(alice, created.id, MAX)).statusCode, 200);
  });

  it('refuses uploads without a valid key and writes nothing', async () => {
    const created = await create(alice);
    const params = new URL(created.blob_object_access.params);
    const wrong = `${params.origin}${params.pathname}?key=${'A'.repeat(32)}`;
    const res = await upload(wrong, Buffer.from('x'), alice);
    assert.equal(res.statusCode, 403);
    assert.deepEqual(res.json(), { errors: ['The upload key is invalid or has expired'] });
    const missing = await upload(`${params.origin}${params.pathname}`, Buffer.from('x'), alice);
    assert.equal(missing.statusCode, 422);
    assert.deepEqual(missing.json(), { errors: { key: ["can't be blank"] } });

    h.deps.now = () => new Date(Date.now() + 2 * 3600_000);
    try {
      const expired = await upload(created.blob_object_access.params, Buffer.from('x'), alice);
      assert.equal(expired.statusCode, 403);
    } finally {
      delete h.deps.now;
    }
    assert.equal(existsSync(files.pathOf(created.uid)), false);

    const notMultipart = await h.request({ method: 'POST', url: '/blobs/upload', ...form({ key: 'x' }) });
    assert.equal(notMultipart.statusCode, 400);
    assert.deepEqual(notMultipart.json(), { errors: { base: ['The upload must be multipart/form-data'] } });
    const noFile = new FormData();
    noFile.append('key', params.searchParams.get('key')!);
    const encoded = new Response(noFile);
    const withoutFile = await h.request({ method: 'POST', url: '/blobs/upload', payload: Buffer.from(await encoded.arrayBuffer()), headers: { 'content-type': encoded.headers.get('content-type')! } });
    assert.equal(withoutFile.statusCode, 422);
    assert.deepEqual(withoutFile.json(), { errors: { file: ["can't be blank"] } });
  });

  it('refuses broken multipart bodies with 400 and keeps nothing', async () => {
    const created = await create(alice);
    const key = new URL(created.blob_object_access.params).searchParams.get('key');
    const boundary = 'parley-boundary';
    const multipart = (body: string, type = `multipart/form-data; boundary=${boundary}`) =>
      h.request({ method: 'POST', url: '/blobs/upload', payload: body, headers: { 'content-type': type } });
    const keyPart = `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\n${key}\r\n`;
    const filePart = (name: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="a.txt"\r\n\r\nhello`;

    const cut = await multipart(keyPart + filePart('file'));
    assert.equal(cut.statusCode, 400);
    assert.deepEqual(cut.json(), { errors: { base: ['The multipart body is malformed'] } });
    const noBoundary = await multipart(keyPart, 'multipart/form-data');
    assert.equal(noBoundary.statusCode, 400);
    assert.deepEqual(noBoundary.json(), { errors: { base: ['The multipart body is malformed'] } });
    const otherPart = await multipart(`${keyPart}${filePart('avatar')}\r\n--${boundary}--\r\n`);
    assert.equal(otherPart.statusCode, 422);
    assert.deepEqual(otherPart.json(), { errors: { avatar: ['unexpected file part'] } });
    assert.equal(existsSync(files.pathOf(created.uid)), false);
    assert.deepEqual(readdirSync(join(dataDir, 'blobs', 'tmp')), []);

    const whole = await multipart(`${keyPart}${filePart('file')}\r\n--${boundary}--\r\n`);
    assert.equal(whole.statusCode, 201, 'the same parts, whole, are accepted');
  });

  it('retires the upload key when the blob is complete', async () => {
    const created = await stored(alice, Buffer.from('final'));
    const again = await upload(created.blob_object_access.params, Buffer.from('changed'), alice);
    assert.equal(again.statusCode, 403);
    assert.equal((await get(`/blobs/${created.uid}`, alice)).body, 'final');
  });

  it('completes only with the size of the uploaded file, once', async () => {
    const created = await create(alice);
    await upload(created.blob_object_access.params, Buffer.from('12345'), alice);
    const wrong = await complete(alice, created.id, 4);
    assert.equal(wrong.statusCode, 422);
    assert.deepEqual(wrong.json(), { errors: { size: ['does not match the uploaded file (5 bytes)'] } });
    assert.deepEqual((await complete(alice, created.id, '')).json(), { errors: { size: ["can't be blank"] } });
    assert.deepEqual((await complete(alice, created.id, '5.5')).json(), { errors: { size: ['is not a number'] } });
    assert.equal((await complete(bob, created.id, 5)).statusCode, 403);
    assert.equal((await complete(alice, created.id, 5)).statusCode, 200);
    assert.equal((await complete(alice, created.id, 5)).statusCode, 200, 'completing again is harmless');
    assert.equal((await complete(alice, created.id, 6)).statusCode, 422);
  });

  it("renames through the SDK's GET and through PUT, owner only", async () => {
    const created = await create(alice);
    const viaGet = await get(`/blobs/${created.id}.json?${qs.stringify({ blob: { name: 'renamed.png' } })}`, alice);
    assert.equal(viaGet.statusCode, 200, viaGet.body);
    assert.equal(viaGet.json().blob.name, 'renamed.png');
    const viaPut = await h.request({ method: 'PUT', url: `/blobs/${created.uid}.json`, ...form({ blob: { name: 'again.png' } }), headers: { ...form({}).headers, 'qb-token': alice } });
    assert.equal(viaPut.json().blob.name, 'again.png');
    const byBob = await get(`/blobs/${created.id}.json?${qs.stringify({ blob: { name: 'mine now' } })}`, bob);
    assert.equal(byBob.statusCode, 403);
    assert.deepEqual(byBob.json(), FORBIDDEN);
    const blank = await h.request({ method: 'PUT', url: `/blobs/${created.id}.json`, ...form({ blob: { name: ' ' } }), headers: { ...form({}).headers, 'qb-token': alice } });
    assert.deepEqual(blank.json(), { errors: { name: ["can't be blank"] } });
    assert.equal((await get(`/blobs/${created.id}.json`, alice)).json().blob.name, 'again.png');
  });

  it("refuses to delete another user's blob and leaves it whole", async () => {
    const created = await stored(alice, Buffer.from('keep me'));
    const res = await h.request({ method: 'DELETE', url: `/blobs/${created.id}.json`, headers: { 'qb-token': bob } });
    assert.equal(res.statusCode, 403);
    assert.deepEqual(res.json(), FORBIDDEN);
    assert.equal((await get(`/blobs/${created.uid}`, alice)).body, 'keep me');
  });

  it("hides another application's blobs", async () => {
    const created = await stored(alice, Buffer.from('ours'), { name: 'p', public: true });
    for (const url of [`/blobs/${created.id}.json`, `/blobs/${created.uid}.json`]) {
      const res = await get(url, carol);
      assert.equal(res.statusCode, 404, url);
      assert.deepEqual(res.json(), NOT_FOUND);
    }
    assert.equal((await h.request({ method: 'DELETE', url: `/blobs/${created.id}.json`, headers: { 'qb-token': carol } })).statusCode, 404);
    assert.equal((await complete(carol, created.id, 4)).statusCode, 404);
    assert.equal((await get(`/blobs/${created.id}.json`, alice)).statusCode, 200);
  });

  it('answers malformed ids and uids with 404', async () => {
    for (const ref of ['abc', '0', '-1', '1.5', '99999999999999999999', 'A'.repeat(32), 'a'.repeat(31), '%2e%2e']) {
      const info = await get(`/blobs/${ref}.json`, alice);
      assert.equal(info.statusCode, 404, ref);
      assert.deepEqual(info.json(), NOT_FOUND);
      assert.equal((await get(`/blobs/${ref}`, alice)).statusCode, 404, ref);
      assert.equal((await get(`/blobs/${ref}/download`, alice)).statusCode, 404, ref);
    }
    assert.equal((await get('/blobs/..%2F..%2Fparley.sqlite', alice)).statusCode, 404);
  });

  it('validates new blobs and needs a user session', async () => {
    const post = (token: string, blob: Record<string, unknown>) =>
      h.request({ method: 'POST', url: '/blobs.json', ...form({ blob }), headers: { ...form({}).headers, 'qb-token': token } });
    assert.deepEqual((await post(alice, { content_type: 'image/png' })).json(), { errors: { name: ["can't be blank"] } });
    assert.deepEqual((await post(alice, { name: 'x'.repeat(256) })).json(), { errors: { name: ['is too long (maximum is 255 characters)'] } });
    for (const type of ['undefined', 'text/html\r\nSet-Cookie: a=b', 'image/', '/png']) {
      const res = await post(alice, { name: 'a', content_type: type });
      assert.equal(res.statusCode, 422, type);
      assert.deepEqual(res.json(), { errors: { content_type: ['is invalid'] } });
    }
    assert.deepEqual((await post(alice, { name: 'a', public: 'maybe' })).json(), { errors: { public: ['is invalid'] } });
    const defaulted = await post(alice, { name: 'a' });
    assert.equal(defaulted.json().blob.content_type, 'application/octet-stream');
    const appOnly = await post(await h.session(), { name: 'a' });
    assert.equal(appOnly.statusCode, 422);
    assert.deepEqual(appOnly.json(), { errors: { base: ['Forbidden. Need user.'] } });
    const anonymous = await h.request({ method: 'POST', url: '/blobs.json', ...form({ blob: { name: 'a' } }) });
    assert.equal(anonymous.statusCode, 401);
  });

  it('names files with any characters safely in Content-Disposition', async () => {
    const created = await stored(alice, Buffer.from('x'), { name: 'résumé "final".pdf', content_type: 'application/pdf' });
    const res = await get(`/blobs/${created.uid}`, alice);
    assert.equal(res.headers['content-disposition'], `inline; filename="r_sum_ _final_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf`);
    assert.equal(res.headers['content-security-policy'], "default-src 'none'; sandbox");
  });

  it('keeps the default body parsers outside the upload route', async () => {
    const res = await h.request({ method: 'POST', url: '/blobs.json', payload: { blob: { name: 'json.txt', content_type: 'text/plain' } }, headers: { 'qb-token': alice } });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().blob.name, 'json.txt');
  });
});
