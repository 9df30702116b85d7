import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export type ScramHash = 'sha1' | 'sha256';

/** What a server needs to verify a SCRAM exchange without the password (RFC 5802 §3). */
export interface ScramCredential {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

// OWASP's password storage cheat sheet (2025): scrypt N=2^17, r=8, p=1, or an equivalent with less
// memory; this is its N=2^14 (16 MiB), r=8, p=5 line. Hashes made with other parameters are
// replaced at the user's next successful login (needsRehash). The test suite, which creates
// thousands of users, sets PARLEY_INSECURE_FAST_PASSWORD_HASH=1 for a fifth of the work (p=1).
const FAST_FOR_TESTS = process.env.PARLEY_INSECURE_FAST_PASSWORD_HASH === '1';
export const SCRYPT_PARAMS: Readonly<{ N: number; r: number; p: number }> = { N: 16384, r: 8, p: FAST_FOR_TESTS ? 1 : 5 };
const SCRYPT_N = SCRYPT_PARAMS.N;
const SCRYPT_R = SCRYPT_PARAMS.r;
const SCRYPT_P = SCRYPT_PARAMS.p;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

export const SCRAM_ITERATIONS = 4096;
export const SCRAM_SALT_BYTES = 16;
export const SCRAM_HASH_BYTES: Readonly<Record<ScramHash, number>> = { sha1: 20, sha256: 32 };

// NFKC is only an approximation of SASLprep (RFC 4013); it is applied to both the scrypt hash and
// the SCRAM keys so that PLAIN and SCRAM agree on what a password is.
const normalize = (password: string) => password.normalize('NFKC');

function scryptAsync(password: string, salt: Buffer, keylen: number, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keylen, { N, r, p, maxmem: 256 * N * r * p + (1 << 20) }, (err, key) =>
      err ? reject(err) : resolve(key));
  });
}

/** Returns `scrypt$N$r$p$saltB64$hashB64`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scryptAsync(normalize(password), salt, KEY_BYTES, SCRYPT_N, SCRYPT_R, SCRYPT_P);
  return ['scrypt', SCRYPT_N, SCRYPT_R, SCRYPT_P, salt.toString('base64'), key.toString('base64')].join('$');
}

/** True when a stored hash was made with other parameters than hashPassword uses now. */
export function needsRehash(encoded: string): boolean {
  const parts = encoded.split('$');
  return parts[0] !== 'scrypt' || Number(parts[1]) !== SCRYPT_N || Number(parts[2]) !== SCRYPT_R || Number(parts[3]) !== SCRYPT_P;
}

/** False for a wrong password and for an encoded string it cannot parse. */
// Successful verifications are remembered (as a keyed digest of hash + password, never the password)
// so that repeated logins of the same user do not each pay for scrypt. A changed password has a new
// hash, so it can never match an old entry; failures are never remembered.
const VERIFIED_LIMIT = 10_000;
const verifiedKey = randomBytes(32);
const verified = new Set<string>();

export async function verifyPasswordHash(password: string, encoded: string): Promise<boolean> {
  const memo = createHmac('sha256', verifiedKey).update(encoded).update('\0').update(password).digest('base64');
  if (verified.has(memo)) return true;
  const ok = await verifyScrypt(password, encoded);
  if (ok) {
    if (verified.size >= VERIFIED_LIMIT) verified.clear();
    verified.add(memo);
  }
  return ok;
}

async function verifyScrypt(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  // Bounds keep a corrupted or hostile row from making us allocate gigabytes.
  if (!(N >= 2 && (N & (N - 1)) === 0 && r >= 1 && p >= 1 && p <= 16 && 128 * N * r <= 2 ** 28)) return false;
  const salt = Buffer.from(parts[4], 'base64');
  const expected = Buffer.from(parts[5], 'base64');
  if (salt.length === 0 || expected.length < 16) return false;
  const actual = await scryptAsync(normalize(password), salt, expected.length, N, r, p);
  return timingSafeEqual(actual, expected);
}

export function hmac(hash: ScramHash, key: Buffer, data: string | Buffer): Buffer {
  return createHmac(hash, key).update(data).digest();
}

export function scramSaltedPassword(password: string, hash: ScramHash, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(normalize(password), salt, iterations, SCRAM_HASH_BYTES[hash], hash);
}

/** deriveScramCredential on the thread pool: for derivations made while serving requests. */
export function deriveScramCredentialAsync(password: string, hash: ScramHash, salt: Buffer, iterations: number): Promise<ScramCredential> {
  return new Promise((resolve, reject) => {
    pbkdf2(normalize(password), salt, iterations, SCRAM_HASH_BYTES[hash], hash, (err, salted) => {
      if (err) return reject(err);
      resolve(scramKeys(hash, salted, salt, iterations));
    });
  });
}

function scramKeys(hash: ScramHash, salted: Buffer, salt: Buffer, iterations: number): ScramCredential {
  const clientKey = hmac(hash, salted, 'Client Key');
  return {
    salt: Buffer.from(salt),
    iterations,
    storedKey: createHash(hash).update(clientKey).digest(),
    serverKey: hmac(hash, salted, 'Server Key'),
  };
}

/** RFC 5802 §3 key derivation. */
export function deriveScramCredential(
  password: string,
  hash: ScramHash,
  salt: Buffer = randomBytes(SCRAM_SALT_BYTES),
  iterations = SCRAM_ITERATIONS,
): ScramCredential {
  return scramKeys(hash, scramSaltedPassword(password, hash, salt, iterations), salt, iterations);
}
