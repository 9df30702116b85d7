// A few worker threads, each with its own SQLite connection, that run the chat store's costly reads
// (history pages, dialog lists, their counts) off the event loop. The main connection keeps every
// write and the group commit. Reads see what is committed when they start (WAL snapshots); every
// write is committed before it is acknowledged, so a client that saw its write acknowledged reads it
// back. The queue is bounded: past `maxQueue` reads waiting, a read fails with StoreBusyError at
// once instead of adding to the latency of all the others. Workers start with the first read.
import { Worker } from 'node:worker_threads';
import { StoreBusyError } from '../busy.js';
import { decodeAnswer, type PooledRead, type ReadExtension, type ReadReply, type ReadRequest, type TaskRequest } from './read-protocol.js';
import type { ReadTaskPool } from '../read-tasks.js';

export interface ReadPoolOptions {
  /** Worker threads (connections). */
  workers: number;
  /** Reads waiting or running across all workers beyond which a read is refused. */
  maxQueue: number;
}

interface Waiting {
  /** null for an extension's task, whose answer is passed on as it came. */
  method: PooledRead | null;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

interface Slot {
  worker: Worker | null;
  waiting: Map<number, Waiting>;
}

/** Worker failures after which the pool gives up and reads go back to the main connection. */
const MAX_FAILURES = 3;

export class SqliteReadPool implements ReadTaskPool {
  private readonly slots: Slot[];
  private nextId = 1;
  private inFlight = 0;
  private failures = 0;
  private closed = false;
  private readonly extensions: ReadExtension[] = [];

  constructor(private readonly path: string, private readonly options: ReadPoolOptions) {
    this.slots = Array.from({ length: Math.max(1, options.workers) }, () => ({ worker: null, waiting: new Map() }));
  }

  /** Whether reads go to the workers (false once closed or after repeated worker failures). */
  get available(): boolean {
    return !this.closed && this.failures < MAX_FAILURES;
  }

  /** Reads waiting or running now. */
  get pending(): number {
    return this.inFlight;
  }

  /** Runs a chat store read on a worker; rejects with StoreBusyError when too many are waiting. */
  run<T>(method: PooledRead, args: unknown[]): Promise<T> {
    return this.post(method, (id) => ({ id, method, args }) satisfies ReadRequest);
  }

  /**
   * Loads a module into every worker (those running now and those started later): its export
   * `readTasks(host, options)` (a ReadTasksFactory) names the tasks runTask may ask for.
   */
  extend(url: URL | string, options: unknown): void {
    const extension: ReadExtension = { url: String(url), options };
    this.extensions.push(extension);
    for (const slot of this.slots) slot.worker?.postMessage({ load: extension });
  }

  /** Runs an extension's task on a worker (same queue and bound as the reads). */
  runTask<T>(task: string, args: unknown[]): Promise<T> {
    return this.post(null, (id) => ({ id, task, args }) satisfies TaskRequest);
  }

  private post<T>(method: PooledRead | null, request: (id: number) => ReadRequest | TaskRequest): Promise<T> {
    if (!this.available) return Promise.reject(new Error('the read pool is closed'));
    if (this.inFlight >= this.options.maxQueue) return Promise.reject(new StoreBusyError());
    const slot = this.leastBusy();
    const worker = slot.worker ?? this.start(slot);
    const id = this.nextId++;
    this.inFlight++;
    return new Promise<T>((resolve, reject) => {
      slot.waiting.set(id, { method, resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage(request(id));
    });
  }

  private leastBusy(): Slot {
    let best = this.slots[0]!;
    for (const slot of this.slots) if (slot.waiting.size < best.waiting.size) best = slot;
    return best;
  }

  private start(slot: Slot): Worker {
    const worker = new Worker(new URL('./read-worker.js', import.meta.url), { workerData: { path: this.path, extensions: this.extensions } });
    worker.unref();
    worker.on('message', (reply: ReadReply) => {
      const waiting = slot.waiting.get(reply.id);
      if (!waiting) return;
      slot.waiting.delete(reply.id);
      this.inFlight--;
      if (!reply.ok) waiting.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name, code: reply.error.code }));
      else {
        try {
          waiting.resolve('value' in reply ? reply.value : decodeAnswer(waiting.method!, reply.json));
        } catch (err) {
          waiting.reject(err);
        }
      }
    });
    worker.on('error', (err) => this.lost(slot, worker, err));
    worker.on('exit', (code) => this.lost(slot, worker, new Error(`read worker exited with code ${code}`)));
    slot.worker = worker;
    return worker;
  }

  /** A worker died: its reads fail, and the next read starts a new one (until MAX_FAILURES). */
  private lost(slot: Slot, worker: Worker, err: Error): void {
    if (slot.worker !== worker) return;
    slot.worker = null;
    if (!this.closed) this.failures++;
    for (const waiting of slot.waiting.values()) waiting.reject(err);
    this.inFlight -= slot.waiting.size;
    slot.waiting.clear();
  }

  /** Stops the workers once their current reads are answered; reads after this fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.slots.map(async (slot) => {
      const worker = slot.worker;
      if (!worker) return;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.ref();
      worker.postMessage('stop');
      await exited;
    }));
  }
}
