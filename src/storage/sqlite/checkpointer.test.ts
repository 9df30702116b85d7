import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Checkpointer } from './checkpointer.js';
import { GroupCommit } from './group-commit.js';
import { sleep } from '../../../e2e/support/wait.js';

describe('Checkpointer', () => {
  it('moves checkpoints to a worker after enough batches, and hands them back on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-ckpt-'));
    const path = join(dir, 'db.sqlite');
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
      const checkpoints = new Checkpointer(db, { startAfter: 3, intervalMs: 20 });
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
    const dir = mkdtempSync(join(tmpdir(), 'parley-ckpt-'));
    const path = join(dir, 'db.sqlite');
    const db = new Database(path);
    let checkpoints: Checkpointer | null = null;
    try {
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT, r INTEGER); CREATE INDEX t_r ON t (r)');
      const writes: GroupCommit = new GroupCommit(db, null, 512, () => checkpoints!.committed());
      const limitPages = 128; // 512 KiB of 4 KiB pages
      checkpoints = new Checkpointer(db, { startAfter: 1, intervalMs: 20, walLimitPages: limitPages, writer: writes });
      const insert = db.prepare('INSERT INTO t (v, r) VALUES (?, ?)');
      const walSize = (): number => { try { return statSync(`${path}-wal`).size; } catch { return 0; } };
      // A few thousand writes a second for 2 s, as stored messages come: without the hold a PASSIVE
      // checkpoint rarely finds every frame copied, SQLite seldom starts the WAL over, and the file
      // grows (17 MB in 2 s when this was written).
      let largest = 0;
      const pending: Promise<unknown>[] = [];
      const until = Date.now() + 2000;
      while (Date.now() < until) {
        for (let i = 0; i < 8; i++) pending.push(writes.run(() => insert.run('x'.repeat(300), Math.floor(Math.random() * 1e9))));
        await sleep(1);
        largest = Math.max(largest, walSize());
      }
      await Promise.all(pending);
      assert.equal(db.prepare('SELECT count(*) FROM t').pluck().get(), pending.length, 'every write committed');
      assert.ok(checkpoints.restarts >= 2, `the worker started the WAL over ${checkpoints.restarts} times`);
      assert.ok(largest < 4 * 1024 * 1024, `the WAL reached ${largest} bytes`);
    } finally {
      await checkpoints?.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
