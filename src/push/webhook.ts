// Parley's own channel for operators' gateways: each push POSTed as JSON, signed with
// HMAC-SHA256 of the exact body bytes under the application's webhook secret.
import { createHmac } from 'node:crypto';
import type { OutboxPush } from '../storage/push-types.js';
import { retryAfterMs, type PushSender, type SendOutcome } from './sender.js';
import type { WebhookCredentials } from './settings.js';

export const SIGNATURE_HEADER = 'x-parley-signature';
const REQUEST_TIMEOUT_MS = 15_000;

/** `sha256=<hex HMAC-SHA256 of body>`, the value of the X-Parley-Signature header. */
export const webhookSignature = (secret: string, body: string | Buffer): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

export function webhookBody(push: OutboxPush): string {
  return JSON.stringify({
    id: push.id,
    app_id: push.appId,
    user_id: push.userId,
    event_id: push.eventId,
    channel: push.channel,
    environment: push.environment,
    token: push.token,
    bundle_id: push.bundleId,
    payload: JSON.parse(push.payload) as unknown,
    attempt: push.attempts,
    created_at: push.createdAt.toISOString(),
  });
}

export class WebhookSender implements PushSender {
  constructor(private readonly creds: WebhookCredentials) {}

  async send(push: OutboxPush): Promise<SendOutcome> {
    const body = webhookBody(push);
    let res: Response;
    try {
      res = await fetch(this.creds.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: webhookSignature(this.creds.secret, body), 'x-parley-push-id': String(push.id) },
        body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      return { kind: 'retry', error: `webhook unreachable: ${(err as Error).message}` };
    }
    await res.arrayBuffer().catch(() => undefined);
    if (res.ok) return { kind: 'sent' };
    const error = `webhook ${res.status}`;
    if (res.status === 410) return { kind: 'unregistered', error };
    if (res.status === 429 || res.status >= 500) return { kind: 'retry', error, retryAfterMs: retryAfterMs(res.headers.get('retry-after')) };
    return { kind: 'failed', error };
  }

  close(): void {}
}
