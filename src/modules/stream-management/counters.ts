// XEP-0198 counting: sequence numbers modulo 2^32 and the queue of stanzas sent but not yet
// acknowledged by the client, each remembering when it was queued and who wants its outcome.
import type { Element } from '../../xml/element.js';
import type { DeliveryOutcome } from '../../core/api.js';

const HALF = 2 ** 31;

/** a + n modulo 2^32. */
export const add32 = (a: number, n: number): number => (a + n) >>> 0;
/** a - b modulo 2^32: how far a is ahead of b. */
export const ahead32 = (a: number, b: number): number => (a - b) >>> 0;

/** An `h` attribute: an unsigned 32-bit decimal integer, or null. */
export function parseH(value: string | undefined): number | null {
  if (value === undefined || !/^\d{1,10}$/.test(value)) return null;
  const n = Number(value);
  return n < 2 ** 32 ? n : null;
}

export interface Unacked {
  stanza: Element;
  queuedAt: number;
  outcome?: DeliveryOutcome;
}

/** How an `h` from the client relates to what was sent: it acknowledges `count` more stanzas, is behind what it already acknowledged, or claims more than was sent. */
export type HCheck = { kind: 'ok'; count: number } | { kind: 'low' } | { kind: 'too-high' };

export class OutboundQueue {
  /** Stanzas sent (mod 2^32) and the last `h` acknowledged. */
  sent: number;
  acked: number;
  private items: Unacked[] = [];

  constructor(start = 0) {
    this.sent = start;
    this.acked = start;
  }

  get length(): number {
    return this.items.length;
  }

  push(stanza: Element, now: number): void {
    this.items.push({ stanza, queuedAt: now });
    this.sent = add32(this.sent, 1);
  }

  /** Attaches a delivery outcome to the stanza just pushed, when it is that stanza. */
  attachOutcome(stanza: Element, outcome: DeliveryOutcome): boolean {
    const last = this.items.at(-1);
    if (!last || last.stanza !== stanza || last.outcome) return false;
    last.outcome = outcome;
    return true;
  }

  check(h: number): HCheck {
    const count = ahead32(h, this.acked);
    if (count <= this.items.length) return { kind: 'ok', count };
    // Beyond what was sent (within half the sequence space) is too high; anything else is behind.
    const beyond = ahead32(h, this.sent);
    return beyond > 0 && beyond < HALF ? { kind: 'too-high' } : { kind: 'low' };
  }

  /** Removes the `count` oldest stanzas (a checked acknowledgement) and reports them delivered. */
  ack(count: number): void {
    if (count === 0) return;
    const done = this.items.splice(0, count);
    this.acked = add32(this.acked, count);
    for (const item of done) item.outcome?.(true);
  }

  /** Unacknowledged stanzas, oldest first. */
  pending(): readonly Unacked[] {
    return this.items;
  }

  /** Empties the queue, returning what was in it. */
  takeAll(): Unacked[] {
    const all = this.items;
    this.items = [];
    this.acked = this.sent;
    return all;
  }
}
