import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { GroupCommit } from './group-commit.js';

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

  it('starts a new batch when one is full, keeping the order of writes', async () => {
    const db = table();
    const writes = new GroupCommit(db, 10);
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
