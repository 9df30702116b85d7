// One scrypt worker: derives keys with scryptSync on its own thread, so password hashing never
// occupies the libuv pool where the store's fdatasync calls wait.
import { scryptSync } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

export interface ScryptJob {
  id: number;
  password: string;
  salt: Uint8Array;
  keylen: number;
  N: number;
  r: number;
  p: number;
}

parentPort?.on('message', (job: ScryptJob) => {
  try {
    const { N, r, p } = job;
    const key = scryptSync(job.password, job.salt, job.keylen, { N, r, p, maxmem: 256 * N * r * p + (1 << 20) });
    parentPort!.postMessage({ id: job.id, key });
  } catch (err) {
    parentPort!.postMessage({ id: job.id, error: (err as Error).message });
  }
});
