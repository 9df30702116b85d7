// Output backpressure for one connection: counts what was handed to the socket and not yet
// flushed to the kernel. Past the high-water mark the connection stops reading its client's input
// and producers that ask (`whenDrained`) wait; past the hard limit the stream is ended.
import type { ParserLimits } from '../xml/stream-parser.js';

export interface OutputLimits {
  /** Pending output (characters, about bytes) above which input is held and producers wait. */
  outputHighWater: number;
  /** Pending output above which the connection is closed with policy-violation. */
  maxOutputBuffer: number;
}

/** What a transport needs: how to parse input and how much output it may hold. */
export type TransportLimits = ParserLimits & Partial<OutputLimits>;

export const DEFAULT_OUTPUT_LIMITS: OutputLimits = { outputHighWater: 262_144, maxOutputBuffer: 4_194_304 };

export interface OutputGateEvents {
  /** Pending output crossed the high-water mark (true) or fell back under half of it (false). */
  holdInput(held: boolean): void;
  /** Pending output passed the hard limit. */
  overflow(): void;
}

export class OutputGate {
  private pending = 0;
  private held = false;
  private over = false;
  private waiters: (() => void)[] = [];
  private readonly limits: OutputLimits;

  constructor(limits: Partial<OutputLimits>, private readonly events: OutputGateEvents) {
    this.limits = { ...DEFAULT_OUTPUT_LIMITS, ...definedOnly(limits) };
  }

  /** Output written to the socket and not yet flushed. */
  get buffered(): number {
    return this.pending;
  }

  /** Counts `size` as pending; returns the callback the socket calls once it is flushed (or dropped). */
  wrote(size: number): () => void {
    this.add(size);
    return this.release(size);
  }

  /** Counts `size` as pending (written, not yet flushed): past the limits, input is held or the stream ends. */
  add(size: number): void {
    this.pending += size;
    if (this.pending > this.limits.maxOutputBuffer && !this.over) {
      this.over = true;
      this.events.overflow();
    } else if (this.pending > this.limits.outputHighWater && !this.held) {
      this.held = true;
      this.events.holdInput(true);
    }
  }

  /** The callback for a socket write of `size` characters already counted by `add`: uncounts them once flushed (or dropped). */
  release(size: number): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.pending -= size;
      if (this.held && this.pending <= this.limits.outputHighWater / 2) {
        this.held = false;
        this.events.holdInput(false);
        this.wake();
      }
    };
  }

  /** Null under the high-water mark (go on writing), else a promise resolved once the client has read enough (or the connection ended). */
  whenDrained(): Promise<void> | null {
    if (!this.held) return null;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The connection is gone: nobody waits for it any more. */
  closed(): void {
    this.held = false;
    this.wake();
  }

  private wake(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

function definedOnly(limits: Partial<OutputLimits>): Partial<OutputLimits> {
  const out: Partial<OutputLimits> = {};
  if (limits.outputHighWater !== undefined) out.outputHighWater = limits.outputHighWater;
  if (limits.maxOutputBuffer !== undefined) out.maxOutputBuffer = limits.maxOutputBuffer;
  return out;
}
