// WAL checkpoints for a busy database, on a worker thread. By default SQLite checkpoints inside the
// COMMIT that takes the WAL past 1,000 pages: under a stream of stored messages that is every few
// batches, on the event loop, rewriting every page and fsyncing the database file while no stanza
// moves. Once the group commit has run `startAfter` batches (a busy server, not a test or a CLI
// verb), checkpoints move to a worker that runs one PASSIVE checkpoint every `intervalMs`; the
// connection's own automatic checkpoints are switched off. If the worker fails they are switched
// back on, so the WAL never grows without bound.
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

export class Checkpointer {
  private worker: Worker | null = null;
  private commits = 0;
  private failed = false;

  constructor(
    private readonly db: Database.Database,
    private readonly startAfter = 64,
    private readonly intervalMs = 250,
  ) {}

  /** Called after each group-commit batch. */
  committed(): void {
    if (this.worker || this.failed || ++this.commits < this.startAfter) return;
    const worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), {
      workerData: { path: this.db.name, intervalMs: this.intervalMs },
    });
    worker.unref();
    worker.on('error', () => this.fallBack());
    worker.on('exit', () => {
      if (this.worker === worker) this.fallBack();
    });
    this.worker = worker;
    this.db.pragma('wal_autocheckpoint = 0');
  }

  /** Whether checkpoints currently run on the worker. */
  get running(): boolean {
    return this.worker !== null;
  }

  private fallBack(): void {
    this.worker = null;
    this.failed = true;
    if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
  }

  /** Stops the worker; the connection's last close checkpoints what is left. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref(); // keeps the process alive until the worker has closed its connection
    worker.postMessage('stop');
    await exited;
    if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
  }
}
