// The official QuickBlox JS SDK (2.23.0, Node) against Parley's Content API over HTTPS:
// createAndUpload (create → multipart upload → complete), getInfo, privateUrl, update, list, delete.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { freePort, startTestServer, type TestServer, type TestUser } from './support/server.js';

type Callback = (err: unknown, result: unknown) => void;
interface QuickBloxInstance {
  init(appId: number, authKey: string, authSecret: string, accountKey: string, config: object): void;
  createSession(params: object, cb: Callback): void;
  content: {
    createAndUpload(params: object, cb: Callback): void;
    getInfo(id: number, cb: Callback): void;
    update(params: object, cb: Callback): void;
    list(params: object, cb: Callback): void;
    delete(id: number, cb: Callback): void;
    privateUrl(uid: string): string;
  };
}
const { QuickBlox } = createRequire(import.meta.url)('quickblox') as { QuickBlox: new () => QuickBloxInstance };

/** An SDK call as a promise; SDK errors carry the HTTP code and body in `detail`. */
const call = <T>(fn: (cb: Callback) => void): Promise<T> =>
  new Promise((resolve, reject) => fn((err, result) => (err ? reject(Object.assign(new Error('SDK call failed'), { detail: err })) : resolve(result as T))));

describe('blobs with the QuickBlox JS SDK', () => {
  let server: TestServer;
  let user: TestUser;
  let qb: QuickBloxInstance;

  before(async () => {
    server = await startTestServer({ https_port: await freePort() });
    user = await server.createUser();
    qb = new QuickBlox();
    qb.init(server.app.id, server.app.authKey, server.app.authSecret, server.app.accountKey, {
      endpoints: { api: `127.0.0.1:${server.server.ports.https}`, chat: server.domain },
    });
    await call((cb) => qb.createSession({ login: user.login, password: user.password }, cb));
  });
  after(() => server?.stop());

  it('uploads with createAndUpload, reads it back, renames, lists and deletes it', async () => {
    const file = Buffer.from('hello from the sdk');
    const created = await call<{ id: number; uid: string; size: number }>((cb) =>
      qb.content.createAndUpload({ name: 'sdk.txt', file, type: 'text/plain', size: file.length }, cb));
    assert.equal(created.size, file.length);

    const info = await call<{ blob: { blob_status: string; size: number; name: string } }>((cb) => qb.content.getInfo(created.id, cb));
    assert.equal(info.blob.blob_status, 'complete');
    assert.equal(info.blob.size, file.length);

    const download = await fetch(qb.content.privateUrl(created.uid));
    assert.equal(download.status, 200);
    assert.equal(await download.text(), 'hello from the sdk');

    const updated = await call<{ blob: { name: string } }>((cb) => qb.content.update({ id: created.id, name: 'renamed.txt' }, cb));
    assert.equal(updated.blob.name, 'renamed.txt');
    const list = await call<{ items: { blob: { id: number } }[] }>((cb) => qb.content.list({ page: 1, per_page: 10 }, cb));
    assert.deepEqual(list.items.map((i) => i.blob.id), [created.id]);

    assert.equal(await call((cb) => qb.content.delete(created.id, cb)), true);
    await assert.rejects(call((cb) => qb.content.getInfo(created.id, cb)), (err: { detail: { code: number } }) => err.detail.code === 404);
  });
});
