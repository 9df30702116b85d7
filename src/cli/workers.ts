// `parley serve --workers N`: N worker processes on one machine (node:cluster), sharing the
// listening ports, each its own cluster node `<base>-w<i>` (Redis routes between them). The primary
// only supervises: it restarts a worker that dies, on SIGTERM/SIGINT stops them all, and passes SIGHUP on.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';

export const MAX_WORKERS = 64;
const RESTART_DELAY_MS = 1000;
/** More crashes than this within CRASH_WINDOW_MS: something is wrong beyond one worker; give up. */
const MAX_CRASHES = 5;
const CRASH_WINDOW_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

export interface WorkersOptions {
  count: number;
  /** Node ids are `<base>-w<i>`. */
  base: string;
  /** The script each worker runs, and its arguments (a plain `serve`). */
  exec: string;
  args: string[];
  log: Logger;
}

/** Runs the workers until a signal (exit code 0 when all stopped cleanly) or repeated crashes (1). */
export function superviseWorkers(opts: WorkersOptions): Promise<number> {
  const { count, base, log } = opts;
  cluster.setupPrimary({ exec: opts.exec, args: opts.args });
  const workers = new Map<number, Worker>();
  const crashes: number[] = [];
  let stopping = false;
  let failed = false;

  return new Promise<number>((resolve) => {
    const finishIfDone = (): void => {
      if (stopping && workers.size === 0) resolve(failed ? 1 : 0);
    };

    const stopAll = (): void => {
      if (stopping) return;
      stopping = true;
      for (const worker of workers.values()) worker.process.kill('SIGTERM');
      const killer = setTimeout(() => {
        for (const [i, worker] of workers) {
          log.warn({ worker: i }, 'worker did not stop in time; killing it');
          worker.process.kill('SIGKILL');
        }
      }, STOP_TIMEOUT_MS);
      killer.unref();
      finishIfDone();
    };

    const start = (i: number): void => {
      const node = `${base}-w${i}`;
      const worker = cluster.fork({ PARLEY_CLUSTER_NODE_ID: node });
      workers.set(i, worker);
      log.info({ worker: i, node, pid: worker.process.pid }, 'worker started');
      worker.on('exit', (code, signal) => {
        if (workers.get(i) === worker) workers.delete(i);
        if (stopping) {
          if (code !== 0) failed = true;
          log.info({ worker: i, code, signal }, 'worker stopped');
          return finishIfDone();
        }
        const now = Date.now();
        crashes.push(now);
        while (crashes.length > 0 && crashes[0]! < now - CRASH_WINDOW_MS) crashes.shift();
        if (crashes.length > MAX_CRASHES) {
          log.fatal({ worker: i, code, signal }, `workers crashed more than ${MAX_CRASHES} times in ${CRASH_WINDOW_MS / 1000} s; stopping`);
          failed = true;
          return stopAll();
        }
        log.error({ worker: i, code, signal }, 'worker died; restarting it');
        setTimeout(() => {
          if (!stopping) start(i);
        }, RESTART_DELAY_MS);
      });
    };

    const onSignal = (signal: NodeJS.Signals): void => {
      log.info({ signal }, 'stopping the workers');
      stopAll();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // Each worker reloads its own TLS certificate.
    process.on('SIGHUP', () => {
      for (const worker of workers.values()) worker.process.kill('SIGHUP');
    });
    for (let i = 0; i < count; i++) start(i);
  });
}
