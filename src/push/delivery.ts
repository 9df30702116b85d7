// The delivery loop: claims due pushes from the outbox (a lease, so that a node that dies lets
// them go again), sends each through its application's sender, and records the outcome —
// retries with exponential backoff until the attempts are used up. The same loop fires
// scheduled events. Several nodes may run it on one store: claims never overlap.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { DeliveryResult, OutboxPush } from '../storage/push-types.js';
import type { Store } from '../storage/types.js';
import type { SendOutcome } from './sender.js';
import type { SenderPool } from './senders.js';
import { metrics } from '../metrics/index.js';

export interface DeliveryOptions {
  /** Sends that may run at once (also the claim batch). */
  concurrency?: number;
  /** How long a claim holds a push; past it another node may take it. */
  leaseMs?: number;
  /** Attempts before a push that keeps failing for a retryable reason is given up. */
  maxAttempts?: number;
  /** First retry delay; doubled per attempt, at most maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Idle polling period (a local enqueue wakes the loop at once). */
  pollMs?: number;
  /** Called once per tick before claiming: fires due scheduled events. */
  beforeClaim?: () => Promise<unknown>;
  now?: () => number;
}

/** Exponential backoff with jitter (half to all of the doubled delay). */
export function backoff(attempts: number, base: number, max: number, random = Math.random): number {
  const full = Math.min(max, base * 2 ** Math.max(0, attempts - 1));
  return Math.round(full / 2 + (random() * full) / 2);
}

export class PushDelivery {
  private running = false;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  readonly node = `${hostname()}:${process.pid}`;
  /** Pushes handed to a sender so far (all outcomes). */
  attempted = 0;
  private readonly o: Required<Omit<DeliveryOptions, 'beforeClaim'>> & Pick<DeliveryOptions, 'beforeClaim'>;

  constructor(private readonly store: Store, private readonly senders: SenderPool, private readonly log: Logger, options: DeliveryOptions = {}) {
    this.o = {
      concurrency: 64, leaseMs: 60_000, maxAttempts: 10, baseBackoffMs: 1000, maxBackoffMs: 300_000, pollMs: 500, now: Date.now, ...options,
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Wakes the loop: something was queued. */
  nudge(): void {
    this.wake?.();
  }

  /** Stops claiming and waits for sends in flight (whose outcomes are recorded). */
  async stop(): Promise<void> {
    this.running = false;
    this.nudge();
    await this.loop;
    await Promise.all(this.inFlight);
    this.senders.close();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let claimed = 0;
      try {
        await this.o.beforeClaim?.();
        const free = this.o.concurrency - this.inFlight.size;
        if (free > 0) {
          const pushes = await this.store.push.claim(this.o.now(), this.o.leaseMs, free);
          claimed = pushes.length;
          for (const push of pushes) this.track(this.deliver(push));
        }
      } catch (err) {
        if (this.running) this.log.error({ err }, 'push delivery: claiming failed');
      }
      if (!this.running) break;
      if (claimed > 0 && this.inFlight.size < this.o.concurrency) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, claimed > 0 ? 5 : this.o.pollMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
        // A send finishing frees a slot: look for more work.
        if (this.inFlight.size >= this.o.concurrency) void Promise.race(this.inFlight).then(done);
      });
      this.wake = null;
    }
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async deliver(push: OutboxPush): Promise<void> {
    let outcome: SendOutcome;
    try {
      const sender = await this.senders.forPush(push);
      this.attempted++;
      outcome = await sender.send(push);
    } catch (err) {
      outcome = { kind: 'retry', error: `sender failed: ${(err as Error).message}` };
    }
    const result = this.result(push, outcome);
    if (result.kind !== 'retry') metrics.push.inc({ outcome: result.kind === 'sent' ? 'sent' : 'failed' });
    if (result.kind !== 'sent') this.log.info({ push: push.id, app: push.appId, channel: push.channel, attempts: push.attempts, result }, 'push not delivered');
    try {
      await this.store.push.complete(push.id, result, new Date(this.o.now()));
    } catch (err) {
      // The lease runs out and the push is claimed again: sent twice rather than never.
      this.log.error({ err, push: push.id }, 'push delivery: recording the outcome failed');
    }
  }

  private result(push: OutboxPush, outcome: SendOutcome): DeliveryResult {
    if (outcome.kind !== 'retry') return outcome;
    if (push.attempts >= this.o.maxAttempts) return { kind: 'failed', error: `${outcome.error} (gave up after ${push.attempts} attempts)` };
    const delay = Math.max(outcome.retryAfterMs ?? 0, backoff(push.attempts, this.o.baseBackoffMs, this.o.maxBackoffMs));
    return { kind: 'retry', at: this.o.now() + delay, error: outcome.error };
  }
}
