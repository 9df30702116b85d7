// Runs in a worker thread (see checkpointer.ts): copies committed WAL frames back into the database
// file on its own connection, so the page copies and the fsyncs they end with stay off the event loop.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { WorkerMessage, WorkerOptions } from './checkpointer.js';

const { path, intervalMs, walLimitPages, written, minWrites, maxIntervalMs } = workerData as WorkerOptions;
const db = new Database(path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
// PASSIVE never waits for the writer: what it cannot copy now is copied on the next round.
const checkpoint = db.prepare<[], { busy: number; log: number; checkpointed: number }>('PRAGMA wal_checkpoint(PASSIVE)');
// Run while the writer holds off: copies the rest and waits for readers, so the next commit starts the WAL over.
const restart = db.prepare<[], { busy: number; log: number; checkpointed: number }>('PRAGMA wal_checkpoint(RESTART)');
let held = false;
/** The write count and the time at the last checkpoint. */
let writtenThen = Atomics.load(written, 0);
let checkpointedAt = performance.now();

const post = (message: WorkerMessage): void => parentPort!.postMessage(message);

const timer = setInterval(() => {
  if (held) return;
  const now = performance.now();
  const count = Atomics.load(written, 0);
  // Int32 arithmetic: the count wraps around after 2^31 writes.
  if (((count - writtenThen) | 0) < minWrites && now - checkpointedAt < maxIntervalMs) return;
  writtenThen = count;
  checkpointedAt = now;
  try {
    const result = checkpoint.get();
    if (walLimitPages > 0 && result && result.log > walLimitPages) {
      held = true;
      post({ type: 'behind', pages: result.log });
    }
  } catch (err) {
    // Another process checkpointing at the same moment: try again on the next round.
    if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
  }
}, intervalMs);

function catchUp(): void {
  let restarted = false;
  try {
    restarted = restart.get()?.busy === 0;
  } catch (err) {
    if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
  } finally {
    held = false;
  }
  post({ type: 'caught-up', restarted });
}

parentPort!.on('message', (message: string) => {
  if (message === 'catch-up') return catchUp();
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
