// The bytes of blobs, on disk: `<root>/<uid[0,2]>/<uid[2,4]>/<uid>`. A file is streamed into a
// temporary file under `<root>/tmp/`, flushed, and renamed into place, so a reader sees either
// no file or the whole file; a write that fails (too large, client gone) leaves nothing behind.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir, open, opendir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export class BlobTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the file is larger than ${limit} bytes`);
    this.name = 'BlobTooLargeError';
  }
}

/** An open stored file: its size and modification time, and streams of all or part of it. */
export interface StoredFile {
  size: number;
  modifiedAt: Date;
  /** Reads bytes start..end inclusive (the whole file by default), once; the file closes when the stream ends. */
  read(range?: { start: number; end: number }): Readable;
  /** Closes the file without reading it. */
  close(): Promise<void>;
}

const UID = /^[0-9a-f]{32}$/;

/** Counts bytes through and fails the stream at the first byte past the limit. */
function byteLimit(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > limit) return done(new BlobTooLargeError(limit));
      done(null, chunk);
    },
  });
}

export class BlobFiles {
  constructor(readonly root: string) {}

  pathOf(uid: string): string {
    if (!UID.test(uid)) throw new Error(`not a blob uid: ${JSON.stringify(uid)}`);
    return join(this.root, uid.slice(0, 2), uid.slice(2, 4), uid);
  }

  /** Stores (or replaces) the file of `uid` from `source`; returns its size. Throws BlobTooLargeError past `maxBytes`. */
  async put(uid: string, source: Readable, maxBytes: number): Promise<number> {
    const target = this.pathOf(uid);
    const tmpDir = join(this.root, 'tmp');
    const tmp = join(tmpDir, `${uid}.${randomBytes(6).toString('hex')}.part`);
    // Owner-only, like the data directory: files and folders (0600, 0700).
    await mkdir(tmpDir, { recursive: true, mode: 0o700 });
    const out = createWriteStream(tmp, { flags: 'wx', flush: true, mode: 0o600 });
    try {
      await pipeline(source, byteLimit(maxBytes), out);
      await mkdir(join(target, '..'), { recursive: true, mode: 0o700 });
      await rename(tmp, target);
      return out.bytesWritten;
    } catch (err) {
      // The file is opened asynchronously: a source that fails at once can fail before the open
      // completes, and the open would then create the file after it was removed.
      if (!out.closed) await once(out, 'close').catch(() => {});
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** The stored file of `uid`, opened for reading; null when there is none. */
  async get(uid: string): Promise<StoredFile | null> {
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(uid), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      const stat = await handle.stat();
      return {
        size: stat.size,
        modifiedAt: stat.mtime,
        read: (range) => handle.createReadStream(range ? { start: range.start, end: range.end } : { start: 0 }),
        close: () => handle.close(),
      };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Removes the file of `uid`; nothing happens when there is none. */
  async remove(uid: string): Promise<void> {
    try {
      await unlink(this.pathOf(uid));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /** Every stored file (not the unfinished ones under tmp/), with its modification time. */
  async *list(): AsyncGenerator<{ uid: string; modifiedAt: Date }> {
    for (const first of await subfolders(this.root)) {
      for (const second of await subfolders(join(this.root, first))) {
        const folder = join(this.root, first, second);
        for (const name of await namesIn(folder)) {
          if (!UID.test(name) || !name.startsWith(first + second)) continue;
          const info = await stat(join(folder, name)).catch(() => null);
          if (info?.isFile()) yield { uid: name, modifiedAt: info.mtime };
        }
      }
    }
  }
}

const SHARD = /^[0-9a-f]{2}$/;

async function namesIn(folder: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of await opendir(folder)) names.push(entry.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return names;
}

async function subfolders(folder: string): Promise<string[]> {
  return (await namesIn(folder)).filter((name) => SHARD.test(name));
}
