// Open-loop load at a fixed rate for the in-process benches: `send` is called `rate` times a second
// for `seconds`, whatever the calls' own progress, then the run waits until every call has settled.

export interface PacedRun {
  /** Calls made. */
  sent: number;
  /** Calls settled before the window closed (the rate the system kept up with). */
  settledInWindow: number;
  /** Latencies of the calls that resolved, in ms, sorted. */
  latencies: number[];
  failed: number;
}

export async function paced(rate: number, seconds: number, send: (n: number) => Promise<unknown>): Promise<PacedRun> {
  const run: PacedRun = { sent: 0, settledInWindow: 0, latencies: [], failed: 0 };
  let settled = 0;
  const t0 = performance.now();
  // Timers fire at most once a millisecond: above 1,000/s each tick sends several.
  const tickMs = Math.max(1, 1000 / rate);
  const perTick = Math.max(1, Math.round(rate / 1000));
  await new Promise<void>((finish) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - t0;
      if (elapsed >= seconds * 1000) {
        clearInterval(timer);
        run.settledInWindow = settled;
        const wait = setInterval(() => {
          if (settled === run.sent) {
            clearInterval(wait);
            finish();
          }
        }, 5);
        return;
      }
      // Catch up with the clock when a tick came late, so the rate is the rate asked for.
      const due = Math.floor((elapsed / 1000) * rate) + perTick;
      while (run.sent < due) {
        const started = performance.now();
        send(++run.sent).then(() => run.latencies.push(performance.now() - started), () => run.failed++).finally(() => settled++);
      }
    }, tickMs);
  });
  run.latencies.sort((x, y) => x - y);
  return run;
}

/** The p-quantile of sorted values, NaN when there are none. */
export const quantile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
