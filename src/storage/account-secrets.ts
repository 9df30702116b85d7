// What the drivers store for an application's keys and a user's password, in one format shared
// by every driver so that `parley migrate` can copy the columns as they are.
import { randomBytes, randomInt } from 'node:crypto';
import { SCRAM_ITERATIONS, SCRAM_SALT_BYTES, deriveScramCredentialAsync, hashPassword } from '../util/password.js';
import type { ScramCredential, Store, TokenScram } from './types.js';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random auth key or secret. */
export const newApplicationToken = (): string => randomBytes(16).toString('base64url');
/** A random 20-character account key. */
export const newAccountKey = (): string => Array.from({ length: 20 }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join('');

interface StoredScram {
  salt: string;
  iterations: number;
  storedKey: string;
  serverKey: string;
}

/** A SCRAM credential as the JSON text the drivers store. */
export function encodeScram(c: ScramCredential): string {
  const stored: StoredScram = {
    salt: c.salt.toString('base64'),
    iterations: c.iterations,
    storedKey: c.storedKey.toString('base64'),
    serverKey: c.serverKey.toString('base64'),
  };
  return JSON.stringify(stored);
}

export function decodeScram(json: string): ScramCredential {
  const s = JSON.parse(json) as StoredScram;
  return {
    salt: Buffer.from(s.salt, 'base64'),
    iterations: s.iterations,
    storedKey: Buffer.from(s.storedKey, 'base64'),
    serverKey: Buffer.from(s.serverKey, 'base64'),
  };
}

/** The password hash and both SCRAM credentials of a password, ready to store. */
export async function passwordSecrets(password: string): Promise<{ passwordHash: string; scramSha1: string; scramSha256: string }> {
  return {
    passwordHash: await hashPassword(password),
    scramSha1: encodeScram(await deriveScramCredentialAsync(password, 'sha1', randomBytes(SCRAM_SALT_BYTES), SCRAM_ITERATIONS)),
    scramSha256: encodeScram(await deriveScramCredentialAsync(password, 'sha256', randomBytes(SCRAM_SALT_BYTES), SCRAM_ITERATIONS)),
  };
}

/** The SCRAM keys SASL will check a user's token against, derived with the salts of the user's own SCRAM credentials. */
export async function tokenScram(store: Store, appId: number, userId: number, token: string): Promise<TokenScram | null> {
  const [sha1, sha256] = await Promise.all([store.accounts.getScramCredential(appId, userId, 'sha1'), store.accounts.getScramCredential(appId, userId, 'sha256')]);
  if (!sha1 || !sha256) return null;
  const [k1, k256] = await Promise.all([
    deriveScramCredentialAsync(token, 'sha1', sha1.salt, sha1.iterations),
    deriveScramCredentialAsync(token, 'sha256', sha256.salt, sha256.iterations),
  ]);
  return { sha1: encodeScram(k1), sha256: encodeScram(k256) };
}
