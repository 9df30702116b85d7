// FCM HTTP v1: a service account's RS256 JWT is exchanged at its token_uri for an OAuth access
// token (cached until shortly before it expires), which authorises data messages.
import { importPKCS8, SignJWT } from 'jose';
import type { OutboxPush } from '../storage/push-types.js';
import { retryAfterMs, type PushSender, type SendOutcome } from './sender.js';
import type { FcmCredentials } from './settings.js';

export const FCM_HOST = 'https://fcm.googleapis.com';
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const REQUEST_TIMEOUT_MS = 15_000;
/** Refresh this long before Google's expiry, so that no request carries a token that dies on the way. */
const EXPIRY_MARGIN_MS = 5 * 60_000;

class TokenError extends Error {
  constructor(message: string, readonly retry: boolean) {
    super(message);
  }
}

export class FcmSender implements PushSender {
  private access: { token: string; expiresAt: number } | null = null;
  private pending: Promise<string> | null = null;
  private key: Promise<CryptoKey> | null = null;

  constructor(private readonly creds: FcmCredentials, private readonly now: () => number = Date.now) {}

  /** The cached access token, or one fetched now (one exchange at a time). */
  async accessToken(): Promise<string> {
    if (this.access && this.now() < this.access.expiresAt - EXPIRY_MARGIN_MS) return this.access.token;
    this.pending ??= this.exchange().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async exchange(): Promise<string> {
    const account = this.creds.serviceAccount;
    this.key ??= importPKCS8(account.private_key, 'RS256');
    const iat = Math.floor(this.now() / 1000);
    const assertion = await new SignJWT({ scope: FCM_SCOPE })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(account.private_key_id ? { kid: account.private_key_id } : {}) })
      .setIssuer(account.client_email)
      .setAudience(account.token_uri)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .sign(await this.key);
    let res: Response;
    try {
      res = await fetch(account.token_uri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      throw new TokenError(`OAuth token endpoint unreachable: ${(err as Error).message}`, true);
    }
    const text = await res.text();
    if (!res.ok) {
      let error = '';
      try {
        error = String((JSON.parse(text) as { error?: unknown }).error ?? '');
      } catch {
        // Not JSON.
      }
      throw new TokenError(`OAuth token exchange: ${res.status} ${error}`.trim(), res.status === 429 || res.status >= 500);
    }
    const body = JSON.parse(text) as { access_token?: unknown; expires_in?: unknown };
    if (typeof body.access_token !== 'string') throw new TokenError('OAuth token exchange: no access_token', true);
    const lifetime = Number(body.expires_in);
    this.access = { token: body.access_token, expiresAt: this.now() + (Number.isFinite(lifetime) && lifetime > 0 ? lifetime : 3600) * 1000 };
    return this.access.token;
  }

  async send(push: OutboxPush): Promise<SendOutcome> {
    let data: Record<string, string>;
    try {
      data = JSON.parse(push.payload) as Record<string, string>;
    } catch {
      return { kind: 'failed', error: 'payload is not JSON' };
    }
    let token: string;
    try {
      token = await this.accessToken();
    } catch (err) {
      if (err instanceof TokenError) return err.retry ? { kind: 'retry', error: err.message } : { kind: 'failed', error: err.message };
      return { kind: 'failed', error: `service account key: ${(err as Error).message}` };
    }
    const base = (this.creds.endpoint ?? FCM_HOST).replace(/\/+$/, '');
    const url = `${base}/v1/projects/${encodeURIComponent(this.creds.serviceAccount.project_id)}/messages:send`;
    const message: Record<string, unknown> = { token: push.token, data, android: { priority: 'high' } };
    if (push.collapseKey) (message.android as Record<string, unknown>).collapse_key = push.collapseKey;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      return { kind: 'retry', error: `FCM unreachable: ${(err as Error).message}` };
    }
    const text = await res.text();
    if (res.ok) return { kind: 'sent' };
    return this.outcome(res, text);
  }

  private outcome(res: Response, text: string): SendOutcome {
    let status = '';
    let code = '';
    try {
      const error = (JSON.parse(text) as { error?: { status?: string; details?: { errorCode?: string }[] } }).error;
      status = error?.status ?? '';
      code = error?.details?.find((d) => d.errorCode)?.errorCode ?? '';
    } catch {
      // Not JSON.
    }
    const error = `${res.status} ${code || status}`.trim();
    if (code === 'UNREGISTERED' || (res.status === 404 && status === 'NOT_FOUND')) return { kind: 'unregistered', error };
    if (res.status === 401) {
      this.access = null; // the access token was refused: exchange a new one
      return { kind: 'retry', error };
    }
    if (res.status === 429 || res.status >= 500) return { kind: 'retry', error, retryAfterMs: retryAfterMs(res.headers.get('retry-after')) };
    return { kind: 'failed', error };
  }

  close(): void {}
}
