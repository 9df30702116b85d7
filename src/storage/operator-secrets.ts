// Driver-neutral parts of operator sign-in: the app-list column format, and a constant-cost check
// so that a wrong email takes as long as a wrong password.
import { hashPassword, verifyPasswordHash } from '../util/password.js';

let dummyHash: Promise<string> | null = null;

/** Checks `password` against `hash`, or against a throwaway hash when there is no account. */
export async function verifyOperatorPassword(password: string, hash: string | null): Promise<boolean> {
  if (hash !== null) return verifyPasswordHash(password, hash);
  dummyHash ??= hashPassword('no operator has this password');
  await verifyPasswordHash(`${password}\0`, await dummyHash);
  return false;
}

/** Null (every application) or a JSON array of ids. */
export const encodeAppIds = (ids: number[] | null): string | null => (ids === null ? null : JSON.stringify([...new Set(ids)].sort((a, b) => a - b)));
export const decodeAppIds = (text: string | null): number[] | null => (text === null ? null : (JSON.parse(text) as number[]));
