// What the drivers store for an application's keys and a user's password, in one format shared
// by every driver so that `parley migrate` can copy the columns as they are.
import { randomBytes, randomInt } from 'node:crypto';
import { deriveScramCredential, hashPassword } from '../util/password.js';
import type { ScramCredential } from './types.js';

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
    scramSha1: encodeScram(deriveScramCredential(password, 'sha1')),
    scramSha256: encodeScram(deriveScramCredential(password, 'sha256')),
  };
}
