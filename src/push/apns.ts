// APNs provider API: HTTP/2, token authentication (an ES256 JWT from the team's .p8 key, reused
// for most of its hour: Apple refuses refreshes more often than every 20 minutes), one
// connection per host kept open and reopened when it closes.
import http2 from 'node:http2';
import { importPKCS8, SignJWT } from 'jose';
import type { OutboxPush } from '../storage/push-types.js';
import { apnsDelivery } from './message.js';
import { retryAfterMs, type PushSender, type SendOutcome } from './sender.js';
import type { ApnsCredentials } from './settings.js';

export const APNS_HOSTS = { development: 'https://api.sandbox.push.apple.com', production: 'https://api.push.apple.com' } as const;

/** How long one provider token is used: under Apple's hour, over its 20-minute refresh floor. */
export const APNS_TOKEN_LIFETIME_MS = 45 * 60_000;
const REQUEST_TIMEOUT_MS = 15_000;
const MAX_BODY = { alert: 4096, voip: 5120 } as const;

export interface ApnsOptions {
  /** Extra trust for a local test server's certificate. */
  ca?: string | Buffer;
  now?: () => number;
}

export class ApnsTokenSigner {
  private current: { token: string; issuedAt: number } | null = null;
  private key: Promise<CryptoKey> | null = null;

  constructor(private readonly creds: Pick<ApnsCredentials, 'keyPem' | 'keyId' | 'teamId'>, private readonly now: () => number = Date.now) {}

  /** The provider token, signed anew only when the last one is older than APNS_TOKEN_LIFETIME_MS (or was refused). */
  async token(): Promise<string> {
    const now = this.now();
    if (this.current && now - this.current.issuedAt < APNS_TOKEN_LIFETIME_MS) return this.current.token;
    this.key ??= importPKCS8(this.creds.keyPem, 'ES256');
    const issuedAt = now;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: this.creds.keyId })
      .setIssuer(this.creds.teamId)
      .setIssuedAt(Math.floor(issuedAt / 1000))
      .sign(await this.key);
    this.current = { token, issuedAt };
    return token;
  }

  /** Apple refused the token (expired, invalid): the next push signs a new one. */
  invalidate(): void {
    this.current = null;
  }
}

export class ApnsSender implements PushSender {
  private readonly sessions = new Map<string, http2.ClientHttp2Session>();
  private readonly signer: ApnsTokenSigner;

  constructor(private readonly creds: ApnsCredentials, private readonly options: ApnsOptions = {}) {
    this.signer = new ApnsTokenSigner(creds, options.now);
  }

  private origin(push: OutboxPush): string {
    return this.creds.endpoint ?? APNS_HOSTS[push.environment];
  }

  private session(origin: string): http2.ClientHttp2Session {
    const open = this.sessions.get(origin);
    if (open && !open.closed && !open.destroyed) return open;
    const session = http2.connect(origin, this.options.ca ? { ca: this.options.ca } : {});
    const forget = () => {
      if (this.sessions.get(origin) === session) this.sessions.delete(origin);
    };
    session.on('error', forget);
    session.on('close', forget);
    session.on('goaway', forget);
    session.unref();
    this.sessions.set(origin, session);
    return session;
  }

  async send(push: OutboxPush): Promise<SendOutcome> {
    const body = push.payload;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return { kind: 'failed', error: 'payload is not JSON' };
    }
    const { pushType, priority } = apnsDelivery(push.channel, parsed);
    if (Buffer.byteLength(body) > MAX_BODY[pushType === 'voip' ? 'voip' : 'alert']) return { kind: 'failed', error: '413 PayloadTooLarge' };
    const bundle = push.bundleId ?? this.creds.bundleId;
    const topic = push.channel === 'apns_voip' ? `${bundle}.voip` : bundle;
    const token = await this.signer.token();
    const headers: http2.OutgoingHttpHeaders = {
      ':method': 'POST',
      ':path': `/3/device/${encodeURIComponent(push.token)}`,
      authorization: `bearer ${token}`,
      'apns-topic': topic,
      'apns-push-type': pushType,
      'apns-priority': priority,
      'apns-expiration': String(Math.floor(Date.now() / 1000) + 86_400),
      'content-type': 'application/json',
    };
    if (push.collapseKey) headers['apns-collapse-id'] = push.collapseKey.slice(0, 64);
    let answer: { status: number; body: string; headers: http2.IncomingHttpHeaders };
    try {
      answer = await this.request(this.origin(push), headers, body);
    } catch (err) {
      return { kind: 'retry', error: `APNs unreachable: ${(err as Error).message}` };
    }
    return this.outcome(answer);
  }

  private outcome({ status, body, headers }: { status: number; body: string; headers: http2.IncomingHttpHeaders }): SendOutcome {
    if (status === 200) return { kind: 'sent' };
    let reason = '';
    try {
      reason = String((JSON.parse(body) as { reason?: unknown }).reason ?? '');
    } catch {
      // No JSON body: the status says enough.
    }
    const error = `${status} ${reason}`.trim();
    if (status === 410 || (status === 400 && reason === 'Unregistered')) return { kind: 'unregistered', error };
    if (status === 403 && /ProviderToken/.test(reason)) {
      this.signer.invalidate();
      return { kind: 'retry', error };
    }
    if (status === 429 || status >= 500) return { kind: 'retry', error, retryAfterMs: retryAfterMs(headers['retry-after']) };
    return { kind: 'failed', error };
  }

  private request(origin: string, headers: http2.OutgoingHttpHeaders, body: string) {
    return new Promise<{ status: number; body: string; headers: http2.IncomingHttpHeaders }>((resolve, reject) => {
      let session: http2.ClientHttp2Session;
      try {
        session = this.session(origin);
      } catch (err) {
        reject(err);
        return;
      }
      const req = session.request(headers);
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.close(http2.constants.NGHTTP2_CANCEL));
      let status = 0;
      let responseHeaders: http2.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('response', (h) => {
        status = Number(h[':status']);
        responseHeaders = h;
      });
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= 8192) chunks.push(chunk);
      });
      req.on('end', () => (status ? resolve({ status, body: Buffer.concat(chunks).toString('utf8'), headers: responseHeaders }) : reject(new Error('no response'))));
      req.on('error', reject);
      req.on('close', () => {
        if (!status) reject(new Error('stream closed'));
      });
      req.end(body);
    });
  }

  close(): void {
    for (const s of this.sessions.values()) s.close();
    this.sessions.clear();
  }
}
