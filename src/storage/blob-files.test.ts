import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { BlobFiles, BlobTooLargeError } from './blob-files.js';

const root = mkdtempSync(join(tmpdir(), 'parley-blob-files-'));
after(() => rmSync(root, { recursive: true, force: true }));

const uid = () => randomBytes(16).toString('hex');
/** A stream of `count` chunks of `size` bytes, produced lazily. */
const chunks = (count: number, size: number) => Readable.from((function* () {
  for (let i = 0; i < count; i++) yield Buffer.alloc(size, 97 + (i % 26));
})());

describe('BlobFiles', () => {
  const files = new BlobFiles(root);

  it('stores a stream under a path sharded by uid and reads it back whole and in part', async () => {
    const id = uid();
    assert.equal(await files.put(id, Readable.from([Buffer.from('hello '), Buffer.from('world')]), 100), 11);
    assert.equal(files.pathOf(id), join(root, id.slice(0, 2), id.slice(2, 4), id));
    assert.equal(readFileSync(files.pathOf(id), 'utf8'), 'hello world');
    const whole = await files.get(id);
    assert.equal(whole?.size, 11);
    assert.equal(await text(whole!.read()), 'hello world');
    const part = await files.get(id);
    assert.equal(await text(part!.read({ start: 6, end: 10 })), 'world');
  });

  it('replaces a stored file', async () => {
    const id = uid();
    await files.put(id, Readable.from([Buffer.from('first')]), 100);
    await files.put(id, Readable.from([Buffer.from('second')]), 100);
    assert.equal(await text((await files.get(id))!.read()), 'second');
  });

  it('accepts a file of exactly the limit and refuses one byte more, leaving nothing behind', async () => {
    const id = uid();
    assert.equal(await files.put(id, chunks(4, 256), 1024), 1024);
    const big = uid();
    await assert.rejects(files.put(big, chunks(5, 256), 1024), BlobTooLargeError);
    assert.equal(existsSync(files.pathOf(big)), false);
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
  });

  it('leaves nothing behind when the source fails', async () => {
    const id = uid();
    const failing = new Readable({ read() { this.push(Buffer.alloc(10)); this.destroy(new Error('client went away')); } });
    await assert.rejects(files.put(id, failing, 1024), /client went away/);
    assert.equal(existsSync(files.pathOf(id)), false);
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
  });

  it('finds no file for an unknown uid and removes files idempotently', async () => {
    assert.equal(await files.get(uid()), null);
    const id = uid();
    await files.put(id, Readable.from([Buffer.from('x')]), 10);
    const open = await files.get(id);
    await files.remove(id);
    await files.remove(id);
    assert.equal(await files.get(id), null);
    assert.equal(await text(open!.read()), 'x', 'a file opened before removal stays readable');
  });

  it('refuses names that are not uids, so no path can leave the root', async () => {
    for (const bad of ['../../etc/passwd', 'ABCDEF0123456789ABCDEF0123456789', '', 'a'.repeat(31)]) {
      assert.throws(() => files.pathOf(bad), /not a blob uid/);
      await assert.rejects(files.get(bad), /not a blob uid/);
    }
  });
});
