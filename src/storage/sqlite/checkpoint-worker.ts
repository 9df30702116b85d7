// Runs in a worker thread (see checkpointer.ts): copies committed WAL frames back into the database
// file on its own connection, so the page copies and the fsyncs they end with stay off the event loop.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new Database(path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
// PASSIVE never waits for the writer: what it cannot copy now is copied on the next round.
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const timer = setInterval(() => {
  try {
    checkpoint.run();
  } catch (err) {
    // Another process checkpointing at the same moment: try again on the next round.
    if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
  }
}, intervalMs);

parentPort!.on('message', (message: string) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
