// scrypt on dedicated worker threads instead of Node's libuv pool. crypto.scrypt runs on the same
// four libuv threads as fs calls, so a flood of password guesses (each ~50 ms of scrypt) queued
// the store's WAL fdatasync behind them: durable writes went from 2 ms to over 150 ms. Here at most
// SCRYPT_THREADS keys are derived at once, on threads of their own; callers wait in a FIFO queue.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ScryptJob } from './scrypt-worker.js';

/** One core is left to the event loop. */
const SCRYPT_THREADS = Math.max(1, Math.min(4, availableParallelism() - 1));

interface Pending {
  job: ScryptJob;
  resolve: (key: Buffer) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: Pending | null;
}

const slots: Slot[] = [];
const queue: Pending[] = [];
let nextId = 1;

function startSlot(): Slot {
  const worker = new Worker(new URL('./scrypt-worker.js', import.meta.url));
  worker.unref();
  const slot: Slot = { worker, busy: null };
  worker.on('message', (msg: { id: number; key?: Uint8Array; error?: string }) => {
    const done = slot.busy;
    slot.busy = null;
    if (done && done.job.id === msg.id) {
      if (msg.key) done.resolve(Buffer.from(msg.key));
      else done.reject(new Error(msg.error ?? 'scrypt failed'));
    }
    pump();
  });
  const fail = (err: Error) => {
    slots.splice(slots.indexOf(slot), 1);
    slot.busy?.reject(err);
    slot.busy = null;
    pump();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => {
    if (slots.includes(slot)) fail(new Error(`scrypt worker exited (${code})`));
  });
  slots.push(slot);
  return slot;
}

function pump(): void {
  while (queue.length > 0) {
    const slot = slots.find((s) => s.busy === null) ?? (slots.length < SCRYPT_THREADS ? startSlot() : undefined);
    if (!slot) return;
    const next = queue.shift()!;
    next.resolve = wrapUnref(slot, next.resolve);
    next.reject = wrapUnref(slot, next.reject);
    slot.busy = next;
    slot.worker.ref(); // a derivation in progress keeps the process alive; an idle pool does not
    slot.worker.postMessage(next.job);
  }
}

function wrapUnref<T>(slot: Slot, settle: (value: T) => void): (value: T) => void {
  return (value) => {
    slot.worker.unref();
    settle(value);
  };
}

/** scrypt(password, salt) on a worker thread. */
export function scryptOnWorker(password: string, salt: Buffer, keylen: number, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    queue.push({ job: { id: nextId++, password, salt: new Uint8Array(salt), keylen, N, r, p }, resolve, reject });
    pump();
  });
}

/** Derivations waiting for a thread (for tests and metrics). */
export const scryptQueueLength = (): number => queue.length;
