// Local stand-ins for Apple's and Google's push services, for tests and the push bench. They
// check what the real ones check: APNs verifies the provider JWT with the key's public half,
// the path, topic and push type, and the payload size; FCM performs the service-account OAuth
// exchange and accepts only its own bearer tokens and well-formed v1 data messages.
// Loopback only.
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { generateSelfSigned } from '../util/tls.js';
import type { ServiceAccount } from './settings.js';

export interface ApnsDelivery {
  token: string;
  topic: string;
  pushType: string;
  priority: string;
  collapseId: string | undefined;
  payload: Record<string, unknown>;
  jwt: string;
}

export interface ApnsKey {
  keyPem: string;
  keyId: string;
  teamId: string;
  publicKey: KeyObject;
}

export function newApnsKey(): ApnsKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const id = () => randomBytes(5).toString('hex').toUpperCase();
  return { keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), keyId: id(), teamId: id(), publicKey };
}

/** A local APNs provider endpoint (HTTP/2 over TLS with a self-signed certificate for 127.0.0.1). */
export class LocalApns {
  readonly delivered: ApnsDelivery[] = [];
  readonly refused: { status: number; reason: string }[] = [];
  /** Tokens answered 410 Unregistered. */
  readonly unregistered = new Set<string>();
  /** While set, every request is answered with this status (503: ServiceUnavailable, 429: TooManyRequests). */
  failWith: number | null = null;
  private server: http2.Http2SecureServer | null = null;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  port = 0;
  cert = '';

  constructor(private readonly key: ApnsKey, private readonly bundleId: string) {}

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<void> {
    if (!this.cert) this.tls = await generateSelfSigned('localhost');
    const server = http2.createSecureServer({ key: this.tls!.key, cert: this.tls!.cert, allowHTTP1: false });
    this.cert = this.tls!.cert;
    server.on('session', (s) => {
      this.sessions.add(s);
      s.on('close', () => this.sessions.delete(s));
    });
    server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        void this.handle(headers, Buffer.concat(chunks).toString('utf8')).then(({ status, reason }) => {
          if (stream.destroyed) return;
          if (status !== 200) this.refused.push({ status, reason });
          const body = status === 200 ? '' : JSON.stringify(status === 410 ? { reason, timestamp: Date.now() } : { reason });
          stream.respond({ ':status': status, 'apns-id': String(headers['apns-id'] ?? randomBytes(16).toString('hex')) });
          stream.end(body);
        });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }
  private tls: { key: string; cert: string } | null = null;
  /** Provider tokens whose signature checked out (Apple, too, validates a reused token once). */
  private readonly verified = new Map<string, number>();

  /** Null when the provider token is Apple-valid, else the reason APNs gives. */
  private async checkProviderToken(jwt: string): Promise<string | null> {
    let iat = this.verified.get(jwt);
    if (iat === undefined) {
      try {
        const header = decodeProtectedHeader(jwt);
        if (header.alg !== 'ES256' || header.kid !== this.key.keyId) return 'InvalidProviderToken';
        const { payload } = await jwtVerify(jwt, this.key.publicKey, { algorithms: ['ES256'], issuer: this.key.teamId });
        if (typeof payload.iat !== 'number') return 'InvalidProviderToken';
        iat = payload.iat;
      } catch {
        return 'InvalidProviderToken';
      }
      this.verified.set(jwt, iat);
    }
    return iat < Date.now() / 1000 - 3600 ? 'ExpiredProviderToken' : null;
  }

  private async handle(h: http2.IncomingHttpHeaders, body: string): Promise<{ status: number; reason: string }> {
    if (this.failWith !== null) return { status: this.failWith, reason: this.failWith === 429 ? 'TooManyRequests' : 'ServiceUnavailable' };
    if (h[':method'] !== 'POST') return { status: 405, reason: 'MethodNotAllowed' };
    const path = String(h[':path'] ?? '');
    const match = /^\/3\/device\/([0-9a-f]{16,200})$/.exec(path);
    if (!match) return { status: 400, reason: 'BadPath' };
    const auth = String(h.authorization ?? '');
    if (!auth.startsWith('bearer ')) return { status: 403, reason: 'MissingProviderToken' };
    const jwt = auth.slice(7);
    const refused = await this.checkProviderToken(jwt);
    if (refused) return { status: 403, reason: refused };
    const topic = String(h['apns-topic'] ?? '');
    const pushType = String(h['apns-push-type'] ?? 'alert');
    if (!topic) return { status: 400, reason: 'MissingTopic' };
    if (topic !== this.bundleId && topic !== `${this.bundleId}.voip`) return { status: 400, reason: 'TopicDisallowed' };
    if ((pushType === 'voip') !== topic.endsWith('.voip')) return { status: 400, reason: 'InvalidPushType' };
    if (Buffer.byteLength(body) > (pushType === 'voip' ? 5120 : 4096)) return { status: 413, reason: 'PayloadTooLarge' };
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      return { status: 400, reason: 'PayloadEmpty' };
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return { status: 400, reason: 'PayloadEmpty' };
    if (this.unregistered.has(match[1])) return { status: 410, reason: 'Unregistered' };
    const priority = String(h['apns-priority'] ?? '10');
    const aps = (payload as { aps?: Record<string, unknown> }).aps ?? {};
    if (priority === '10' && Object.keys(aps).length === 1 && aps['content-available'] === 1) return { status: 400, reason: 'BadPriority' };
    this.delivered.push({
      token: match[1], topic, pushType, priority, collapseId: h['apns-collapse-id'] as string | undefined,
      payload: payload as Record<string, unknown>, jwt,
    });
    return { status: 200, reason: '' };
  }

  /** Stops listening and drops every connection (a provider outage). */
  async stop(): Promise<void> {
    for (const s of this.sessions) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }
}

export interface FcmMessage {
  token: string;
  data: Record<string, string>;
  priority: unknown;
  bearer: string;
}

/** A new service account whose token_uri is the local FCM's OAuth endpoint. */
export function newServiceAccount(tokenUri: string): { account: ServiceAccount; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const project = `parley-test-${randomBytes(3).toString('hex')}`;
  return {
    publicKey,
    account: {
      type: 'service_account',
      project_id: project,
      private_key_id: randomBytes(20).toString('hex'),
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: `push@${project}.iam.gserviceaccount.com`,
      client_id: '1234567890',
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: tokenUri,
      universe_domain: 'googleapis.com',
    },
  };
}

/** A local FCM v1 endpoint with the OAuth token exchange at /token (plain HTTP on loopback). */
export class LocalFcm {
  readonly delivered: FcmMessage[] = [];
  readonly unregistered = new Set<string>();
  /** Access tokens handed out. */
  readonly issued = new Set<string>();
  exchanges = 0;
  failWith: number | null = null;
  private server: http.Server | null = null;
  port = 0;
  account: ServiceAccount | null = null;
  private publicKey: KeyObject | null = null;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<ServiceAccount> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void this.handle(req, Buffer.concat(chunks).toString('utf8')).then(({ status, body }) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
    const { account, publicKey } = newServiceAccount(`${this.url}/token`);
    this.account = account;
    this.publicKey = publicKey;
    return account;
  }

  private async handle(req: http.IncomingMessage, text: string): Promise<{ status: number; body: unknown }> {
    const account = this.account!;
    if (req.method === 'POST' && req.url === '/token') {
      const form = new URLSearchParams(text);
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return { status: 400, body: { error: 'unsupported_grant_type' } };
      try {
        const { payload, protectedHeader } = await jwtVerify(form.get('assertion') ?? '', this.publicKey!, {
          algorithms: ['RS256'], issuer: account.client_email, audience: account.token_uri,
        });
        if (protectedHeader.kid !== undefined && protectedHeader.kid !== account.private_key_id) throw new Error('kid');
        if (!String(payload.scope ?? '').split(' ').includes('https://www.googleapis.com/auth/firebase.messaging')) throw new Error('scope');
        if (typeof payload.exp !== 'number' || typeof payload.iat !== 'number' || payload.exp - payload.iat > 3600) throw new Error('exp');
      } catch {
        return { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' } };
      }
      this.exchanges++;
      const token = `ya29.${randomBytes(24).toString('base64url')}`;
      this.issued.add(token);
      return { status: 200, body: { access_token: token, expires_in: 3599, token_type: 'Bearer' } };
    }
    const send = `/v1/projects/${account.project_id}/messages:send`;
    if (req.method !== 'POST' || req.url !== send) return { status: 404, body: { error: { code: 404, message: 'not found', status: 'NOT_FOUND' } } };
    const fcmError = (code: number, status: string, errorCode: string) => ({
      status: code,
      body: { error: { code, message: errorCode, status, details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] } },
    });
    if (this.failWith !== null) return fcmError(this.failWith, 'UNAVAILABLE', 'UNAVAILABLE');
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    if (!bearer || !this.issued.has(bearer)) return { status: 401, body: { error: { code: 401, message: 'invalid credentials', status: 'UNAUTHENTICATED' } } };
    let message: { token?: unknown; data?: unknown; android?: { priority?: unknown }; notification?: unknown };
    try {
      message = (JSON.parse(text) as { message: typeof message }).message;
    } catch {
      return fcmError(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT');
    }
    const data = message?.data;
    if (!message || typeof message.token !== 'string' || message.notification !== undefined || typeof data !== 'object' || data === null
      || Object.values(data).some((v) => typeof v !== 'string')) return fcmError(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT');
    if (this.unregistered.has(message.token)) return fcmError(404, 'NOT_FOUND', 'UNREGISTERED');
    this.delivered.push({ token: message.token, data: data as Record<string, string>, priority: message.android?.priority, bearer });
    return { status: 200, body: { name: `projects/${account.project_id}/messages/${randomBytes(8).toString('hex')}` } };
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
