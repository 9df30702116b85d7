// Group commit: the hot writes (stored messages, markers, offline messages) queue up and run in one
// SQLite transaction per turn of the event loop, so a burst of N writes costs one flush to disk
// instead of N. A failing write rolls back alone and rejects alone: the batch first runs without
// savepoints (they cost two statements per write), and only when one write throws is the batch
// rolled back and run again with each write in its own savepoint — so a write's work may run twice
// and must not have effects outside the database. Each write resolves only once its transaction is
// durable: with a WalSync, the batch commits without waiting for the disk and the flush happens on
// the thread pool. While a flush is on the thread pool the next batch keeps collecting: WAL frames
// are whole pages, so committing the same hot pages (a dialog's index leaf, its row) once per flush
// instead of once per turn divides the bytes written and fsynced under load.
// At a low steady rate (a write every few ms) the flush is shorter than the gap between writes, so
// nothing collects behind it and each write would pay a commit and an fdatasync of its own: there, a
// write that comes less than `windowMs` after the previous commit began waits for the rest of that
// window, so one commit serves the writes of a few ms. A wait that gathered nothing (one writer
// awaiting each write in turn) makes the next waits skip, more of them each time, so a lone
// sequential writer almost never pays the window.
import type Database from 'better-sqlite3';
import type { WalSync } from './wal-sync.js';
import { metrics } from '../../metrics/index.js';

interface Pending {
  work: () => unknown;
  /** Whether the write resolves only once on disk (false: committed is enough). */
  durable: boolean;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  /** Transactions committed so far (a batch is one). */
  batches = 0;
  private readonly commit: Database.Transaction<(batch: Pending[]) => { ok: boolean; value: unknown }[]>;
  private readonly commitIsolated: Database.Transaction<(batch: Pending[]) => { ok: boolean; value: unknown }[]>;
  private syncsInFlight = 0;
  private timer: NodeJS.Timeout | null = null;
  /** When the last batch was committed (performance.now()), for the window. */
  private lastCommitAt = -Infinity;
  /** Whether the batch being collected waits for the window (to learn whether waiting paid). */
  private waiting = false;
  /** Window waits still to skip, and how many to skip after the next wait that gathers nothing. */
  private skipWaits = 0;
  private backoff = 1;
  /** While set, queued writes wait instead of committing (the checkpointer is emptying the WAL). */
  private paused = false;

  private readonly lazySync: Database.Statement | null;
  private readonly fullSync: Database.Statement | null;

  constructor(
    db: Database.Database,
    private readonly wal: WalSync | null = null,
    private readonly maxBatch = 512,
    /** Called after each committed batch, with its number of writes. */
    private readonly onCommit: (writes: number) => void = () => {},
    private readonly windowMs = 20,
  ) {
    this.lazySync = wal ? db.prepare('PRAGMA synchronous = NORMAL') : null;
    this.fullSync = wal ? db.prepare('PRAGMA synchronous = FULL') : null;
    // Nested in the batch's transaction, this is a savepoint.
    const savepoint = db.transaction((work: () => unknown) => work());
    this.commit = db.transaction((batch: Pending[]) => batch.map((op) => ({ ok: true, value: op.work() })));
    this.commitIsolated = db.transaction((batch: Pending[]) => batch.map((op) => {
      try {
        return { ok: true, value: savepoint(op.work) };
      } catch (err) {
        return { ok: false, value: err };
      }
    }));
  }

  /** Runs `work` (synchronous SQLite calls) in the next batch; resolves once that batch is committed. */
  run<T>(work: () => T): Promise<T> {
    return this.enqueue(work, true);
  }

  /**
   * Like run, for bookkeeping that may be lost in a power failure (a login's last_request_at): it
   * resolves once committed, and a batch of only such writes is not flushed to disk on its own
   * (the next durable batch or checkpoint carries it there).
   */
  runRelaxed<T>(work: () => T): Promise<T> {
    return this.enqueue(work, false);
  }

  private enqueue<T>(work: () => T, durable: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, durable, resolve: resolve as (value: unknown) => void, reject });
      if (this.paused) return;
      if (this.queue.length >= this.maxBatch) this.flush();
      else if (this.syncsInFlight === 0) this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const wait = this.lastCommitAt + this.windowMs - performance.now();
    if (wait >= 1) {
      if (this.skipWaits > 0) this.skipWaits--;
      else {
        this.waiting = true;
        this.timer = setTimeout(() => this.flushUnlessPaused(), wait);
        return;
      }
    }
    // setImmediate, not a microtask: the batch collects every write of this I/O phase.
    setImmediate(() => this.flushUnlessPaused());
  }

  private flushUnlessPaused(): void {
    if (!this.paused) this.flush();
  }

  /** Holds batches back (writes keep queueing) until `resume`; `flush` still commits at once. */
  pause(): void {
    this.paused = true;
    this.scheduled = false;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.queue.length > 0 && this.syncsInFlight === 0) this.schedule();
  }

  /** Learns from a window wait whether waiting gathers writes here (a steady stream) or not (one sequential writer). */
  private learn(batchSize: number): void {
    if (!this.waiting) return;
    this.waiting = false;
    if (batchSize > 1) {
      this.backoff = 1;
      this.skipWaits = 0;
    } else {
      this.skipWaits = this.backoff;
      this.backoff = Math.min(this.backoff * 2, 64);
    }
  }

  /** Commits what is queued now: before closing the database, and before a read that must see every write issued so far. */
  flush(): void {
    this.scheduled = false;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.learn(this.queue.length);
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    const started = performance.now();
    this.lastCommitAt = started;
    const flushed = (): void => metrics.groupCommitFlush.observe((performance.now() - started) / 1000);
    metrics.groupCommitBatch.observe(batch.length);
    let results: { ok: boolean; value: unknown }[];
    this.lazySync?.run();
    try {
      // IMMEDIATE: takes the write lock up front, so another process cannot make the batch fail halfway.
      try {
        results = this.commit.immediate(batch);
      } catch (err) {
        // A lone write has nothing to be isolated from: its error is the batch's.
        if (batch.length === 1) throw err;
        results = this.commitIsolated.immediate(batch);
      }
      this.batches++;
      this.onCommit(batch.length);
    } catch (err) {
      for (const op of batch) op.reject(err);
      return;
    } finally {
      // Every other write of this connection keeps flushing inside its COMMIT.
      this.fullSync?.run();
    }
    const settle = (): void => batch.forEach((op, i) => (results[i]!.ok ? op.resolve(results[i]!.value) : op.reject(results[i]!.value)));
    if (!this.wal || !batch.some((op) => op.durable)) {
      flushed();
      return settle();
    }
    this.syncsInFlight++;
    this.wal.sync().then(() => {
      flushed();
      settle();
    }, (err: unknown) => {
      for (const op of batch) op.reject(err);
    }).finally(() => {
      if (--this.syncsInFlight === 0 && this.queue.length > 0 && !this.paused) this.schedule();
    });
  }
}
