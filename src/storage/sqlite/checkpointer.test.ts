import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Checkpointer } from './checkpointer.js';
import { GroupCommit } from './group-commit.js';
import { sleep } from '../../../e2e/support/wait.js';

/** A fresh WAL database in a directory of its own, with `schema` applied. */
function walDatabase(schema: string): { dir: string; path: string; db: Database.Database } {
  const dir = mkdtempSync(join(tmpdir(), 'parley-ckpt-'));
  const path = join(dir, 'db.sqlite');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(schema);
  return { dir, path, db };
}

describe('Checkpointer', () => {
  it('moves checkpoints to a worker after enough batches, and hands them back on close', async () => {
    const { dir, path, db } = walDatabase('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
    try {
      const checkpoints = new Checkpointer(db, { startAfter: 3, intervalMs: 20, minWrites: 1 });
      checkpoints.committed();
      checkpoints.committed();
      assert.equal(checkpoints.running, false, 'not before the third batch');
      checkpoints.committed();
      assert.equal(checkpoints.running, true);
      assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0, 'the connection no longer checkpoints itself');

      const before = statSync(path).size;
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
      db.transaction(() => {
        for (let i = 0; i < 2000; i++) insert.run('x'.repeat(1000));
      })();
      checkpoints.committed();
      const deadline = Date.now() + 5000;
      while (statSync(path).size < before + 2_000_000 && Date.now() < deadline) await sleep(20);
      assert.ok(statSync(path).size >= before + 2_000_000, 'the worker copied the frames into the database file');

      await checkpoints.close();
      assert.equal(checkpoints.running, false);
      assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('falls back to the connection checkpointing itself when the worker fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-ckpt-'));
    const db = new Database(join(dir, 'db.sqlite'));
    try {
      db.pragma('journal_mode = WAL');
      const checkpoints = new Checkpointer(db, { startAfter: 1, intervalMs: 20 });
      rmSync(join(dir, 'db.sqlite')); // the worker's connection needs the file to exist
      checkpoints.committed();
      assert.equal(checkpoints.running, true);
      const deadline = Date.now() + 5000;
      while (checkpoints.running && Date.now() < deadline) await sleep(20);
      assert.equal(checkpoints.running, false);
      assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000);
      checkpoints.committed();
      assert.equal(checkpoints.running, false, 'no second attempt');
      await checkpoints.close();
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the WAL bounded under a steady stream of commits: a short hold of the writer lets it empty the file', async () => {
    const { dir, path, db } = walDatabase('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT, r INTEGER); CREATE INDEX t_r ON t (r)');
    let checkpoints: Checkpointer | null = null;
    try {
      const writes: GroupCommit = new GroupCommit(db, null, 512, (n) => checkpoints!.committed(n), 0);
      const limitPages = 128; // 512 KiB of 4 KiB pages
      checkpoints = new Checkpointer(db, { startAfter: 1, intervalMs: 20, minWrites: 1, walLimitPages: limitPages, writer: writes });
      const insert = db.prepare('INSERT INTO t (v, r) VALUES (?, ?)');
      const walSize = (): number => { try { return statSync(`${path}-wal`).size; } catch { return 0; } };
      // Commits back to back: without the hold a PASSIVE checkpoint never finds every frame copied,
      // SQLite never starts the WAL over, and the file grows by every page written (70 MB for 12 MB of
      // rows when this was written). With it the file stops growing once the worker is up: it is
      // written over from the start after each hold.
      const rowBytes = 1000;
      let sizeAtFirstRestart: number | null = null;
      let restartedAt = Infinity;
      let rows = 0;
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && (rows * rowBytes < 12 * 1024 * 1024 || Date.now() - restartedAt < 1_000)) {
        await Promise.all(Array.from({ length: 8 }, () => writes.run(() => insert.run('x'.repeat(rowBytes), Math.floor(Math.random() * 1e9)))));
        rows += 8;
        if (sizeAtFirstRestart === null && checkpoints.restarts > 0) {
          sizeAtFirstRestart = walSize();
          restartedAt = Date.now();
        }
      }
      assert.equal(db.prepare('SELECT count(*) FROM t').pluck().get(), rows, 'every write committed');
      assert.ok(sizeAtFirstRestart !== null, 'the worker started the WAL over');
      assert.ok(Date.now() - restartedAt >= 1_000, 'writes went on for a second after the first restart');
      const grown = walSize() - sizeAtFirstRestart;
      assert.ok(grown < 4 * 1024 * 1024, `the WAL grew by ${grown} bytes after the first restart (${checkpoints.restarts} restarts)`);
    } finally {
      await checkpoints?.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checkpoints once enough writes were committed, or after the longest interval whatever was written', async () => {
    const { dir, path, db } = walDatabase('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
    let checkpoints: Checkpointer | null = null;
    try {
      const writes: GroupCommit = new GroupCommit(db, null, 512, (n) => checkpoints!.committed(n), 0);
      checkpoints = new Checkpointer(db, { startAfter: 1, intervalMs: 20, minWrites: 100, maxIntervalMs: 1_500 });
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
      // 30 writes of 10 KB each: ~75 pages in the WAL, none in the database file until a checkpoint.
      const write = (n: number): Promise<unknown> => Promise.all(Array.from({ length: n }, () => writes.run(() => insert.run('x'.repeat(10_000)))));
      await write(1); // starts the worker
      const copied = (): number => statSync(path).size;
      const start = copied();
      await write(30);
      await sleep(400);
      assert.equal(copied(), start, 'no checkpoint with 31 writes, well before the longest interval');
      await write(70);
      const deadline = Date.now() + 5000;
      while (copied() === start && Date.now() < deadline) await sleep(10);
      assert.ok(copied() > start, 'the 100th write brings a checkpoint');
      // The file grows page by page while that checkpoint runs: take its size once the copy is done.
      let at100 = -1;
      while (copied() !== at100) {
        at100 = copied();
        await sleep(50);
      }
      const quietSince = Date.now();
      await write(30);
      while (copied() === at100 && Date.now() < deadline + 5000) await sleep(10);
      const waited = Date.now() - quietSince;
      assert.ok(copied() > at100, 'a few writes are checkpointed after the longest interval');
      assert.ok(waited >= 1_000, `not before the longest interval (${waited} ms)`);
    } finally {
      await checkpoints?.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
