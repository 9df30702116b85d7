// WAL checkpoints for a busy database, on a worker thread. By default SQLite checkpoints inside the
// COMMIT that takes the WAL past 1,000 pages: under a stream of stored messages that is every few
// batches, on the event loop, rewriting every page and fsyncing the database file while no stanza
// moves. Once the group commit has run `startAfter` batches (a busy server, not a test or a CLI
// verb), checkpoints move to a worker that runs one PASSIVE checkpoint every `intervalMs`; the
// connection's own automatic checkpoints are switched off. If the worker fails they are switched
// back on, so the WAL never grows without bound.
// Under a steady stream of commits a PASSIVE checkpoint never catches up (new frames arrive while
// it copies), and SQLite starts the WAL file over only once every frame is copied: the file would
// grow for as long as the load lasts. So when the WAL holds more than `walLimitPages`, the worker
// asks for a short hold: the group commit stops starting batches (writes keep queueing), the worker
// copies the rest (RESTART: the next commit starts the WAL over, writing over the file's first pages
// instead of appending, which also makes each fdatasync cheaper), and the batches resume — after
// `holdMs` at the latest.
// A round checkpoints only once `minWrites` writes were committed since the last checkpoint, or
// `maxIntervalMs` after it whatever was written (writes outside the group commit are not counted): at
// a low rate each checkpoint's two fsyncs and its page copies serve more writes (at 500 writes/s a
// checkpoint every 2 s instead of every 250 ms: a page a message dirties again within those seconds is
// copied once), while under load (minWrites in less than `intervalMs`) nothing changes.
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { metrics } from '../../metrics/index.js';

/** What the checkpointer needs of the writer: stop starting transactions for a moment, then go on. */
export interface WriteHold {
  pause(): void;
  resume(): void;
}

export interface CheckpointerOptions {
  /** Group-commit batches before checkpoints move to the worker. */
  startAfter?: number;
  intervalMs?: number;
  /** Writes committed since the last checkpoint that make a round checkpoint. */
  minWrites?: number;
  /** The longest between two checkpoints, whatever was written meanwhile. */
  maxIntervalMs?: number;
  /** WAL pages past which the worker asks for a hold to start it over (16,384 pages of 4 KiB: 64 MiB). */
  walLimitPages?: number;
  /** The longest the writer is held, whatever the worker does meanwhile. */
  holdMs?: number;
  writer?: WriteHold;
}

/** What the worker is started with. */
export interface WorkerOptions {
  path: string;
  intervalMs: number;
  walLimitPages: number;
  /** Writes committed by the group commit, counted up by the event loop. */
  written: Int32Array;
  minWrites: number;
  maxIntervalMs: number;
}

export type WorkerMessage = { type: 'behind'; pages: number } | { type: 'caught-up'; restarted: boolean };

export class Checkpointer {
  private worker: Worker | null = null;
  private commits = 0;
  private failed = false;
  private holdTimer: NodeJS.Timeout | null = null;
  private heldSince = 0;
  /** WAL restarts done under a hold, and holds that ran out of time. */
  restarts = 0;
  holdsTimedOut = 0;
  private readonly startAfter: number;
  private readonly intervalMs: number;
  private readonly minWrites: number;
  private readonly maxIntervalMs: number;
  /** Writes committed so far, read by the worker (wraps around; only differences matter). */
  private readonly written = new Int32Array(new SharedArrayBuffer(4));
  private readonly walLimitPages: number;
  private readonly holdMs: number;
  private readonly writer: WriteHold | null;

  constructor(
    private readonly db: Database.Database,
    options: CheckpointerOptions = {},
  ) {
    this.startAfter = options.startAfter ?? 64;
    this.intervalMs = options.intervalMs ?? 250;
    this.minWrites = options.minWrites ?? 1_000;
    this.maxIntervalMs = options.maxIntervalMs ?? 2_000;
    this.walLimitPages = options.walLimitPages ?? 16_384;
    this.holdMs = options.holdMs ?? 1_000;
    this.writer = options.writer ?? null;
  }

  /** Called after each group-commit batch, with the number of writes it committed. */
  committed(writes = 1): void {
    Atomics.add(this.written, 0, writes);
    if (this.worker || this.failed || ++this.commits < this.startAfter) return;
    const worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), {
      workerData: {
        path: this.db.name, intervalMs: this.intervalMs, walLimitPages: this.writer ? this.walLimitPages : 0,
        written: this.written, minWrites: this.minWrites, maxIntervalMs: this.maxIntervalMs,
      } satisfies WorkerOptions,
    });
    worker.unref();
    worker.on('message', (message: WorkerMessage) => this.onMessage(worker, message));
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

  private onMessage(worker: Worker, message: WorkerMessage): void {
    if (worker !== this.worker || !this.writer) return;
    if (message.type === 'behind' && !this.holdTimer) {
      this.writer.pause();
      this.heldSince = performance.now();
      this.holdTimer = setTimeout(() => {
        this.holdsTimedOut++;
        this.release();
      }, this.holdMs);
      worker.postMessage('catch-up');
    } else if (message.type === 'caught-up') {
      if (message.restarted) this.restarts++;
      this.release();
    }
  }

  private release(): void {
    if (!this.holdTimer) return;
    clearTimeout(this.holdTimer);
    this.holdTimer = null;
    metrics.walHold.observe((performance.now() - this.heldSince) / 1000);
    this.writer?.resume();
  }

  private fallBack(): void {
    this.release();
    this.worker = null;
    this.failed = true;
    if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
  }

  /** Stops the worker; the connection's last close checkpoints what is left. */
  async close(): Promise<void> {
    this.release();
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
