import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SCRAM_HASH_BYTES, SCRAM_ITERATIONS, SCRAM_SALT_BYTES, hmac, type ScramCredential, type ScramHash } from './password.js';

export type ScramCondition = 'not-authorized' | 'malformed-request' | 'invalid-authzid' | 'encryption-required';

export class ScramError extends Error {
  constructor(readonly condition: ScramCondition, message: string = condition) {
    super(message);
    this.name = 'ScramError';
  }
}

/** All candidates must share the first one's salt and iteration count; that is what the client is sent. */
export type ScramLookup = (username: string) => Promise<ScramCredential[] | null>;

export interface ScramResult {
  username: string;
  authzid: string | null;
  serverFinal: Buffer;
}

// Per-process key so that an unknown user gets a stable salt that cannot be precomputed by a prober.
const fakeSaltKey = randomBytes(32);
const utf8 = new TextDecoder('utf-8', { fatal: true });
const NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const EXTENSION = /^[A-Za-z]=/;

const malformed = (message: string) => new ScramError('malformed-request', message);
const denied = (message = 'authentication failed') => new ScramError('not-authorized', message);

function decode(message: Buffer): string {
  let text: string;
  try {
    text = utf8.decode(message);
  } catch {
    throw malformed('message is not valid UTF-8');
  }
  if (text.includes('\0')) throw malformed('message contains NUL');
  return text;
}

function attribute(part: string | undefined, name: string): string {
  if (part === undefined || !part.startsWith(`${name}=`)) throw malformed(`expected "${name}=" attribute`);
  return part.slice(name.length + 1);
}

function saslname(value: string, what: string): string {
  if (!/^(?:[^,=]|=2C|=3D)+$/.test(value)) throw malformed(`invalid ${what}`);
  return value.replace(/=2C|=3D/g, (escape) => (escape === '=2C' ? ',' : '='));
}

function checkExtensions(parts: string[]): void {
  if (!parts.every((part) => EXTENSION.test(part))) throw malformed('invalid attribute');
}

export class ScramServer {
  private step: 'initial' | 'started' | 'done' | 'failed' = 'initial';
  private readonly serverNonce: string;
  private gs2Header = '';
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private username = '';
  private authzid: string | null = null;
  private candidates: ScramCredential[] = [];

  constructor(
    private readonly hash: ScramHash,
    private readonly lookup: ScramLookup,
    opts: { nonce?: string } = {},
  ) {
    this.serverNonce = opts.nonce ?? randomBytes(18).toString('base64');
    if (!NONCE.test(this.serverNonce)) throw new TypeError('server nonce must be printable ASCII without ","');
  }

  async start(clientFirst: Buffer): Promise<Buffer> {
    if (this.step !== 'initial') throw malformed('unexpected client-first-message');
    this.step = 'failed';
    const parts = decode(clientFirst).split(',');
    const flag = parts[0];
    if (flag.startsWith('p=')) throw malformed('channel binding is not supported');
    if ((flag !== 'n' && flag !== 'y') || parts.length < 4) throw malformed('invalid GS2 header');
    this.authzid = parts[1] === '' ? null : saslname(attribute(parts[1], 'a'), 'authzid');
    this.gs2Header = `${flag},${parts[1]},`;
    const bare = parts.slice(2);
    if (bare[0].startsWith('m=')) throw malformed('mandatory extensions are not supported');
    this.username = saslname(attribute(bare[0], 'n'), 'username');
    const clientNonce = attribute(bare[1], 'r');
    if (!NONCE.test(clientNonce)) throw malformed('invalid nonce');
    checkExtensions(bare.slice(2));
    this.clientFirstBare = bare.join(',');

    const found = (await this.lookup(this.username)) ?? [];
    this.candidates = found;
    const salt = found[0]?.salt ??
      createHmac('sha256', fakeSaltKey).update(`${this.hash}\0${this.username}`).digest().subarray(0, SCRAM_SALT_BYTES);
    const iterations = found[0]?.iterations ?? SCRAM_ITERATIONS;
    this.nonce = clientNonce + this.serverNonce;
    this.serverFirst = `r=${this.nonce},s=${salt.toString('base64')},i=${iterations}`;
    this.step = 'started';
    return Buffer.from(this.serverFirst);
  }

  async finish(clientFinal: Buffer): Promise<ScramResult> {
    if (this.step !== 'started') throw malformed('unexpected client-final-message');
    this.step = 'failed';
    const message = decode(clientFinal);
    const at = message.lastIndexOf(',p=');
    if (at < 0) throw malformed('missing proof');
    const withoutProof = message.slice(0, at);
    const proofB64 = message.slice(at + 3);
    const parts = withoutProof.split(',');
    const binding = attribute(parts[0], 'c');
    const nonce = attribute(parts[1], 'r');
    checkExtensions(parts.slice(2));
    if (!BASE64.test(binding) || !BASE64.test(proofB64)) throw malformed('invalid base64');
    const proof = Buffer.from(proofB64, 'base64');
    if (proof.length !== SCRAM_HASH_BYTES[this.hash]) throw malformed('proof has the wrong length');
    if (!Buffer.from(binding, 'base64').equals(Buffer.from(this.gs2Header))) throw denied('channel binding mismatch');
    if (nonce !== this.nonce) throw denied('nonce mismatch');

    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    let matched: ScramCredential | undefined;
    // Every candidate is checked so the time taken does not reveal which one matched.
    for (const candidate of this.candidates) {
      const signature = hmac(this.hash, candidate.storedKey, authMessage);
      const clientKey = Buffer.alloc(proof.length);
      for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i] ^ signature[i];
      const storedKey = createHash(this.hash).update(clientKey).digest();
      if (storedKey.length === candidate.storedKey.length && timingSafeEqual(storedKey, candidate.storedKey)) {
        matched ??= candidate;
      }
    }
    if (!matched) throw denied();
    this.step = 'done';
    const verifier = hmac(this.hash, matched.serverKey, authMessage).toString('base64');
    return { username: this.username, authzid: this.authzid, serverFinal: Buffer.from(`v=${verifier}`) };
  }
}
