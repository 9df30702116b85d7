// How REST session tokens are kept at rest: never the token itself. Lookups go by a SHA-256 digest
// (the token is 160 random bits, so a fast digest is enough: there is nothing to guess), and SASL
// with a token is checked against SCRAM keys derived from it when it became a user session.
import { createHash } from 'node:crypto';

/** The SCRAM credentials (encodeScram's JSON) of a token, derived with its user's salt and iteration count. */
export interface TokenScram {
  sha1: string;
  sha256: string;
}

/** What the drivers store and look a token up by. */
export const tokenDigest = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');
