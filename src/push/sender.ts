// What every provider sender answers for one push. The delivery loop turns `retry` into a
// backoff (or a failure once the attempts are used up) and `unregistered` into removing the
// subscription.
import type { OutboxPush } from '../storage/push-types.js';

export type SendOutcome =
  | { kind: 'sent' }
  | { kind: 'retry'; error: string; retryAfterMs?: number }
  | { kind: 'failed'; error: string }
  | { kind: 'unregistered'; error: string };

export interface PushSender {
  send(push: OutboxPush): Promise<SendOutcome>;
  close(): void;
}

/** Seconds of a Retry-After header (RFC 9110: seconds or an HTTP date) in milliseconds. */
export function retryAfterMs(header: string | string[] | null | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds, 3600) * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, Math.min(date - Date.now(), 3_600_000)) : undefined;
}
