import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { GroupCommit } from './group-commit.js';
import { openSqliteStore } from './index.js';
import { WalSync } from './wal-sync.js';
import { sleep } from '../../../e2e/support/wait.js';

function table(): Database.Database {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)');
  return db;
}
const count = (db: Database.Database): number => (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;

describe('GroupCommit', () => {
  it('commits the writes of one event-loop turn in one transaction, and resolves after it', async () => {
    const db = table();
    const writes = new GroupCommit(db);
    const insert = db.prepare('INSERT INTO t VALUES (?, ?)');
    const pending = Array.from({ length: 100 }, (_, i) => writes.run(() => insert.run(`k${i}`, i).changes));
    assert.equal(count(db), 0, 'nothing is written before the batch runs');
    assert.deepEqual(await Promise.all(pending), Array(100).fill(1));
    assert.equal(count(db), 100);
    assert.equal(writes.batches, 1);
  });

  it('rolls back and rejects a failing write alone', async () => {
    const db = table();
    const writes = new GroupCommit(db);
    const insert = db.prepare('INSERT INTO t VALUES (?, ?)');
    const first = writes.run(() => insert.run('a', 1));
    const failing = writes.run(() => {
      insert.run('b', 2);
      insert.run('a', 3); // duplicate key: the savepoint drops 'b' as well
    });
    const last = writes.run(() => insert.run('c', 4));
    await assert.rejects(failing, /UNIQUE/);
    await first;
    await last;
    assert.deepEqual(db.prepare('SELECT k FROM t ORDER BY k').pluck().all(), ['a', 'c']);
    assert.equal(writes.batches, 1);
  });

  it('rejects a lone failing write and keeps none of its statements', async () => {
    const db = table();
    const writes = new GroupCommit(db);
    const insert = db.prepare('INSERT INTO t VALUES (?, ?)');
    await writes.run(() => insert.run('a', 1));
    await assert.rejects(writes.run(() => {
      insert.run('b', 2);
      insert.run('a', 3);
    }), /UNIQUE/);
    assert.deepEqual(db.prepare('SELECT k FROM t ORDER BY k').pluck().all(), ['a']);
    assert.equal(writes.batches, 1, 'the failed batch is not counted as committed');
  });

  it('starts a new batch when one is full, keeping the order of writes', async () => {
    const db = table();
    const writes = new GroupCommit(db, null, 10);
    const order: number[] = [];
    await Promise.all(Array.from({ length: 25 }, (_, i) => writes.run(() => order.push(i))));
    assert.deepEqual(order, Array.from({ length: 25 }, (_, i) => i));
    assert.equal(writes.batches, 3);
  });

  it('rejects every write of a batch whose transaction cannot start', async () => {
    const db = table();
    const writes = new GroupCommit(db);
    const a = writes.run(() => 1);
    const b = writes.run(() => 2);
    db.close();
    await assert.rejects(a, /not open/);
    await assert.rejects(b, /not open/);
  });
});

describe('GroupCommit with a flush in flight', () => {
  it('keeps collecting writes until the flush ends, then commits them as one batch', async () => {
    const db = table();
    let release = (): void => {};
    const syncs: number[] = [];
    const slowWal = {
      sync: () => new Promise<void>((resolve) => {
        syncs.push(count(db));
        release = resolve;
      }),
    } as unknown as WalSync;
    const writes = new GroupCommit(db, slowWal);
    const insert = db.prepare('INSERT INTO t VALUES (?, ?)');
    const first = writes.run(() => insert.run('a', 1));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(syncs, [1], 'the first write is committed and being flushed');
    const later: Promise<unknown>[] = [];
    for (let turn = 0; turn < 5; turn++) {
      later.push(writes.run(() => insert.run(`k${turn}`, turn)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(count(db), 1, 'nothing more is committed while the flush runs');
    assert.equal(writes.batches, 1);
    release();
    await first;
    await sleep(20);
    assert.equal(writes.batches, 2, 'the five writes went in one batch');
    release();
    await Promise.all(later);
    assert.equal(count(db), 6);
  });
});

describe('GroupCommit commit window', () => {
  /** A WAL stand-in whose flushes end only when the test says so, counting them. */
  function heldWal(): { wal: WalSync; flushes: () => number; release: () => void } {
    const held: (() => void)[] = [];
    let flushes = 0;
    const wal = {
      sync: () => new Promise<void>((resolve) => {
        flushes++;
        held.push(resolve);
      }),
    } as unknown as WalSync;
    return { wal, flushes: () => flushes, release: () => held.splice(0).forEach((r) => r()) };
  }

  it('acknowledges nothing before its flush, however long the flush and the window take', async () => {
    const db = table();
    const { wal, flushes, release } = heldWal();
    const writes = new GroupCommit(db, wal, 512, () => {}, 30);
    const insert = db.prepare('INSERT INTO t VALUES (?, ?)');
    const settled: string[] = [];
    void writes.run(() => insert.run('a', 1)).then(() => settled.push('a'));
    await sleep(10);
    assert.equal(count(db), 1, 'a lone write after a quiet spell commits at once');
    assert.equal(settled.length, 0, 'committed is not acknowledged: the flush has not ended');
    release();
    await sleep(5);
    assert.deepEqual(settled, ['a']);
    // Within the window of that commit, the next writes wait for each other...
    void writes.run(() => insert.run('b', 2)).then(() => settled.push('b'));
    await sleep(5);
    void writes.run(() => insert.run('c', 3)).then(() => settled.push('c'));
    assert.equal(count(db), 1, 'a write within the window waits for it');
    await sleep(60);
    assert.equal(count(db), 3, 'then both commit in one batch');
    assert.equal(writes.batches, 2);
    assert.equal(flushes(), 2);
    // ...and are acknowledged only once that batch's flush ends.
    assert.deepEqual(settled, ['a']);
    release();
    await sleep(5);
    assert.deepEqual(settled, ['a', 'b', 'c']);
  });

  it('commits at once when the previous commit is older than the window, and a full batch without waiting', async () => {
    const db = table();
    const writes = new GroupCommit(db, { sync: async () => {} } as unknown as WalSync, 4, () => {}, 10_000);
    const insert = db.prepare('INSERT INTO t VALUES (?, ?)');
    await writes.run(() => insert.run('a', 1));
    const started = performance.now();
    await Promise.all(['b', 'c', 'd', 'e'].map((k, i) => writes.run(() => insert.run(k, i))));
    assert.ok(performance.now() - started < 1000, 'four writes fill a batch of four: no wait');
    assert.equal(writes.batches, 2);
  });

  it('stops making one sequential writer wait: a wait that gathers nothing makes the next ones skip', async () => {
    const db = table();
    const writes = new GroupCommit(db, { sync: async () => {} } as unknown as WalSync, 512, () => {}, 50);
    const insert = db.prepare('INSERT INTO t VALUES (?, ?)');
    const started = performance.now();
    for (let i = 0; i < 30; i++) await writes.run(() => insert.run(`k${i}`, i));
    const elapsed = performance.now() - started;
    // Waiting on every write would take 29 × 50 ms; the doubling skips leave 4 waits (writes 2, 4, 7, 12, 21: 5).
    assert.ok(elapsed < 700, `30 sequential writes took ${elapsed.toFixed(0)} ms`);
    assert.equal(writes.batches, 30);
  });
});

describe('GroupCommit relaxed writes', () => {
  it('resolves a batch of only relaxed writes once committed, without a flush, and flushes a mixed batch', async () => {
    const db = table();
    let syncs = 0;
    const wal = { sync: async () => void syncs++ } as unknown as WalSync;
    const writes = new GroupCommit(db, wal);
    const insert = db.prepare('INSERT INTO t VALUES (?, ?)');
    await Promise.all([writes.runRelaxed(() => insert.run('a', 1)), writes.runRelaxed(() => insert.run('b', 2))]);
    assert.equal(count(db), 2);
    assert.equal(syncs, 0);
    await Promise.all([writes.runRelaxed(() => insert.run('c', 3)), writes.run(() => insert.run('d', 4))]);
    assert.equal(syncs, 1);
    assert.equal(writes.batches, 2);
  });
});

describe('GroupCommit on a WAL file', () => {
  it('commits without flushing inside COMMIT, resolves after the WAL is flushed, and leaves other writes on FULL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-wal-'));
    try {
      const path = join(dir, 'db.sqlite');
      const store = await openSqliteStore(path);
      const app = await store.accounts.createApplication({ name: 'wal' });
      const user = await store.accounts.createUser(app.id, { login: 'ann', password: 'pw' });
      const pushes = Array.from({ length: 50 }, (_, i) => store.offline.push(user.id, `<message id="${i}"/>`, 1000));
      assert.deepEqual(await Promise.all(pushes), Array(50).fill(true));
      assert.equal(store.db.pragma('synchronous', { simple: true }), 2, 'back to FULL after the batch');
      await store.close();
      const reopened = await openSqliteStore(path);
      assert.equal((await reopened.offline.list(user.id)).length, 50);
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('WalSync', () => {
  it('serves concurrent requests, reports a missing file, and recovers once it exists', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-walsync-'));
    try {
      const wal = new WalSync(join(dir, 'x-wal'));
      await assert.rejects(wal.sync(), /ENOENT/);
      writeFileSync(join(dir, 'x-wal'), 'frames');
      await Promise.all(Array.from({ length: 100 }, () => wal.sync()));
      await wal.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
